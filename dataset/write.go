package dataset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// WriteSequences writes s one row per line as "label id id …" (unpadded),
// the text form of the Keras oracle files. Output is buffered.
func WriteSequences(w io.Writer, s *Split) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var num []byte
	for i, x := range s.X {
		num = strconv.AppendInt(num[:0], int64(s.Y[i]), 10)
		for _, v := range x {
			num = append(num, ' ')
			num = strconv.AppendInt(num, int64(v), 10)
		}
		num = append(num, '\n')
		if _, err := bw.Write(num); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteSequencesFile writes s with WriteSequences to path atomically: into
// a temporary file beside it, synced, then renamed over path.
func WriteSequencesFile(path string, s *Split) error {
	return writeFileAtomic(path, func(w io.Writer) error { return WriteSequences(w, s) })
}

// writeFileAtomic creates path through a temporary file in the same folder
// and a rename, so readers never see a partial file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}
