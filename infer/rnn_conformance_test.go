package infer

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

// runSingleNode runs the one node of a conformance model through its
// registered kernel with the graph inputs given in order.
func runSingleNode(m *onnx.ModelProto, inputs []*Tensor) ([]*Tensor, error) {
	g := m.GetGraph()
	if len(g.GetNode()) != 1 {
		return nil, fmt.Errorf("model has %d nodes, want 1", len(g.GetNode()))
	}
	n := g.GetNode()[0]
	var opset int64
	for _, o := range m.GetOpsetImport() {
		if normDomain(o.GetDomain()) == normDomain(n.GetDomain()) {
			opset = o.GetVersion()
		}
	}
	build, ok := lookupOp(n.GetDomain(), n.GetOpType(), opset)
	if !ok {
		return nil, fmt.Errorf("%s (opset %d) is not registered", n.GetOpType(), opset)
	}
	k, err := build(n, opset)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Tensor{}
	for i, vi := range g.GetInput() {
		if i < len(inputs) {
			byName[vi.GetName()] = inputs[i]
		}
	}
	for _, init := range g.GetInitializer() {
		t, err := FromProto(init)
		if err != nil {
			return nil, err
		}
		byName[init.GetName()] = t
	}
	in := make([]*Tensor, len(n.GetInput()))
	for i, name := range n.GetInput() {
		if name != "" {
			in[i] = byName[name]
		}
	}
	return k.Run(context.Background(), in)
}

// TestRecurrentConformance runs the ONNX project's node tests for LSTM, GRU
// and RNN against their expected outputs.
func TestRecurrentConformance(t *testing.T) {
	root := filepath.Join(testutil.DataDir(t), "onnx-node-tests")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "test_lstm_") && !strings.HasPrefix(name, "test_gru_") &&
			!strings.HasPrefix(name, "test_rnn_") {
			continue
		}
		count++
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, name)
			m, err := onnx.ReadModel(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			set := filepath.Join(dir, "test_data_set_0")
			ins := readSet(t, set, "input")
			want := readSet(t, set, "output")
			if len(ins) == 0 || len(want) == 0 {
				t.Fatalf("no test data in %s", dir)
			}
			got, err := runSingleNode(m, ins)
			if err != nil {
				t.Fatal(err)
			}
			outNames := m.GetGraph().GetNode()[0].GetOutput()
			for i, w := range want {
				// Graph outputs map to node outputs by name.
				gname := m.GetGraph().GetOutput()[i].GetName()
				j := indexOf(outNames, gname)
				if j < 0 || j >= len(got) || got[j] == nil {
					t.Fatalf("output %q not produced", gname)
				}
				rnnAllClose(t, gname, got[j], w, 1e-5, 1e-4)
			}
		})
	}
	if count < 9 {
		t.Errorf("found %d recurrent conformance tests, want at least 9", count)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// rnnAllClose fails unless got and want agree in shape and every element
// satisfies |g−w| ≤ atol + rtol·|w|.
func rnnAllClose(t testing.TB, name string, got, want *Tensor, atol, rtol float64) {
	t.Helper()
	if !rnnSameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
	}
	g, w := rnnAsFloat64(got), rnnAsFloat64(want)
	worst, at := 0.0, -1
	for i := range w {
		d := math.Abs(g[i] - w[i])
		if d > atol+rtol*math.Abs(w[i]) || math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			if d > worst || at < 0 {
				worst, at = d, i
			}
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d = %v, want %v (|diff| %.3g)", name, at, g[at], w[at], worst)
	}
}

func rnnAsFloat64(t *Tensor) []float64 {
	switch d := t.Data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	}
	panic(fmt.Sprintf("not a float tensor: %s", t))
}
