package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
)

// kerasParity is one fixture of testdata/keras/train_parity, written by
// scripts/keras/train_parity.py: Keras's initial weights, the data, and
// Keras's weights and per-epoch losses after training (ONNX layout, birnn
// parameter names).
type kerasParity struct {
	What     string    `json:"what"`
	Config   string    `json:"config"`
	X        []int32   `json:"x"`
	Y        []int32   `json:"y"`
	Rows     int       `json:"rows"`
	Seq      int       `json:"seq"`
	Loss     []float64 `json:"loss"`
	Accuracy []float64 `json:"accuracy"`
	Params   int       `json:"params"`
	Initial  map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float32 `json:"data"`
	} `json:"initial"`
	Final map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float32 `json:"data"`
	} `json:"final"`
}

// TestKerasTrainingParity starts birnn's trainer from Keras's initial
// weights, trains on the same batches with the same optimizer, and checks
// that every weight ends within 1e-4 of Keras's, the per-epoch losses
// within 1e-4, and that birnn's parameter count is Keras's.
func TestKerasTrainingParity(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "keras", "train_parity", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no training-parity fixtures in testdata/keras/train_parity (they are committed; %v)", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var f kerasParity
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			cfg, err := configs.Parse([]byte(f.Config))
			if err != nil {
				t.Fatalf("fixture config: %v", err)
			}
			m, err := model.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.NumParams(); got != f.Params {
				t.Errorf("birnn counts %d parameters, Keras %d", got, f.Params)
			}
			for _, p := range m.Params {
				w, ok := f.Initial[p.Name]
				if !ok || !slices.Equal(w.Shape, p.Shape) {
					t.Fatalf("%s: fixture shape %v, birnn %v", p.Name, w.Shape, p.Shape)
				}
				copy(p.Data, w.Data)
			}
			d := Data{X: dataset.Matrix{Rows: f.Rows, Cols: f.Seq, Data: f.X}, Y: f.Y}
			h, err := Fit(context.Background(), m, d, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			worstName := ""
			for _, p := range m.Params {
				want := f.Final[p.Name].Data
				var moved float64
				for i, v := range p.Data {
					if e := math.Abs(float64(v) - float64(want[i])); e > worst {
						worst, worstName = e, p.Name
					}
					moved = math.Max(moved, math.Abs(float64(want[i])-float64(f.Initial[p.Name].Data[i])))
				}
				if moved == 0 && !strings.HasSuffix(p.Name, ".B") {
					t.Errorf("%s: Keras left every weight unchanged; the fixture checks nothing", p.Name)
				}
			}
			var dLoss float64
			for i, l := range f.Loss {
				dLoss = math.Max(dLoss, math.Abs(h.Loss[i]-l))
			}
			t.Logf("%s: max |birnn − Keras| weights %.2g (%s), loss %.2g", f.What, worst, worstName, dLoss)
			if worst > 1e-4 {
				t.Errorf("max |birnn − Keras| over the trained weights = %.3g (%s) > 1e-4", worst, worstName)
			}
			if dLoss > 1e-4 {
				t.Errorf("per-epoch loss birnn %v, Keras %v", h.Loss, f.Loss)
			}
		})
	}
}
