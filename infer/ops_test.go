package infer

import (
	"math"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// Hand-computed cases for what the ONNX node tests leave out: broadcasting
// corners, old opset forms (attributes instead of inputs), integer
// semantics and other modes.
func TestOpsHandComputed(t *testing.T) {
	cases := []struct {
		name  string
		opset int64
		op    string
		ins   []*Tensor
		attrs []*onnx.AttributeProto
		want  []*Tensor
	}{
		{"add scalar+matrix", 13, "Add", []*Tensor{f32(nil, 10), f32([]int{2, 2}, 1, 2, 3, 4)}, nil,
			[]*Tensor{f32([]int{2, 2}, 11, 12, 13, 14)}},
		{"add column+row", 13, "Add", []*Tensor{f32([]int{3, 1}, 0, 10, 20), f32([]int{1, 2}, 1, 2)}, nil,
			[]*Tensor{f32([]int{3, 2}, 1, 2, 11, 12, 21, 22)}},
		{"sub middle broadcast", 13, "Sub", []*Tensor{f32([]int{2, 1, 2}, 1, 2, 3, 4), f32([]int{3, 1}, 1, 2, 3)}, nil,
			[]*Tensor{f32([]int{2, 3, 2}, 0, 1, -1, 0, -2, -1, 2, 3, 1, 2, 0, 1)}},
		{"mul empty", 13, "Mul", []*Tensor{f32([]int{0, 3}), f32([]int{3}, 1, 2, 3)}, nil,
			[]*Tensor{f32([]int{0, 3})}},
		{"div int truncates", 14, "Div", []*Tensor{i32([]int{4}, 7, -7, 7, -7), i32([]int{4}, 2, 2, -2, -2)}, nil,
			[]*Tensor{i32([]int{4}, 3, -3, -3, 3)}},
		{"less broadcast", 13, "Less", []*Tensor{i64([]int{2, 1}, 1, 5), i64([]int{3}, 0, 3, 6)}, nil,
			[]*Tensor{NewBool([]int{2, 3}, []bool{false, true, true, false, false, true})}},
		{"where broadcast", 16, "Where", []*Tensor{NewBool([]int{2, 1}, []bool{true, false}), f32([]int{2}, 1, 2), f32(nil, 9)}, nil,
			[]*Tensor{f32([]int{2, 2}, 1, 2, 9, 9)}},
		{"slice opset 1 attrs", 1, "Slice", []*Tensor{f32([]int{2, 4}, 0, 1, 2, 3, 4, 5, 6, 7)},
			[]*onnx.AttributeProto{onnx.AttrInts("starts", 1), onnx.AttrInts("ends", 1000), onnx.AttrInts("axes", 1)},
			[]*Tensor{f32([]int{2, 3}, 1, 2, 3, 5, 6, 7)}},
		{"slice negative step to start", 13, "Slice", []*Tensor{f32([]int{5}, 0, 1, 2, 3, 4), i64([]int{1}, -1), i64([]int{1}, math.MinInt64), i64([]int{1}, 0), i64([]int{1}, -2)}, nil,
			[]*Tensor{f32([]int{3}, 4, 2, 0)}},
		{"slice extreme steps", 13, "Slice", []*Tensor{f32([]int{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9), i64([]int{2}, 0, 2), i64([]int{2}, math.MaxInt64, math.MinInt64), i64([]int{2}, 0, 1), i64([]int{2}, math.MaxInt64, math.MinInt64)}, nil,
			[]*Tensor{f32([]int{1, 1}, 3)}},
		{"squeeze opset 11 attr", 11, "Squeeze", []*Tensor{f32([]int{1, 2, 1}, 1, 2)},
			[]*onnx.AttributeProto{onnx.AttrInts("axes", -1)}, []*Tensor{f32([]int{1, 2}, 1, 2)}},
		{"squeeze all ones", 13, "Squeeze", []*Tensor{f32([]int{1, 2, 1}, 1, 2)}, nil, []*Tensor{f32([]int{2}, 1, 2)}},
		{"unsqueeze opset 11 attr", 11, "Unsqueeze", []*Tensor{f32([]int{2}, 1, 2)},
			[]*onnx.AttributeProto{onnx.AttrInts("axes", 0, 2)}, []*Tensor{f32([]int{1, 2, 1}, 1, 2)}},
		{"reshape opset 1 attr", 1, "Reshape", []*Tensor{f32([]int{2, 2}, 1, 2, 3, 4)},
			[]*onnx.AttributeProto{onnx.AttrInts("shape", 4, -1)}, []*Tensor{f32([]int{4, 1}, 1, 2, 3, 4)}},
		{"softmax opset 11 flattens", 11, "Softmax", []*Tensor{f32([]int{1, 2, 2}, 0, 0, 0, 0)}, nil,
			[]*Tensor{f32([]int{1, 2, 2}, 0.25, 0.25, 0.25, 0.25)}},
		{"softmax opset 13 last axis", 13, "Softmax", []*Tensor{f32([]int{1, 2, 2}, 0, 0, 0, 0)}, nil,
			[]*Tensor{f32([]int{1, 2, 2}, 0.5, 0.5, 0.5, 0.5)}},
		{"logsoftmax opset 11", 11, "LogSoftmax", []*Tensor{f32([]int{2, 2}, 1, 1, 0, 0)}, []*onnx.AttributeProto{onnx.AttrInt("axis", 0)},
			[]*Tensor{f32([]int{2, 2}, float32(1-math.Log(2*math.E+2)), float32(1-math.Log(2*math.E+2)), float32(-math.Log(2*math.E+2)), float32(-math.Log(2*math.E+2)))}},
		{"clip opset 6 attrs", 6, "Clip", []*Tensor{f32([]int{3}, -5, 0.5, 5)},
			[]*onnx.AttributeProto{onnx.AttrFloat("min", -1), onnx.AttrFloat("max", 1)}, []*Tensor{f32([]int{3}, -1, 0.5, 1)}},
		{"clip int64 min only", 13, "Clip", []*Tensor{i64([]int{3}, -5, 0, 5), i64(nil, -1)}, nil, []*Tensor{i64([]int{3}, -1, 0, 5)}},
		{"split opset 11 attr", 11, "Split", []*Tensor{f32([]int{5}, 1, 2, 3, 4, 5)}, []*onnx.AttributeProto{onnx.AttrInts("split", 2, 3)},
			[]*Tensor{f32([]int{2}, 1, 2), f32([]int{3}, 3, 4, 5)}},
		{"cast opset 1 string to", 1, "Cast", []*Tensor{f32([]int{3}, -1.7, 0, 2.9)}, []*onnx.AttributeProto{onnx.AttrString("to", "INT32")},
			[]*Tensor{i32([]int{3}, -1, 0, 2)}},
		{"cast bool", 13, "Cast", []*Tensor{f32([]int{3}, -1.5, 0, 2)}, []*onnx.AttributeProto{onnx.AttrInt("to", int64(Bool))},
			[]*Tensor{NewBool([]int{3}, []bool{true, false, true})}},
		{"matmul 1-D x 2-D", 13, "MatMul", []*Tensor{f32([]int{2}, 1, 2), f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, nil,
			[]*Tensor{f32([]int{3}, 9, 12, 15)}},
		{"matmul batch broadcast", 13, "MatMul", []*Tensor{f32([]int{2, 1, 2}, 1, 0, 0, 1), f32([]int{2, 1}, 3, 4)}, nil,
			[]*Tensor{f32([]int{2, 1, 1}, 3, 4)}},
		{"gemm row bias transB", 13, "Gemm", []*Tensor{f32([]int{1, 2}, 1, 2), f32([]int{3, 2}, 1, 0, 0, 1, 1, 1), f32([]int{3}, 10, 20, 30)},
			[]*onnx.AttributeProto{onnx.AttrInt("transB", 1), onnx.AttrFloat("alpha", 2), onnx.AttrFloat("beta", 0.5)},
			[]*Tensor{f32([]int{1, 3}, 7, 14, 21)}},
		{"gather int32 negative axis 1", 13, "Gather", []*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6), i32([]int{2}, -1, 0)},
			[]*onnx.AttributeProto{onnx.AttrInt("axis", 1)}, []*Tensor{f32([]int{2, 2}, 3, 1, 6, 4)}},
		{"transpose keeps last axis", 13, "Transpose", []*Tensor{f32([]int{2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7)},
			[]*onnx.AttributeProto{onnx.AttrInts("perm", 1, 0, 2)}, []*Tensor{f32([]int{2, 2, 2}, 0, 1, 4, 5, 2, 3, 6, 7)}},
		{"expand to bigger rank", 13, "Expand", []*Tensor{f32([]int{2, 1}, 1, 2), i64([]int{3}, 2, 1, 3)}, nil,
			[]*Tensor{f32([]int{2, 2, 3}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2)}},
		{"pad reflect", 13, "Pad", []*Tensor{f32([]int{3}, 1, 2, 3), i64([]int{2}, 2, 1)}, []*onnx.AttributeProto{onnx.AttrString("mode", "reflect")},
			[]*Tensor{f32([]int{6}, 3, 2, 1, 2, 3, 2)}},
		{"pad edge opset 2 attr", 2, "Pad", []*Tensor{f32([]int{2}, 1, 2)}, []*onnx.AttributeProto{onnx.AttrString("mode", "edge"), onnx.AttrInts("pads", 1, 2)},
			[]*Tensor{f32([]int{5}, 1, 1, 2, 2, 2)}},
		{"pad constant value crop", 13, "Pad", []*Tensor{f32([]int{3}, 1, 2, 3), i64([]int{2}, -1, 1), f32(nil, 7)}, nil,
			[]*Tensor{f32([]int{3}, 2, 3, 7)}},
		{"reducemean opset 13 attr", 13, "ReduceMean", []*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, []*onnx.AttributeProto{onnx.AttrInts("axes", 1), onnx.AttrInt("keepdims", 0)},
			[]*Tensor{f32([]int{2}, 2, 5)}},
		{"reducemean opset 18 input", 18, "ReduceMean", []*Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6), i64([]int{1}, 0)}, nil,
			[]*Tensor{f32([]int{1, 3}, 2.5, 3.5, 4.5)}},
		{"reducesum all", 13, "ReduceSum", []*Tensor{f32([]int{2, 2}, 1, 2, 3, 4)}, nil, []*Tensor{f32([]int{1, 1}, 10)}},
		{"reducesum opset 11 attr", 11, "ReduceSum", []*Tensor{i64([]int{2, 2}, 1, 2, 3, 4)}, []*onnx.AttributeProto{onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 0)},
			[]*Tensor{i64([]int{2}, 4, 6)}},
		{"shape start end", 15, "Shape", []*Tensor{f32([]int{2, 3, 4})}, []*onnx.AttributeProto{onnx.AttrInt("start", -2)},
			[]*Tensor{i64([]int{2}, 3, 4)}},
		{"flatten axis 0", 13, "Flatten", []*Tensor{f32([]int{2, 2}, 1, 2, 3, 4)}, []*onnx.AttributeProto{onnx.AttrInt("axis", 0)},
			[]*Tensor{f32([]int{1, 4}, 1, 2, 3, 4)}},
		{"relu int", 14, "Relu", []*Tensor{i32([]int{3}, -2, 0, 3)}, nil, []*Tensor{i32([]int{3}, 0, 0, 3)}},
		{"tile", 13, "Tile", []*Tensor{f32([]int{1, 2}, 1, 2), i64([]int{2}, 2, 2)}, nil,
			[]*Tensor{f32([]int{2, 4}, 1, 2, 1, 2, 1, 2, 1, 2)}},
		{"range int64", 11, "Range", []*Tensor{i64(nil, 10), i64(nil, 4), i64(nil, -3)}, nil, []*Tensor{i64([]int{2}, 10, 7)}},
		{"dropout opset 7 identity", 7, "Dropout", []*Tensor{f32([]int{2}, 1, 2)}, nil, []*Tensor{f32([]int{2}, 1, 2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runOp(tc.opset, tc.op, tc.ins, len(tc.want), tc.attrs...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				checkTensor(t, tc.name, got[i], tc.want[i])
			}
		})
	}
}

// Bad inputs to ops are errors naming the node, never panics.
func TestOpErrors(t *testing.T) {
	cases := []struct {
		name  string
		opset int64
		op    string
		ins   []*Tensor
		attrs []*onnx.AttributeProto
	}{
		{"incompatible broadcast", 13, "Add", []*Tensor{f32([]int{2}, 1, 2), f32([]int{3}, 1, 2, 3)}, nil},
		{"mixed dtypes", 13, "Mul", []*Tensor{f32([]int{1}, 1), i64([]int{1}, 1)}, nil},
		{"int division by zero", 13, "Div", []*Tensor{i32([]int{1}, 1), i32([]int{1}, 0)}, nil},
		{"gather out of range", 13, "Gather", []*Tensor{f32([]int{2}, 1, 2), i64([]int{1}, 2)}, nil},
		{"reshape size mismatch", 13, "Reshape", []*Tensor{f32([]int{3}, 1, 2, 3), i64([]int{1}, 2)}, nil},
		{"reshape two -1", 13, "Reshape", []*Tensor{f32([]int{4}, 1, 2, 3, 4), i64([]int{2}, -1, -1)}, nil},
		{"squeeze non-1 axis", 13, "Squeeze", []*Tensor{f32([]int{2}, 1, 2), i64([]int{1}, 0)}, nil},
		{"concat shape mismatch", 13, "Concat", []*Tensor{f32([]int{1, 2}, 1, 2), f32([]int{1, 3}, 1, 2, 3)}, []*onnx.AttributeProto{onnx.AttrInt("axis", 0)}},
		{"transpose bad perm", 13, "Transpose", []*Tensor{f32([]int{1, 2}, 1, 2)}, []*onnx.AttributeProto{onnx.AttrInts("perm", 0, 0)}},
		{"matmul mismatch", 13, "MatMul", []*Tensor{f32([]int{1, 2}, 1, 2), f32([]int{3, 1}, 1, 2, 3)}, nil},
		{"slice step 0", 13, "Slice", []*Tensor{f32([]int{2}, 1, 2), i64([]int{1}, 0), i64([]int{1}, 2), i64([]int{1}, 0), i64([]int{1}, 0)}, nil},
		{"split does not add up", 13, "Split", []*Tensor{f32([]int{3}, 1, 2, 3), i64([]int{2}, 1, 1)}, nil},
		{"axis out of range", 13, "Softmax", []*Tensor{f32([]int{2}, 1, 2)}, []*onnx.AttributeProto{onnx.AttrInt("axis", 3)}},
		{"attribute of wrong type", 13, "Gather", []*Tensor{f32([]int{2}, 1, 2), i64([]int{1}, 0)}, []*onnx.AttributeProto{onnx.AttrFloat("axis", 1)}},
		{"constantofshape huge", 13, "ConstantOfShape", []*Tensor{i64([]int{3}, 1<<20, 1<<20, 1<<20)}, nil},
		{"expand huge", 13, "Expand", []*Tensor{f32([]int{1}, 1), i64([]int{2}, 1<<30, 1<<30)}, nil},
		{"tile huge", 13, "Tile", []*Tensor{f32([]int{1}, 1), i64([]int{1}, math.MaxInt64)}, nil},
		{"pad huge", 13, "Pad", []*Tensor{f32([]int{1}, 1), i64([]int{2}, math.MaxInt64, 0)}, nil},
		{"range huge", 11, "Range", []*Tensor{f32(nil, 0), f32(nil, 1e30), f32(nil, 1)}, nil},
		{"dropout training", 13, "Dropout", []*Tensor{f32([]int{1}, 1), f32(nil, 0.5), NewBool(nil, []bool{true})}, nil},
	}
	for _, tc := range cases {
		nout := 1
		if tc.op == "Split" {
			nout = 2
		}
		if _, err := runOp(tc.opset, tc.op, tc.ins, nout, tc.attrs...); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}
