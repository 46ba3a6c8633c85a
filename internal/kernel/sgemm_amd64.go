//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2/FMA assembly kernels (sgemm_amd64.s,
// activation_amd64.s, recurrent_amd64.s); SetImpl and BIRNN_KERNEL set it.
var useAsm bool

func applyImpl(i Impl) { useAsm = i >= ImplAVX2 }

func hasAVX2FMA() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

//go:noescape
func sgemmKernel6x16(k int, a *float32, sa int, b *float32, ldb int, c *float32, ldc int)

// sgemmMicro is sgemmKernel6x16: a holds six values per p, sa apart.
func sgemmMicro(k int, a []float32, sa int, b []float32, ldb int, c []float32, ldc int) {
	sgemmKernel6x16(k, &a[0], sa, &b[0], ldb, &c[0], ldc)
}

//go:noescape
func sgemmKernel1x64(k int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func sgemmKernel1x16(k int, a *float32, b *float32, ldb int, c *float32)

// sgemmRow computes c[0:n] += Σp a[p]·b[p*ldb+j] for one row a [k] and B
// row-major [k, ≥n] whose readable width is a multiple of 16; tile is
// scratch of 16 for the last columns when n is not.
func sgemmRow(k, n int, a, b []float32, ldb int, c, tile []float32) {
	j := 0
	for ; j+64 <= n; j += 64 {
		sgemmKernel1x64(k, &a[0], &b[j], ldb, &c[j])
	}
	for ; j+16 <= n; j += 16 {
		sgemmKernel1x16(k, &a[0], &b[j], ldb, &c[j])
	}
	if j < n {
		t := tile[:16]
		clear(t)
		sgemmKernel1x16(k, &a[0], &b[j], ldb, &t[0])
		for i, v := range t[:n-j] {
			c[j+i] += v
		}
	}
}
