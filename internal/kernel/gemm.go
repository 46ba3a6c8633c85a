package kernel

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Float is the element type of every kernel: float32 for training and
// inference, float64 for finite-difference gradient checks.
type Float interface{ ~float32 | ~float64 }

var impl gonum.Implementation

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(X) is X or Xᵀ as transA/transB say.
//
// Args:
//
//	op(A) [m, k] stored in a with row stride lda,
//	op(B) [k, n] stored in b with row stride ldb,
//	C     [m, n] stored in c with row stride ldc.
//
// With beta == 0, C need not be initialised. Zero-sized products are a no-op
// (apart from scaling C by beta).
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 0 {
					row[j] = 0
				} else {
					row[j] *= beta
				}
			}
		}
		return
	}
	switch av := any(a).(type) {
	case []float32:
		if useAsm {
			sgemmAsm(transA, transB, m, n, k, float32(alpha), av, lda,
				any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
		impl.Sgemm(trans(transA), trans(transB), m, n, k, float32(alpha), av, lda,
			any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		impl.Dgemm(trans(transA), trans(transB), m, n, k, float64(alpha), av, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	default:
		gemmNaive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// gemmNaive serves named float types (type T float32) that the BLAS
// implementations cannot take directly.
func gemmNaive[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// parMinWork is the smallest m·n·k that GemmPar shares among goroutines:
// below it (a batch's per-step products) the hand-off costs more than the
// second core gives.
const parMinWork = 1 << 24

// GemmPar is Gemm with the rows of C shared among up to GOMAXPROCS
// goroutines when the product is large (whole-sequence projections and
// weight gradients) and float32 on the assembly path. Each element of C is
// then computed by one goroutine in the same order as Gemm, so the result
// is bit-identical to Gemm's. Other products are plain Gemm calls.
func GemmPar[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	_, f32 := any(a).([]float32)
	w := min(runtime.GOMAXPROCS(0), m/tileM)
	if !f32 || !useAsm || w < 2 || m*n*k < parMinWork {
		Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	chunk := ((m+w-1)/w + tileM - 1) / tileM * tileM
	var wg sync.WaitGroup
	for lo := chunk; lo < m; lo += chunk {
		hi := min(m, lo+chunk)
		var ar []T
		if transA {
			ar = a[lo:]
		} else {
			ar = a[lo*lda:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			Gemm(transA, transB, hi-lo, n, k, alpha, ar, lda, b, ldb, beta, c[lo*ldc:], ldc)
		}()
	}
	Gemm(transA, transB, min(chunk, m), n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	wg.Wait()
}
