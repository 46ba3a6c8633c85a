package infer

import (
	"errors"
	"fmt"
	"math"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// needing is the kernel f behind the check that its first k inputs are
// present (need), so that f may use in[:k] as they are.
func needing(k int, f func(in []*Tensor) ([]*Tensor, error)) fn {
	return func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, k); err != nil {
			return nil, err
		}
		return f(in)
	}
}

type arithOp int

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
)

type cmpOp int

const (
	opEq cmpOp = iota
	opLt
	opGt
	opLe
	opGe
)

func init() {
	for name, op := range map[string]arithOp{"Add": opAdd, "Sub": opSub, "Mul": opMul, "Div": opDiv} {
		op := op
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			if opset < 7 && attrs(n).Int("broadcast", 0) != 0 && attrs(n).Has("axis") {
				return nil, errors.New("legacy broadcast with axis (opset < 7) is not supported")
			}
			return needing(2, func(in []*Tensor) ([]*Tensor, error) {
				return one(arith(op, in[0], in[1]))
			}), nil
		})
	}
	for name, op := range map[string]cmpOp{"Equal": opEq, "Less": opLt, "Greater": opGt, "LessOrEqual": opLe, "GreaterOrEqual": opGe} {
		op := op
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			return needing(2, func(in []*Tensor) ([]*Tensor, error) {
				return one(compare(op, in[0], in[1]))
			}), nil
		})
	}
	registerOp("", "Where", 9, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(3, func(in []*Tensor) ([]*Tensor, error) {
			return one(where(in[0], in[1], in[2]))
		}), nil
	})
	for name, op := range map[string]unaryOp{"Exp": opExp, "Log": opLog, "Sigmoid": opSigmoid, "Tanh": opTanh} {
		op := op
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			return needing(1, func(in []*Tensor) ([]*Tensor, error) {
				switch x := in[0].Data.(type) {
				case []float32:
					return []*Tensor{New(in[0].Shape, unary(op, x))}, nil
				case []float64:
					return []*Tensor{New(in[0].Shape, unary(op, x))}, nil
				}
				return nil, fmt.Errorf("input is %s, want FLOAT or DOUBLE", in[0].DType)
			}), nil
		})
	}
	registerOp("", "HardSigmoid", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		a := attrs(n)
		alpha, beta := float64(a.Float("alpha", 0.2)), float64(a.Float("beta", 0.5))
		if err := a.Err(); err != nil {
			return nil, err
		}
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			return one(mapFloat(in[0], func(x float64) float64 { return max(0, min(1, alpha*x+beta)) }))
		}), nil
	})
	registerOp("", "Relu", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			return one(relu(in[0]))
		}), nil
	})
	registerOp("", "Neg", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			return one(neg(in[0]))
		}), nil
	})
	registerOp("", "Not", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			x, ok := in[0].Data.([]bool)
			if !ok {
				return nil, fmt.Errorf("input is %s, want BOOL", in[0].DType)
			}
			y := make([]bool, len(x))
			for i, v := range x {
				y[i] = !v
			}
			return []*Tensor{New(in[0].Shape, y)}, nil
		}), nil
	})
	registerOp("", "Clip", 1, 0, buildClip)
}

func arith(op arithOp, a, b *Tensor) (*Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []float32:
		return arithT[float32](op, a, b)
	case []float64:
		return arithT[float64](op, a, b)
	case []int8:
		return arithT[int8](op, a, b)
	case []int16:
		return arithT[int16](op, a, b)
	case []int32:
		return arithT[int32](op, a, b)
	case []int64:
		return arithT[int64](op, a, b)
	case []uint8:
		return arithT[uint8](op, a, b)
	case []uint16:
		return arithT[uint16](op, a, b)
	case []uint32:
		return arithT[uint32](op, a, b)
	case []uint64:
		return arithT[uint64](op, a, b)
	}
	return nil, fmt.Errorf("arithmetic on %s is not supported", a.DType)
}

func isFloat[T Number]() bool {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return true
	}
	return false
}

func arithT[T Number](op arithOp, a, b *Tensor) (*Tensor, error) {
	shape, err := broadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	x, y := a.Data.([]T), b.Data.([]T)
	if op == opDiv && !isFloat[T]() {
		for _, v := range y {
			if v == 0 {
				return nil, errors.New("integer division by zero")
			}
		}
	}
	out := make([]T, numel(shape))
	if len(x) == len(out) && len(y) == len(out) {
		arithRow(op, out, x, 1, y, 1)
	} else {
		p := newPlan(shape, a.Shape, b.Shape)
		sa, sb := p.inner(0), p.inner(1)
		p.rows(func(o int, offs []int, n int) {
			arithRow(op, out[o:o+n], x[offs[0]:], sa, y[offs[1]:], sb)
		})
	}
	return &Tensor{DType: a.DType, Shape: shape, Data: out}, nil
}

// arithRow computes o[i] = a[i*sa] op b[i*sb]; strides are 0 or 1. Each
// stride pattern has its own loop so the common cases (same shape, a bias
// row, a scalar) run without index arithmetic.
func arithRow[T Number](op arithOp, o, a []T, sa int, b []T, sb int) {
	n := len(o)
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		}
	case sa == 0 && sb == 1:
		x, b := a[0], b[:n]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = x + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = x - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = x * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = x / b[i]
			}
		}
	case sa == 1 && sb == 0:
		a, y := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + y
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - y
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * y
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / y
			}
		}
	default:
		var v T
		switch op {
		case opAdd:
			v = a[0] + b[0]
		case opSub:
			v = a[0] - b[0]
		case opMul:
			v = a[0] * b[0]
		case opDiv:
			v = a[0] / b[0]
		}
		for i := range o {
			o[i] = v
		}
	}
}

func compare(op cmpOp, a, b *Tensor) (*Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []float32:
		return compareT[float32](op, a, b)
	case []float64:
		return compareT[float64](op, a, b)
	case []int8:
		return compareT[int8](op, a, b)
	case []int16:
		return compareT[int16](op, a, b)
	case []int32:
		return compareT[int32](op, a, b)
	case []int64:
		return compareT[int64](op, a, b)
	case []uint8:
		return compareT[uint8](op, a, b)
	case []uint16:
		return compareT[uint16](op, a, b)
	case []uint32:
		return compareT[uint32](op, a, b)
	case []uint64:
		return compareT[uint64](op, a, b)
	case []bool:
		if op != opEq {
			break
		}
		shape, err := broadcastShape(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		x, y := a.Bools(), b.Bools()
		out := make([]bool, numel(shape))
		p := newPlan(shape, a.Shape, b.Shape)
		sa, sb := p.inner(0), p.inner(1)
		p.rows(func(o int, offs []int, n int) {
			for i := 0; i < n; i++ {
				out[o+i] = x[offs[0]+i*sa] == y[offs[1]+i*sb]
			}
		})
		return New(shape, out), nil
	}
	return nil, fmt.Errorf("comparison of %s is not supported", a.DType)
}

func compareT[T Number](op cmpOp, a, b *Tensor) (*Tensor, error) {
	shape, err := broadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	x, y := a.Data.([]T), b.Data.([]T)
	out := make([]bool, numel(shape))
	p := newPlan(shape, a.Shape, b.Shape)
	sa, sb := p.inner(0), p.inner(1)
	p.rows(func(o int, offs []int, n int) {
		r, xa, yb := out[o:o+n], x[offs[0]:], y[offs[1]:]
		switch op {
		case opEq:
			for i := range r {
				r[i] = xa[i*sa] == yb[i*sb]
			}
		case opLt:
			for i := range r {
				r[i] = xa[i*sa] < yb[i*sb]
			}
		case opGt:
			for i := range r {
				r[i] = xa[i*sa] > yb[i*sb]
			}
		case opLe:
			for i := range r {
				r[i] = xa[i*sa] <= yb[i*sb]
			}
		case opGe:
			for i := range r {
				r[i] = xa[i*sa] >= yb[i*sb]
			}
		}
	})
	return New(shape, out), nil
}

func where(c, a, b *Tensor) (*Tensor, error) {
	cond, ok := c.Data.([]bool)
	if !ok {
		return nil, fmt.Errorf("condition is %s, want BOOL", c.DType)
	}
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []float32:
		return whereT[float32](cond, c, a, b)
	case []float64:
		return whereT[float64](cond, c, a, b)
	case []int8:
		return whereT[int8](cond, c, a, b)
	case []int16:
		return whereT[int16](cond, c, a, b)
	case []int32:
		return whereT[int32](cond, c, a, b)
	case []int64:
		return whereT[int64](cond, c, a, b)
	case []uint8:
		return whereT[uint8](cond, c, a, b)
	case []uint16:
		return whereT[uint16](cond, c, a, b)
	case []uint32:
		return whereT[uint32](cond, c, a, b)
	case []uint64:
		return whereT[uint64](cond, c, a, b)
	case []bool:
		return whereT[bool](cond, c, a, b)
	}
	return nil, fmt.Errorf("element type %s is not supported", a.DType)
}

func whereT[T Elem](cond []bool, c, a, b *Tensor) (*Tensor, error) {
	shape, err := broadcastShape(c.Shape, a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	x, y := a.Data.([]T), b.Data.([]T)
	out := make([]T, numel(shape))
	p := newPlan(shape, c.Shape, a.Shape, b.Shape)
	sc, sa, sb := p.inner(0), p.inner(1), p.inner(2)
	p.rows(func(o int, offs []int, n int) {
		for i := 0; i < n; i++ {
			if cond[offs[0]+i*sc] {
				out[o+i] = x[offs[1]+i*sa]
			} else {
				out[o+i] = y[offs[2]+i*sb]
			}
		}
	})
	return New(shape, out), nil
}

type unaryOp int

const (
	opExp unaryOp = iota
	opLog
	opSigmoid
	opTanh
)

// unary applies op elementwise; the switch sits outside the loops so each
// loop is a direct call per element.
func unary[T float32 | float64](op unaryOp, x []T) []T {
	y := make([]T, len(x))
	switch op {
	case opExp:
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	case opLog:
		for i, v := range x {
			y[i] = T(math.Log(float64(v)))
		}
	case opSigmoid:
		for i, v := range x {
			y[i] = kernel.Sigmoid(v)
		}
	case opTanh:
		for i, v := range x {
			y[i] = kernel.Tanh(v)
		}
	}
	return y
}

// mapFloat applies f elementwise to a FLOAT or DOUBLE tensor.
func mapFloat(t *Tensor, f func(float64) float64) (*Tensor, error) {
	switch x := t.Data.(type) {
	case []float32:
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(f(float64(v)))
		}
		return New(t.Shape, y), nil
	case []float64:
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = f(v)
		}
		return New(t.Shape, y), nil
	}
	return nil, fmt.Errorf("input is %s, want FLOAT or DOUBLE", t.DType)
}

func relu(t *Tensor) (*Tensor, error) {
	switch t.Data.(type) {
	case []float32:
		return reluT[float32](t), nil
	case []float64:
		return reluT[float64](t), nil
	case []int8:
		return reluT[int8](t), nil
	case []int16:
		return reluT[int16](t), nil
	case []int32:
		return reluT[int32](t), nil
	case []int64:
		return reluT[int64](t), nil
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType)
}

func reluT[T float32 | float64 | int8 | int16 | int32 | int64](t *Tensor) *Tensor {
	x := t.Data.([]T)
	y := make([]T, len(x))
	for i, v := range x {
		if v > 0 {
			y[i] = v
		}
	}
	return New(t.Shape, y)
}

func neg(t *Tensor) (*Tensor, error) {
	switch t.Data.(type) {
	case []float32:
		return negT[float32](t), nil
	case []float64:
		return negT[float64](t), nil
	case []int8:
		return negT[int8](t), nil
	case []int16:
		return negT[int16](t), nil
	case []int32:
		return negT[int32](t), nil
	case []int64:
		return negT[int64](t), nil
	}
	return nil, fmt.Errorf("element type %s is not supported", t.DType)
}

func negT[T float32 | float64 | int8 | int16 | int32 | int64](t *Tensor) *Tensor {
	x := t.Data.([]T)
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = -v
	}
	return New(t.Shape, y)
}

func buildClip(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	lo, hi := a.Float("min", float32(math.Inf(-1))), a.Float("max", float32(math.Inf(1)))
	if err := a.Err(); err != nil {
		return nil, err
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		var mn, mx *Tensor
		if opset >= 11 {
			if len(in) > 1 {
				mn = in[1]
			}
			if len(in) > 2 {
				mx = in[2]
			}
		} else {
			mn, mx = scalarOf(x.DType, float64(lo)), scalarOf(x.DType, float64(hi))
		}
		for _, b := range []*Tensor{mn, mx} {
			if b != nil && (b.DType != x.DType || b.Len() != 1) {
				return nil, fmt.Errorf("min and max must be scalars of the input type %s, got %s", x.DType, b)
			}
		}
		switch x.Data.(type) {
		case []float32:
			return one(clipT[float32](x, mn, mx))
		case []float64:
			return one(clipT[float64](x, mn, mx))
		case []int8:
			return one(clipT[int8](x, mn, mx))
		case []int16:
			return one(clipT[int16](x, mn, mx))
		case []int32:
			return one(clipT[int32](x, mn, mx))
		case []int64:
			return one(clipT[int64](x, mn, mx))
		case []uint8:
			return one(clipT[uint8](x, mn, mx))
		case []uint16:
			return one(clipT[uint16](x, mn, mx))
		case []uint32:
			return one(clipT[uint32](x, mn, mx))
		case []uint64:
			return one(clipT[uint64](x, mn, mx))
		}
		return nil, fmt.Errorf("element type %s is not supported", x.DType)
	}), nil
}

func scalarOf(d DType, v float64) *Tensor {
	switch d {
	case Float:
		return New(nil, []float32{float32(v)})
	case Double:
		return New(nil, []float64{v})
	}
	return nil
}

func clipT[T Number](x, mn, mx *Tensor) (*Tensor, error) {
	src := x.Data.([]T)
	y := make([]T, len(src))
	copy(y, src)
	if mn != nil {
		lo := mn.Data.([]T)[0]
		for i, v := range y {
			if v < lo {
				y[i] = lo
			}
		}
	}
	if mx != nil {
		hi := mx.Data.([]T)[0]
		for i, v := range y {
			if v > hi {
				y[i] = hi
			}
		}
	}
	return New(x.Shape, y), nil
}
