package infer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// opCase is one single-node model run by the engine and by ONNX Runtime.
type opCase struct {
	name  string
	opset int64
	op    string
	ins   []*Tensor
	attrs []*onnx.AttributeProto
	out   DType
}

func randTensor(rng *rand.Rand, shape []int) *Tensor {
	v := make([]float32, numel(shape))
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return NewFloat32(shape, v)
}

// randBroadcastPair draws two shapes of rank 1–4 that broadcast: each dim
// of the shorter one is the other's or 1. (Scalars are left to the
// hand-computed tests: the ONNX Runtime binding cannot build them.)
func randBroadcastPair(rng *rand.Rand) ([]int, []int) {
	r := 1 + rng.IntN(4)
	full := make([]int, r)
	for i := range full {
		full[i] = 1 + rng.IntN(4)
	}
	pick := func() []int {
		k := 1 + rng.IntN(r)
		s := append([]int{}, full[r-k:]...)
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = 1
			}
		}
		return s
	}
	return pick(), pick()
}

func opCasesVsORT() []opCase {
	rng := rand.New(rand.NewPCG(11, 12))
	var cases []opCase
	for i := 0; i < 40; i++ {
		as, bs := randBroadcastPair(rng)
		op := []string{"Add", "Sub", "Mul", "Div"}[i%4]
		cases = append(cases, opCase{fmt.Sprintf("%s %v %v", op, as, bs), 14, op, []*Tensor{randTensor(rng, as), randTensor(rng, bs)}, nil, Float})
	}
	for _, c := range [][2][]int{{{2, 1, 3, 4}, {5, 4, 2}}, {{4}, {3, 4, 5}}, {{2, 3, 4}, {4}}, {{1, 3, 2}, {2, 2, 5}}, {{7, 3}, {3, 1}}} {
		cases = append(cases, opCase{fmt.Sprintf("MatMul %v %v", c[0], c[1]), 13, "MatMul", []*Tensor{randTensor(rng, c[0]), randTensor(rng, c[1])}, nil, Float})
	}
	for _, c := range []struct {
		ta, tb int64
		cs     []int
	}{{0, 0, []int{1, 5}}, {1, 0, []int{3, 1}}, {0, 1, nil}, {1, 1, []int{1}}, {0, 0, []int{3, 5}}} {
		a, b := []int{3, 4}, []int{4, 5}
		if c.ta == 1 {
			a = []int{4, 3}
		}
		if c.tb == 1 {
			b = []int{5, 4}
		}
		ins := []*Tensor{randTensor(rng, a), randTensor(rng, b)}
		if c.cs != nil {
			ins = append(ins, randTensor(rng, c.cs))
		}
		cases = append(cases, opCase{fmt.Sprintf("Gemm tA%d tB%d C%v", c.ta, c.tb, c.cs), 13, "Gemm", ins,
			[]*onnx.AttributeProto{onnx.AttrInt("transA", c.ta), onnx.AttrInt("transB", c.tb), onnx.AttrFloat("alpha", 0.7), onnx.AttrFloat("beta", 1.3)}, Float})
	}
	for i := 0; i < 8; i++ {
		perm := rng.Perm(4)
		p64 := make([]int64, 4)
		for j, p := range perm {
			p64[j] = int64(p)
		}
		cases = append(cases, opCase{fmt.Sprintf("Transpose %v", perm), 13, "Transpose", []*Tensor{randTensor(rng, []int{2, 3, 4, 5})}, []*onnx.AttributeProto{onnx.AttrInts("perm", p64...)}, Float})
	}
	for i := 0; i < 12; i++ {
		shape := []int{4, 5, 6}
		var starts, ends, axes, steps []int64
		for ax := 0; ax < 3; ax++ {
			if rng.IntN(3) == 0 {
				continue
			}
			d := int64(shape[ax])
			st := int64(1 + rng.IntN(3))
			if rng.IntN(2) == 0 {
				st = -st
			}
			starts = append(starts, int64(rng.IntN(int(2*d+2)))-d-1)
			ends = append(ends, int64(rng.IntN(int(2*d+2)))-d-1)
			axes = append(axes, int64(ax))
			steps = append(steps, st)
		}
		if len(axes) == 0 {
			continue
		}
		n := []int{len(axes)}
		cases = append(cases, opCase{fmt.Sprintf("Slice %v %v %v %v", starts, ends, axes, steps), 13, "Slice",
			[]*Tensor{randTensor(rng, shape), NewInt64(n, starts), NewInt64(n, ends), NewInt64(n, axes), NewInt64(n, steps)}, nil, Float})
	}
	// Step-1 slices, copied in contiguous runs: one axis cut (a
	// bidirectional LSTM's Y split by direction) or several.
	for i := 0; i < 12; i++ {
		shape := []int{5, 2, 3, 4}
		var starts, ends, axes []int64
		for ax := 0; ax < 4; ax++ {
			if rng.IntN(2) == 0 {
				continue
			}
			d := shape[ax]
			lo := rng.IntN(d)
			starts = append(starts, int64(lo))
			ends = append(ends, int64(lo+1+rng.IntN(d-lo)))
			axes = append(axes, int64(ax))
		}
		if len(axes) == 0 {
			starts, ends, axes = []int64{1}, []int64{2}, []int64{1}
		}
		n := []int{len(axes)}
		cases = append(cases, opCase{fmt.Sprintf("Slice step 1 %v %v %v", starts, ends, axes), 13, "Slice",
			[]*Tensor{randTensor(rng, shape), NewInt64(n, starts), NewInt64(n, ends), NewInt64(n, axes)}, nil, Float})
	}
	for _, opset := range []int64{11, 13} {
		for _, ax := range []int64{0, 1, 2, -1} {
			for _, op := range []string{"Softmax", "LogSoftmax"} {
				cases = append(cases, opCase{fmt.Sprintf("%s-%d axis %d", op, opset, ax), opset, op, []*Tensor{randTensor(rng, []int{2, 3, 4})}, []*onnx.AttributeProto{onnx.AttrInt("axis", ax)}, Float})
			}
		}
	}
	for _, c := range []struct {
		axes []int64
		keep int64
	}{{[]int64{1}, 1}, {[]int64{0, 2}, 0}, {[]int64{-1}, 0}} {
		cases = append(cases, opCase{fmt.Sprintf("ReduceMean %v keep %d", c.axes, c.keep), 13, "ReduceMean", []*Tensor{randTensor(rng, []int{2, 3, 4})},
			[]*onnx.AttributeProto{onnx.AttrInts("axes", c.axes...), onnx.AttrInt("keepdims", c.keep)}, Float})
		cases = append(cases, opCase{fmt.Sprintf("ReduceSum %v keep %d", c.axes, c.keep), 13, "ReduceSum",
			[]*Tensor{randTensor(rng, []int{2, 3, 4}), NewInt64([]int{len(c.axes)}, c.axes)}, []*onnx.AttributeProto{onnx.AttrInt("keepdims", c.keep)}, Float})
	}
	for _, mode := range []string{"constant", "reflect", "edge"} {
		cases = append(cases, opCase{"Pad " + mode, 13, "Pad", []*Tensor{randTensor(rng, []int{3, 4}), NewInt64([]int{4}, []int64{1, 2, 2, 0})},
			[]*onnx.AttributeProto{onnx.AttrString("mode", mode)}, Float})
	}
	cases = append(cases,
		opCase{"Expand", 13, "Expand", []*Tensor{randTensor(rng, []int{3, 1}), NewInt64([]int{3}, []int64{2, 1, 4})}, nil, Float},
		opCase{"Tile", 13, "Tile", []*Tensor{randTensor(rng, []int{2, 3}), NewInt64([]int{2}, []int64{3, 2})}, nil, Float},
		opCase{"Gather axis 1", 13, "Gather", []*Tensor{randTensor(rng, []int{3, 5, 2}), NewInt64([]int{2, 2}, []int64{4, -1, 0, 2})}, []*onnx.AttributeProto{onnx.AttrInt("axis", 1)}, Float},
		opCase{"Concat", 13, "Concat", []*Tensor{randTensor(rng, []int{2, 1, 3}), randTensor(rng, []int{2, 4, 3})}, []*onnx.AttributeProto{onnx.AttrInt("axis", -2)}, Float},
		opCase{"Clip", 6, "Clip", []*Tensor{randTensor(rng, []int{10})}, []*onnx.AttributeProto{onnx.AttrFloat("min", -0.5), onnx.AttrFloat("max", 0.5)}, Float},
		opCase{"HardSigmoid", 6, "HardSigmoid", []*Tensor{randTensor(rng, []int{10})}, []*onnx.AttributeProto{onnx.AttrFloat("alpha", 0.3)}, Float},
		opCase{"ArgMax", 13, "ArgMax", []*Tensor{randTensor(rng, []int{3, 4})}, []*onnx.AttributeProto{onnx.AttrInt("axis", 1)}, Int64},
		opCase{"Cast int32", 13, "Cast", []*Tensor{randTensor(rng, []int{10})}, []*onnx.AttributeProto{onnx.AttrInt("to", int64(Int32))}, Int32},
	)
	return cases
}

// TestOpsMatchORT checks randomised shapes, broadcasts, permutations and
// slices against ONNX Runtime.
func TestOpsMatchORT(t *testing.T) {
	cases := opCasesVsORT()
	t.Logf("%d cases", len(cases))
	for _, c := range cases {
		m := opModel(c.opset, c.op, c.ins, 1, c.attrs...)
		m.Graph.Output[0].GetType().GetTensorType().ElemType = &[]int32{int32(c.out)}[0]
		ref := newORTSession(t, m, 1)
		want, err := ref.run(c.ins)
		if err != nil {
			t.Errorf("%s: ONNX Runtime: %v", c.name, err)
			continue
		}
		s, err := LoadModel(m)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		feed := map[string]*Tensor{}
		for i, x := range c.ins {
			feed[fmt.Sprintf("in%d", i)] = x
		}
		got, err := s.Run(context.Background(), feed)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if err := Compare(got["out0"], want[0], 1e-6, 1e-5); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
