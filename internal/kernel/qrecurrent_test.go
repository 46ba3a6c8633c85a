package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// quantizeSym quantizes rows of w [n, k] to int8 with a scale per row.
func quantizeSym(w []float32, n, k int) ([]int8, []float32) {
	q, s := make([]int8, n*k), make([]float32, n)
	for i := range n {
		m := float32(0)
		for _, v := range w[i*k : (i+1)*k] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s[i] = 1
		if m > 0 {
			s[i] = m / 127
		}
		for p, v := range w[i*k : (i+1)*k] {
			q[i*k+p] = int8(math.RoundToEven(float64(v / s[i])))
		}
	}
	return q, s
}

// TestQuantizeRows checks the activation quantization: codes in [0, 127],
// zero exactly representable, reconstruction within half a step.
func TestQuantizeRows(t *testing.T) {
	forEachImpl(t, testQuantizeRows)
	// The implementations agree code for code (the AVX2 kernel takes rows
	// of a multiple of 8 values).
	rng := rand.New(rand.NewPCG(45, 46))
	const rows, k = 9, 48
	x := make([]float32, rows*k)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	x[5] = 0.5 / 127 * 3 // ties land on even codes alike
	var q [2][]uint8
	var s [2][]float32
	var z [2][]int32
	for i, im := range Available() {
		if i > 1 {
			break
		}
		prev, _ := SetImpl(im)
		q[i], s[i], z[i] = make([]uint8, rows*k), make([]float32, rows), make([]int32, rows)
		QuantizeRows(rows, k, x, k, q[i], k, s[i], z[i])
		SetImpl(prev)
	}
	if len(Available()) > 1 {
		for r := range rows {
			if math.Float32bits(s[0][r]) != math.Float32bits(s[1][r]) || z[0][r] != z[1][r] {
				t.Fatalf("row %d: scale %v / %v, zero point %d / %d", r, s[0][r], s[1][r], z[0][r], z[1][r])
			}
		}
		for i := range q[0] {
			if q[0][i] != q[1][i] {
				t.Fatalf("code %d: %d / %d", i, q[0][i], q[1][i])
			}
		}
	}
}

func testQuantizeRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range []int{1, 3, 4, 8, 64, 67} {
		const rows = 5
		x := make([]float32, rows*k)
		for i := range x {
			x[i] = float32(rng.Float64()*3 - 1)
		}
		copy(x[2*k:3*k], make([]float32, k)) // a row of zeros
		for p := range k {
			x[3*k+p] = float32(rng.Float64()) // positive only
		}
		ldq := 4 * ((k + 3) / 4)
		q := make([]uint8, rows*ldq)
		for i := range q {
			q[i] = 0xff
		}
		s, z := make([]float32, rows), make([]int32, rows)
		QuantizeRows(rows, k, x, k, q, ldq, s, z)
		for r := range rows {
			if z[r] < 0 || z[r] > QMax {
				t.Fatalf("k %d row %d: zero point %d", k, r, z[r])
			}
			for p := range ldq {
				v := q[r*ldq+p]
				if p >= k {
					if v != 0 {
						t.Fatalf("k %d row %d: padding byte %d = %d", k, r, p, v)
					}
					continue
				}
				if v > QMax {
					t.Fatalf("k %d row %d: code %d", k, r, v)
				}
				back := float64(s[r]) * float64(int32(v)-z[r])
				if d := math.Abs(back - float64(x[r*k+p])); d > float64(s[r])*0.5001 {
					t.Fatalf("k %d row %d col %d: %v reconstructs as %v (step %v)", k, r, p, x[r*k+p], back, s[r])
				}
			}
		}
	}
}

// TestQGateMatrix checks the int8 product under every implementation
// against float64 arithmetic on the same quantized values (to 1e-5
// relative), and that the int32 sums agree bit for bit across
// implementations and row splits.
func TestQGateMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	type result struct{ c []float32 }
	// K 1100: the portable product's integer loop (4·K4·127·128 ≥ 2²⁴).
	for _, sh := range [][4]int{{4, 64, 64, 13}, {3, 5, 7, 6}, {1, 17, 129, 9}, {4, 1, 1, 1}, {1, 3, 1100, 3}} {
		G, H, K, rows := sh[0], sh[1], sh[2], sh[3]
		l := NewGates(G, H)
		w := make([]float32, G*H*K)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.3)
		}
		wq, ws := quantizeSym(w, G*H, K)
		m := NewQGateMatrix(l, wq, ws, K)
		a := make([]float32, rows*(K+1))
		for i := range a {
			a[i] = float32(rng.Float64()*2 - 0.7)
		}
		bias := make([]float32, l.LD)
		for i := range bias {
			bias[i] = float32(rng.Float64())
		}
		var first []float32
		forEachImpl(t, func(t *testing.T) {
			c := make([]float32, rows*l.LD)
			var s QScratch
			m.MulAddQ(rows, a, K+1, bias, c, l.LD, &s)
			// The expected values, from the same quantized activations.
			ldq := 4 * m.K4
			q, sa, za := make([]uint8, rows*ldq), make([]float32, rows), make([]int32, rows)
			QuantizeRows(rows, K, a, K+1, q, ldq, sa, za)
			for r := range rows {
				for g := range G {
					for j := range H {
						row, col := g*H+j, l.Col(g, j)
						want := float64(bias[col])
						for p := range K {
							want += float64(sa[r]) * float64(int32(q[r*ldq+p])-za[r]) * float64(ws[row]) * float64(wq[row*K+p])
						}
						if got := float64(c[r*l.LD+col]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
							t.Fatalf("G %d H %d K %d: [%d, %d] = %v, want %v", G, H, K, r, col, got, want)
						}
					}
				}
			}
			// Rows split into single calls give the same bits.
			c1 := make([]float32, rows*l.LD)
			for r := range rows {
				m.MulAddQ(1, a[r*(K+1):], K+1, bias, c1[r*l.LD:], l.LD, &s)
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(c1[i]) {
					t.Fatalf("G %d H %d K %d: row-by-row element %d = %v, all rows %v", G, H, K, i, c1[i], c[i])
				}
			}
			if first == nil {
				first = c
			} else {
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("G %d H %d K %d: element %d = %v here, %v under the first implementation", G, H, K, i, c[i], first[i])
					}
				}
			}
		})
	}
}

// BenchmarkQLSTMStep compares the int8 recurrent step with the float32
// one (study layer, H 64) in alternating rounds.
func BenchmarkQLSTMStep(b *testing.B) {
	const H = 64
	l := NewGates(4, H)
	r := make([]float32, 4*H*H)
	for i := range r {
		r[i] = float32(i%7-3) * 0.01
	}
	rq, rs := quantizeSym(r, 4*H, H)
	R, RQ := NewGateMatrix(l, r, H), NewQGateMatrix(l, rq, rs, H)
	for round := range 3 {
		for _, rows := range []int{1, 32, 128} {
			z := make([]float32, rows*l.LD)
			h, c := make([]float32, rows*l.Hp), make([]float32, rows*l.Hp)
			var s QScratch
			b.Run(fmt.Sprintf("r%d/float32/rows=%d", round, rows), func(b *testing.B) {
				for b.Loop() {
					LSTMStep(R, rows, z, h, h, c)
				}
			})
			b.Run(fmt.Sprintf("r%d/int8/rows=%d", round, rows), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					QLSTMStep(RQ, rows, z, h, h, c, &s)
				}
			})
		}
	}
}
