package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refLSTM is a straightforward LSTM written from the Keras equations, with
// Keras-layout weights (kernel [in, 4H], recurrent [H, 4H], bias [4H], gate
// blocks i, f, c, o) and per-step loops; it shares no code with lstmCore.
func refLSTM(x [][][]float64, kern, rec [][]float64, bias []float64, H int, goBackwards bool, mask [][]float64) (seqOut [][][]float64, last [][]float64) {
	B, S := len(x), len(x[0])
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	seqOut = make([][][]float64, B)
	last = make([][]float64, B)
	for b := 0; b < B; b++ {
		h := make([]float64, H)
		c := make([]float64, H)
		seqOut[b] = make([][]float64, S)
		for s := 0; s < S; s++ {
			t := s
			if goBackwards {
				t = S - 1 - s
			}
			hp := make([]float64, H)
			for j := range hp {
				hp[j] = h[j]
				if mask != nil {
					hp[j] *= mask[b][j]
				}
			}
			z := make([]float64, 4*H)
			for k := 0; k < 4*H; k++ {
				v := bias[k]
				for i := range x[b][t] {
					v += x[b][t][i] * kern[i][k]
				}
				for j := 0; j < H; j++ {
					v += hp[j] * rec[j][k]
				}
				z[k] = v
			}
			nh := make([]float64, H)
			for j := 0; j < H; j++ {
				ig := sig(z[j])
				fg := sig(z[H+j])
				gg := math.Tanh(z[2*H+j])
				og := sig(z[3*H+j])
				c[j] = fg*c[j] + ig*gg
				nh[j] = og * math.Tanh(c[j])
			}
			h = nh
			seqOut[b][t] = append([]float64(nil), h...)
		}
		last[b] = h
	}
	return seqOut, last
}

// kerasToONNX converts Keras kernel/recurrent/bias into ONNX W [4H, in],
// R [4H, H] and Wb [4H]: ONNX gate block k is Keras block [0, 3, 1, 2][k].
func kerasToONNX(kern, rec [][]float64, bias []float64, H int) (w, r, wb []float64) {
	in := len(kern)
	perm := [4]int{0, 3, 1, 2}
	w = make([]float64, 4*H*in)
	r = make([]float64, 4*H*H)
	wb = make([]float64, 4*H)
	for k := 0; k < 4; k++ {
		for j := 0; j < H; j++ {
			row := k*H + j
			col := perm[k]*H + j
			for i := 0; i < in; i++ {
				w[row*in+i] = kern[i][col]
			}
			for i := 0; i < H; i++ {
				r[row*H+i] = rec[i][col]
			}
			wb[row] = bias[col]
		}
	}
	return w, r, wb
}

func randMat(rng *rand.Rand, rows, cols int, scale float64) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			m[i][j] = scale * (2*rng.Float64() - 1)
		}
	}
	return m
}

func randVec(rng *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * (2*rng.Float64() - 1)
	}
	return v
}

// AllClose fails t when got and want differ anywhere by more than
// atol + rtol·|want|.
func AllClose(t *testing.T, name string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > atol+rtol*math.Abs(want[i]) || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %.12g, want %.12g (diff %.3g)", name, i, got[i], want[i], d)
		}
	}
}

// lstmCases are the directions, outputs and dropout masks the fused LSTM
// is checked on.
var lstmCases = []struct {
	name            string
	reverse, retSeq bool
	dropout         bool
}{
	{"forward/last", false, false, false},
	{"forward/seq", false, true, false},
	{"reverse/last", true, false, false},
	{"reverse/seq", true, true, false},
	{"forward/seq/mask", false, true, true},
	{"reverse/last/mask", true, false, true},
}

func TestLSTMForwardMatchesKerasEquations(t *testing.T) {
	const B, S, I, H = 3, 5, 4, 3
	for _, tc := range lstmCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 9))
			kern := randMat(rng, I, 4*H, 0.6)
			rec := randMat(rng, H, 4*H, 0.6)
			bias := randVec(rng, 4*H, 0.3)
			x3 := make([][][]float64, B)
			var x []float64
			for b := range x3 {
				x3[b] = randMat(rng, S, I, 1)
				for _, row := range x3[b] {
					x = append(x, row...)
				}
			}
			var mask2 [][]float64
			var mask []float64
			if tc.dropout {
				mask2 = make([][]float64, B)
				for b := range mask2 {
					mask2[b] = make([]float64, H)
					for j := range mask2[b] {
						if rng.Float64() > 0.3 {
							mask2[b][j] = 1 / 0.7
						}
					}
					mask = append(mask, mask2[b]...)
				}
			}
			w, r, wb := kerasToONNX(kern, rec, bias, H)
			seqOut, last := refLSTM(x3, kern, rec, bias, H, tc.reverse, mask2)
			var want []float64
			if tc.retSeq {
				for b := range seqOut {
					for _, row := range seqOut[b] {
						want = append(want, row...)
					}
				}
			} else {
				for _, row := range last {
					want = append(want, row...)
				}
			}
			l := &lstmCore[float64]{batch: B, seq: S, in: I, hidden: H, reverse: tc.reverse, retSeq: tc.retSeq}
			y := make([]float64, l.outSize())
			l.forward(x, w, r, wb, mask, y)
			AllClose(t, "y", y, want, 1e-12, 1e-12)
		})
	}
}

func TestLSTMGradientFiniteDifferences(t *testing.T) {
	const B, S, I, H = 2, 4, 3, 3
	for _, tc := range lstmCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			x := randVec(rng, B*S*I, 1)
			w := randVec(rng, 4*H*I, 0.7)
			r := randVec(rng, 4*H*H, 0.7)
			wb := randVec(rng, 4*H, 0.5)
			var mask []float64
			if tc.dropout {
				mask = make([]float64, B*H)
				for i := range mask {
					if rng.Float64() > 0.4 {
						mask[i] = 1 / 0.6
					}
				}
			}
			l := &lstmCore[float64]{batch: B, seq: S, in: I, hidden: H, reverse: tc.reverse, retSeq: tc.retSeq}
			y := make([]float64, l.outSize())
			gy := randVec(rng, len(y), 1)
			loss := func() float64 {
				l.forward(x, w, r, wb, mask, y)
				var s float64
				for i := range y {
					s += y[i] * gy[i]
				}
				return s
			}
			loss()
			l.backward(x, w, r, gy)
			grads := map[string][]float64{
				"x": append([]float64(nil), l.dx...), "w": append([]float64(nil), l.dw...),
				"r": append([]float64(nil), l.dr...), "b": append([]float64(nil), l.db...),
			}
			for _, p := range []struct {
				name string
				v    []float64
			}{{"x", x}, {"w", w}, {"r", r}, {"b", wb}} {
				num := numGrad(p.v, loss)
				checkRelErr(t, p.name, grads[p.name], num, 1e-6)
			}
		})
	}
}

// numGrad is the central finite difference of f with respect to every
// element of v (restored afterwards).
func numGrad(v []float64, f func() float64) []float64 {
	const eps = 1e-6
	g := make([]float64, len(v))
	for i := range v {
		old := v[i]
		v[i] = old + eps
		fp := f()
		v[i] = old - eps
		fm := f()
		v[i] = old
		g[i] = (fp - fm) / (2 * eps)
	}
	return g
}

// checkRelErr compares an analytic gradient with a numerical one by the
// usual gradient-check measure ‖a−n‖ / ‖(a, n)‖ over the whole vector.
func checkRelErr(t *testing.T, name string, analytic, numeric []float64, tol float64) {
	t.Helper()
	var diff, norm float64
	for i := range analytic {
		d := analytic[i] - numeric[i]
		diff += d * d
		norm += analytic[i]*analytic[i] + numeric[i]*numeric[i]
	}
	rel := math.Sqrt(diff) / math.Max(math.Sqrt(norm), 1e-12)
	if rel > tol || math.IsNaN(rel) {
		t.Errorf("%s: relative error %.3g > %.0g\nanalytic %v\nnumeric  %v", name, rel, tol, analytic, numeric)
	}
}
