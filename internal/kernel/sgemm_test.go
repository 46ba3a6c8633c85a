package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is the textbook triple loop in float64.
func refGemm(transA, transB bool, m, n, k int, alpha float64, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
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
				s += float64(av) * float64(bv)
			}
			out[i*ldc+j] = alpha*s + beta*float64(c[i*ldc+j])
		}
	}
	return out
}

// TestGemmFloat32 checks Gemm (whichever float32 path the CPU selects) and
// GemmPacked against a float64 triple loop over shapes that hit full and
// partial 6×16 tiles, both transpositions, padded strides, alpha and beta.
func TestGemmFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.Float64()*2 - 1)
		}
		return s
	}
	shapes := [][3]int{{1, 1, 1}, {6, 16, 1}, {8, 32, 1}, {12, 32, 64}, {16, 256, 64}, {128, 256, 64}, {7, 33, 5}, {9, 31, 17},
		{1, 256, 64}, {3, 5, 0}, {37, 96, 128}, {100, 40, 3},
		{2, 96, 7}, {3, 33, 5}, {1, 200, 3}, {1, 16, 2}, {2, 64, 1}, {4, 70, 9},
		{13, 40, 600}, {8, 64, 513}, {2, 16, 257}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {0.5, -2}} {
				name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/alpha=%v/beta=%v", m, n, k, tr[0], tr[1], ab[0], ab[1])
				pad := 3
				lda, ldb := k+pad, n+pad
				if tr[0] {
					lda = m + pad
				}
				if tr[1] {
					ldb = k + pad
				}
				ldc := n + 1
				aRows, bRows := m, k
				if tr[0] {
					aRows = k
				}
				if tr[1] {
					bRows = n
				}
				a, b := fill(aRows*lda+1), fill(bRows*ldb+1)
				c0 := fill(m*ldc + 1)
				want := refGemm(tr[0], tr[1], m, n, k, float64(ab[0]), a, lda, b, ldb, float64(ab[1]), c0, ldc)
				c := append([]float32{}, c0...)
				Gemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
				c2 := append([]float32{}, c0...)
				GemmPacked(tr[0], m, ab[0], a, lda, PackB(tr[1], k, n, b, ldb), ab[1], c2, ldc)
				for i := range want {
					tol := 1e-5 * float64(k+1)
					if math.Abs(float64(c[i])-want[i]) > tol || math.Abs(float64(c2[i])-want[i]) > tol {
						t.Fatalf("%s: c[%d] = %v (packed %v), want %v", name, i, c[i], c2[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkGemmFloat32 measures the LSTM products of the study model: the
// recurrent step [batch, 64]·[64, 256] and the input projection
// [12800, 128]·[128, 256].
func BenchmarkGemmFloat32(b *testing.B) {
	for _, sh := range [][3]int{{1, 256, 64}, {32, 256, 64}, {128, 256, 64}, {12800, 256, 128}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, w, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
		b.Run(fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, true, m, n, k, 1, a, k, w, k, 1, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestGemmParMatchesGemm checks GemmPar bit for bit against Gemm on
// float32 products large enough to be shared, both transpositions, with
// beta 0, 1 and -2 and padded strides.
func TestGemmParMatchesGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][3]int{{300, 64, 1000}, {97, 256, 700}, {1100, 130, 129}} {
		m, n, k := sh[0], sh[1], sh[2]
		if m*n*k < parMinWork {
			t.Fatalf("%v is below parMinWork: GemmPar would not share it", sh)
		}
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, beta := range []float32{0, 1, -2} {
				lda, ldb, ldc := k+1, n+2, n+3
				aRows, bRows := m, k
				if tr[0] {
					lda, aRows = m+1, k
				}
				if tr[1] {
					ldb, bRows = k+2, n
				}
				a, b, c0 := make([]float32, aRows*lda), make([]float32, bRows*ldb), make([]float32, m*ldc)
				for _, s := range [][]float32{a, b, c0} {
					for i := range s {
						s[i] = float32(rng.Float64()*2 - 1)
					}
				}
				want, got := append([]float32{}, c0...), append([]float32{}, c0...)
				Gemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, beta, want, ldc)
				GemmPar(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, beta, got, ldc)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v tA=%v tB=%v beta=%v: c[%d] = %v, Gemm gives %v", sh, tr[0], tr[1], beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}
