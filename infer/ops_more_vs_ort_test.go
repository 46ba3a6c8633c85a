package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// ortCase is one single-node model run by the engine and by ONNX Runtime;
// outs are the output element types (one output of ins[0]'s type when
// empty), tol the absolute and relative tolerance (1e-6, 1e-5 when zero).
type ortCase struct {
	name  string
	opset int64
	op    string
	ins   []*Tensor
	attrs []*onnx.AttributeProto
	outs  []DType
	tol   [2]float64
}

// Random tensors of any element type, values in [lo, hi).
func randFloats(rng *rand.Rand, shape []int, lo, hi float64) *Tensor {
	v := make([]float32, numel(shape))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return NewFloat32(shape, v)
}

func randDoubles(rng *rand.Rand, shape []int, lo, hi float64) *Tensor {
	v := make([]float64, numel(shape))
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return NewFloat64(shape, v)
}

func randInts(rng *rand.Rand, d DType, shape []int, lo, hi int) *Tensor {
	v := make([]float64, numel(shape))
	for i := range v {
		v[i] = float64(lo + rng.IntN(hi-lo))
	}
	t, err := Cast(NewFloat64(shape, v), d)
	if err != nil {
		panic(err)
	}
	return t
}

func randBools(rng *rand.Rand, shape []int) *Tensor {
	v := make([]bool, numel(shape))
	for i := range v {
		v[i] = rng.IntN(2) == 1
	}
	return NewBool(shape, v)
}

// randShape is a shape of rank lo…hi with dims 1…4, or, with probability
// 1/6 when empty is set, with one dim 0.
func randShape(rng *rand.Rand, lo, hi int, empty bool) []int {
	s := make([]int, lo+rng.IntN(hi-lo+1))
	for i := range s {
		s[i] = 1 + rng.IntN(4)
	}
	if empty && len(s) > 0 && rng.IntN(6) == 0 {
		s[rng.IntN(len(s))] = 0
	}
	return s
}

// broadcastTo draws a shape that broadcasts to full: a suffix of it with
// some dims set to 1.
func broadcastTo(rng *rand.Rand, full []int) []int {
	k := rng.IntN(len(full) + 1)
	s := append([]int{}, full[len(full)-k:]...)
	for i := range s {
		if rng.IntN(3) == 0 {
			s[i] = 1
		}
	}
	return s
}

func axesAttr(name string, v ...int64) *onnx.AttributeProto { return onnx.AttrInts(name, v...) }

var (
	aI = onnx.AttrInt
	aF = onnx.AttrFloat
	aS = onnx.AttrString
)

// ortDouble lists the unary operators ONNX Runtime implements for DOUBLE.
var ortDouble = map[string]bool{"Sqrt": true, "Reciprocal": true, "Floor": true, "Ceil": true, "Round": true, "Sin": true, "Cos": true,
	"Exp": true, "Log": true, "Abs": true, "Sign": true, "Neg": true}

func unaryCases(rng *rand.Rand) []ortCase {
	var cases []ortCase
	domains := map[string][2]float64{
		"Sqrt": {0, 4}, "Log": {0.01, 4}, "Reciprocal": {0.1, 3}, "Asin": {-0.99, 0.99}, "Acos": {-0.99, 0.99},
		"Acosh": {1.01, 4}, "Atanh": {-0.99, 0.99}, "Tan": {-1.4, 1.4},
	}
	ops := []struct {
		op    string
		opset int64
		attrs [][]*onnx.AttributeProto
	}{
		{"Sqrt", 13, nil}, {"Reciprocal", 13, nil}, {"Erf", 13, nil}, {"Floor", 13, nil}, {"Ceil", 13, nil},
		{"Round", 11, nil}, {"Sin", 7, nil}, {"Cos", 7, nil}, {"Tan", 7, nil}, {"Asin", 7, nil}, {"Acos", 7, nil},
		{"Atan", 7, nil}, {"Sinh", 9, nil}, {"Cosh", 9, nil}, {"Asinh", 9, nil}, {"Acosh", 9, nil}, {"Atanh", 9, nil},
		{"Softplus", 1, nil}, {"Softsign", 1, nil}, {"HardSwish", 14, nil}, {"Mish", 18, nil}, {"Exp", 13, nil},
		{"Log", 13, nil}, {"Abs", 13, nil}, {"Sign", 13, nil}, {"Neg", 13, nil},
		{"Elu", 6, [][]*onnx.AttributeProto{nil, {aF("alpha", 0.4)}}},
		{"Celu", 12, [][]*onnx.AttributeProto{nil, {aF("alpha", 2.5)}}},
		{"Selu", 6, [][]*onnx.AttributeProto{nil, {aF("alpha", 1.2), aF("gamma", 0.7)}}},
		{"LeakyRelu", 6, [][]*onnx.AttributeProto{nil, {aF("alpha", 0.3)}}},
		{"ThresholdedRelu", 10, [][]*onnx.AttributeProto{nil, {aF("alpha", 0.2)}}},
		{"Shrink", 9, [][]*onnx.AttributeProto{nil, {aF("bias", 0.3), aF("lambd", 0.8)}}},
		{"Gelu", 20, [][]*onnx.AttributeProto{nil, {aS("approximate", "tanh")}}},
		{"HardSigmoid", 6, [][]*onnx.AttributeProto{{aF("alpha", 0.3), aF("beta", 0.4)}}},
	}
	for _, o := range ops {
		attrSets := o.attrs
		if attrSets == nil {
			attrSets = [][]*onnx.AttributeProto{nil}
		}
		for _, at := range attrSets {
			for i := 0; i < 3; i++ {
				if i == 2 && !ortDouble[o.op] {
					continue
				}
				shape := randShape(rng, 0, 4, true)
				r, ok := domains[o.op]
				if !ok {
					r = [2]float64{-3, 3}
				}
				x := randFloats(rng, shape, r[0], r[1])
				if i == 2 {
					x = randDoubles(rng, shape, r[0], r[1])
				}
				cases = append(cases, ortCase{name: fmt.Sprintf("%s %v %s %v", o.op, at, x, i), opset: o.opset, op: o.op, ins: []*Tensor{x}, attrs: at})
			}
		}
	}
	for _, op := range []string{"Abs", "Sign", "Neg"} {
		for _, d := range []DType{Int32, Int64, Int8} {
			cases = append(cases, ortCase{name: op + " " + d.String(), opset: 13, op: op, ins: []*Tensor{randInts(rng, d, randShape(rng, 1, 3, false), -9, 9)}})
		}
	}
	special := NewFloat32([]int{6}, []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -2, 3})
	cases = append(cases,
		ortCase{name: "IsNaN", opset: 13, op: "IsNaN", ins: []*Tensor{special}, outs: []DType{Bool}},
		ortCase{name: "IsInf", opset: 10, op: "IsInf", ins: []*Tensor{special}, outs: []DType{Bool}},
		ortCase{name: "IsInf positive", opset: 10, op: "IsInf", ins: []*Tensor{special}, outs: []DType{Bool}, attrs: []*onnx.AttributeProto{aI("detect_negative", 0)}},
		ortCase{name: "IsInf negative", opset: 10, op: "IsInf", ins: []*Tensor{special}, outs: []DType{Bool}, attrs: []*onnx.AttributeProto{aI("detect_positive", 0)}},
		ortCase{name: "Round halves", opset: 11, op: "Round", ins: []*Tensor{NewFloat32([]int{6}, []float32{0.5, 1.5, 2.5, -0.5, -1.5, 2.4999})}},
	)
	return cases
}

func binaryCases(rng *rand.Rand) []ortCase {
	var cases []ortCase
	pair := func() ([]int, []int) {
		full := randShape(rng, 1, 4, true)
		a, b := broadcastTo(rng, full), broadcastTo(rng, full)
		if rng.IntN(2) == 0 {
			a = full
		} else {
			b = full
		}
		return a, b
	}
	for i := 0; i < 4; i++ {
		for _, op := range []string{"And", "Or", "Xor"} {
			a, b := pair()
			cases = append(cases, ortCase{name: fmt.Sprintf("%s %v %v", op, a, b), opset: 7, op: op, ins: []*Tensor{randBools(rng, a), randBools(rng, b)}, outs: []DType{Bool}})
		}
		not := randShape(rng, 0, 3, true)
		cases = append(cases, ortCase{name: fmt.Sprintf("Not %v", not), opset: 1, op: "Not", ins: []*Tensor{randBools(rng, not)}})
		for _, op := range []string{"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"} {
			a, b := pair()
			cases = append(cases, ortCase{name: fmt.Sprintf("%s %v %v", op, a, b), opset: 16, op: op,
				ins: []*Tensor{randInts(rng, Int32, a, -2, 3), randInts(rng, Int32, b, -2, 3)}, outs: []DType{Bool}})
			cases = append(cases, ortCase{name: fmt.Sprintf("%s float %v %v", op, a, b), opset: 16, op: op,
				ins: []*Tensor{randInts(rng, Float, a, -2, 3), randFloats(rng, b, -2, 3)}, outs: []DType{Bool}})
		}
		a, b := pair()
		c := broadcastTo(rng, a)
		cases = append(cases, ortCase{name: fmt.Sprintf("Where %v %v %v", c, a, b), opset: 16, op: "Where",
			ins: []*Tensor{randBools(rng, c), randFloats(rng, a, -1, 1), randFloats(rng, b, -1, 1)}, outs: []DType{Float}})
		for _, op := range []string{"BitwiseAnd", "BitwiseOr", "BitwiseXor"} {
			a, b := pair()
			cases = append(cases, ortCase{name: fmt.Sprintf("%s %v %v", op, a, b), opset: 18, op: op, ins: []*Tensor{randInts(rng, Int32, a, -100, 100), randInts(rng, Int32, b, -100, 100)}})
		}
		for _, d := range []DType{Uint8, Uint32, Uint64} {
			for _, dir := range []string{"LEFT", "RIGHT"} {
				a, b := pair()
				cases = append(cases, ortCase{name: fmt.Sprintf("BitShift %s %s %v %v", d, dir, a, b), opset: 11, op: "BitShift",
					ins: []*Tensor{randInts(rng, d, a, 0, 200), randInts(rng, d, b, 0, 8)}, attrs: []*onnx.AttributeProto{aS("direction", dir)}})
			}
		}
		for _, d := range []DType{Int32, Int64, Int8} {
			a, b := pair()
			y := randInts(rng, d, b, 1, 7)
			neg, _ := Cast(randInts(rng, Int64, b, 0, 2), d) // flip some divisor signs
			yv, _ := y.Ints()
			nv, _ := neg.Ints()
			for j := range yv {
				if nv[j] == 1 {
					yv[j] = -yv[j]
				}
			}
			y, _ = Cast(NewInt64(b, yv), d)
			for _, fm := range []int64{0, 1} {
				cases = append(cases, ortCase{name: fmt.Sprintf("Mod %s fmod %d %v %v", d, fm, a, b), opset: 13, op: "Mod",
					ins: []*Tensor{randInts(rng, d, a, -20, 20), y}, attrs: []*onnx.AttributeProto{aI("fmod", fm)}})
			}
		}
		a, b = pair()
		cases = append(cases, ortCase{name: fmt.Sprintf("Mod float %v %v", a, b), opset: 13, op: "Mod",
			ins: []*Tensor{randFloats(rng, a, -5, 5), randFloats(rng, b, 0.5, 3)}, attrs: []*onnx.AttributeProto{aI("fmod", 1)}})
		a, b = pair()
		cases = append(cases,
			ortCase{name: fmt.Sprintf("Pow float %v %v", a, b), opset: 15, op: "Pow", ins: []*Tensor{randFloats(rng, a, 0.1, 3), randFloats(rng, b, -2, 2)}},
			ortCase{name: fmt.Sprintf("Pow float^int64 %v %v", a, b), opset: 15, op: "Pow", ins: []*Tensor{randFloats(rng, a, -3, 3), randInts(rng, Int64, b, -3, 4)}},
			ortCase{name: fmt.Sprintf("Pow int32^int32 %v %v", a, b), opset: 15, op: "Pow", ins: []*Tensor{randInts(rng, Int32, a, -4, 5), randInts(rng, Int32, b, 0, 5)}},
			ortCase{name: fmt.Sprintf("Pow int64^float %v %v", a, b), opset: 15, op: "Pow", ins: []*Tensor{randInts(rng, Int64, a, 0, 5), randFloats(rng, b, 0, 3)}},
		)
		x := randShape(rng, 2, 4, false)
		cases = append(cases, ortCase{name: fmt.Sprintf("PRelu %v", x), opset: 16, op: "PRelu", ins: []*Tensor{randFloats(rng, x, -2, 2), randFloats(rng, broadcastTo(rng, x), 0, 1)}})
		for _, op := range []string{"Max", "Min", "Sum", "Mean"} {
			full := randShape(rng, 1, 3, true)
			n := 1 + rng.IntN(3)
			var ins []*Tensor
			for j := 0; j < n; j++ {
				s := full
				if j > 0 {
					s = broadcastTo(rng, full)
				}
				ins = append(ins, randFloats(rng, s, -3, 3))
			}
			cases = append(cases, ortCase{name: fmt.Sprintf("%s of %d %v", op, n, full), opset: 13, op: op, ins: ins})
			if op == "Max" || op == "Min" {
				cases = append(cases, ortCase{name: fmt.Sprintf("%s int32 %v", op, full), opset: 13, op: op,
					ins: []*Tensor{randInts(rng, Int32, full, -9, 9), randInts(rng, Int32, broadcastTo(rng, full), -9, 9)}})
			}
		}
	}
	return cases
}

func reduceCases(rng *rand.Rand) []ortCase {
	var cases []ortCase
	kinds := []string{"ReduceSum", "ReduceMean", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}
	for _, op := range kinds {
		for i := 0; i < 4; i++ {
			shape := randShape(rng, 1, 4, false)
			r := len(shape)
			var axes []int64
			for ax := 0; ax < r; ax++ {
				if rng.IntN(2) == 0 {
					a := int64(ax)
					if rng.IntN(2) == 0 {
						a -= int64(r)
					}
					axes = append(axes, a)
				}
			}
			keep := int64(rng.IntN(2))
			lo, hi := -2.0, 2.0
			if op == "ReduceLogSum" {
				lo = 0.1
			}
			x := randFloats(rng, shape, lo, hi)
			// The attribute form (opset 13; ReduceSum 11) and the input form (18; ReduceSum 13).
			attrOpset := int64(13)
			if op == "ReduceSum" {
				attrOpset = 11
			}
			at := []*onnx.AttributeProto{aI("keepdims", keep)}
			if len(axes) > 0 {
				at = append(at, axesAttr("axes", axes...))
			}
			cases = append(cases, ortCase{name: fmt.Sprintf("%s-%d %v axes %v keep %d", op, attrOpset, shape, axes, keep), opset: attrOpset, op: op, ins: []*Tensor{x}, attrs: at})
			ins := []*Tensor{x}
			if len(axes) > 0 {
				ins = append(ins, NewInt64([]int{len(axes)}, axes))
			}
			inOpset := int64(18)
			if op == "ReduceSum" {
				inOpset = 13
			}
			cases = append(cases, ortCase{name: fmt.Sprintf("%s-%d %v axes %v keep %d", op, inOpset, shape, axes, keep), opset: inOpset, op: op, ins: ins, attrs: at[:1]})
		}
		x := randFloats(rng, []int{2, 3}, 0.1, 2)
		cases = append(cases, ortCase{name: op + " noop with empty axes", opset: 18, op: op, ins: []*Tensor{x}, attrs: []*onnx.AttributeProto{aI("noop_with_empty_axes", 1)}})
	}
	for _, op := range []string{"ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"} {
		for _, d := range []DType{Int32, Int64} {
			cases = append(cases, ortCase{name: op + " " + d.String(), opset: 11, op: op, ins: []*Tensor{randInts(rng, d, []int{3, 4}, -5, 6)},
				attrs: []*onnx.AttributeProto{axesAttr("axes", 1), aI("keepdims", 0)}})
		}
	}
	for _, op := range []string{"ArgMax", "ArgMin"} {
		for _, last := range []int64{0, 1} {
			for _, ax := range []int64{0, 1, -1} {
				x := randInts(rng, Float, []int{3, 4, 2}, -2, 2) // ties
				cases = append(cases, ortCase{name: fmt.Sprintf("%s axis %d last %d", op, ax, last), opset: 13, op: op, ins: []*Tensor{x}, outs: []DType{Int64},
					attrs: []*onnx.AttributeProto{aI("axis", ax), aI("select_last_index", last), aI("keepdims", last)}})
			}
		}
	}
	return cases
}

func indexCases(rng *rand.Rand) []ortCase {
	var cases []ortCase
	for i := 0; i < 6; i++ {
		shape := randShape(rng, 1, 3, true)
		ax := int64(rng.IntN(len(shape)))
		if rng.IntN(2) == 0 {
			ax -= int64(len(shape))
		}
		axisT := NewInt64(nil, []int64{ax})
		if i%2 == 1 {
			axisT = NewInt32(nil, []int32{int32(ax)})
		}
		cases = append(cases, ortCase{name: fmt.Sprintf("CumSum %v axis %d", shape, ax), opset: 14, op: "CumSum", ins: []*Tensor{randFloats(rng, shape, -2, 2), axisT},
			attrs: []*onnx.AttributeProto{aI("exclusive", int64(i%2)), aI("reverse", int64(i/2%2))}})
		cases = append(cases, ortCase{name: fmt.Sprintf("NonZero %v", shape), opset: 13, op: "NonZero", ins: []*Tensor{randInts(rng, Float, shape, 0, 2)}, outs: []DType{Int64}})
	}
	cases = append(cases, ortCase{name: "CumSum int64", opset: 14, op: "CumSum", ins: []*Tensor{randInts(rng, Int64, []int{3, 4}, -5, 5), NewInt64(nil, []int64{1})}})
	cases = append(cases, ortCase{name: "NonZero bool", opset: 13, op: "NonZero", ins: []*Tensor{randBools(rng, []int{2, 3, 2})}, outs: []DType{Int64}})
	for i := 0; i < 8; i++ {
		shape := randShape(rng, 1, 3, false)
		ax := int64(rng.IntN(len(shape)))
		if i%2 == 1 {
			ax -= int64(len(shape))
		}
		k := int64(rng.IntN(shape[(ax+int64(len(shape)))%int64(len(shape))] + 1))
		x := randInts(rng, Float, shape, -3, 3) // ties: lower index first
		cases = append(cases, ortCase{name: fmt.Sprintf("TopK %v axis %d k %d largest %d", shape, ax, k, i%3%2), opset: 11, op: "TopK",
			ins: []*Tensor{x, NewInt64([]int{1}, []int64{k})}, outs: []DType{Float, Int64}, attrs: []*onnx.AttributeProto{aI("axis", ax), aI("largest", int64(1-i%3%2))}})
	}
	for _, ax := range []int64{-1, 0, 1, -2} {
		idx := randInts(rng, Int64, []int{3, 2}, -5, 6)
		cases = append(cases, ortCase{name: fmt.Sprintf("OneHot axis %d", ax), opset: 11, op: "OneHot",
			ins: []*Tensor{idx, NewFloat32(nil, []float32{5}), NewFloat32([]int{2}, []float32{-1, 3})}, attrs: []*onnx.AttributeProto{aI("axis", ax)}, outs: []DType{Float}})
	}
	cases = append(cases, ortCase{name: "OneHot int64 values", opset: 11, op: "OneHot",
		ins: []*Tensor{randInts(rng, Int64, []int{4}, 0, 3), NewInt64([]int{1}, []int64{3}), NewInt64([]int{2}, []int64{0, 7})}})
	for _, up := range []int64{0, 1} {
		for _, k := range []int64{-2, -1, 0, 1, 3} {
			shape := []int{2, 3 + rng.IntN(2), 4}
			cases = append(cases, ortCase{name: fmt.Sprintf("Trilu upper %d k %d", up, k), opset: 14, op: "Trilu",
				ins: []*Tensor{randFloats(rng, shape, -1, 1), NewInt64(nil, []int64{k})}, attrs: []*onnx.AttributeProto{aI("upper", up)}})
		}
		cases = append(cases, ortCase{name: fmt.Sprintf("Trilu upper %d no k", up), opset: 14, op: "Trilu", ins: []*Tensor{randFloats(rng, []int{4, 3}, -1, 1)}, attrs: []*onnx.AttributeProto{aI("upper", up)}})
	}
	cases = append(cases,
		ortCase{name: "Size", opset: 13, op: "Size", ins: []*Tensor{randFloats(rng, []int{2, 0, 3}, 0, 1)}, outs: []DType{Int64}},
		ortCase{name: "Size scalar", opset: 13, op: "Size", ins: []*Tensor{NewFloat32(nil, []float32{1})}, outs: []DType{Int64}},
		ortCase{name: "Range float", opset: 11, op: "Range", ins: []*Tensor{NewFloat32(nil, []float32{1.5}), NewFloat32(nil, []float32{-3}), NewFloat32(nil, []float32{-0.7})}},
		ortCase{name: "Range int64", opset: 11, op: "Range", ins: []*Tensor{NewInt64(nil, []int64{2}), NewInt64(nil, []int64{17}), NewInt64(nil, []int64{4})}},
		ortCase{name: "Range empty", opset: 11, op: "Range", ins: []*Tensor{NewInt32(nil, []int32{5}), NewInt32(nil, []int32{1}), NewInt32(nil, []int32{2})}},
		ortCase{name: "EyeLike k 1", opset: 9, op: "EyeLike", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("k", 1)}},
		ortCase{name: "EyeLike int64 k -1", opset: 9, op: "EyeLike", ins: []*Tensor{randFloats(rng, []int{4, 3}, 0, 1)}, outs: []DType{Int64}, attrs: []*onnx.AttributeProto{aI("k", -1), aI("dtype", int64(Int64))}},
		ortCase{name: "GatherND", opset: 13, op: "GatherND", ins: []*Tensor{randFloats(rng, []int{3, 4, 2}, 0, 1), NewInt64([]int{2, 2}, []int64{0, 3, -1, 1})}},
		ortCase{name: "GatherND batch_dims 1", opset: 13, op: "GatherND", ins: []*Tensor{randFloats(rng, []int{2, 3, 4}, 0, 1), NewInt64([]int{2, 2, 1}, []int64{2, 0, 1, 1})}, attrs: []*onnx.AttributeProto{aI("batch_dims", 1)}},
		ortCase{name: "ScatterElements axis 1", opset: 16, op: "ScatterElements", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{2, 2}, []int64{1, -1, 0, 2}), randFloats(rng, []int{2, 2}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("axis", 1)}},
		ortCase{name: "ScatterElements add", opset: 16, op: "ScatterElements", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{2, 2}, []int64{1, 1, 0, 1}), randFloats(rng, []int{2, 2}, 0, 1)}, attrs: []*onnx.AttributeProto{aS("reduction", "add")}},
		ortCase{name: "ScatterND", opset: 16, op: "ScatterND", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{2, 1}, []int64{2, 0}), randFloats(rng, []int{2, 4}, 0, 1)}},
		ortCase{name: "ScatterND mul", opset: 16, op: "ScatterND", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{2, 2}, []int64{2, 1, 0, 3}), randFloats(rng, []int{2}, 0, 1)}, attrs: []*onnx.AttributeProto{aS("reduction", "mul")}},
		ortCase{name: "Compress axis 1", opset: 11, op: "Compress", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewBool([]int{3}, []bool{true, false, true})}, attrs: []*onnx.AttributeProto{aI("axis", 1)}},
		ortCase{name: "Compress flat", opset: 11, op: "Compress", ins: []*Tensor{randFloats(rng, []int{2, 3}, 0, 1), NewBool([]int{5}, []bool{false, true, true, false, true})}},
		ortCase{name: "Compress axis -1", opset: 11, op: "Compress", ins: []*Tensor{randFloats(rng, []int{2, 3}, 0, 1), NewBool([]int{3}, []bool{false, true, false})}, attrs: []*onnx.AttributeProto{aI("axis", -1)}},
		ortCase{name: "Unique sorted", opset: 11, op: "Unique", ins: []*Tensor{randInts(rng, Float, []int{9}, 0, 4)}, outs: []DType{Float, Int64, Int64, Int64}},
		ortCase{name: "Unique unsorted", opset: 11, op: "Unique", ins: []*Tensor{randInts(rng, Float, []int{9}, 0, 4)}, outs: []DType{Float, Int64, Int64, Int64}, attrs: []*onnx.AttributeProto{aI("sorted", 0)}},
		ortCase{name: "Unique axis 0", opset: 11, op: "Unique", ins: []*Tensor{NewFloat32([]int{4, 2}, []float32{1, 2, 0, 1, 1, 2, 0, 0})}, outs: []DType{Float, Int64, Int64, Int64}, attrs: []*onnx.AttributeProto{aI("axis", 0)}},
		ortCase{name: "DepthToSpace DCR", opset: 13, op: "DepthToSpace", ins: []*Tensor{randFloats(rng, []int{1, 8, 2, 3}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("blocksize", 2)}},
		ortCase{name: "DepthToSpace CRD", opset: 13, op: "DepthToSpace", ins: []*Tensor{randFloats(rng, []int{2, 8, 2, 3}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("blocksize", 2), aS("mode", "CRD")}},
		ortCase{name: "SpaceToDepth", opset: 13, op: "SpaceToDepth", ins: []*Tensor{randFloats(rng, []int{2, 3, 4, 6}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("blocksize", 2)}},
		ortCase{name: "Tile", opset: 13, op: "Tile", ins: []*Tensor{randFloats(rng, []int{2, 1, 3}, 0, 1), NewInt64([]int{3}, []int64{2, 3, 1})}},
		ortCase{name: "Tile zero", opset: 13, op: "Tile", ins: []*Tensor{randFloats(rng, []int{2, 3}, 0, 1), NewInt64([]int{2}, []int64{0, 2})}},
		ortCase{name: "ReverseSequence time 0", opset: 10, op: "ReverseSequence", ins: []*Tensor{randFloats(rng, []int{4, 3, 2}, 0, 1), NewInt64([]int{3}, []int64{4, 1, 2})}},
		ortCase{name: "ReverseSequence batch 0", opset: 10, op: "ReverseSequence", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{3}, []int64{1, 4, 3})}, attrs: []*onnx.AttributeProto{aI("batch_axis", 0), aI("time_axis", 1)}},
		ortCase{name: "Pad wrap axes", opset: 19, op: "Pad", ins: []*Tensor{randFloats(rng, []int{3, 4}, 0, 1), NewInt64([]int{2}, []int64{2, 3}), nil, NewInt64([]int{1}, []int64{-1})}, attrs: []*onnx.AttributeProto{aS("mode", "wrap")}},
		ortCase{name: "Pad constant value", opset: 18, op: "Pad", ins: []*Tensor{randFloats(rng, []int{2, 3}, 0, 1), NewInt64([]int{4}, []int64{0, 1, 2, -1}), NewFloat32(nil, []float32{7})}},
		ortCase{name: "Hardmax", opset: 13, op: "Hardmax", ins: []*Tensor{randFloats(rng, []int{3, 4, 2}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("axis", 1)}},
		ortCase{name: "Hardmax-11", opset: 11, op: "Hardmax", ins: []*Tensor{randFloats(rng, []int{3, 4, 2}, 0, 1)}, attrs: []*onnx.AttributeProto{aI("axis", 1)}},
		ortCase{name: "CastLike int32", opset: 15, op: "CastLike", ins: []*Tensor{randFloats(rng, []int{5}, -5, 5), NewInt32([]int{1}, []int32{0})}, outs: []DType{Int32}},
	)
	return cases
}

func nnCases(rng *rand.Rand) []ortCase {
	var cases []ortCase
	// Conv over 1 and 2 spatial axes, the keras.io Conv1D shapes included.
	type conv struct {
		x, w  []int
		attrs []*onnx.AttributeProto
		bias  bool
	}
	ints := onnx.AttrInts
	convs := []conv{
		{[]int{2, 8, 20}, []int{16, 8, 5}, nil, true},                                                 // Conv1D "valid"
		{[]int{1, 4, 11}, []int{6, 4, 3}, []*onnx.AttributeProto{aS("auto_pad", "SAME_UPPER")}, true}, // Conv1D "same"
		{[]int{1, 4, 10}, []int{6, 4, 4}, []*onnx.AttributeProto{aS("auto_pad", "SAME_LOWER"), ints("strides", 3)}, false},
		{[]int{2, 4, 12}, []int{4, 2, 3}, []*onnx.AttributeProto{aI("group", 2), ints("dilations", 2), ints("pads", 1, 3)}, true},
		{[]int{1, 3, 9}, []int{3, 1, 2}, []*onnx.AttributeProto{aI("group", 3), ints("strides", 2), aS("auto_pad", "VALID")}, true},
		{[]int{2, 3, 1, 15}, []int{5, 3, 1, 4}, []*onnx.AttributeProto{ints("kernel_shape", 1, 4)}, true}, // Keras 3 Conv1D as 2-D
		{[]int{1, 2, 7, 6}, []int{4, 2, 3, 3}, []*onnx.AttributeProto{ints("pads", 1, 0, 2, 1), ints("strides", 2, 1), ints("dilations", 1, 2)}, true},
		{[]int{1, 4, 5, 5}, []int{4, 2, 2, 2}, []*onnx.AttributeProto{aI("group", 2), aS("auto_pad", "SAME_UPPER"), ints("strides", 2, 2)}, false},
		{[]int{0, 1, 3, 5}, []int{2, 1, 1, 2}, nil, true}, // empty batch
	}
	for _, c := range convs {
		ins := []*Tensor{randFloats(rng, c.x, -1, 1), randFloats(rng, c.w, -1, 1)}
		if c.bias {
			ins = append(ins, randFloats(rng, c.w[:1], -1, 1))
		}
		cases = append(cases, ortCase{name: fmt.Sprintf("Conv %v %v %v", c.x, c.w, c.attrs), opset: 11, op: "Conv", ins: ins, attrs: c.attrs, tol: [2]float64{1e-5, 1e-5}})
	}
	type pool struct {
		x     []int
		attrs []*onnx.AttributeProto
	}
	pools := []pool{
		{[]int{2, 3, 10}, []*onnx.AttributeProto{ints("kernel_shape", 2)}},                     // MaxPooling1D default: pool 2, stride 1? (ONNX default stride 1)
		{[]int{2, 3, 10}, []*onnx.AttributeProto{ints("kernel_shape", 2), ints("strides", 2)}}, // Keras MaxPooling1D(2)
		{[]int{1, 2, 11}, []*onnx.AttributeProto{ints("kernel_shape", 3), ints("strides", 2), aI("ceil_mode", 1)}},
		{[]int{1, 2, 10}, []*onnx.AttributeProto{ints("kernel_shape", 3), ints("strides", 3), aI("ceil_mode", 1), ints("pads", 1, 1)}},
		{[]int{1, 2, 9}, []*onnx.AttributeProto{ints("kernel_shape", 4), aS("auto_pad", "SAME_UPPER"), ints("strides", 2)}},
		{[]int{1, 2, 9}, []*onnx.AttributeProto{ints("kernel_shape", 4), aS("auto_pad", "SAME_LOWER"), ints("strides", 2)}},
		{[]int{1, 2, 6, 7}, []*onnx.AttributeProto{ints("kernel_shape", 3, 2), ints("pads", 1, 0, 1, 1), ints("strides", 2, 2)}},
		{[]int{1, 1, 7, 7}, []*onnx.AttributeProto{ints("kernel_shape", 2, 2), ints("dilations", 2, 2), aI("ceil_mode", 1), ints("strides", 2, 2)}},
		{[]int{2, 3, 1, 12}, []*onnx.AttributeProto{ints("kernel_shape", 1, 3), aS("auto_pad", "VALID"), ints("strides", 1, 3)}},
	}
	for _, p := range pools {
		x := randFloats(rng, p.x, -2, 2)
		cases = append(cases, ortCase{name: fmt.Sprintf("MaxPool %v %v", p.x, p.attrs), opset: 12, op: "MaxPool", ins: []*Tensor{x}, attrs: p.attrs, outs: []DType{Float, Int64}})
		hasDil := false
		for _, a := range p.attrs {
			hasDil = hasDil || a.GetName() == "dilations"
		}
		for _, incl := range []int64{0, 1} {
			op := int64(11)
			if hasDil {
				op = 19
			}
			cases = append(cases, ortCase{name: fmt.Sprintf("AveragePool %v %v incl %d", p.x, p.attrs, incl), opset: op, op: "AveragePool", ins: []*Tensor{x},
				attrs: append([]*onnx.AttributeProto{aI("count_include_pad", incl)}, p.attrs...)})
		}
	}
	for _, s := range [][]int{{2, 3, 7}, {1, 4, 3, 5}, {2, 2, 1, 1}} {
		x := randFloats(rng, s, -2, 2)
		cases = append(cases, ortCase{name: fmt.Sprintf("GlobalMaxPool %v", s), opset: 1, op: "GlobalMaxPool", ins: []*Tensor{x}},
			ortCase{name: fmt.Sprintf("GlobalAveragePool %v", s), opset: 1, op: "GlobalAveragePool", ins: []*Tensor{x}})
	}
	for _, c := range []struct {
		x    []int
		axis int64
		bias bool
	}{{[]int{2, 5, 8}, -1, true}, {[]int{2, 5, 8}, 1, false}, {[]int{3, 4}, 0, true}, {[]int{2, 3, 4}, -2, true}} {
		inner := c.x[(c.axis+int64(len(c.x)))%int64(len(c.x)):]
		ins := []*Tensor{randFloats(rng, c.x, -2, 2), randFloats(rng, inner, 0.5, 1.5)}
		if c.bias {
			ins = append(ins, randFloats(rng, inner, -1, 1))
		}
		cases = append(cases, ortCase{name: fmt.Sprintf("LayerNormalization %v axis %d", c.x, c.axis), opset: 17, op: "LayerNormalization", ins: ins,
			attrs: []*onnx.AttributeProto{aI("axis", c.axis), aF("epsilon", 1e-3)}, outs: []DType{Float, Float, Float}, tol: [2]float64{1e-5, 1e-4}})
	}
	for _, s := range [][]int{{2, 3}, {2, 3, 4}, {1, 2, 3, 3}} {
		c := s[1]
		cases = append(cases, ortCase{name: fmt.Sprintf("BatchNormalization %v", s), opset: 15, op: "BatchNormalization",
			ins:   []*Tensor{randFloats(rng, s, -2, 2), randFloats(rng, []int{c}, 0.5, 1.5), randFloats(rng, []int{c}, -1, 1), randFloats(rng, []int{c}, -1, 1), randFloats(rng, []int{c}, 0.2, 2)},
			attrs: []*onnx.AttributeProto{aF("epsilon", 1e-3)}})
	}
	cases = append(cases,
		ortCase{name: "InstanceNormalization", opset: 6, op: "InstanceNormalization", ins: []*Tensor{randFloats(rng, []int{2, 3, 5}, -2, 2), randFloats(rng, []int{3}, 0.5, 1.5), randFloats(rng, []int{3}, -1, 1)}, tol: [2]float64{1e-5, 1e-4}},
		ortCase{name: "MeanVarianceNormalization", opset: 13, op: "MeanVarianceNormalization", ins: []*Tensor{randFloats(rng, []int{2, 3, 2, 2}, -2, 2)}, tol: [2]float64{1e-5, 1e-4}},
		ortCase{name: "LRN", opset: 13, op: "LRN", ins: []*Tensor{randFloats(rng, []int{1, 5, 2, 2}, -2, 2)}, attrs: []*onnx.AttributeProto{aI("size", 3), aF("alpha", 0.01)}},
		ortCase{name: "NegativeLogLikelihoodLoss mean", opset: 13, op: "NegativeLogLikelihoodLoss", ins: []*Tensor{randFloats(rng, []int{4, 3}, -2, 0), randInts(rng, Int64, []int{4}, 0, 3)}},
		ortCase{name: "NegativeLogLikelihoodLoss weighted none", opset: 13, op: "NegativeLogLikelihoodLoss", ins: []*Tensor{randFloats(rng, []int{2, 3, 4}, -2, 0), randInts(rng, Int64, []int{2, 4}, 0, 3), randFloats(rng, []int{3}, 0.5, 1)}, attrs: []*onnx.AttributeProto{aS("reduction", "none")}},
		ortCase{name: "NegativeLogLikelihoodLoss ignore", opset: 13, op: "NegativeLogLikelihoodLoss", ins: []*Tensor{randFloats(rng, []int{5, 3}, -2, 0), NewInt64([]int{5}, []int64{0, 2, 1, 2, 0}), randFloats(rng, []int{3}, 0.5, 1)}, attrs: []*onnx.AttributeProto{aI("ignore_index", 2)}},
		ortCase{name: "SoftmaxCrossEntropyLoss", opset: 13, op: "SoftmaxCrossEntropyLoss", ins: []*Tensor{randFloats(rng, []int{4, 5}, -2, 2), randInts(rng, Int64, []int{4}, 0, 5)}, outs: []DType{Float, Float}},
		ortCase{name: "SoftmaxCrossEntropyLoss sum 3-D", opset: 13, op: "SoftmaxCrossEntropyLoss", ins: []*Tensor{randFloats(rng, []int{2, 3, 4}, -2, 2), randInts(rng, Int32, []int{2, 4}, 0, 3)}, attrs: []*onnx.AttributeProto{aS("reduction", "sum")}, outs: []DType{Float, Float}},
	)
	for _, eq := range []struct {
		eq     string
		shapes [][]int
	}{
		{"bqhd,bkhd->bhqk", [][]int{{2, 5, 3, 4}, {2, 6, 3, 4}}},    // attention scores (Keras MultiHeadAttention)
		{"bhqk,bkhd->bqhd", [][]int{{2, 3, 5, 6}, {2, 6, 3, 4}}},    // attention-weighted values
		{"abc,cd->abd", [][]int{{2, 3, 4}, {4, 5}}},                 // dense over the last axis
		{"abcd,cde->abe", [][]int{{2, 3, 4, 5}, {4, 5, 6}}},         // output projection
		{"ij,jk", [][]int{{3, 4}, {4, 2}}},                          // implicit output
		{"ii->i", [][]int{{4, 4}}},                                  // diagonal
		{"bii->b", [][]int{{2, 3, 3}}},                              // batch trace
		{"...ij,...jk->...ik", [][]int{{2, 1, 3, 4}, {1, 5, 4, 2}}}, // broadcast ellipsis
		{"ij->", [][]int{{3, 4}}},                                   // sum
		{"i,i,i->", [][]int{{5}, {5}, {5}}},                         // three operands
		{"ij,jk,kl->il", [][]int{{2, 3}, {3, 4}, {4, 2}}},
		{"abc->cba", [][]int{{2, 3, 4}}},
	} {
		var ins []*Tensor
		for _, s := range eq.shapes {
			ins = append(ins, randFloats(rng, s, -1, 1))
		}
		cases = append(cases, ortCase{name: "Einsum " + eq.eq, opset: 12, op: "Einsum", ins: ins, attrs: []*onnx.AttributeProto{aS("equation", eq.eq)}, tol: [2]float64{1e-5, 1e-5}})
	}
	cases = append(cases, ortCase{name: "Einsum int64", opset: 12, op: "Einsum", ins: []*Tensor{randInts(rng, Int64, []int{2, 3}, -4, 4), randInts(rng, Int64, []int{3, 2}, -4, 4)}, attrs: []*onnx.AttributeProto{aS("equation", "ij,jk->ik")}})
	return cases
}

// runORTCases checks each case against ONNX Runtime.
func runORTCases(t *testing.T, cases []ortCase) {
	t.Helper()
	t.Logf("%d cases", len(cases))
	for _, c := range cases {
		outs := c.outs
		if outs == nil {
			outs = []DType{c.ins[0].DType}
		}
		m := opModel(c.opset, c.op, c.ins, len(outs), c.attrs...)
		// The ONNX Runtime binding cannot hand back scalars: each output
		// gets a leading unit axis, and so does ours before comparing.
		g := m.GetGraph()
		for j, d := range outs {
			name := fmt.Sprintf("out%d", j)
			un := onnx.MakeNode("u"+name, "Unsqueeze", []string{name}, []string{"ort_" + name}, onnx.AttrInts("axes", 0))
			if c.opset >= 13 {
				un = onnx.MakeNode("u"+name, "Unsqueeze", []string{name, "axis0"}, []string{"ort_" + name})
			}
			g.Node = append(g.Node, un)
			g.Output[j] = unshaped("ort_"+name, d)
		}
		if c.opset >= 13 {
			g.Initializer = append(g.Initializer, tensorProto(t, "axis0", NewInt64([]int{1}, []int64{0})))
		}
		var present []*Tensor
		for _, x := range c.ins {
			if x != nil {
				present = append(present, x)
			}
		}
		want, err := newORTSession(t, m, 1).run(present)
		if err != nil {
			t.Errorf("%s: ONNX Runtime: %v", c.name, err)
			continue
		}
		got, err := runOp(c.opset, c.op, c.ins, len(outs), c.attrs...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		atol, rtol := c.tol[0], c.tol[1]
		if atol == 0 && rtol == 0 {
			atol, rtol = 1e-6, 1e-5
		}
		for j := range outs {
			got[j] = reshaped(got[j], append([]int{1}, got[j].Shape...))
			if err := Compare(got[j], want[j], atol, rtol); err != nil {
				t.Errorf("%s: output %d: %v\n got %v %v\nwant %v %v", c.name, j, err, got[j], got[j].Data, want[j], want[j].Data)
			}
		}
	}
}

// TestUnaryOpsMatchORT: the elementwise functions and activations on
// random shapes (scalars and empty tensors included), every attribute.
func TestUnaryOpsMatchORT(t *testing.T) {
	runORTCases(t, unaryCases(rand.New(rand.NewPCG(21, 22))))
}

// TestBinaryOpsMatchORT: logic, comparison, bitwise, Mod, Pow, PRelu and
// the variadic Max/Min/Sum/Mean under numpy broadcasting.
func TestBinaryOpsMatchORT(t *testing.T) {
	runORTCases(t, binaryCases(rand.New(rand.NewPCG(23, 24))))
}

// TestReduceOpsMatchORT: every Reduce* in its attribute and input forms,
// negative axes, keepdims, noop_with_empty_axes; ArgMax/ArgMin with ties.
func TestReduceOpsMatchORT(t *testing.T) {
	runORTCases(t, reduceCases(rand.New(rand.NewPCG(25, 26))))
}

// TestIndexOpsMatchORT: CumSum, NonZero, TopK, OneHot, Trilu, Size,
// Range, the gathers and scatters, Compress, Unique and friends.
func TestIndexOpsMatchORT(t *testing.T) {
	runORTCases(t, indexCases(rand.New(rand.NewPCG(27, 28))))
}

// TestNNOpsMatchORT: Conv, the pools, the normalisations, the losses and
// Einsum in the forms text classifiers and attention layers export.
func TestNNOpsMatchORT(t *testing.T) {
	runORTCases(t, nnCases(rand.New(rand.NewPCG(29, 30))))
}

// TestHalfCastsMatchORT casts random floats to FLOAT16 and BFLOAT16 and
// back, and computes Max/Min/Mod in FLOAT16, in both engines.
func TestHalfCastsMatchORT(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	x := randFloats(rng, []int{4, 50}, -70000, 70000)
	xs := x.Float32s()
	for i := range xs[:50] {
		xs[i] = float32(math.Ldexp(float64(xs[i]), -rng.IntN(40))) // subnormal and tiny halves
	}
	xs[0], xs[1], xs[2] = float32(math.NaN()), float32(math.Inf(-1)), 65520
	for _, half := range []DType{Float16, BFloat16} {
		for _, src := range []*Tensor{x, mustCast(t, x, Double)} {
			g := onnx.MakeGraph("cast", []*onnx.NodeProto{
				onnx.MakeNode("to", "Cast", []string{"x"}, []string{"h"}, aI("to", int64(half))),
				onnx.MakeNode("back", "Cast", []string{"h"}, []string{"y"}, aI("to", int64(Float))),
			}, []*onnx.ValueInfoProto{unshaped("x", src.DType)}, []*onnx.ValueInfoProto{unshaped("y", Float)})
			if half == BFloat16 && src.DType == Double {
				continue // ONNX Runtime has no DOUBLE → BFLOAT16 cast
			}
			checkVsORT(t, fmt.Sprintf("%s via %s", src.DType, half), onnx.MakeModel(g, onnx.Opset("", 13)), []*Tensor{src}, 0, 0)
		}
	}
	for _, op := range []string{"Max", "Min", "Mod"} {
		var at []*onnx.AttributeProto
		if op == "Mod" {
			at = append(at, aI("fmod", 1))
		}
		g := onnx.MakeGraph("h", []*onnx.NodeProto{
			onnx.MakeNode("a", "Cast", []string{"x"}, []string{"xh"}, aI("to", int64(Float16))),
			onnx.MakeNode("b", "Cast", []string{"z"}, []string{"zh"}, aI("to", int64(Float16))),
			onnx.MakeNode("op", op, []string{"xh", "zh"}, []string{"yh"}, at...),
			onnx.MakeNode("c", "Cast", []string{"yh"}, []string{"y"}, aI("to", int64(Float))),
		}, []*onnx.ValueInfoProto{unshaped("x", Float), unshaped("z", Float)}, []*onnx.ValueInfoProto{unshaped("y", Float)})
		checkVsORT(t, op+" FLOAT16", onnx.MakeModel(g, onnx.Opset("", 13)), []*Tensor{randFloats(rng, []int{3, 4}, -5, 5), randFloats(rng, []int{4}, 0.5, 5)}, 0, 0)
	}
}

func mustCast(t *testing.T, x *Tensor, d DType) *Tensor {
	t.Helper()
	y, err := Cast(x, d)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// Bad attributes and inputs of the new operators are errors that say
// what is wrong, at load or at run time, never panics.
func TestNewOpsRejectBadInput(t *testing.T) {
	f := func(s ...int) *Tensor { return NewFloat32(s, make([]float32, numel(s))) }
	for _, c := range []struct {
		op    string
		opset int64
		ins   []*Tensor
		attrs []*onnx.AttributeProto
		want  string
	}{
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 3, 2)}, nil, "does not fit"},
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 2, 9)}, nil, "larger than"},
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 2, 2)}, []*onnx.AttributeProto{aS("auto_pad", "BOGUS")}, "auto_pad"},
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 2, 2)}, []*onnx.AttributeProto{onnx.AttrInts("strides", 0)}, "strides"},
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 2, 2)}, []*onnx.AttributeProto{aI("group", 0)}, "group"},
		{"Conv", 11, []*Tensor{f(1, 2, 5), f(3, 2, 2), f(4)}, nil, "B"},
		{"Conv", 11, []*Tensor{f(2, 5), f(3, 2)}, nil, "rank"},
		{"MaxPool", 12, []*Tensor{f(1, 2, 5)}, nil, "kernel_shape"},
		{"MaxPool", 12, []*Tensor{f(1, 2, 5)}, []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 2, 2)}, "spatial"},
		{"MaxPool", 12, []*Tensor{f(1, 2, 5)}, []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 2), onnx.AttrInts("pads", 1)}, "pads"},
		{"AveragePool", 11, []*Tensor{f(1, 2, 5)}, []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 2), onnx.AttrInts("dilations", 2)}, "dilations"},
		{"LayerNormalization", 17, []*Tensor{f(2, 3), f(4)}, nil, "broadcast"},
		{"LayerNormalization", 17, []*Tensor{f(2, 3), f(3)}, []*onnx.AttributeProto{aI("axis", 2)}, "axis"},
		{"BatchNormalization", 15, []*Tensor{f(2, 3), f(3), f(3), f(3), f(2)}, nil, "channels"},
		{"BatchNormalization", 15, []*Tensor{f(2, 3), f(3), f(3), f(3), f(3)}, []*onnx.AttributeProto{aI("training_mode", 1)}, "training mode"},
		{"TopK", 11, []*Tensor{f(3), NewInt64([]int{1}, []int64{4})}, nil, "out of range"},
		{"OneHot", 11, []*Tensor{NewInt64([]int{2}, []int64{0, 1}), NewFloat32(nil, []float32{0}), f(2)}, nil, "depth"},
		{"OneHot", 11, []*Tensor{NewInt64([]int{2}, []int64{0, 1}), NewFloat32(nil, []float32{3}), f(3)}, nil, "values"},
		{"Trilu", 14, []*Tensor{f(3)}, nil, "rank"},
		{"CumSum", 14, []*Tensor{f(3), NewInt64([]int{2}, []int64{0, 0})}, nil, "axis"},
		{"CumSum", 14, []*Tensor{f(3), NewInt64(nil, []int64{1})}, nil, "out of range"},
		{"Mod", 13, []*Tensor{NewInt32([]int{2}, []int32{1, 2}), NewInt32([]int{2}, []int32{1, 0})}, nil, "division by zero"},
		{"Mod", 13, []*Tensor{f(2), f(2)}, nil, "fmod=1"},
		{"BitShift", 11, []*Tensor{NewInt32([]int{1}, []int32{1}), NewInt32([]int{1}, []int32{1})}, []*onnx.AttributeProto{aS("direction", "LEFT")}, "unsigned"},
		{"BitShift", 11, []*Tensor{NewInt32([]int{1}, []int32{1}), NewInt32([]int{1}, []int32{1})}, []*onnx.AttributeProto{aS("direction", "UP")}, "direction"},
		{"And", 7, []*Tensor{f(2), f(2)}, nil, "BOOL"},
		{"Max", 13, []*Tensor{f(2), f(3)}, nil, "broadcast"},
		{"Max", 13, []*Tensor{f(2), NewInt32([]int{2}, []int32{1, 2})}, nil, "differ"},
		{"ReduceMax", 18, []*Tensor{f(2, 3), NewInt64([]int{1}, []int64{2})}, nil, "axis"},
		{"ReduceSum", 13, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{onnx.AttrInts("axes", 0)}, "input"},
		{"GatherND", 13, []*Tensor{f(2, 3), NewInt64([]int{1, 1}, []int64{5})}, nil, "out of range"},
		{"ScatterElements", 16, []*Tensor{f(2, 3), NewInt64([]int{1, 1}, []int64{3}), f(1, 1)}, nil, "out of range"},
		{"ScatterND", 16, []*Tensor{f(2, 3), NewInt64([]int{1, 1}, []int64{0}), f(2)}, nil, "updates"},
		{"Einsum", 12, []*Tensor{f(2, 3), f(4, 5)}, []*onnx.AttributeProto{aS("equation", "ij,jk->ik")}, "sizes"},
		{"Einsum", 12, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{aS("equation", "ij,jk->ik")}, "operands"},
		{"Einsum", 12, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{aS("equation", "i1->i")}, "not a letter"},
		{"Einsum", 12, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{aS("equation", "ij->iz")}, "appears in no operand"},
		{"Einsum", 12, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{aS("equation", "ijk->i")}, "rank"},
		{"DepthToSpace", 13, []*Tensor{f(1, 3, 2, 2)}, []*onnx.AttributeProto{aI("blocksize", 2)}, "multiple"},
		{"Unique", 11, []*Tensor{f(2, 3)}, []*onnx.AttributeProto{aI("axis", 3)}, "axis"},
		{"NegativeLogLikelihoodLoss", 13, []*Tensor{f(2, 3), NewInt64([]int{2}, []int64{0, 3})}, nil, "out of range"},
		{"Gelu", 20, []*Tensor{f(2)}, []*onnx.AttributeProto{aS("approximate", "exact")}, "approximate"},
	} {
		_, err := runOp(c.opset, c.op, c.ins, 1, c.attrs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one mentioning %q", c.op, c.attrs, err, c.want)
		}
		failOnInternal(t, err)
	}
}
