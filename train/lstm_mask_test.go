package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/model"
)

// maskPaddings are the mask_zero layouts the masked LSTM is checked on:
// the valid steps of each review of a batch of 3 × 5, post-padded (as
// birnn's data pipeline pads), pre-padded, and with a review that is all
// padding.
var maskPaddings = []struct {
	name  string
	valid [][2]int // per review: valid steps [from, to)
}{
	{"post", [][2]int{{0, 5}, {0, 3}, {0, 1}}},
	{"pre", [][2]int{{0, 5}, {2, 5}, {4, 5}}},
	{"empty-row", [][2]int{{0, 2}, {0, 0}, {1, 5}}},
}

// stepMask is the seqMask of a batch whose reviews have the valid steps
// spans (row-major ids, 0 at padded steps).
func stepMask(spans [][2]int, S int) *seqMask {
	ids := make([]int, len(spans)*S)
	for b, sp := range spans {
		for t := sp[0]; t < sp[1]; t++ {
			ids[b*S+t] = 1
		}
	}
	m := &seqMask{batch: len(spans), seq: S}
	m.set(ids)
	return m
}

// TestMaskedLSTMEqualsTruncated runs the masked whole-layer LSTM (every
// direction, merge and output) against the unmasked layer run on each
// review's valid steps alone: the output of a review without
// return_sequences and the outputs at valid steps must be identical
// (Keras's masking skips the padded steps, leaving h and c as they were),
// padded steps must output zeros, and a review with no valid step gives
// the zero state.
func TestMaskedLSTMEqualsTruncated(t *testing.T) {
	const S, I, H = 5, 3, 2
	for _, pad := range maskPaddings {
		for _, tc := range lstmCases {
			if tc.dropout {
				continue
			}
			t.Run(pad.name+"/"+tc.name, func(t *testing.T) {
				B := len(pad.valid)
				rng := rand.New(rand.NewPCG(7, 8))
				x := randVec(rng, B*S*I, 1)
				var ws, rs, bs [][]float64
				for range tc.dirs {
					ws = append(ws, randVec(rng, 4*H*I, 0.7))
					rs = append(rs, randVec(rng, 4*H*H, 0.7))
					bs = append(bs, randVec(rng, 4*H, 0.5))
				}
				l := testLayer(tc.dirs, tc.merge, tc.retSeq, I, H)
				l.steps = stepMask(pad.valid, S)
				y := append([]float64(nil), l.forward(B, S, false, x, ws, rs, bs)...)
				W := l.out()
				for b, sp := range pad.valid {
					n := sp[1] - sp[0]
					if n == 0 {
						rows := 1
						if tc.retSeq {
							rows = S
						}
						for s := range rows {
							row := b
							if tc.retSeq {
								row = seqRow(b, s, B, S)
							}
							AllClose(t, "empty review", y[row*W:(row+1)*W], make([]float64, W), 0, 0)
						}
						continue
					}
					xb := make([]float64, 0, n*I)
					for s := sp[0]; s < sp[1]; s++ {
						row := seqRow(b, s, B, S)
						xb = append(xb, x[row*I:(row+1)*I]...)
					}
					one := testLayer(tc.dirs, tc.merge, tc.retSeq, I, H)
					want := one.forward(1, n, false, xb, ws, rs, bs)
					if !tc.retSeq {
						AllClose(t, "last state", y[b*W:(b+1)*W], want, 0, 0)
						continue
					}
					for s := range S {
						row := seqRow(b, s, B, S)
						got := y[row*W : (row+1)*W]
						if s < sp[0] || s >= sp[1] {
							AllClose(t, "padded step", got, make([]float64, W), 0, 0)
						} else {
							AllClose(t, "valid step", got, want[(s-sp[0])*W:(s-sp[0]+1)*W], 0, 0)
						}
					}
				}
			})
		}
	}
}

// TestMaskedLSTMGradientFiniteDifferences checks the masked layer's
// backward pass (every direction, merge and output, with and without
// recurrent dropout, post- and pre-padded, and with an all-padding
// review) against central differences in float64.
func TestMaskedLSTMGradientFiniteDifferences(t *testing.T) {
	const S, I, H = 5, 3, 3
	var worst float64
	for _, pad := range maskPaddings {
		for _, tc := range lstmCases {
			t.Run(pad.name+"/"+tc.name, func(t *testing.T) {
				B := len(pad.valid)
				rng := rand.New(rand.NewPCG(9, 10))
				x := randVec(rng, B*S*I, 1)
				l := testLayer(tc.dirs, tc.merge, tc.retSeq, I, H)
				l.steps = stepMask(pad.valid, S)
				var ws, rs, bs [][]float64
				for range tc.dirs {
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
				for d := range tc.dirs {
					ps = append(ps,
						param{fmt.Sprintf("w%d", d), ws[d], append([]float64(nil), l.dw[d]...)},
						param{fmt.Sprintf("r%d", d), rs[d], append([]float64(nil), l.dr[d]...)},
						param{fmt.Sprintf("b%d", d), bs[d], append([]float64(nil), l.db[d]...)})
				}
				for _, p := range ps {
					num := numGrad(p.v, loss)
					checkRelErr(t, p.name, p.g, num, 1e-6)
					worst = math.Max(worst, relErr(p.g, num))
				}
				// ∂x of a padded step is zero: the layer never reads it.
				for b, sp := range pad.valid {
					for s := range S {
						if s >= sp[0] && s < sp[1] {
							continue
						}
						row := seqRow(b, s, B, S)
						AllClose(t, "∂x at a padded step", ps[0].g[row*I:(row+1)*I], make([]float64, I), 0, 0)
					}
				}
			})
		}
	}
	t.Logf("worst relative error |analytic − numeric| / |(analytic, numeric)| = %.2g", worst)
}

// relErr is checkRelErr's measure.
func relErr(a, n []float64) float64 {
	var diff, norm float64
	for i := range a {
		d := a[i] - n[i]
		diff += d * d
		norm += a[i]*a[i] + n[i]*n[i]
	}
	return math.Sqrt(diff) / math.Max(math.Sqrt(norm), 1e-12)
}

// TestMaskedLSTMFloat32MatchesFloat64 runs the masked float32 layer on the
// engine's packed step kernels (H = 16, batches cut into several tasks)
// against the float64 layer the finite-difference checks validate.
func TestMaskedLSTMFloat32MatchesFloat64(t *testing.T) {
	const B, S, H = 70, 12, 16
	for _, tc := range []struct {
		dirs, I int
		retSeq  bool
		merge   string
	}{{1, 16, true, "concat"}, {2, 5, false, "concat"}, {2, 16, true, "sum"}} {
		t.Run(fmt.Sprintf("dirs%d/in%d/seq=%v/%s", tc.dirs, tc.I, tc.retSeq, tc.merge), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(13, 14))
			spec := model.LayerSpec{Kind: model.KindLSTM, Name: "lstm", Units: H, Dirs: tc.dirs,
				ReturnSequences: tc.retSeq, MergeMode: tc.merge}
			l64 := newSeqLayer[float64](lstmCell[float64]{hidden: H}, spec, tc.I, 0, nil)
			l32 := newSeqLayer[float32](lstmCell[float32]{hidden: H}, spec, tc.I, 0, nil)
			if !l32.packed() {
				t.Fatal("float32 layer of H=16 does not take the packed step kernels")
			}
			spans := make([][2]int, B)
			for b := range spans {
				n := rng.IntN(S + 1)
				if b%2 == 0 {
					spans[b] = [2]int{0, n} // post-padded
				} else {
					spans[b] = [2]int{S - n, S} // pre-padded
				}
			}
			l64.steps, l32.steps = stepMask(spans, S), stepMask(spans, S)
			to32 := func(v []float64) []float32 {
				out := make([]float32, len(v))
				for i, x := range v {
					out[i] = float32(x)
				}
				return out
			}
			x := randVec(rng, B*S*tc.I, 1)
			var w, r, b [][]float64
			var w32, r32, b32 [][]float32
			for d := range tc.dirs {
				w, r, b = append(w, randVec(rng, 4*H*tc.I, 0.3)), append(r, randVec(rng, 4*H*H, 0.3)), append(b, randVec(rng, 4*H, 0.3))
				w32, r32, b32 = append(w32, to32(w[d])), append(r32, to32(r[d])), append(b32, to32(b[d]))
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
			for d := range tc.dirs {
				near(fmt.Sprintf("dw%d", d), l32.dw[d], l64.dw[d])
				near(fmt.Sprintf("dr%d", d), l32.dr[d], l64.dr[d])
				near(fmt.Sprintf("db%d", d), l32.db[d], l64.db[d])
			}
		})
	}
}
