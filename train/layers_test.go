package train

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
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
	}{
		{"masked bigru-seq/avgpool", `
    - {type: gru, units: 2, bidirectional: true, return_sequences: true}
    - {type: global_average_pool}
    - {type: dense, units: 1, activation: sigmoid}`, true},
		{"masked rnn-seq/gru/dropout", `
    - {type: simple_rnn, units: 3, return_sequences: true, dropout: 0.3}
    - {type: gru, units: 2, bidirectional: true, merge_mode: sum}
    - {type: dropout, rate: 0.4}
    - {type: dense, units: 3, activation: softmax}`, true},
		{"masked maxpool on the embedding", `
    - {type: spatial_dropout1d, rate: 0.3}
    - {type: global_max_pool}
    - {type: dense, units: 2, activation: relu}
    - {type: dense, units: 1, activation: sigmoid}`, true},
		{"unmasked lstm-seq/maxpool", `
    - {type: lstm, units: 2, return_sequences: true}
    - {type: global_max_pool}
    - {type: dense, units: 1, activation: sigmoid}`, false},
		{"unmasked birnn-seq/avgpool", `
    - {type: simple_rnn, units: 2, bidirectional: true, return_sequences: true, merge_mode: ave}
    - {type: global_average_pool}
    - {type: dense, units: 1, activation: sigmoid}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t, tc.layers)
			cfg.Model.Embedding.MaskZero = tc.mask
			cfg.Data.Padding = "post"
			// Post-padded rows of lengths 4, 2 and 1.
			ids := []int{1, 2, 3, 3, 6, 5, 0, 0, 4, 0, 0, 0}
			labels := []float64{1, 0, 1}
			if u := cfg.Model.Layers[len(cfg.Model.Layers)-1].Units; u > 2 {
				labels = []float64{2, 0, 1}
			}
			checkGraphGradients(t, cfg, ids, labels)
		})
	}
}

// TestMaskedLSTMRefused: a mask_zero model with an lstm layer is refused
// by Fit and Evaluate with ErrUnsupported rather than run unmasked.
func TestMaskedLSTMRefused(t *testing.T) {
	cfg := tinyConfig(t, `
    - {type: lstm, units: 2}
    - {type: dense, units: 1, activation: sigmoid}`)
	cfg.Model.Embedding.MaskZero = true
	cfg.Data.Padding = "post"
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := Data{X: dataset.Matrix{Rows: 2, Cols: 4, Data: []int32{1, 2, 0, 0, 3, 0, 0, 0}}, Y: []int32{0, 1}}
	if _, err := Fit(context.Background(), m, d, FitOptions{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "lstm_0") {
		t.Errorf("Fit: %v, want ErrUnsupported naming lstm_0", err)
	}
	if _, _, err := Evaluate(context.Background(), m, d, 2); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Evaluate: %v, want ErrUnsupported", err)
	}
}
