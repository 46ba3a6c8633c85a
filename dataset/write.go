package dataset

import (
	"bufio"
	"io"
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
