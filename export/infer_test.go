package export_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
)

// TestInferMatchesReference runs every architecture's export through
// birnn's own engine and compares it with the float64 reference.
func TestInferMatchesReference(t *testing.T) {
	for i, a := range architectures(t) {
		t.Run(a.name, func(t *testing.T) {
			m := randomModel(t, a.cfg, uint64(i+1))
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			for _, dtype := range []string{"int32", "float32"} {
				mp, err := export.Model(m, export.Options{InputDType: dtype})
				if err != nil {
					t.Fatal(err)
				}
				s, err := infer.LoadModel(mp)
				if err != nil {
					t.Fatalf("infer: %v", err)
				}
				for _, bs := range [][2]int{{1, 1}, {3, 7}, {17, 100}, {2, 130}} {
					batch, seq := bs[0], bs[1]
					ids := randomIDs(rng, batch, seq, a.cfg.Data.NumWords)
					in := infer.NewInt32([]int{batch, seq}, ids)
					if dtype == "float32" {
						f := make([]float32, len(ids))
						for i, v := range ids {
							f[i] = float32(v)
						}
						in = infer.NewFloat32([]int{batch, seq}, f)
					}
					out, err := s.Run(context.Background(), map[string]*infer.Tensor{export.InputName: in})
					if err != nil {
						t.Fatalf("%s batch %d seq %d: %v", dtype, batch, seq, err)
					}
					got := out[export.OutputName].Float32s()
					want := refForward(m, ids, batch, seq)
					if len(got) != len(want) {
						t.Fatalf("%s batch %d seq %d: %d values, want %d", dtype, batch, seq, len(got), len(want))
					}
					if d := maxAbsDiff(got, want); d > 1e-6 {
						t.Errorf("%s batch %d seq %d: max |infer − reference| = %.3g > 1e-6", dtype, batch, seq, d)
					}
				}
			}
		})
	}
}
