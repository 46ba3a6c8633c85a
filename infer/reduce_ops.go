package infer

import (
	"fmt"
	"math"

	"github.com/birnn/birnn/onnx"
)

// The Reduce* family. Axes are an attribute until opset 18 (13 for
// ReduceSum) and an optional input after; no axes reduce everything unless
// noop_with_empty_axes says to reduce nothing (each element on its own:
// ReduceSumSquare still squares, as in ONNX Runtime and the reference). Reducing an empty
// set gives the operation's identity (0 for sums, 1 for products, −∞ for
// ReduceMax and ReduceLogSumExp, +∞ for ReduceMin).

type redKind int

const (
	rSum redKind = iota
	rMean
	rProd
	rMax
	rMin
	rL1
	rL2
	rLogSum
	rLogSumExp
	rSumSquare
)

func init() {
	for name, c := range map[string]struct {
		kind       redKind
		inputSince int64
	}{
		"ReduceSum": {rSum, 13}, "ReduceMean": {rMean, 18}, "ReduceProd": {rProd, 18}, "ReduceMax": {rMax, 18},
		"ReduceMin": {rMin, 18}, "ReduceL1": {rL1, 18}, "ReduceL2": {rL2, 18}, "ReduceLogSum": {rLogSum, 18},
		"ReduceLogSumExp": {rLogSumExp, 18}, "ReduceSumSquare": {rSumSquare, 18},
	} {
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			return buildReduce(n, opset, c.kind, c.inputSince)
		})
	}
}

func buildReduce(n *onnx.NodeProto, opset int64, kind redKind, inputSince int64) (opKernel, error) {
	a := attrs(n)
	attrAxes := a.Ints("axes")
	keep := a.Int("keepdims", 1) != 0
	noopEmpty := a.Int("noop_with_empty_axes", 0) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	if opset >= inputSince && attrAxes != nil {
		return nil, fmt.Errorf("axes is an input from opset %d, not an attribute", inputSince)
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		axes := attrAxes
		if opset >= inputSince {
			var err error
			if axes, err = intsInput(in, 1); err != nil {
				return nil, err
			}
		}
		red := make([]bool, x.Rank())
		if len(axes) == 0 && !noopEmpty {
			for i := range red {
				red[i] = true
			}
		}
		for _, ax := range axes {
			i, err := normAxis(ax, x.Rank())
			if err != nil {
				return nil, err
			}
			red[i] = true
		}
		return one(reduce(x, red, keep, kind))
	}), nil
}

// reduce reduces x over the axes marked in red.
func reduce(x *Tensor, red []bool, keep bool, kind redKind) (*Tensor, error) {
	// Move the reduced axes last (a no-op when they already are), so each
	// output element reduces one contiguous run.
	var perm []int64
	var kept, cut []int
	for i, r := range red {
		if !r {
			perm = append(perm, int64(i))
			kept = append(kept, x.Shape[i])
		}
	}
	for i, r := range red {
		if r {
			perm = append(perm, int64(i))
			cut = append(cut, x.Shape[i])
		}
	}
	src := x
	for i, p := range perm {
		if int(p) != i {
			var err error
			if src, err = transpose(x, perm); err != nil {
				return nil, err
			}
			break
		}
	}
	outer, n := numel(kept), numel(cut)
	shape := reducedShape(x.Shape, red, keep)
	switch d := src.Data.(type) {
	case []float32:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[float32])), nil
	case []float64:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[float64])), nil
	case []int8:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[int8])), nil
	case []int16:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[int16])), nil
	case []int32:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[int32])), nil
	case []uint8:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[uint8])), nil
	case []uint16:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[uint16])), nil
	case []uint32:
		return New(shape, reduceRuns(d, outer, n, kind, reduceFloat[uint32])), nil
	case []int64:
		return New(shape, reduceRuns(d, outer, n, kind, reduceExact[int64])), nil
	case []uint64:
		return New(shape, reduceRuns(d, outer, n, kind, reduceExact[uint64])), nil
	case []onnx.Float16, []onnx.BFloat16:
		return viaFloat32(x.DType, func() (*Tensor, error) {
			f, err := Cast(src, Float)
			if err != nil {
				return nil, err
			}
			return New(shape, reduceRuns(f.Float32s(), outer, n, kind, reduceFloat[float32])), nil
		})
	}
	return nil, fmt.Errorf("reduction of %s is not supported", x.DType)
}

func reduceRuns[T Number](x []T, outer, n int, kind redKind, f func([]T, redKind) T) []T {
	out := make([]T, outer)
	for o := range out {
		out[o] = f(x[o*n:(o+1)*n], kind)
	}
	return out
}

// reduceFloat reduces a run in float64, which is exact for the integer
// types up to 32 bits.
func reduceFloat[T Number](v []T, kind redKind) T {
	var acc float64
	switch kind {
	case rSum, rMean, rL1, rL2, rSumSquare, rLogSum:
		for _, x := range v {
			f := float64(x)
			switch kind {
			case rL1:
				f = math.Abs(f)
			case rL2, rSumSquare:
				f *= f
			}
			acc += f
		}
		switch kind {
		case rMean:
			acc /= float64(len(v))
			if !isFloat[T]() {
				acc = math.Trunc(acc)
			}
		case rL2:
			acc = math.Sqrt(acc)
		case rLogSum:
			acc = math.Log(acc)
		}
	case rProd:
		acc = 1
		for _, x := range v {
			acc *= float64(x)
		}
	case rMax, rMin:
		if len(v) == 0 {
			return extreme[T](kind == rMin)
		}
		best := v[0]
		for _, x := range v[1:] {
			if x != x {
				return x
			}
			if (kind == rMax && x > best) || (kind == rMin && x < best) {
				best = x
			}
		}
		return best
	case rLogSumExp:
		m := math.Inf(-1)
		for _, x := range v {
			m = max(m, float64(x))
		}
		if math.IsInf(m, 0) {
			return T(m)
		}
		for _, x := range v {
			acc += math.Exp(float64(x) - m)
		}
		acc = m + math.Log(acc)
	}
	return T(acc)
}

// reduceExact reduces 64-bit integers in their own type (wrapping as
// ONNX Runtime does); the logarithmic and root kinds go through float64.
func reduceExact[T int64 | uint64](v []T, kind redKind) T {
	switch kind {
	case rL2, rLogSum, rLogSumExp:
		return reduceFloat(v, kind)
	case rMax, rMin:
		return reduceFloat(v, kind)
	}
	acc := T(0)
	if kind == rProd {
		acc = 1
	}
	for _, x := range v {
		switch kind {
		case rSum, rMean:
			acc += x
		case rProd:
			acc *= x
		case rL1:
			if x < 0 {
				x = -x
			}
			acc += x
		case rSumSquare:
			acc += x * x
		}
	}
	if kind == rMean && len(v) > 0 {
		acc /= T(len(v))
	}
	return acc
}

// extreme is the identity of ReduceMax (least) or ReduceMin (greatest).
func extreme[T Number](greatest bool) T {
	var z T
	switch any(z).(type) {
	case float32, float64:
		if greatest {
			return T(math.Inf(1))
		}
		return T(math.Inf(-1))
	}
	// Integers: all ones is the greatest unsigned value and -1 signed;
	// find the bounds by overflow.
	one := T(1)
	if T(0)-one > 0 { // unsigned
		if greatest {
			return T(0) - one
		}
		return 0
	}
	hi := one
	for hi*2 > hi {
		hi = hi*2 + 1
	}
	if greatest {
		return hi
	}
	return -hi - 1
}
