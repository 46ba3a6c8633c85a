package export_test

import (
	"context"
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/modeltest"
)

// TestInferMatchesReference runs every architecture's export through
// birnn's own engine and compares it with the float64 reference.
func TestInferMatchesReference(t *testing.T) {
	for _, pc := range parityCases(t) {
		t.Run(pc.Name, func(t *testing.T) {
			m, samples := pc.m, pc.samples
			for _, dtype := range []string{"int32", "float32"} {
				mp := modeltest.ExportProto(t, m, export.Options{InputDType: dtype})
				s, err := infer.LoadModel(mp)
				if err != nil {
					t.Fatalf("infer: %v", err)
				}
				for _, c := range samples {
					in := infer.NewInt32([]int{c.batch, c.seq}, c.ids)
					if dtype == "float32" {
						f := make([]float32, len(c.ids))
						for i, v := range c.ids {
							f[i] = float32(v)
						}
						in = infer.NewFloat32([]int{c.batch, c.seq}, f)
					}
					out, err := s.Run(context.Background(), map[string]*infer.Tensor{export.InputName: in})
					if err != nil {
						t.Fatalf("%s batch %d seq %d: %v", dtype, c.batch, c.seq, err)
					}
					got := out[export.OutputName].Float32s()
					if len(got) != len(c.want) {
						t.Fatalf("%s batch %d seq %d: %d values, want %d", dtype, c.batch, c.seq, len(got), len(c.want))
					}
					if d := modeltest.MaxAbsDiff(got, c.want); d > 1e-6 {
						t.Errorf("%s batch %d seq %d: max |infer − reference| = %.3g > 1e-6", dtype, c.batch, c.seq, d)
					}
				}
			}
		})
	}
}
