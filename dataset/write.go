package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/birnn/birnn/internal/atomicfile"
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
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteSequences(w, s) }); err != nil {
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	return nil
}
