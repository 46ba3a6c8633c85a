package infer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

// producerTol is how close the engine must be to the producer (Keras,
// PyTorch) and to ONNX Runtime on the committed fixtures.
const producerTol = 1e-5

// producerFixture is one export of testdata/keras3 or testdata/torch: a
// model.onnx (weights inline or beside it) and test_data_set_K folders
// with the producer's outputs (output_N.pb) and ONNX Runtime's
// (ort_output_N.pb).
type producerFixture struct {
	name string // "keras3/bigru"
	dir  string
	sets []string
}

// producerFixtures lists the committed fixtures of both producers.
func producerFixtures(t testing.TB) []producerFixture {
	t.Helper()
	root := testutil.RepoRoot(t)
	var out []producerFixture
	for _, producer := range []string{"keras3", "torch"} {
		models, _ := filepath.Glob(filepath.Join(root, "testdata", producer, "*", "model.onnx"))
		for _, m := range models {
			dir := filepath.Dir(m)
			sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
			sort.Strings(sets)
			out = append(out, producerFixture{name: producer + "/" + filepath.Base(dir), dir: dir, sets: sets})
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures in testdata/keras3 or testdata/torch (they are committed)")
	}
	return out
}

// readSet reads prefix_N.pb of a data set folder in order, up to the
// first missing N (none: nil).
func readSet(t testing.TB, set, prefix string) []*Tensor {
	t.Helper()
	var out []*Tensor
	for i := 0; ; i++ {
		p := filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i))
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return out
		}
		tp, err := onnx.ReadTensor(p)
		if err != nil {
			t.Fatal(err)
		}
		x, err := FromProto(tp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
}

// maxAbsDiff is max |a−b| over two float32 tensors of one shape (+Inf
// when the shapes differ).
func maxAbsDiff(a, b *Tensor) float64 {
	if a == nil || b == nil || !slices.Equal(a.Shape, b.Shape) || a.DType != Float || b.DType != Float {
		return math.Inf(1)
	}
	m := 0.0
	for i, v := range a.Float32s() {
		m = max(m, math.Abs(float64(v)-float64(b.Float32s()[i])))
	}
	return m
}

// TestProducerFixtures runs every Keras 3 and PyTorch export committed
// under testdata on each of its data sets and requires the engine within
// 1e-5 of the producer's outputs, of the ONNX Runtime outputs recorded with
// them, and of ONNX Runtime 1.30 run here on the same file.
func TestProducerFixtures(t *testing.T) {
	var table []string
	for _, fx := range producerFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			path := filepath.Join(fx.dir, "model.onnx")
			s, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(fx.name, "_dynamo") {
				// The dynamo exporter's weights live beside the model.
				info, err := Describe(path)
				if err != nil || len(info.ExternalData) != 1 || info.ExternalData[0] != "model.onnx.data" {
					t.Fatalf("external data %v, %v; want model.onnx.data", info.ExternalData, err)
				}
			}
			m, err := onnx.ReadModel(path) // external data inlined, for ONNX Runtime
			if err != nil {
				t.Fatal(err)
			}
			ref := newORTSession(t, m, 1)
			var dProd, dRec, dORT float64
			for _, set := range fx.sets {
				ins := readSet(t, set, "input")
				wants := readSet(t, set, "output")
				recorded := readSet(t, set, "ort_output")
				feed := map[string]*Tensor{}
				for i, info := range s.Inputs() {
					feed[info.Name] = ins[i]
				}
				got, err := s.Run(context.Background(), feed)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(set), err)
				}
				live, err := ref.run(ins)
				if err != nil {
					t.Fatalf("%s: ONNX Runtime: %v", filepath.Base(set), err)
				}
				for j, o := range s.Outputs() {
					g := got[o.Name]
					if j < len(wants) {
						dProd = max(dProd, maxAbsDiff(g, wants[j]))
					}
					if j < len(recorded) {
						dRec = max(dRec, maxAbsDiff(g, recorded[j]))
					}
					dORT = max(dORT, maxAbsDiff(g, live[j]))
				}
			}
			if len(fx.sets) == 0 {
				t.Fatal("no data sets")
			}
			for what, d := range map[string]float64{"the producer": dProd, "recorded ONNX Runtime": dRec, "ONNX Runtime": dORT} {
				if d > producerTol {
					t.Errorf("max |engine − %s| = %.3g, want ≤ %g", what, d, producerTol)
				}
			}
			hist := s.OpHistogram()
			ops := make([]string, 0, len(hist))
			for op := range hist {
				ops = append(ops, op)
			}
			sort.Strings(ops)
			table = append(table, fmt.Sprintf("| %s | %s | %.1e | %.1e |", fx.name, strings.Join(ops, " "), dProd, dORT))
		})
	}
	t.Logf("model | ops | max diff vs producer | vs ONNX Runtime\n%s", strings.Join(table, "\n"))
}
