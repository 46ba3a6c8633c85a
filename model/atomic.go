package model

import (
	"fmt"
	"io"
)

// errWriter remembers the first write error so encoders can write freely.
type errWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.n += int64(n)
	if err != nil {
		e.err = fmt.Errorf("write: %w", err)
	}
	return n, e.err
}
