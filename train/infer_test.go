package train

import (
	"context"
	"math"
	"testing"

	"github.com/birnn/birnn/model"
)

// TestEvaluateMatchesGraph scores models with Evaluate (inferPass: no
// graph) and with the gorgonia graph built for inference, batch by batch
// (the last batch short), and requires the same loss and accuracy.
func TestEvaluateMatchesGraph(t *testing.T) {
	for _, layers := range []string{`
    - {type: lstm, units: 16, bidirectional: true, return_sequences: true}
    - {type: lstm, units: 3, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 4, activation: tanh}
    - {type: dense, units: 1, activation: sigmoid}`, `
    - {type: lstm, units: 5, return_sequences: true}
    - {type: lstm, units: 4, bidirectional: true, merge_mode: mul}
    - {type: dense, units: 3, activation: relu}
    - {type: dense, units: 2, activation: softmax}`} {
		cfg := tinyConfig(t, layers)
		m, err := model.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d := randomData(11, 4, cfg.Data.NumWords, 8)
		loss, acc, err := Evaluate(context.Background(), m, d, 4)
		if err != nil {
			t.Fatal(err)
		}
		r, err := newRunner(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		var correct int
		for i := 0; i < d.Len(); i += 4 {
			var idx []int
			for k := i; k < min(i+4, d.Len()); k++ {
				idx = append(idx, k)
			}
			l, c, err := r.graphScore(d, idx)
			if err != nil {
				t.Fatal(err)
			}
			sum += l
			correct += c
		}
		wantLoss, wantAcc := sum/float64(d.Len()), float64(correct)/float64(d.Len())
		if math.Abs(loss-wantLoss) > 1e-6 || acc != wantAcc {
			t.Errorf("Evaluate: loss %.8f accuracy %.4f; graph: loss %.8f accuracy %.4f", loss, acc, wantLoss, wantAcc)
		}
	}
}

// graphScore runs rows idx through an inference graph (gorgonia, no
// gradients): summed loss and correct predictions.
func (r *runner) graphScore(d Data, idx []int) (float64, int, error) {
	seq := d.X.Cols
	n, err := buildNet(r.layers, r.rec, r.vocab, r.dim, r.source, len(idx), seq, false)
	if err != nil {
		return 0, 0, err
	}
	var ids []int
	var labels []float32
	for _, i := range idx {
		for _, v := range d.X.Data[i*seq : (i+1)*seq] {
			ids = append(ids, int(v))
		}
		labels = append(labels, float32(d.Y[i]))
	}
	loss, err := n.run(ids, labels)
	if err != nil {
		return 0, 0, err
	}
	c, err := n.correct(labels)
	return loss * float64(len(idx)), c, err
}
