//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2/FMA SGEMM micro-kernel (sgemm_amd64.s).
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sgemmKernel6x16(k int, a *float32, b *float32, ldb int, c *float32, ldc int)

func sgemmMicro(k int, a, b []float32, ldb int, c []float32, ldc int) {
	sgemmKernel6x16(k, &a[0], &b[0], ldb, &c[0], ldc)
}
