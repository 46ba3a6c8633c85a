package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refGRU is Keras's GRUCell (reset_after=True) written from its equations,
// with Keras-layout weights: kernel [in, 3H], recurrent [H, 3H] (columns z,
// r, h), bias [2][3H] (input, recurrent). go_backwards reads right to left
// and, as Bidirectional does, the sequence output is re-reversed.
func refGRU(x [][][]float64, kern, rec [][]float64, bias [2][]float64, H int, goBackwards bool, mask [][]float64) (seqOut [][][]float64, last [][]float64) {
	return refScan(x, H, goBackwards, func(b int, xt, h []float64) []float64 {
		hm := append([]float64(nil), h...)
		if mask != nil {
			for j := range hm {
				hm[j] *= mask[b][j]
			}
		}
		mx := make([]float64, 3*H)
		mi := make([]float64, 3*H)
		for c := range 3 * H {
			mx[c] = bias[0][c]
			mi[c] = bias[1][c]
			for k, v := range xt {
				mx[c] += v * kern[k][c]
			}
			for k, v := range hm {
				mi[c] += v * rec[k][c]
			}
		}
		nh := make([]float64, H)
		for j := range H {
			z := 1 / (1 + math.Exp(-(mx[j] + mi[j])))
			r := 1 / (1 + math.Exp(-(mx[H+j] + mi[H+j])))
			hh := math.Tanh(mx[2*H+j] + r*mi[2*H+j])
			nh[j] = z*h[j] + (1-z)*hh
		}
		return nh
	})
}

// refSimpleRNN is Keras's SimpleRNNCell: h = act(x·kernel + b + hm·rec).
func refSimpleRNN(x [][][]float64, kern, rec [][]float64, bias []float64, H int, goBackwards, relu bool, mask [][]float64) (seqOut [][][]float64, last [][]float64) {
	return refScan(x, H, goBackwards, func(b int, xt, h []float64) []float64 {
		nh := make([]float64, H)
		for j := range H {
			a := bias[j]
			for k, v := range xt {
				a += v * kern[k][j]
			}
			for k, v := range h {
				m := 1.0
				if mask != nil {
					m = mask[b][k]
				}
				a += v * m * rec[k][j]
			}
			if relu {
				nh[j] = math.Max(a, 0)
			} else {
				nh[j] = math.Tanh(a)
			}
		}
		return nh
	})
}

// refScan runs a cell over x [batch][time][in] from a zero state of width
// H, left to right or (goBackwards) right to left, and returns the state
// after every step at that step's position and the state after the last.
// cell maps row b's input at one step and the state before it to the state
// after it.
func refScan(x [][][]float64, H int, goBackwards bool, cell func(b int, xt, h []float64) []float64) (seqOut [][][]float64, last [][]float64) {
	B, S := len(x), len(x[0])
	seqOut = make([][][]float64, B)
	last = make([][]float64, B)
	for b := range B {
		h := make([]float64, H)
		seqOut[b] = make([][]float64, S)
		for s := range S {
			t := s
			if goBackwards {
				t = S - 1 - s
			}
			h = cell(b, x[b][t], h)
			seqOut[b][t] = h
		}
		last[b] = h
	}
	return seqOut, last
}

// transposed returns mᵀ flattened: the ONNX W or R of a Keras kernel
// (GRU and SimpleRNN gates are in the same order in both).
func transposed(m [][]float64) []float64 {
	out := make([]float64, 0, len(m)*len(m[0]))
	for c := range m[0] {
		for r := range m {
			out = append(out, m[r][c])
		}
	}
	return out
}

// rnnCases are the directions, outputs and dropout masks the GRU and
// SimpleRNN cores are checked on.
var rnnCases = []struct {
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

var rnnKinds = []struct {
	name      string
	gru, relu bool
}{{"gru", true, false}, {"simple_rnn", false, false}, {"simple_rnn_relu", false, true}}

func TestGRUSimpleRNNForwardMatchKerasEquations(t *testing.T) {
	const B, S, I, H = 3, 5, 4, 3
	for _, kind := range rnnKinds {
		for _, tc := range rnnCases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, 9))
				g := H
				if kind.gru {
					g = 3 * H
				}
				kern := randMat(rng, I, g, 0.6)
				rec := randMat(rng, H, g, 0.6)
				bias := [2][]float64{randVec(rng, g, 0.3), randVec(rng, g, 0.3)}
				x3 := make([][][]float64, B)
				for b := range x3 {
					x3[b] = randMat(rng, S, I, 1)
				}
				x := timeMajorRows(x3) // as the trainer runs them
				var mask2 [][]float64
				var mask []float64
				if tc.dropout {
					mask2 = dropoutRows(rng, B, H)
					mask = slices.Concat(mask2...)
				}
				var seqOut [][][]float64
				var last [][]float64
				var rb []float64
				if kind.gru {
					seqOut, last = refGRU(x3, kern, rec, bias, H, tc.reverse, mask2)
					rb = bias[1]
				} else {
					seqOut, last = refSimpleRNN(x3, kern, rec, bias[0], H, tc.reverse, kind.relu, mask2)
				}
				var want []float64
				if tc.retSeq {
					want = timeMajorRows(seqOut)
				} else {
					want = slices.Concat(last...)
				}
				l := &rnnCore[float64]{batch: B, seq: S, in: I, hidden: H, gru: kind.gru, relu: kind.relu, reverse: tc.reverse, retSeq: tc.retSeq}
				y := make([]float64, l.outSize())
				l.forward(x, transposed(kern), transposed(rec), bias[0], rb, mask, y)
				AllClose(t, "y", y, want, 1e-12, 1e-12)
			})
		}
	}
}

// TestGRUSimpleRNNGradientFiniteDifferences checks rnnCore.backward for
// every input, weight and bias against central differences in float64, in
// both directions, with and without return_sequences and a dropout mask.
func TestGRUSimpleRNNGradientFiniteDifferences(t *testing.T) {
	const B, S, I, H = 2, 4, 3, 3
	for _, kind := range rnnKinds {
		for _, tc := range rnnCases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(3, 4))
				g := H
				if kind.gru {
					g = 3 * H
				}
				x := randVec(rng, B*S*I, 1)
				w := randVec(rng, g*I, 0.7)
				r := randVec(rng, g*H, 0.7)
				wb := randVec(rng, g, 0.5)
				var rb []float64
				if kind.gru {
					rb = randVec(rng, g, 0.5)
				}
				var mask []float64
				if tc.dropout {
					mask = make([]float64, B*H)
					for i := range mask {
						if rng.Float64() > 0.4 {
							mask[i] = 1 / 0.6
						}
					}
				}
				l := &rnnCore[float64]{batch: B, seq: S, in: I, hidden: H, gru: kind.gru, relu: kind.relu, reverse: tc.reverse, retSeq: tc.retSeq}
				y := make([]float64, l.outSize())
				gy := randVec(rng, len(y), 1)
				loss := func() float64 {
					l.forward(x, w, r, wb, rb, mask, y)
					var s float64
					for i := range y {
						s += y[i] * gy[i]
					}
					return s
				}
				loss()
				l.backward(x, w, r, gy)
				checks := []struct {
					name    string
					v, grad []float64
				}{
					{"x", x, append([]float64(nil), l.dx...)}, {"w", w, append([]float64(nil), l.dw...)},
					{"r", r, append([]float64(nil), l.dr...)}, {"wb", wb, append([]float64(nil), l.dwb...)},
				}
				if kind.gru {
					checks = append(checks, struct {
						name    string
						v, grad []float64
					}{"rb", rb, append([]float64(nil), l.drb...)})
				}
				for _, c := range checks {
					checkRelErr(t, c.name, c.grad, numGrad(c.v, loss), 1e-6)
				}
			})
		}
	}
}

// TestRecurrentGraphGradientFiniteDifferences checks whole graphs with GRU
// and SimpleRNN layers — every merge mode, stacked, with relu and tanh
// hidden Dense layers and a 3-class softmax head — against central
// differences in float64, through the graph's trainable nodes (a GRU's Rb
// included; a SimpleRNN's Rb, which Keras does not have, stays zero).
func TestRecurrentGraphGradientFiniteDifferences(t *testing.T) {
	for _, tc := range []struct{ name, layers string }{
		{"bigru-concat-seq/gru/sigmoid", `
    - {type: gru, units: 2, bidirectional: true, return_sequences: true}
    - {type: gru, units: 3}
    - {type: dense, units: 1, activation: sigmoid}`},
		{"birnn-sum/dense-relu/softmax3", `
    - {type: simple_rnn, units: 2, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 3, activation: relu}
    - {type: dense, units: 3, activation: softmax}`},
		{"bigru-mul/softmax4", `
    - {type: gru, units: 2, bidirectional: true, merge_mode: mul}
    - {type: dense, units: 4, activation: softmax}`},
		{"birnn-ave-seq/lstm/tanh", `
    - {type: simple_rnn, units: 2, bidirectional: true, merge_mode: ave, return_sequences: true}
    - {type: lstm, units: 2}
    - {type: dense, units: 2, activation: tanh}
    - {type: dense, units: 1, activation: sigmoid}`},
		{"gru-seq/birnn-relu", `
    - {type: gru, units: 3, return_sequences: true}
    - {type: simple_rnn, units: 2, bidirectional: true, activation: relu}
    - {type: dense, units: 1, activation: sigmoid}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t, tc.layers)
			labels := []float64{1, 0, 1}
			if u := cfg.Model.Layers[len(cfg.Model.Layers)-1].Units; u > 2 {
				labels = []float64{2, 0, float64(u - 1)}
			}
			checkGraphGradients(t, cfg, []int{1, 2, 3, 3, 0, 6, 5, 1, 4, 4, 2, 0}, labels)
		})
	}
}
