//go:build !amd64 || purego

package kernel

const useAsm, useZ, useVNNI = false, false, false

func applyImpl(Impl) {}

func hasAVX2FMA() bool { return false }

func hasAVX512() bool { return false }

func hasVNNI() bool { return false }

func sgemmMicro(k int, a []float32, sa int, b []float32, ldb int, c []float32, ldc int) {
	panic("kernel: no SGEMM micro-kernel on this platform")
}

func sgemmRow(k, n int, a, b []float32, ldb int, c, tile []float32) {
	panic("kernel: no SGEMM row kernel on this platform")
}
