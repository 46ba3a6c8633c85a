package train

import (
	"math/rand/v2"
	"testing"
)

// TestMaskedGraphGradientFiniteDifferences checks whole graphs with
// mask_zero (padded rows of different lengths), pools over time, a
// spatial dropout before them and recurrent input dropout against central
// differences in float64. The dropout masks are drawn once and then fixed
// so that every evaluation of the loss sees the same ones.
func TestMaskedGraphGradientFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name, layers string
		mask         bool
		pre          bool // pre-padded ids instead of post-padded
	}{
		{"masked bigru-seq/avgpool", `
    - {type: gru, units: 2, bidirectional: true, return_sequences: true}
    - {type: global_average_pool}
    - {type: dense, units: 1, activation: sigmoid}`, true, false},
		{"masked rnn-seq/gru/dropout", `
    - {type: simple_rnn, units: 3, return_sequences: true, dropout: 0.3}
    - {type: gru, units: 2, bidirectional: true, merge_mode: sum}
    - {type: dropout, rate: 0.4}
    - {type: dense, units: 3, activation: softmax}`, true, false},
		{"masked maxpool on the embedding", `
    - {type: spatial_dropout1d, rate: 0.3}
    - {type: global_max_pool}
    - {type: dense, units: 2, activation: relu}
    - {type: dense, units: 1, activation: sigmoid}`, true, false},
		{"masked bilstm-seq/lstm", `
    - {type: lstm, units: 3, bidirectional: true, return_sequences: true}
    - {type: lstm, units: 3}
    - {type: dense, units: 1, activation: sigmoid}`, true, false},
		{"masked pre-padded bilstm-seq/avgpool", `
    - {type: lstm, units: 2, bidirectional: true, return_sequences: true, merge_mode: mul}
    - {type: global_average_pool}
    - {type: dense, units: 3, activation: softmax}`, true, true},
		{"masked pre-padded lstm/dropout", `
    - {type: lstm, units: 3, dropout: 0.3}
    - {type: dense, units: 1, activation: sigmoid}`, true, true},
		{"unmasked lstm-seq/maxpool", `
    - {type: lstm, units: 2, return_sequences: true}
    - {type: global_max_pool}
    - {type: dense, units: 1, activation: sigmoid}`, false, false},
		{"unmasked birnn-seq/avgpool", `
    - {type: simple_rnn, units: 2, bidirectional: true, return_sequences: true, merge_mode: ave}
    - {type: global_average_pool}
    - {type: dense, units: 1, activation: sigmoid}`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t, tc.layers)
			cfg.Model.Embedding.MaskZero = tc.mask
			cfg.Data.Padding = "post"
			// Post-padded rows of lengths 4, 2 and 1.
			ids := []int{1, 2, 3, 3, 6, 5, 0, 0, 4, 0, 0, 0}
			if tc.pre {
				ids = []int{1, 2, 3, 3, 0, 0, 6, 5, 0, 0, 0, 4}
			}
			labels := []float64{1, 0, 1}
			if u := cfg.Model.Layers[len(cfg.Model.Layers)-1].Units; u > 2 {
				labels = []float64{2, 0, 1}
			}
			checkGraphGradients(t, cfg, ids, labels)
		})
	}
}

// TestMaskedRecurrentEqualsTruncated checks the masked GRU and SimpleRNN
// (both directions, with and without return_sequences) against the
// unmasked layer run on each review's valid steps alone: the state after
// the last valid step, and the outputs at valid steps, must be identical;
// padded steps must output zeros.
func TestMaskedRecurrentEqualsTruncated(t *testing.T) {
	const B, S, I, H = 3, 6, 3, 2
	lens := []int{6, 3, 1}
	for _, kind := range rnnKinds {
		for _, tc := range rnnCases {
			if tc.dropout {
				continue
			}
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(5, 6))
				g := H
				if kind.gru {
					g = 3 * H
				}
				x := randVec(rng, B*S*I, 1)
				w, r, wb := randVec(rng, g*I, 0.7), randVec(rng, g*H, 0.7), randVec(rng, g, 0.5)
				var rb []float64
				if kind.gru {
					rb = randVec(rng, g, 0.5)
				}
				valid := make([]bool, B*S)
				for b, n := range lens {
					for t := range n {
						valid[b*S+t] = true
					}
				}
				l := &rnnCore[float64]{batch: B, seq: S, in: I, hidden: H, gru: kind.gru, relu: kind.relu,
					reverse: tc.reverse, retSeq: tc.retSeq, valid: valid}
				y := make([]float64, l.outSize())
				l.forward(x, w, r, wb, rb, nil, y)
				for b, n := range lens {
					xb := make([]float64, 0, n*I)
					for t := range n {
						row := seqRow(b, t, B, S)
						xb = append(xb, x[row*I:(row+1)*I]...)
					}
					one := &rnnCore[float64]{batch: 1, seq: n, in: I, hidden: H, gru: kind.gru, relu: kind.relu, reverse: tc.reverse, retSeq: tc.retSeq}
					want := make([]float64, one.outSize())
					one.forward(xb, w, r, wb, rb, nil, want)
					if !tc.retSeq {
						AllClose(t, "last state", y[b*H:(b+1)*H], want, 0, 0)
						continue
					}
					for s := range S {
						row := seqRow(b, s, B, S)
						got := y[row*H : (row+1)*H]
						if s >= n {
							AllClose(t, "padded step", got, make([]float64, H), 0, 0)
						} else {
							AllClose(t, "valid step", got, want[s*H:(s+1)*H], 0, 0)
						}
					}
				}
			})
		}
	}
}
