package infer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// Build a one-node model y = x + b with a symbolic batch dim, serialize
// it, load it and run it.
func Example() {
	b, err := onnx.MakeTensor("b", []int64{3}, []float32{10, 20, 30})
	if err != nil {
		log.Fatal(err)
	}
	g := onnx.MakeGraph("add",
		[]*onnx.NodeProto{onnx.MakeNode("add0", "Add", []string{"x", "b"}, []string{"y"})},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(3))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(3))},
		b)
	bytes, err := proto.Marshal(onnx.MakeModel(g, onnx.Opset("", 15)))
	if err != nil {
		log.Fatal(err)
	}

	s, err := infer.LoadBytes(bytes)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("inputs:", s.Inputs())
	x := infer.NewFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	out, err := s.Run(context.Background(), map[string]*infer.Tensor{"x": x})
	if err != nil {
		log.Fatal(err)
	}
	y := out["y"]
	fmt.Println(y, y.Float32s())
	// Output:
	// inputs: [x FLOAT[batch 3]]
	// FLOAT[2 3] [11 22 33 14 25 36]
}
