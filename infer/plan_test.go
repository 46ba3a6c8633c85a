package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/quantize"
)

// stepOps lists the op types of a session's steps in run order.
func stepOps(s *Session) []string {
	var out []string
	for _, st := range s.steps {
		out = append(out, st.op)
	}
	return out
}

// initializer builds a named constant for a test graph.
func initializer[T onnx.Element](t testing.TB, name string, dims []int64, v []T) *onnx.TensorProto {
	t.Helper()
	tp, err := onnx.MakeTensor(name, dims, v)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// runBoth runs feeds on both sessions and fails unless every output of
// the second has the same shape and bits in the first.
func runBoth(t *testing.T, a, b *Session, feeds map[string]*Tensor) map[string]*Tensor {
	t.Helper()
	ga, err := a.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := b.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range gb {
		got := ga[name]
		if got == nil || !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("output %s: %v, want shape %v", name, got, want.Shape)
		}
		for i, v := range want.Float32s() {
			if math.Float32bits(v) != math.Float32bits(got.Float32s()[i]) {
				t.Fatalf("output %s[%d] = %v, want %v", name, i, got.Float32s()[i], v)
			}
		}
	}
	return ga
}

// loadBoth loads m with and without planning.
func loadBoth(t *testing.T, m *onnx.ModelProto) (planned, asWritten *Session) {
	t.Helper()
	planned, err := LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	planGraphs = false
	defer func() { planGraphs = true }()
	asWritten, err = LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return planned, asWritten
}

// TestPlanSentimentGraphs checks what planning leaves of the study's
// tf2onnx-shaped graphs and of Keras's own export (float32 and int8) — the
// zero-state chains, the direction split-and-join, the unused Y and the
// embedding lookup (folded into tables) gone — and that the
// planned graph gives the graph as written's outputs bit for bit, at
// batch sizes that hit every row split (the planned outputs' layouts are
// the joined tensors themselves, not copies of them).
func TestPlanSentimentGraphs(t *testing.T) {
	keras, err := onnx.ReadModel(filepath.Join(testutil.RepoRoot(t), "testdata", "keras", "deep_bilstm", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	kerasQ, _, err := quantize.Dynamic(keras, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gru := studyDeepBiLSTM()
	for i := range gru.layers {
		gru.layers[i].op = "GRU"
	}
	for _, c := range []struct {
		name  string
		m     *onnx.ModelProto
		input string
		want  []string
	}{
		{"study-lstm", studyDeepBiLSTM().build(t), "input_ids", []string{"Cast", "LSTM", "LSTM", "MatMul", "Add", "Sigmoid"}},
		{"study-gru", gru.build(t), "input_ids", []string{"Cast", "GRU", "GRU", "MatMul", "Add", "Sigmoid"}},
		{"keras", keras, "embedding_input", []string{"Cast", "LSTM", "LSTM", "MatMul", "Add", "Sigmoid"}},
		{"keras-int8", kerasQ, "embedding_input", []string{"Cast", "DynamicQuantizeLSTM", "DynamicQuantizeLSTM", "MatMul", "Add", "Sigmoid"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			planned, asWritten := loadBoth(t, c.m)
			if got := stepOps(planned); !slices.Equal(got, c.want) {
				t.Errorf("planned steps %v, want %v", got, c.want)
			}
			var rnns []*rnnOp
			for _, st := range planned.steps {
				if op := rnnOf(st.k); op != nil {
					rnns = append(rnns, op)
				}
				if e, ok := st.k.(*embedRNN); ok && e.tables == nil {
					t.Errorf("step %s: embedding not folded into tables", st.name)
				}
			}
			if len(rnns) != 2 || !rnns[0].yCat || rnns[1].outputs[0] || !rnns[1].yhCat || rnns[0].outputs[2] {
				t.Errorf("recurrent ops after planning: %+v", rnns)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for _, batch := range []int{1, 5, 13, 40} {
				in := idsTensor(onnx.TensorProto_FLOAT, []int{batch, 100}, randomIDs(rng, batch, 100, 4000))
				runBoth(t, planned, asWritten, map[string]*Tensor{c.input: in})
			}
		})
	}
}

// TestPlanLeavesOtherForms checks forms planning must not rewrite: a Y
// that is also a graph output, a join in the wrong order, and initial
// states that are not zeros; each runs as written, with its outputs.
func TestPlanLeavesOtherForms(t *testing.T) {
	const seq, batch, in, H = 4, 3, 5, 6
	rng := rand.New(rand.NewPCG(9, 9))
	draw := func(n int) []float32 { return randFloats(rng, []int{n}, -1, 1).Float32s() }
	i64 := func(name string, v ...int64) *onnx.TensorProto {
		return initializer(t, name, []int64{int64(len(v))}, v)
	}
	f32 := func(name string, dims []int64, v []float32) *onnx.TensorProto { return initializer(t, name, dims, v) }
	for _, c := range []struct {
		name     string
		order    [2]string // Concat inputs
		yOut     bool      // Y also a graph output
		h0       float32   // value of the ConstantOfShape initial state
		rewrites bool
	}{
		{"joined", [2]string{"f", "b"}, false, 0, true},
		{"swapped", [2]string{"b", "f"}, false, 0, false},
		{"y-read", [2]string{"f", "b"}, true, 0, false},
		{"h0-nonzero", [2]string{"f", "b"}, false, 0.5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			nodes := []*onnx.NodeProto{
				onnx.MakeNode("cos", "ConstantOfShape", []string{"hshape"}, []string{"h0"},
					onnx.AttrTensor("value", f32("v", []int64{1}, []float32{c.h0}))),
				onnx.MakeNode("lstm", "LSTM", []string{"X", "W", "R", "B", "", "h0", "h0"}, []string{"Y", "Yh", "Yc"},
					onnx.AttrInt("hidden_size", H), onnx.AttrString("direction", "bidirectional")),
				onnx.MakeNode("sf", "Slice", []string{"Y", "s0", "s1", "ax1"}, []string{"yf"}),
				onnx.MakeNode("qf", "Squeeze", []string{"yf", "ax1"}, []string{"f"}),
				onnx.MakeNode("sb", "Slice", []string{"Y", "s1", "s2", "ax1"}, []string{"yb"}),
				onnx.MakeNode("qb", "Squeeze", []string{"yb", "ax1"}, []string{"b"}),
				onnx.MakeNode("cat", "Concat", []string{c.order[0], c.order[1]}, []string{"out"}, onnx.AttrInt("axis", -1)),
			}
			inits := []*onnx.TensorProto{
				f32("W", []int64{2, 4 * H, in}, draw(2*4*H*in)), f32("R", []int64{2, 4 * H, H}, draw(2*4*H*H)),
				f32("B", []int64{2, 8 * H}, draw(2*8*H)), i64("hshape", 2, batch, H),
				i64("s0", 0), i64("s1", 1), i64("s2", 2), i64("ax1", 1),
			}
			outs := []*onnx.ValueInfoProto{onnx.MakeValueInfo("out", onnx.TensorProto_FLOAT)}
			if c.yOut {
				outs = append(outs, onnx.MakeValueInfo("Y", onnx.TensorProto_FLOAT))
			}
			g := onnx.MakeGraph("g", nodes, []*onnx.ValueInfoProto{onnx.MakeValueInfo("X", onnx.TensorProto_FLOAT, onnx.DimValue(seq), onnx.DimValue(batch), onnx.DimValue(in))}, outs, inits...)
			m := onnx.MakeModel(g, onnx.Opset("", 17))
			planned, asWritten := loadBoth(t, m)
			rewritten := !slices.Contains(stepOps(planned), "Concat")
			if rewritten != c.rewrites {
				t.Errorf("planned steps %v: rewritten %v, want %v", stepOps(planned), rewritten, c.rewrites)
			}
			if zeroDropped := !slices.Contains(stepOps(planned), "ConstantOfShape"); zeroDropped != (c.h0 == 0) {
				t.Errorf("planned steps %v: zero state dropped %v, want %v", stepOps(planned), zeroDropped, c.h0 == 0)
			}
			feeds := map[string]*Tensor{"X": New([]int{seq, batch, in}, draw(seq*batch*in))}
			a := runBoth(t, planned, asWritten, feeds)
			if o := newORTSession(t, m, 1); o != nil {
				got, err := o.run([]*Tensor{feeds["X"]})
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(a["out"], got[0]); d > 1e-5 {
					t.Errorf("out differs from ONNX Runtime's by %g", d)
				}
			}
		})
	}
}
