package export_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
)

// TestORTMatchesReference runs every architecture's export through ONNX
// Runtime and compares it with the float64 reference forward pass.
func TestORTMatchesReference(t *testing.T) {
	for _, pc := range parityCases(t) {
		t.Run(pc.Name, func(t *testing.T) {
			m, samples := pc.m, pc.samples
			layers := modeltest.Layers(t, m)
			units := layers[len(layers)-1].Units
			for _, dtype := range []string{"int32", "float32"} {
				b := modeltest.Export(t, m, export.Options{InputDType: dtype})
				for _, s := range samples {
					got := modeltest.ORTRun(t, b, s.ids, s.batch, s.seq, dtype == "float32")
					if len(got) != s.batch*units {
						t.Fatalf("%s batch %d seq %d: ORT gave %d values, want %d", dtype, s.batch, s.seq, len(got), s.batch*units)
					}
					if d := modeltest.MaxAbsDiff(got, s.want); d > 1e-5 {
						t.Errorf("%s batch %d seq %d: max |ORT − reference| = %.3g > 1e-5", dtype, s.batch, s.seq, d)
					}
				}
			}
		})
	}
}

// TestOpsets exports one bidirectional stack at every supported opset and
// checks ONNX Runtime's answers.
func TestOpsets(t *testing.T) {
	archs := modeltest.Architectures(t)
	var sel []modeltest.Arch
	for _, a := range archs {
		switch a.Name {
		case "mixed_softmax", "bi_ave_seq", "masked_gru_avgpool", "masked_rnn_gru_maxpool", "lstm_maxpool":
			sel = append(sel, a)
		}
	}
	for _, a := range sel {
		m := modeltest.RandomModel(t, a.Cfg, 11)
		rng := rand.New(rand.NewPCG(5, 5))
		ids := modeltest.PostPad(m, modeltest.RandomIDs(rng, 4, 9, a.Cfg.Data.NumWords), 4, 9)
		want := modeltest.RefForward(m, ids, 4, 9)
		for op := export.MinOpset; op <= export.MaxOpset; op++ {
			t.Run(fmt.Sprintf("%s/opset%d", a.Name, op), func(t *testing.T) {
				mp := modeltest.ExportProto(t, m, export.Options{Opset: op})
				if got := mp.GetOpsetImport()[0].GetVersion(); got != int64(op) {
					t.Fatalf("opset import %d, want %d", got, op)
				}
				b, err := proto.Marshal(mp)
				if err != nil {
					t.Fatal(err)
				}
				if d := modeltest.MaxAbsDiff(modeltest.ORTRun(t, b, ids, 4, 9, false), want); d > 1e-5 {
					t.Errorf("max |ORT − reference| = %.3g > 1e-5", d)
				}
			})
		}
	}
}
