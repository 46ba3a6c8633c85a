package infer

import (
	"context"
	"fmt"
	"testing"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// unshaped declares a graph value of type d with no stated shape.
func unshaped(name string, d DType) *onnx.ValueInfoProto {
	return &onnx.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(d))}}},
	}
}

// opModel builds a one-node model: input i is graph input "in<i>" (an
// empty slot in ins becomes an omitted optional input), outputs are
// "out<j>".
func opModel(opset int64, op string, ins []*Tensor, nout int, at ...*onnx.AttributeProto) *onnx.ModelProto {
	var names []string
	var inputs []*onnx.ValueInfoProto
	for i, t := range ins {
		if t == nil {
			names = append(names, "")
			continue
		}
		n := fmt.Sprintf("in%d", i)
		names = append(names, n)
		inputs = append(inputs, unshaped(n, t.DType))
	}
	var outs []string
	var outputs []*onnx.ValueInfoProto
	for j := 0; j < nout; j++ {
		n := fmt.Sprintf("out%d", j)
		outs = append(outs, n)
		outputs = append(outputs, unshaped(n, Float))
	}
	g := onnx.MakeGraph("t", []*onnx.NodeProto{onnx.MakeNode("n0", op, names, outs, at...)}, inputs, outputs)
	return onnx.MakeModel(g, onnx.Opset("", opset))
}

// runOp runs op on ins and returns its outputs in order.
func runOp(opset int64, op string, ins []*Tensor, nout int, at ...*onnx.AttributeProto) ([]*Tensor, error) {
	s, err := LoadModel(opModel(opset, op, ins, nout, at...))
	if err != nil {
		return nil, err
	}
	feed := map[string]*Tensor{}
	for i, t := range ins {
		if t != nil {
			feed[fmt.Sprintf("in%d", i)] = t
		}
	}
	res, err := s.Run(context.Background(), feed)
	if err != nil {
		return nil, err
	}
	out := make([]*Tensor, nout)
	for j := range out {
		out[j] = res[fmt.Sprintf("out%d", j)]
	}
	return out, nil
}

// checkTensor compares got with want exactly in shape and dtype and within
// 1e-6 in value.
func checkTensor(t *testing.T, label string, got, want *Tensor) {
	t.Helper()
	if err := Compare(got, want, 1e-6, 1e-6); err != nil {
		t.Errorf("%s: %v (got %s %v, want %s %v)", label, err, got, got.Data, want, want.Data)
	}
}

func f32(shape []int, v ...float32) *Tensor { return NewFloat32(shape, v) }
func i64(shape []int, v ...int64) *Tensor   { return NewInt64(shape, v) }
func i32(shape []int, v ...int32) *Tensor   { return NewInt32(shape, v) }
