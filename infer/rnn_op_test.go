package infer

import (
	"context"
	"strings"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// TestRecurrentBuildErrors checks that bad attributes are named at load time.
func TestRecurrentBuildErrors(t *testing.T) {
	S := onnx.AttrStrings
	cases := []struct {
		name  string
		op    string
		opset int64
		attrs []*onnx.AttributeProto
		want  string
	}{
		{"direction", "LSTM", 14, []*onnx.AttributeProto{onnx.AttrString("direction", "sideways")}, "direction"},
		{"layout value", "GRU", 14, []*onnx.AttributeProto{onnx.AttrInt("layout", 2)}, "layout"},
		{"layout opset", "LSTM", 7, []*onnx.AttributeProto{onnx.AttrInt("layout", 1)}, "opset 14"},
		{"clip", "RNN", 14, []*onnx.AttributeProto{onnx.AttrFloat("clip", 0)}, "clip"},
		{"hidden_size", "LSTM", 14, []*onnx.AttributeProto{onnx.AttrInt("hidden_size", -3)}, "hidden_size"},
		{"activation name", "LSTM", 14, []*onnx.AttributeProto{S("activations", "Sigmoid", "Gelu", "Tanh")}, "Gelu"},
		{"activation count", "LSTM", 14, []*onnx.AttributeProto{onnx.AttrString("direction", "bidirectional"),
			S("activations", "Sigmoid", "Tanh", "Tanh")}, "needs 6"},
		{"input_forget", "LSTM", 14, []*onnx.AttributeProto{onnx.AttrInt("input_forget", 2)}, "input_forget"},
		{"linear_before_reset", "GRU", 14, []*onnx.AttributeProto{onnx.AttrInt("linear_before_reset", 5)}, "linear_before_reset"},
		{"attribute type", "LSTM", 14, []*onnx.AttributeProto{onnx.AttrString("hidden_size", "big")}, "hidden_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := onnx.MakeNode("n", c.op, []string{"X", "W", "R"}, []string{"Y"}, c.attrs...)
			b, ok := lookupOp("", c.op, c.opset)
			if !ok {
				t.Fatalf("%s not registered at opset %d", c.op, c.opset)
			}
			_, err := b(n, c.opset)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestRecurrentRunErrors feeds malformed tensors: each run must fail with an
// error, never panic.
func TestRecurrentRunErrors(t *testing.T) {
	n := onnx.MakeNode("n", "LSTM", []string{"X", "W", "R", "B", "L", "H0", "C0", "P"}, []string{"Y", "Yh", "Yc"},
		onnx.AttrInt("hidden_size", 2))
	b, _ := lookupOp("", "LSTM", 14)
	k, err := b(n, 14)
	if err != nil {
		t.Fatal(err)
	}
	x := NewFloat32([]int{3, 1, 2}, nil)
	w := NewFloat32([]int{1, 8, 2}, nil)
	r := NewFloat32([]int{1, 8, 2}, nil)
	cases := []struct {
		name string
		in   []*Tensor
		want string
	}{
		{"missing", []*Tensor{x, w}, "needs inputs"},
		{"x rank", []*Tensor{NewFloat32([]int{3, 2}, nil), w, r}, "3-D"},
		{"x dtype", []*Tensor{NewInt32([]int{3, 1, 2}, nil), w, r}, "float32 or float64"},
		{"w shape", []*Tensor{x, NewFloat32([]int{1, 8, 3}, nil), r}, "W must have shape"},
		{"w dtype", []*Tensor{x, NewFloat64([]int{1, 8, 2}, nil), r}, "element type"},
		{"r shape", []*Tensor{x, w, NewFloat32([]int{1, 4, 2}, nil)}, "R must have shape"},
		{"b shape", []*Tensor{x, w, r, NewFloat32([]int{1, 8}, nil)}, "B must have shape"},
		{"lens value", []*Tensor{x, w, r, nil, NewInt32([]int{1}, []int32{4})}, "sequence_lens[0]"},
		{"lens negative", []*Tensor{x, w, r, nil, NewInt32([]int{1}, []int32{-1})}, "sequence_lens[0]"},
		{"lens dtype", []*Tensor{x, w, r, nil, NewFloat32([]int{1}, nil)}, "int32"},
		{"h0 shape", []*Tensor{x, w, r, nil, nil, NewFloat32([]int{1, 2, 2}, nil)}, "initial_h"},
		{"p shape", []*Tensor{x, w, r, nil, nil, nil, nil, NewFloat32([]int{1, 5}, nil)}, "P must"},
		{"huge", []*Tensor{{DType: Float, Shape: []int{1 << 20, 1 << 20, 2}, Data: []float32{}}, w, r}, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := k.Run(context.Background(), c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
