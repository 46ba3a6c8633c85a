package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAssemblyPathsAgree checks that the AVX-512 kernels give the AVX2
// kernels' results bit for bit (the same FMA chains and rounding steps on
// wider registers) on odd shapes that hit every tile width and tail: LSTM
// steps, projections with and without bias, and int8 products. The float64
// reference checks of the other tests bound both; this one catches a
// kernel that is close but not the same arithmetic.
func TestAssemblyPathsAgree(t *testing.T) {
	av := Available()
	if av[len(av)-1] < ImplAVX512 {
		t.Logf("this CPU runs %v at best: no second assembly path to compare", av[len(av)-1])
		return
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, H := range []int{1, 5, 8, 9, 16, 17, 31, 64, 67, 129, 300} {
		for _, rows := range []int{1, 2, 3, 5, 6, 7, 8, 9, 13, 200} {
			k := 1 + rng.IntN(150)
			t.Run(fmt.Sprintf("H=%d/rows=%d/k=%d", H, rows, k), func(t *testing.T) {
				l := NewGates(4, H)
				w := randF32(rng, 4*H*k, 0.3)
				r := randF32(rng, 4*H*H, 1/math.Sqrt(float64(H)))
				x := randF32(rng, rows*k, 1)
				bias := randF32(rng, l.LD, 0.5)
				h0 := randF32(rng, rows*l.Hp, 1)
				c0 := randF32(rng, rows*l.Hp, 2)
				W, R := NewGateMatrix(l, w, k), NewGateMatrix(l, r, H)
				run := func(im Impl) (z, h, c []float32) {
					prev, err := SetImpl(im)
					if err != nil {
						t.Fatal(err)
					}
					defer SetImpl(prev)
					z = make([]float32, rows*l.LD)
					h, c = append([]float32(nil), h0...), append([]float32(nil), c0...)
					W.Project(rows, x, k, bias, z, l.LD)
					p := append([]float32(nil), z...)
					W.MulAdd(rows, x, k, p, l.LD) // accumulate onto old values
					LSTMStep(R, rows, z, h, h, c)
					return append(z, p...), h, c
				}
				z2, h2, c2 := run(ImplAVX2)
				z5, h5, c5 := run(ImplAVX512)
				for _, s := range []struct {
					name string
					a, b []float32
				}{{"z", z2, z5}, {"h", h2, h5}, {"c", c2, c5}} {
					for i := range s.a {
						if math.Float32bits(s.a[i]) != math.Float32bits(s.b[i]) {
							t.Fatalf("%s[%d]: avx2 %v, avx512 %v", s.name, i, s.a[i], s.b[i])
						}
					}
				}
				qw := make([]int8, 4*H*k)
				for i := range qw {
					qw[i] = int8(rng.IntN(256) - 128)
				}
				Q := NewQGateMatrix(l, qw, randF32(rng, 4*H, 0.01), k)
				qa := make([]uint8, rows*4*Q.K4)
				for i := range qa {
					qa[i] = uint8(rng.IntN(QMax + 1))
				}
				prod := func(im Impl) []int32 {
					prev, _ := SetImpl(im)
					defer SetImpl(prev)
					acc := make([]int32, rows*l.LD)
					var s QScratch
					for b, n := 0, 0; b < rows; b += n {
						n = min(rows-b, stepRows)
						qgemm(Q, n, qa[b*4*Q.K4:], 4*Q.K4, acc[b*l.LD:], l.LD, &s)
					}
					return acc
				}
				a2, a5 := prod(ImplAVX2), prod(ImplAVX512)
				for i := range a2 {
					if a2[i] != a5[i] {
						t.Fatalf("int8 product [%d]: avx2 %d, avx512 %d", i, a2[i], a5[i])
					}
				}
			})
		}
	}
}

func randF32(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	return v
}
