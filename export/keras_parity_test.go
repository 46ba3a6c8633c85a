package export_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
)

// TestKerasParityExports exports the models Keras trained in
// testdata/keras/train_parity (GRU, SimpleRNN, LSTM, every merge mode,
// pools, mask_zero) with their final Keras weights, and checks birnn's
// engine and ONNX Runtime on the export against Keras's own predictions
// (≤ 1e-5). The masked models become native GRU/RNN nodes with
// sequence_lens, never a Loop.
func TestKerasParityExports(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "keras", "train_parity", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/keras/train_parity (%v)", err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name[:len(name)-len(filepath.Ext(name))], func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Config      string    `json:"config"`
				X           []int32   `json:"x"`
				Rows        int       `json:"rows"`
				Seq         int       `json:"seq"`
				Predictions []float64 `json:"predictions"`
				Final       map[string]struct {
					Data []float32 `json:"data"`
				} `json:"final"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			cfg, err := configs.Parse([]byte(f.Config))
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params {
				copy(p.Data, f.Final[p.Name].Data)
			}
			mp := modeltest.ExportProto(t, m, export.Options{})
			ops := map[string]bool{}
			for _, n := range mp.GetGraph().GetNode() {
				ops[n.GetOpType()] = true
			}
			if ops["Loop"] || (cfg.Model.Embedding.MaskZero && !ops["ReduceSum"]) {
				t.Errorf("export ops %v: want native recurrent nodes (and sequence_lens when masked)", ops)
			}
			s, err := infer.LoadModel(mp)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Run(context.Background(), map[string]*infer.Tensor{export.InputName: infer.NewInt32([]int{f.Rows, f.Seq}, f.X)})
			if err != nil {
				t.Fatal(err)
			}
			eng := modeltest.MaxAbsDiff(out[export.OutputName].Float32s(), f.Predictions)
			ort := modeltest.MaxAbsDiff(modeltest.ORTRun(t, modeltest.Marshal(t, mp), f.X, f.Rows, f.Seq, false), f.Predictions)
			t.Logf("max |engine − Keras| %.2g, |ORT − Keras| %.2g over %d rows", eng, ort, f.Rows)
			if eng > 1e-5 || ort > 1e-5 {
				t.Errorf("max |engine − Keras| = %.3g, |ORT − Keras| = %.3g, want ≤ 1e-5", eng, ort)
			}
		})
	}
}
