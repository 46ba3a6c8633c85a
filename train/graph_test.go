package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// tinyConfig is a small model for gradient checks and quick fits.
func tinyConfig(t testing.TB, layers string) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte(fmt.Sprintf(`
name: tiny
data: {num_words: 7, maxlen: 4}
model:
  embedding: {dim: 3}
  layers:
%s
train: {batch_size: 4, epochs: 1, seed: 5}
`, layers)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestGraphGradientFiniteDifferences checks the whole graph — embedding
// (embedKernel), fused LSTMs in both directions with and without
// return_sequences, every merge mode, Dense and the loss — against central
// differences in float64.
func TestGraphGradientFiniteDifferences(t *testing.T) {
	for _, tc := range []struct{ name, layers string }{
		{"bilstm-concat/lstm/sigmoid", `
    - {type: lstm, units: 2, bidirectional: true, return_sequences: true}
    - {type: lstm, units: 3}
    - {type: dense, units: 1, activation: sigmoid}`},
		{"bilstm-sum/dense-tanh/sigmoid", `
    - {type: lstm, units: 2, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 3, activation: tanh}
    - {type: dense, units: 1, activation: sigmoid}`},
		{"bilstm-mul/softmax", `
    - {type: lstm, units: 2, bidirectional: true, merge_mode: mul}
    - {type: dense, units: 2, activation: softmax}`},
		{"bilstm-ave/seq/bilstm/relu", `
    - {type: lstm, units: 2, bidirectional: true, merge_mode: ave, return_sequences: true}
    - {type: lstm, units: 2, bidirectional: true}
    - {type: dense, units: 2, activation: relu}
    - {type: dense, units: 1, activation: sigmoid}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGraphGradients(t, tinyConfig(t, tc.layers), []int{1, 2, 3, 3, 0, 6, 5, 1, 4, 4, 2, 0}, []float64{1, 0, 1})
		})
	}
}

// checkGraphGradients builds cfg's training graph in float64 for a batch of
// three rows of four steps (ids), with weights drawn larger than the initial
// ones so every path matters and the recurrent biases Keras does not train
// (Rb of LSTM and SimpleRNN) kept zero, runs it once on labels, freezes the
// dropout masks that run drew, and checks the gradient of every trainable
// node against central differences of the loss.
func checkGraphGradients(t *testing.T, cfg *configs.Config, ids []int, labels []float64) {
	t.Helper()
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := m.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	w64 := map[string][]float64{}
	for _, p := range m.Params {
		v := make([]float64, len(p.Data))
		for i := range v {
			v[i] = 0.8 * (2*rng.Float64() - 1)
		}
		w64[p.Name] = v
	}
	for _, l := range layers {
		if l.Recurrent() && !l.TrainedRb() {
			g := model.Gates(l.Kind) * l.Units
			b := w64[l.Name+".B"]
			for d := 0; d < l.Dirs; d++ {
				clear(b[d*2*g+g : (d+1)*2*g])
			}
		}
	}
	src := func(name string) ([]float64, error) { return w64[name], nil }
	const batch, seq = 3, 4
	rec := newSeqLayers[float64](layers, cfg.Model.Embedding.Dim, make([]float64, len(layers)), rng)
	n, err := buildNet(layers, rec, cfg.Data.NumWords, cfg.Model.Embedding.Dim, src, batch, seq, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.run(ids, labels); err != nil {
		t.Fatal(err)
	}
	fixDropout(n) // the gradients below are of this run's masks
	type grad struct {
		name string
		v, g []float64
	}
	var grads []grad
	for _, p := range n.params {
		gv, err := p.Grad()
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		grads = append(grads, grad{p.Name(), p.Value().Data().([]float64), append([]float64(nil), gv.Data().([]float64)...)})
	}
	loss := func() float64 {
		l, err := n.run(ids, labels)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, g := range grads {
		checkRelErr(t, g.name, g.g, numGrad(g.v, loss), 1e-6)
	}
}

// fixDropout freezes the masks every dropout kernel of n drew last.
func fixDropout[T float32 | float64](n *net[T]) {
	for _, nd := range n.g.AllNodes() {
		if op, ok := nd.Op().(*fusedOp); ok {
			if k, ok := op.k.(*dropoutKernel[T]); ok {
				k.fixed = true
			}
		}
	}
}
