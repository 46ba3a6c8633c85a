package infer

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
)

// kerasPredictions is testdata/keras/<model>/predictions.json: padded
// inputs and Keras's own model.predict outputs.
const kerasRows = 256

type kerasPredictions struct {
	X       [][]float64 `json:"x"`
	Outputs [][]float64 `json:"outputs"`
}

// TestKerasExportsMatchKeras runs every tf2onnx export in testdata/keras
// on the first kerasRows of its 2,000 recorded rows and compares with Keras's predictions. Exports
// that contain a Loop (SimpleRNN, mask_zero) must be refused at load with
// an UnsupportedOpError naming it.
func TestKerasExportsMatchKeras(t *testing.T) {
	dirs := testutil.KerasExports(t)
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, err := Load(path)
			var ue *UnsupportedOpError
			if errors.As(err, &ue) {
				if ue.Op != "Loop" {
					t.Fatalf("unexpected unsupported op: %v", err)
				}
				t.Logf("refused as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "predictions.json"))
			if err != nil {
				t.Fatalf("the committed export has no predictions.json: %v", err)
			}
			var p kerasPredictions
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			p.X, p.Outputs = p.X[:min(kerasRows, len(p.X))], p.Outputs[:min(kerasRows, len(p.Outputs))]
			in, out := s.Inputs()[0], s.Outputs()[0]
			maxDiff := 0.0
			for start := 0; start < len(p.X); start += 128 {
				end := min(start+128, len(p.X))
				rows := p.X[start:end]
				x := make([]float32, 0, len(rows)*len(rows[0]))
				for _, r := range rows {
					for _, v := range r {
						x = append(x, float32(v))
					}
				}
				res, err := s.Run(context.Background(), map[string]*Tensor{in.Name: NewFloat32([]int{len(rows), len(rows[0])}, x)})
				if err != nil {
					t.Fatal(err)
				}
				got := res[out.Name]
				width := len(p.Outputs[0])
				if len(got.Shape) != 2 || got.Shape[0] != len(rows) || got.Shape[1] != width {
					t.Fatalf("output shape %v, want [%d %d]", got.Shape, len(rows), width)
				}
				for i, r := range p.Outputs[start:end] {
					for j, want := range r {
						d := math.Abs(float64(got.Float32s()[i*width+j]) - float64(float32(want)))
						maxDiff = max(maxDiff, d)
					}
				}
			}
			// ONNX Runtime itself differs from Keras by up to ~7e-7 here.
			if maxDiff > 1e-5 {
				t.Errorf("max |engine − Keras| = %.3g over %d rows", maxDiff, len(p.X))
			}
			t.Logf("max |engine − Keras| = %.3g over %d rows", maxDiff, len(p.X))
		})
	}
}
