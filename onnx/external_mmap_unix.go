//go:build unix

package onnx

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps f read-only, or returns nil (the caller then reads with
// ReadAt) for an empty file or when mapping fails.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
