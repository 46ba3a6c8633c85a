package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachImpl runs f under every implementation this binary and CPU have.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, im := range Available() {
		t.Run(im.String(), func(t *testing.T) {
			prev, err := SetImpl(im)
			if err != nil {
				t.Fatal(err)
			}
			defer SetImpl(prev)
			f(t)
		})
	}
}

func sig64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// stepCase is one random recurrent step: weights in ONNX layout, an input
// projection per gate block, and previous states, all float64.
type stepCase struct {
	rows, hidden, gates int
	r                   []float64 // [G·H, H]
	x                   []float64 // [rows, G·H]: x·Wᵀ + biases, gate-major
	rb                  []float64 // [G·H] recurrent bias (GRU)
	h, c                []float64 // [rows, H]
}

func newStepCase(rng *rand.Rand, rows, hidden, gates int) stepCase {
	u := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(float32((rng.Float64()*2 - 1) * s))
		}
		return v
	}
	G := gates * hidden
	sc := 1 / math.Sqrt(float64(hidden))
	return stepCase{rows: rows, hidden: hidden, gates: gates,
		r: u(G*hidden, 1.5*sc), x: u(rows*G, 2), rb: u(G, 0.5), h: u(rows*hidden, 1), c: u(rows*hidden, 2)}
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// hr returns h·Rᵀ for row b, gate g, unit j in float64.
func (s stepCase) hr(h []float64, b, g, j int) float64 {
	H := s.hidden
	var sum float64
	for p := range H {
		sum += h[b*H+p] * s.r[(g*H+j)*H+p]
	}
	return sum
}

// pad lays out rows of n values with stride ld (zeros elsewhere).
func pad(v []float64, rows, n, ld int) []float32 {
	out := make([]float32, rows*ld)
	for b := range rows {
		for j := range n {
			out[b*ld+j] = float32(v[b*n+j])
		}
	}
	return out
}

// interleaveRows lays out gate-major rows [rows, G·H] in l's layout.
func interleaveRows(l Gates, v []float64, rows int) []float32 {
	out := make([]float32, rows*l.LD)
	for b := range rows {
		l.Interleave(out[b*l.LD:], f32s(v[b*l.G*l.H:(b+1)*l.G*l.H]))
	}
	return out
}

func checkState(t *testing.T, name string, got []float32, want []float64, rows, H, ld int) {
	t.Helper()
	for b := range rows {
		for j := range ld {
			g := float64(got[b*ld+j])
			if j >= H {
				if g != 0 {
					t.Fatalf("%s: padding [%d, %d] = %v, want 0", name, b, j, g)
				}
				continue
			}
			if w := want[b*H+j]; math.Abs(g-w) > 1e-5 || math.IsNaN(g) {
				t.Fatalf("%s: [%d, %d] = %v, want %v", name, b, j, g, w)
			}
		}
	}
}

// stepShapes covers 6-row blocks and every remainder, hidden sizes with
// and without a tail of 8, and widths (G·Hp) that are and are not multiples
// of 64, 32 and 16.
var stepShapes = [][2]int{{1, 1}, {1, 64}, {2, 5}, {3, 8}, {5, 13}, {6, 16}, {7, 24}, {11, 33},
	{12, 64}, {13, 7}, {17, 100}, {4, 129}, {9, 300}}

// TestLSTMStep checks one fused LSTM step against the ONNX equations in
// float64.
func TestLSTMStep(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, sh := range stepShapes {
			rows, H := sh[0], sh[1]
			s := newStepCase(rng, rows, H, 4)
			l := NewGates(4, H)
			R := NewGateMatrix(l, f32s(s.r), H)
			z := interleaveRows(l, s.x, rows)
			hPrev, c := pad(s.h, rows, H, l.Hp), pad(s.c, rows, H, l.Hp)
			h := make([]float32, len(hPrev))
			LSTMStep(R, rows, z, hPrev, h, c)
			checkState(t, "LSTM hPrev", hPrev, s.h, rows, H, l.Hp)
			wantH, wantC := make([]float64, rows*H), make([]float64, rows*H)
			for b := range rows {
				for j := range H {
					pre := func(g int) float64 { return s.x[b*4*H+g*H+j] + s.hr(s.h, b, g, j) }
					i, o, f, g := sig64(pre(0)), sig64(pre(1)), sig64(pre(2)), math.Tanh(pre(3))
					cn := f*s.c[b*H+j] + i*g
					wantC[b*H+j], wantH[b*H+j] = cn, o*math.Tanh(cn)
				}
			}
			name := fmt.Sprintf("rows %d H %d", rows, H)
			checkState(t, name+" c", c, wantC, rows, H, l.Hp)
			checkState(t, name+" h", h, wantH, rows, H, l.Hp)
		}
	})
}

// TestGRUStep checks the fused GRU steps (linear_before_reset 1 and 0)
// against the ONNX equations in float64.
func TestGRUStep(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, sh := range stepShapes {
			rows, H := sh[0], sh[1]
			s := newStepCase(rng, rows, H, 3)
			name := fmt.Sprintf("rows %d H %d", rows, H)
			l := NewGates(3, H)
			// x carries Wb and, for z and r, Rb as well.
			xb := append([]float64{}, s.x...)
			for b := range rows {
				for j := range 2 * H {
					xb[b*3*H+j] += s.rb[j]
				}
			}
			x := interleaveRows(l, xb, rows)

			// linear_before_reset = 1
			R := NewGateMatrix(l, f32s(s.r), H)
			rbias := make([]float32, l.LD)
			for j := range H {
				rbias[l.Col(2, j)] = float32(s.rb[2*H+j])
			}
			hPrev := pad(s.h, rows, H, l.Hp)
			h := make([]float32, len(hPrev))
			GRUStep(R, rbias, rows, x, make([]float32, stepRows*l.LD), hPrev, h)
			checkState(t, name+" lbr=1 hPrev", hPrev, s.h, rows, H, l.Hp)
			want := make([]float64, rows*H)
			for b := range rows {
				for j := range H {
					z := sig64(xb[b*3*H+j] + s.hr(s.h, b, 0, j))
					r := sig64(xb[b*3*H+H+j] + s.hr(s.h, b, 1, j))
					n := math.Tanh(xb[b*3*H+2*H+j] + r*(s.hr(s.h, b, 2, j)+s.rb[2*H+j]))
					want[b*H+j] = (1-z)*n + z*s.h[b*H+j]
				}
			}
			checkState(t, name+" lbr=1", h, want, rows, H, l.Hp)

			// linear_before_reset = 0, in place
			l2, l1 := NewGates(2, H), NewGates(1, H)
			r32 := f32s(s.r)
			Rzr, Rh := NewGateMatrix(l2, r32[:2*H*H], H), NewGateMatrix(l1, r32[2*H*H:], H)
			hbias := make([]float32, l1.LD)
			l1.Interleave(hbias, f32s(s.rb[2*H:]))
			h = pad(s.h, rows, H, l.Hp)
			GRUStep0(Rzr, Rh, hbias, rows, x, make([]float32, stepRows*(l2.LD+l1.LD)), make([]float32, 2*stepRows*l.Hp), h, h)
			for b := range rows {
				rh := make([]float64, H)
				z := make([]float64, H)
				for j := range H {
					z[j] = sig64(xb[b*3*H+j] + s.hr(s.h, b, 0, j))
					rh[j] = sig64(xb[b*3*H+H+j]+s.hr(s.h, b, 1, j)) * s.h[b*H+j]
				}
				for j := range H {
					var sum float64
					for p := range H {
						sum += rh[p] * s.r[(2*H+j)*H+p]
					}
					n := math.Tanh(xb[b*3*H+2*H+j] + sum + s.rb[2*H+j])
					want[b*H+j] = (1-z[j])*n + z[j]*s.h[b*H+j]
				}
			}
			checkState(t, name+" lbr=0", h, want, rows, H, l.Hp)
		}
	})
}

// TestRNNStep checks the fused simple-RNN step against float64.
func TestRNNStep(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, sh := range stepShapes {
			rows, H := sh[0], sh[1]
			s := newStepCase(rng, rows, H, 1)
			l := NewGates(1, H)
			R := NewGateMatrix(l, f32s(s.r), H)
			z := interleaveRows(l, s.x, rows)
			hPrev := pad(s.h, rows, H, l.Hp)
			h := make([]float32, len(hPrev))
			RNNStep(R, rows, z, hPrev, h)
			checkState(t, "RNN hPrev", hPrev, s.h, rows, H, l.Hp)
			want := make([]float64, rows*H)
			for b := range rows {
				for j := range H {
					want[b*H+j] = math.Tanh(s.x[b*H+j] + s.hr(s.h, b, 0, j))
				}
			}
			checkState(t, fmt.Sprintf("rows %d H %d", rows, H), h, want, rows, H, l.Hp)
		}
	})
}

// TestStepRowsIndependent checks that a step over rows [0, n) gives
// bit-identical states whether it runs as one call or as calls over
// arbitrary row ranges (as the threads of an operator split them).
func TestStepRowsIndependent(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(27, 28))
		for _, H := range []int{5, 64, 37} {
			const rows = 29
			s := newStepCase(rng, rows, H, 4)
			l := NewGates(4, H)
			R := NewGateMatrix(l, f32s(s.r), H)
			z0 := interleaveRows(l, s.x, rows)
			h0, c0 := pad(s.h, rows, H, l.Hp), pad(s.c, rows, H, l.Hp)
			run := func(cuts []int) ([]float32, []float32) {
				z, h, c := append([]float32{}, z0...), append([]float32{}, h0...), append([]float32{}, c0...)
				lo := 0
				for _, hi := range append(cuts, rows) {
					LSTMStep(R, hi-lo, z[lo*l.LD:], h[lo*l.Hp:], h[lo*l.Hp:], c[lo*l.Hp:])
					lo = hi
				}
				return h, c
			}
			wh, wc := run(nil)
			for _, cuts := range [][]int{{1}, {5, 6, 7}, {3, 10, 22}, {14}} {
				h, c := run(cuts)
				for i := range wh {
					if math.Float32bits(h[i]) != math.Float32bits(wh[i]) || math.Float32bits(c[i]) != math.Float32bits(wc[i]) {
						t.Fatalf("H %d cuts %v: state %d differs: h %v vs %v", H, cuts, i, h[i], wh[i])
					}
				}
			}
		}
	})
}

// TestGateMatrixProject checks Project (bias + a·Wᵀ in the interleaved
// layout) against float64, K with and without tails.
func TestGateMatrixProject(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(29, 30))
		for _, sh := range [][3]int{{1, 3, 1}, {7, 64, 64}, {13, 5, 17}, {6, 33, 128}, {20, 100, 3}} {
			rows, H, K := sh[0], sh[1], sh[2]
			for _, G := range []int{1, 3, 4} {
				l := NewGates(G, H)
				w := make([]float32, G*H*K)
				a := make([]float32, rows*(K+2))
				bias := make([]float32, G*H)
				for _, v := range [][]float32{w, a, bias} {
					for i := range v {
						v[i] = float32(rng.Float64()*2 - 1)
					}
				}
				m := NewGateMatrix(l, w, K)
				bi := make([]float32, l.LD)
				l.Interleave(bi, bias)
				c := make([]float32, rows*l.LD)
				m.Project(rows, a, K+2, bi, c, l.LD)
				for b := range rows {
					for g := range G {
						for j := range H {
							want := float64(bias[g*H+j])
							for p := range K {
								want += float64(a[b*(K+2)+p]) * float64(w[(g*H+j)*K+p])
							}
							if got := float64(c[b*l.LD+l.Col(g, j)]); math.Abs(got-want) > 1e-5*float64(K+1) {
								t.Fatalf("rows %d H %d K %d G %d: [%d, %d, %d] = %v, want %v", rows, H, K, G, b, g, j, got, want)
							}
						}
					}
				}
			}
		}
	})
}

// TestCellActivations checks the gate functions inside the LSTM cell
// kernel, which leaves the activated gates in z: sigmoid for i, o, f and
// tanh for the candidate, against float64 over the whole useful range and
// beyond, to 3e-7; NaN stays NaN.
func TestCellActivations(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		const H = 64
		l := NewGates(4, H)
		xs := []float32{0, 1e-8, -1e-8, 0.5, -0.5, 20, -20, 87, -87, 88.5, -88.5, 1e30, -1e30,
			float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
		for len(xs) < 40000 {
			xs = append(xs, float32((rng.Float64()*2-1)*30))
		}
		rows := (len(xs) + 4*H - 1) / (4 * H)
		z := make([]float32, rows*l.LD)
		pre := make([]float32, len(z))
		for i := range z {
			z[i] = xs[i%len(xs)]
		}
		copy(pre, z)
		c, h := make([]float32, rows*l.Hp), make([]float32, rows*l.Hp)
		lstmCells(l, rows, z, c, h)
		for i, x := range pre {
			var want float64
			if (i%32)/8 == 3 {
				want = math.Tanh(float64(x))
			} else {
				want = 1 / (1 + math.Exp(-float64(x)))
			}
			got := float64(z[i])
			if math.IsNaN(float64(x)) {
				if !math.IsNaN(got) {
					t.Fatalf("gate %d of NaN = %v, want NaN", i, got)
				}
				continue
			}
			if math.Abs(got-want) > 3e-7 {
				t.Fatalf("gate %d at x = %v: %v, want %v", i, x, got, want)
			}
		}
	})
}

// TestProjectRowsIndependent checks that Project gives bit-identical rows
// whatever the row ranges of its calls (every product kernel: 6, 5, 4, 2
// and 1 rows, 64-, 32- and 16-column passes).
func TestProjectRowsIndependent(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(33, 34))
		for _, sh := range [][3]int{{4, 64, 64}, {3, 37, 21}, {1, 13, 128}} {
			G, H, K := sh[0], sh[1], sh[2]
			l := NewGates(G, H)
			const rows = 31
			w, a, bias := make([]float32, G*H*K), make([]float32, rows*K), make([]float32, l.LD)
			for _, v := range [][]float32{w, a, bias} {
				for i := range v {
					v[i] = float32(rng.Float64()*2 - 1)
				}
			}
			m := NewGateMatrix(l, w, K)
			whole := make([]float32, rows*l.LD)
			m.Project(rows, a, K, bias, whole, l.LD)
			for _, cuts := range [][]int{{1, 2, 3, 4, 5, 6, 7, 8}, {5, 9, 11, 20}, {2, 4, 6, 30}} {
				got := make([]float32, rows*l.LD)
				lo := 0
				for _, hi := range append(cuts, rows) {
					m.Project(hi-lo, a[lo*K:], K, bias, got[lo*l.LD:], l.LD)
					lo = hi
				}
				for i := range whole {
					if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
						t.Fatalf("G %d H %d K %d cuts %v: element %d = %v, want %v", G, H, K, cuts, i, got[i], whole[i])
					}
				}
			}
		}
	})
}
