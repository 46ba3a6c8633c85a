//go:build !unix

package onnx

import "os"

// mapFile does not map on this platform: data is read with ReadAt.
func mapFile(*os.File, int64) []byte { return nil }

func unmapFile([]byte) error { return nil }
