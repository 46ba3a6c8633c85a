package dataset

import (
	"errors"
	"fmt"
	"os"
)

// Sentinel errors. Functions wrap them with context (the file, the option,
// the line); match them with errors.Is.
var (
	// ErrNotFound reports a missing file or folder: the dataset archive,
	// the word index, a split inside an archive.
	ErrNotFound = errors.New("dataset: not found")
	// ErrCorrupt reports an archive that cannot be read to its end:
	// truncated gzip streams, broken tar headers, short file bodies.
	ErrCorrupt = errors.New("dataset: corrupt or truncated data")
	// ErrFormat reports a file whose content is not in the expected form:
	// malformed JSON, a CSV row with too few columns, an unknown label.
	ErrFormat = errors.New("dataset: malformed input")
	// ErrChecksum reports a file whose digest differs from the published one.
	ErrChecksum = errors.New("dataset: checksum mismatch")
	// ErrOption reports an invalid option value (negative lengths, an
	// unknown padding mode, a seed numpy would reject).
	ErrOption = errors.New("dataset: invalid option")
	// ErrEmpty reports a result with no rows, such as a MaxLen that
	// filters every sequence out (Keras raises ValueError there too).
	ErrEmpty = errors.New("dataset: no sequences")
	// ErrDownload reports a failed HTTP transfer.
	ErrDownload = errors.New("dataset: download failed")
)

// open opens path for reading; a missing file is ErrNotFound naming it.
func open(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return f, nil
}
