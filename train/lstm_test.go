package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/birnn/birnn/model"
)

// refLSTM is a straightforward LSTM written from the Keras equations, with
// Keras-layout weights (kernel [in, 4H], recurrent [H, 4H], bias [4H], gate
// blocks i, f, c, o) and per-step loops; it shares no code with seqLayer.
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

// lstmCases are the directions, merges, outputs and dropout masks the
// whole-layer LSTM is checked on.
var lstmCases = []struct {
	name    string
	dirs    int
	merge   string
	retSeq  bool
	dropout bool
}{
	{"forward/last", 1, "", false, false},
	{"forward/seq", 1, "", true, false},
	{"forward/seq/mask", 1, "", true, true},
	{"bi-concat/last", 2, "concat", false, false},
	{"bi-concat/seq", 2, "concat", true, false},
	{"bi-concat/seq/mask", 2, "concat", true, true},
	{"bi-sum/seq", 2, "sum", true, false},
	{"bi-mul/last/mask", 2, "mul", false, true},
	{"bi-ave/seq", 2, "ave", true, false},
	{"bi-ave/last", 2, "ave", false, false},
}

// testLayer is a seqLayer of the case's shape for B×S inputs of width I.
func testLayer(dirs int, merge string, retSeq bool, I, H int) *seqLayer[float64] {
	spec := model.LayerSpec{Kind: model.KindLSTM, Name: "lstm", Units: H, Dirs: dirs,
		ReturnSequences: retSeq, MergeMode: merge}
	return newSeqLayer[float64](lstmCell[float64]{hidden: H}, spec, I, 0, nil)
}

// timeMajorRows turns rows [B][S][n] into a time-major [S·B, n] slice.
func timeMajorRows(x [][][]float64) []float64 {
	B, S := len(x), len(x[0])
	var out []float64
	for t := 0; t < S; t++ {
		for b := 0; b < B; b++ {
			out = append(out, x[b][t]...)
		}
	}
	return out
}

// dropoutRows draws a recurrent dropout mask of rate 0.3 for B rows of
// width H: each entry 0 or 1/0.7.
func dropoutRows(rng *rand.Rand, B, H int) [][]float64 {
	m := make([][]float64, B)
	for b := range m {
		m[b] = make([]float64, H)
		for j := range m[b] {
			if rng.Float64() > 0.3 {
				m[b][j] = 1 / 0.7
			}
		}
	}
	return m
}

func mergeRef(mode string, a, b []float64) []float64 {
	switch mode {
	case "concat":
		return append(append([]float64(nil), a...), b...)
	}
	out := make([]float64, len(a))
	for j := range a {
		switch mode {
		case "sum":
			out[j] = a[j] + b[j]
		case "mul":
			out[j] = a[j] * b[j]
		case "ave":
			out[j] = (a[j] + b[j]) / 2
		}
	}
	return out
}

// TestLSTMForwardMatchesKerasEquations runs the whole-layer operator and
// the Keras-equation reference (the reverse direction as Keras's
// go_backwards layer with its output re-reversed) on the same weights.
func TestLSTMForwardMatchesKerasEquations(t *testing.T) {
	const B, S, I, H = 3, 5, 4, 3
	for _, tc := range lstmCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 9))
			x3 := make([][][]float64, B)
			for b := range x3 {
				x3[b] = randMat(rng, S, I, 1)
			}
			l := testLayer(tc.dirs, tc.merge, tc.retSeq, I, H)
			var ws, rs, bs [][]float64
			var seqs [][][][]float64
			var lasts [][][]float64
			var mask []float64
			for d := 0; d < tc.dirs; d++ {
				kern := randMat(rng, I, 4*H, 0.6)
				rec := randMat(rng, H, 4*H, 0.6)
				bias := randVec(rng, 4*H, 0.3)
				var mask2 [][]float64
				if tc.dropout {
					mask2 = dropoutRows(rng, B, H)
					mask = append(mask, slices.Concat(mask2...)...)
				}
				w, r, wb := kerasToONNX(kern, rec, bias, H)
				ws, rs, bs = append(ws, w), append(rs, r), append(bs, wb)
				so, la := refLSTM(x3, kern, rec, bias, H, d == 1, mask2)
				seqs, lasts = append(seqs, so), append(lasts, la)
			}
			var want []float64
			if tc.retSeq {
				for t := 0; t < S; t++ {
					for b := 0; b < B; b++ {
						if tc.dirs == 1 {
							want = append(want, seqs[0][b][t]...)
						} else {
							want = append(want, mergeRef(tc.merge, seqs[0][b][t], seqs[1][b][t])...)
						}
					}
				}
			} else {
				for b := 0; b < B; b++ {
					if tc.dirs == 1 {
						want = append(want, lasts[0][b]...)
					} else {
						want = append(want, mergeRef(tc.merge, lasts[0][b], lasts[1][b])...)
					}
				}
			}
			l.fixedMask = mask
			y := l.forward(B, S, true, timeMajorRows(x3), ws, rs, bs)
			AllClose(t, "y", y, want, 1e-12, 1e-12)
		})
	}
}

// TestLSTMGradientFiniteDifferences checks every gradient of the
// whole-layer operator (x, and W, R, b of each direction) against central
// differences of ⟨y, gy⟩ in float64.
func TestLSTMGradientFiniteDifferences(t *testing.T) {
	const B, S, I, H = 3, 4, 3, 3
	for _, tc := range lstmCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			x := randVec(rng, B*S*I, 1)
			l := testLayer(tc.dirs, tc.merge, tc.retSeq, I, H)
			var ws, rs, bs [][]float64
			for d := 0; d < tc.dirs; d++ {
				ws = append(ws, randVec(rng, 4*H*I, 0.7))
				rs = append(rs, randVec(rng, 4*H*H, 0.7))
				bs = append(bs, randVec(rng, 4*H, 0.5))
			}
			if tc.dropout {
				l.fixedMask = make([]float64, tc.dirs*B*H)
				for i := range l.fixedMask {
					if rng.Float64() > 0.4 {
						l.fixedMask[i] = 1 / 0.6
					}
				}
			}
			gy := randVec(rng, l.outRows(B, S)*l.out(), 1)
			loss := func() float64 {
				y := l.forward(B, S, true, x, ws, rs, bs)
				var s float64
				for i := range y {
					s += y[i] * gy[i]
				}
				return s
			}
			loss()
			l.backward(gy)
			type param struct {
				name string
				v, g []float64
			}
			ps := []param{{"x", x, append([]float64(nil), l.dx...)}}
			for d := 0; d < tc.dirs; d++ {
				ps = append(ps,
					param{fmt.Sprintf("w%d", d), ws[d], append([]float64(nil), l.dw[d]...)},
					param{fmt.Sprintf("r%d", d), rs[d], append([]float64(nil), l.dr[d]...)},
					param{fmt.Sprintf("b%d", d), bs[d], append([]float64(nil), l.db[d]...)})
			}
			for _, p := range ps {
				checkRelErr(t, p.name, p.g, numGrad(p.v, loss), 1e-6)
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

// TestLSTMFloat32MatchesFloat64 runs the float32 layer (the engine's
// packed step kernels, H a multiple of 16, an odd batch cut into halves
// for one direction) against the float64 one that the finite-difference
// checks validate, forward and backward.
func TestLSTMFloat32MatchesFloat64(t *testing.T) {
	const B, S, H = 7, 40, 16 // S·B > 256: ∂W and ∂R over several k blocks
	for _, tc := range []struct {
		dirs, I      int // I a multiple of 16: ∂x on the packed kernels too
		retSeq, mask bool
	}{{1, 5, true, true}, {1, 16, false, false}, {2, 16, true, false}, {2, 5, false, true}, {2, 16, false, true}} {
		I := tc.I
		t.Run(fmt.Sprintf("dirs%d/in%d/seq=%v/mask=%v", tc.dirs, I, tc.retSeq, tc.mask), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			spec := model.LayerSpec{Kind: model.KindLSTM, Name: "lstm", Units: H, Dirs: tc.dirs,
				ReturnSequences: tc.retSeq, MergeMode: "concat"}
			l64 := newSeqLayer[float64](lstmCell[float64]{hidden: H}, spec, I, 0, nil)
			l32 := newSeqLayer[float32](lstmCell[float32]{hidden: H}, spec, I, 0, nil)
			if !l32.packed() {
				t.Fatal("float32 layer of H=16 does not take the packed step kernels")
			}
			to32 := func(v []float64) []float32 {
				out := make([]float32, len(v))
				for i, x := range v {
					out[i] = float32(x)
				}
				return out
			}
			x := randVec(rng, B*S*I, 1)
			var w, r, b [][]float64
			var w32, r32, b32 [][]float32
			for d := 0; d < tc.dirs; d++ {
				w, r, b = append(w, randVec(rng, 4*H*I, 0.3)), append(r, randVec(rng, 4*H*H, 0.3)), append(b, randVec(rng, 4*H, 0.3))
				w32, r32, b32 = append(w32, to32(w[d])), append(r32, to32(r[d])), append(b32, to32(b[d]))
			}
			mask := make([]float64, tc.dirs*B*H)
			for i := range mask {
				if rng.Float64() > 0.25 {
					mask[i] = 1 / 0.75
				}
			}
			if tc.mask {
				l64.fixedMask, l32.fixedMask = mask, to32(mask)
			}
			y64 := l64.forward(B, S, true, x, w, r, b)
			y32 := l32.forward(B, S, true, to32(x), w32, r32, b32)
			gy := randVec(rng, len(y64), 1)
			l64.backward(gy)
			l32.backward(to32(gy))
			near := func(name string, got []float32, want []float64) {
				t.Helper()
				var scale float64
				for _, v := range want {
					scale = math.Max(scale, math.Abs(v))
				}
				for i := range want {
					if d := math.Abs(float64(got[i]) - want[i]); d > 1e-4*math.Max(scale, 1) {
						t.Fatalf("%s[%d] = %g, float64 %g", name, i, got[i], want[i])
					}
				}
			}
			near("y", y32, y64)
			near("dx", l32.dx, l64.dx)
			for d := 0; d < tc.dirs; d++ {
				near(fmt.Sprintf("dw%d", d), l32.dw[d], l64.dw[d])
				near(fmt.Sprintf("dr%d", d), l32.dr[d], l64.dr[d])
				near(fmt.Sprintf("db%d", d), l32.db[d], l64.db[d])
			}
		})
	}
}
