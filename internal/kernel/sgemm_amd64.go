//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2/FMA assembly kernels (sgemm_amd64.s,
// activation_amd64.s, recurrent_amd64.s), useZ their AVX-512 forms where
// there are some (the fused recurrent products and LSTM cells), useVNNI
// the AVX-512 VNNI int8 products; SetImpl and BIRNN_KERNEL set them.
var useAsm, useZ, useVNNI bool

func applyImpl(i Impl) {
	useAsm = i >= ImplAVX2
	useZ = i >= ImplAVX512
	useVNNI = useZ && cpu.X86.HasAVX512VNNI
}

func hasAVX2FMA() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// hasAVX512 reports the AVX-512 subsets the kernels use (x/sys/cpu also
// checks that the OS saves the 512-bit state); the noavx512 build tag
// leaves the path unused.
func hasAVX512() bool {
	return avx512Built && hasAVX2FMA() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ &&
		cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
}

// hasVNNI reports AVX-512 VNNI, used by the int8 products of ImplAVX512.
func hasVNNI() bool { return hasAVX512() && cpu.X86.HasAVX512VNNI }

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
