//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAVX512 selects the AVX-512 SGEMM micro-kernel (sgemm_amd64.s).
var useAVX512 = cpu.X86.HasAVX512F

//go:noescape
func sgemmKernel8x32(k int, a *float32, b *float32, ldb int, c *float32, ldc int)

func sgemmMicro(k int, a, b []float32, ldb int, c []float32, ldc int) {
	sgemmKernel8x32(k, &a[0], &b[0], ldb, &c[0], ldc)
}
