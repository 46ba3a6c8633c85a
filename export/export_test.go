package export_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/model"
	"google.golang.org/protobuf/proto"
)

func marshal(t testing.TB, m *model.Model, opts export.Options) []byte {
	t.Helper()
	mp, err := export.Model(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestORTMatchesReference runs every architecture's export through ONNX
// Runtime and compares it with the float64 reference forward pass.
func TestORTMatchesReference(t *testing.T) {
	for _, pc := range parityCases(t) {
		t.Run(pc.name, func(t *testing.T) {
			m, samples := pc.m, pc.samples
			units := m.Layers()[len(m.Layers())-1].Units
			for _, dtype := range []string{"int32", "float32"} {
				b := marshal(t, m, export.Options{InputDType: dtype})
				for _, s := range samples {
					got := ortRun(t, b, s.ids, s.batch, s.seq, dtype == "float32")
					if len(got) != s.batch*units {
						t.Fatalf("%s batch %d seq %d: ORT gave %d values, want %d", dtype, s.batch, s.seq, len(got), s.batch*units)
					}
					if d := maxAbsDiff(got, s.want); d > 1e-5 {
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
	archs := architectures(t)
	var sel []arch
	for _, a := range archs {
		if a.name == "mixed_softmax" || a.name == "bi_ave_seq" {
			sel = append(sel, a)
		}
	}
	for _, a := range sel {
		m := randomModel(t, a.cfg, 11)
		rng := rand.New(rand.NewPCG(5, 5))
		ids := randomIDs(rng, 4, 9, a.cfg.Data.NumWords)
		want := refForward(m, ids, 4, 9)
		for op := export.MinOpset; op <= export.MaxOpset; op++ {
			t.Run(fmt.Sprintf("%s/opset%d", a.name, op), func(t *testing.T) {
				mp, err := export.Model(m, export.Options{Opset: op})
				if err != nil {
					t.Fatal(err)
				}
				if got := mp.GetOpsetImport()[0].GetVersion(); got != int64(op) {
					t.Fatalf("opset import %d, want %d", got, op)
				}
				b, err := proto.Marshal(mp)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(ortRun(t, b, ids, 4, 9, false), want); d > 1e-5 {
					t.Errorf("max |ORT − reference| = %.3g > 1e-5", d)
				}
			})
		}
	}
}
