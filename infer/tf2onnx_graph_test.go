package infer

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// tf2onnxBiLSTM builds the graph tf2onnx emits for the study's deep
// BiLSTM (Keras Embedding → Bidirectional(LSTM, seq) → Bidirectional(LSTM)
// → Dense(1, sigmoid)), at small sizes: a float input cast to int32, an
// embedding Gather, a Transpose to time-major, the zero initial state built
// at run time from the input's shape (Shape → Gather → Unsqueeze → Concat
// → ConstantOfShape) and fed as both initial_h and initial_c, and the
// dense head as MatMul + Add.
func tf2onnxBiLSTM(t *testing.T, vocab, seq, emb, hidden int) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	param := func(name string, dims ...int64) *onnx.TensorProto {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64()*0.6 - 0.3)
		}
		tp, err := onnx.MakeTensor(name, dims, v)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	ints := func(name string, dims []int64, v ...int64) *onnx.TensorProto {
		tp, err := onnx.MakeTensor(name, dims, v)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	H, E := int64(hidden), int64(emb)
	zero, _ := onnx.MakeTensor("", []int64{1}, []float32{0})
	nodes := []*onnx.NodeProto{
		onnx.MakeNode("cast", "Cast", []string{"embedding_input"}, []string{"ids"}, onnx.AttrInt("to", int64(onnx.TensorProto_INT32))),
		onnx.MakeNode("embedding", "Gather", []string{"emb", "ids"}, []string{"e"}),
		onnx.MakeNode("to_time_major", "Transpose", []string{"e"}, []string{"x"}, onnx.AttrInts("perm", 1, 0, 2)),
		onnx.MakeNode("shape", "Shape", []string{"x"}, []string{"xs"}),
		onnx.MakeNode("batch", "Gather", []string{"xs", "one"}, []string{"b"}, onnx.AttrInt("axis", 0)),
		onnx.MakeNode("batch1", "Unsqueeze", []string{"b", "axes0"}, []string{"b1"}),
		onnx.MakeNode("state_shape", "Concat", []string{"dirs", "b1", "hid"}, []string{"ss"}, onnx.AttrInt("axis", 0)),
		onnx.MakeNode("zeros", "ConstantOfShape", []string{"ss"}, []string{"z"}, onnx.AttrTensor("value", zero)),
		onnx.MakeNode("bilstm1", "LSTM", []string{"x", "W1", "R1", "B1", "", "z", "z"}, []string{"y1", "", ""},
			onnx.AttrString("direction", "bidirectional"), onnx.AttrInt("hidden_size", H)),
		onnx.MakeNode("y1_t", "Transpose", []string{"y1"}, []string{"y1t"}, onnx.AttrInts("perm", 0, 2, 1, 3)),
		onnx.MakeNode("y1_r", "Reshape", []string{"y1t", "merge"}, []string{"x2"}),
		onnx.MakeNode("bilstm2", "LSTM", []string{"x2", "W2", "R2", "B2", "", "z", "z"}, []string{"", "h2", ""},
			onnx.AttrString("direction", "bidirectional"), onnx.AttrInt("hidden_size", H)),
		onnx.MakeNode("h2_t", "Transpose", []string{"h2"}, []string{"h2t"}, onnx.AttrInts("perm", 1, 0, 2)),
		onnx.MakeNode("h2_r", "Reshape", []string{"h2t", "flat"}, []string{"feat"}),
		onnx.MakeNode("dense", "MatMul", []string{"feat", "Wd"}, []string{"logit0"}),
		onnx.MakeNode("dense_bias", "Add", []string{"logit0", "bd"}, []string{"logit"}),
		onnx.MakeNode("sigmoid", "Sigmoid", []string{"logit"}, []string{"p"}),
		onnx.MakeNode("out", "Identity", []string{"p"}, []string{"dense"}),
	}
	g := onnx.MakeGraph("tf2onnx", nodes,
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("embedding_input", onnx.TensorProto_FLOAT, onnx.DimParam("unk__1"), onnx.DimValue(int64(seq)))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("dense", onnx.TensorProto_FLOAT, onnx.DimParam("unk__2"), onnx.DimValue(1))},
		param("emb", int64(vocab), E),
		ints("one", nil, 1), ints("axes0", []int64{1}, 0), ints("dirs", []int64{1}, 2), ints("hid", []int64{1}, H),
		ints("merge", []int64{3}, 0, 0, -1), ints("flat", []int64{2}, -1, 2*H),
		param("W1", 2, 4*H, E), param("R1", 2, 4*H, H), param("B1", 2, 8*H),
		param("W2", 2, 4*H, 2*H), param("R2", 2, 4*H, H), param("B2", 2, 8*H),
		param("Wd", 2*H, 1), param("bd", 1),
	)
	return onnx.MakeModel(g, onnx.Opset("", 15))
}

// TestTF2ONNXGraphMatchesORT runs a tf2onnx-shaped deep BiLSTM through the
// engine and through ONNX Runtime, for several batch sizes (the state
// shape is computed at run time).
func TestTF2ONNXGraphMatchesORT(t *testing.T) {
	const vocab, seq = 50, 12
	m := tf2onnxBiLSTM(t, vocab, seq, 8, 6)
	ref := newORTSession(t, m, 1)
	s, err := LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if h := s.OpHistogram(); h["LSTM"] != 2 || h["Transpose"] != 3 {
		t.Errorf("op histogram %v", h)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, batch := range []int{1, 3, 8} {
		ids := make([]float32, batch*seq)
		for i := range ids {
			ids[i] = float32(rng.IntN(vocab))
		}
		x := NewFloat32([]int{batch, seq}, ids)
		got, err := s.Run(context.Background(), map[string]*Tensor{"embedding_input": x})
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.run([]*Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		if err := Compare(got["dense"], want[0], 1e-6, 1e-4); err != nil {
			t.Errorf("batch %d: %v", batch, err)
		}
	}
}
