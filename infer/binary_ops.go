package infer

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/birnn/birnn/onnx"
)

// Broadcasting elementwise functions of two (or, for Max, Min, Sum and
// Mean, any number of) tensors beyond the four arithmetic operators:
// logic, bitwise, Mod, Pow, PRelu.

type binOp int

const (
	opMax binOp = iota
	opMin
	opSum
	opMod  // integer mod with the divisor's sign (fmod=0)
	opFmod // remainder with the dividend's sign (fmod=1)
	opBitAnd
	opBitOr
	opBitXor
	opShl
	opShr
	opPRelu
)

func init() {
	for name, f := range map[string]func(a, b bool) bool{
		"And": func(a, b bool) bool { return a && b },
		"Or":  func(a, b bool) bool { return a || b },
		"Xor": func(a, b bool) bool { return a != b },
	} {
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			if opset < 7 && attrs(n).Has("axis") {
				return nil, errors.New("legacy broadcast with axis (opset < 7) is not supported")
			}
			return needing(2, func(in []*Tensor) ([]*Tensor, error) {
				if in[0].DType != Bool || in[1].DType != Bool {
					return nil, fmt.Errorf("inputs are %s and %s, want BOOL", in[0].DType, in[1].DType)
				}
				return one(zipWith(in[0], in[1], f))
			}), nil
		})
	}
	for name, op := range map[string]binOp{"BitwiseAnd": opBitAnd, "BitwiseOr": opBitOr, "BitwiseXor": opBitXor} {
		registerOp("", name, 18, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			return binaryKernel(2, 2, func(in []*Tensor) (*Tensor, error) { return integerBinary(op, in[0], in[1]) }), nil
		})
	}
	registerOp("", "BitwiseNot", 18, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			all, err := fillLike(in[0].DType, nil, -1)
			if err != nil {
				return nil, err
			}
			if in[0].DType.unsigned() {
				all = maxUnsigned(in[0].DType)
			}
			return one(integerBinary(opBitXor, in[0], all))
		}), nil
	})
	registerOp("", "BitShift", 11, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		a := attrs(n)
		dir := a.String("direction", "")
		if err := a.Err(); err != nil {
			return nil, err
		}
		op := opShl
		switch dir {
		case "LEFT":
		case "RIGHT":
			op = opShr
		default:
			return nil, fmt.Errorf("direction %q must be LEFT or RIGHT", dir)
		}
		return binaryKernel(2, 2, func(in []*Tensor) (*Tensor, error) {
			if !in[0].DType.unsigned() {
				return nil, fmt.Errorf("input is %s, want an unsigned integer type", in[0].DType)
			}
			return integerBinary(op, in[0], in[1])
		}), nil
	})
	registerOp("", "Mod", 10, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		a := attrs(n)
		fmodAttr := a.Int("fmod", 0)
		if err := a.Err(); err != nil {
			return nil, err
		}
		op := opMod
		if fmodAttr != 0 {
			op = opFmod
		}
		return binaryKernel(2, 2, func(in []*Tensor) (*Tensor, error) {
			if op == opMod && in[0].DType.float() {
				return nil, errors.New("a floating-point Mod needs fmod=1")
			}
			return numericBinary(op, in[0], in[1])
		}), nil
	})
	registerOp("", "PRelu", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return binaryKernel(2, 2, func(in []*Tensor) (*Tensor, error) {
			y, err := numericBinary(opPRelu, in[0], in[1])
			if err == nil && !slices.Equal(y.Shape, in[0].Shape) {
				return nil, fmt.Errorf("slope %v does not broadcast to the input %v", in[1].Shape, in[0].Shape)
			}
			return y, err
		}), nil
	})
	registerOp("", "Pow", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return binaryKernel(2, 2, func(in []*Tensor) (*Tensor, error) { return pow(in[0], in[1]) }), nil
	})
	for name, op := range map[string]binOp{"Max": opMax, "Min": opMin, "Sum": opSum, "Mean": opSum} {
		mean := name == "Mean"
		registerOp("", name, 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
			return binaryKernel(1, math.MaxInt, func(in []*Tensor) (*Tensor, error) {
				acc := in[0]
				for _, t := range in[1:] {
					var err error
					if acc, err = numericBinary(op, acc, t); err != nil {
						return nil, err
					}
				}
				if len(in) == 1 {
					// Broadcast of one: a copy, the caller's to keep.
					acc = acc.Clone()
				}
				if mean {
					return divideBy(acc, len(in))
				}
				return acc, nil
			}), nil
		})
	}
}

// binaryKernel checks that between lo and hi inputs are given, all present.
func binaryKernel(lo, hi int, f func(in []*Tensor) (*Tensor, error)) opKernel {
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if len(in) < lo || len(in) > hi {
			return nil, fmt.Errorf("needs %d to %d inputs, got %d", lo, hi, len(in))
		}
		if err := need(in, len(in)); err != nil {
			return nil, err
		}
		return one(f(in))
	})
}

func (d DType) float() bool {
	return d == Float || d == Double || d == Float16 || d == BFloat16
}

func (d DType) unsigned() bool {
	return d == Uint8 || d == Uint16 || d == Uint32 || d == Uint64
}

func maxUnsigned(d DType) *Tensor {
	switch d {
	case Uint8:
		return New(nil, []uint8{math.MaxUint8})
	case Uint16:
		return New(nil, []uint16{math.MaxUint16})
	case Uint32:
		return New(nil, []uint32{math.MaxUint32})
	}
	return New(nil, []uint64{math.MaxUint64})
}

// divideBy is t/n elementwise (integers divide in float64 and truncate).
func divideBy(t *Tensor, n int) (*Tensor, error) {
	switch t.DType {
	case Float, Double:
		d, err := fillLike(t.DType, nil, float64(n))
		if err != nil {
			return nil, err
		}
		return arith(opDiv, t, d)
	}
	x, err := Cast(t, Double)
	if err != nil {
		return nil, err
	}
	m, err := arith(opDiv, x, New(nil, []float64{float64(n)}))
	if err != nil {
		return nil, err
	}
	return Cast(m, t.DType)
}

// zipWith is f over the broadcast of a and b (element types T and U).
func zipWith[T, U, R Elem](a, b *Tensor, f func(T, U) R) (*Tensor, error) {
	shape, err := broadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	x, ok1 := a.Data.([]T)
	y, ok2 := b.Data.([]U)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("operand types %s and %s are not supported here", a.DType, b.DType)
	}
	out := make([]R, numel(shape))
	p := newPlan(shape, a.Shape, b.Shape)
	sa, sb := p.inner(0), p.inner(1)
	p.rows(func(o int, offs []int, n int) {
		xa, yb, r := x[offs[0]:], y[offs[1]:], out[o:o+n]
		for i := range r {
			r[i] = f(xa[i*sa], yb[i*sb])
		}
	})
	return New(shape, out), nil
}

// numericBinary applies op to a and b of one numeric dtype, broadcast;
// FLOAT16 and BFLOAT16 compute in float32.
func numericBinary(op binOp, a, b *Tensor) (*Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []float32:
		return numericBinaryT[float32](op, a, b)
	case []float64:
		return numericBinaryT[float64](op, a, b)
	case []int8:
		return numericBinaryT[int8](op, a, b)
	case []int16:
		return numericBinaryT[int16](op, a, b)
	case []int32:
		return numericBinaryT[int32](op, a, b)
	case []int64:
		return numericBinaryT[int64](op, a, b)
	case []uint8:
		return numericBinaryT[uint8](op, a, b)
	case []uint16:
		return numericBinaryT[uint16](op, a, b)
	case []uint32:
		return numericBinaryT[uint32](op, a, b)
	case []uint64:
		return numericBinaryT[uint64](op, a, b)
	case []onnx.Float16, []onnx.BFloat16:
		return halfBinary(a, b, func(x, y *Tensor) (*Tensor, error) { return numericBinaryT[float32](op, x, y) })
	}
	return nil, fmt.Errorf("element type %s is not supported", a.DType)
}

// halfBinary computes f on a and b converted to float32 and rounds the
// result back to their half-precision type.
func halfBinary(a, b *Tensor, f func(x, y *Tensor) (*Tensor, error)) (*Tensor, error) {
	x, err := Cast(a, Float)
	if err != nil {
		return nil, err
	}
	y, err := Cast(b, Float)
	if err != nil {
		return nil, err
	}
	return viaFloat32(a.DType, func() (*Tensor, error) { return f(x, y) })
}

func numericBinaryT[T Number](op binOp, a, b *Tensor) (*Tensor, error) {
	switch op {
	case opMax:
		return zipWith(a, b, func(x, y T) T {
			if x != x || y != y { // NaN wins, as in ONNX Runtime
				return x + y
			}
			return max(x, y)
		})
	case opMin:
		return zipWith(a, b, func(x, y T) T {
			if x != x || y != y {
				return x + y
			}
			return min(x, y)
		})
	case opSum:
		return zipWith(a, b, func(x, y T) T { return x + y })
	case opPRelu:
		return zipWith(a, b, func(x, s T) T {
			if x < 0 {
				return s * x
			}
			return x
		})
	case opMod, opFmod:
		if isFloat[T]() {
			return zipWith(a, b, func(x, y T) T { return T(math.Mod(float64(x), float64(y))) })
		}
		if !allNonzero(b.Data.([]T)) {
			return nil, errors.New("integer division by zero")
		}
		if op == opFmod {
			return zipWith(a, b, func(x, y T) T { return intRem(x, y) })
		}
		return zipWith(a, b, func(x, y T) T {
			r := intRem(x, y)
			if r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			return r
		})
	}
	return integerBinaryT[T](op, a, b)
}

func allNonzero[T Number](v []T) bool {
	for _, x := range v {
		if x == 0 {
			return false
		}
	}
	return true
}

// intRem is x % y for integer T (T is never a float here).
func intRem[T Number](x, y T) T {
	switch any(x).(type) {
	case int8:
		return T(any(x).(int8) % any(y).(int8))
	case int16:
		return T(any(x).(int16) % any(y).(int16))
	case int32:
		return T(any(x).(int32) % any(y).(int32))
	case int64:
		return T(any(x).(int64) % any(y).(int64))
	case uint8:
		return T(any(x).(uint8) % any(y).(uint8))
	case uint16:
		return T(any(x).(uint16) % any(y).(uint16))
	case uint32:
		return T(any(x).(uint32) % any(y).(uint32))
	case uint64:
		return T(any(x).(uint64) % any(y).(uint64))
	}
	panic("intRem on a float")
}

// integerBinary applies a bitwise op to integer tensors of one dtype.
func integerBinary(op binOp, a, b *Tensor) (*Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []int8:
		return integerBinaryT[int8](op, a, b)
	case []int16:
		return integerBinaryT[int16](op, a, b)
	case []int32:
		return integerBinaryT[int32](op, a, b)
	case []int64:
		return integerBinaryT[int64](op, a, b)
	case []uint8:
		return integerBinaryT[uint8](op, a, b)
	case []uint16:
		return integerBinaryT[uint16](op, a, b)
	case []uint32:
		return integerBinaryT[uint32](op, a, b)
	case []uint64:
		return integerBinaryT[uint64](op, a, b)
	}
	return nil, fmt.Errorf("inputs are %s, want an integer type", a.DType)
}

func integerBinaryT[T Number](op binOp, a, b *Tensor) (*Tensor, error) {
	if isFloat[T]() {
		return nil, fmt.Errorf("inputs are %s, want an integer type", a.DType)
	}
	// Conversions keep the bits (sign-extended), and T() truncates back.
	bits := func(v T) uint64 { return uint64(int64(v)) }
	width := uint64(8 * elemBytes(a.DType))
	switch op {
	case opBitAnd:
		return zipWith(a, b, func(x, y T) T { return T(bits(x) & bits(y)) })
	case opBitOr:
		return zipWith(a, b, func(x, y T) T { return T(bits(x) | bits(y)) })
	case opBitXor:
		return zipWith(a, b, func(x, y T) T { return T(bits(x) ^ bits(y)) })
	case opShl:
		return zipWith(a, b, func(x, y T) T {
			if bits(y) >= width {
				return 0
			}
			return T(bits(x) << bits(y))
		})
	case opShr:
		return zipWith(a, b, func(x, y T) T {
			if bits(y) >= width {
				return 0
			}
			return T(bits(x) >> bits(y))
		})
	}
	return nil, fmt.Errorf("internal error: binary op %d", op)
}

func elemBytes(d DType) int {
	switch d {
	case Int8, Uint8, Bool:
		return 1
	case Int16, Uint16, Float16, BFloat16:
		return 2
	case Int32, Uint32, Float:
		return 4
	}
	return 8
}

// pow is x^y for base types FLOAT, DOUBLE, FLOAT16, INT32, INT64 (and the
// other integers) and any numeric exponent type, computed in float64 and
// converted to the base's type.
func pow(x, y *Tensor) (*Tensor, error) {
	e, err := Cast(y, Double)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	if y.DType == Bool {
		return nil, errors.New("exponent must be numeric")
	}
	p := func(a, b float64) float64 { return math.Pow(a, b) }
	switch x.Data.(type) {
	case []float32:
		return zipWith(x, e, func(a float32, b float64) float32 { return float32(p(float64(a), b)) })
	case []float64:
		return zipWith(x, e, p)
	case []int8:
		return zipWith(x, e, func(a int8, b float64) int8 { return int8(p(float64(a), b)) })
	case []int16:
		return zipWith(x, e, func(a int16, b float64) int16 { return int16(p(float64(a), b)) })
	case []int32:
		return zipWith(x, e, func(a int32, b float64) int32 { return int32(p(float64(a), b)) })
	case []int64:
		if y.DType.float() {
			return zipWith(x, e, func(a int64, b float64) int64 { return int64(p(float64(a), b)) })
		}
		yi, _ := y.Ints()
		ei := New(y.Shape, yi)
		return zipWith(x, ei, func(a, b int64) int64 { return ipow(a, b) })
	case []uint8:
		return zipWith(x, e, func(a uint8, b float64) uint8 { return uint8(p(float64(a), b)) })
	case []uint16:
		return zipWith(x, e, func(a uint16, b float64) uint16 { return uint16(p(float64(a), b)) })
	case []uint32:
		return zipWith(x, e, func(a uint32, b float64) uint32 { return uint32(p(float64(a), b)) })
	case []uint64:
		return zipWith(x, e, func(a uint64, b float64) uint64 { return uint64(p(float64(a), b)) })
	case []onnx.Float16, []onnx.BFloat16:
		return viaFloat32(x.DType, func() (*Tensor, error) {
			xf, err := Cast(x, Float)
			if err != nil {
				return nil, err
			}
			return zipWith(xf, e, func(a float32, b float64) float32 { return float32(p(float64(a), b)) })
		})
	}
	return nil, fmt.Errorf("base type %s is not supported", x.DType)
}

// ipow is exact integer exponentiation (negative exponents give 0 unless
// the base is ±1, as integer division would).
func ipow(a, b int64) int64 {
	if b < 0 {
		switch a {
		case 1:
			return 1
		case -1:
			if b%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for b > 0 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}
