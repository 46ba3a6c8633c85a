package infer

import (
	"fmt"
	"math"

	"github.com/birnn/birnn/onnx"
)

// Elementwise functions of one tensor: the math functions (floating
// point only, computed in float64 and rounded once), the activations with
// attributes, and the integer-friendly Abs, Sign, IsNaN, IsInf.

func init() {
	floatFns := map[string]func(float64) float64{
		"Sqrt":       math.Sqrt,
		"Reciprocal": func(x float64) float64 { return 1 / x },
		"Erf":        math.Erf,
		"Floor":      math.Floor,
		"Ceil":       math.Ceil,
		"Round":      math.RoundToEven,
		"Sin":        math.Sin,
		"Cos":        math.Cos,
		"Tan":        math.Tan,
		"Asin":       math.Asin,
		"Acos":       math.Acos,
		"Atan":       math.Atan,
		"Sinh":       math.Sinh,
		"Cosh":       math.Cosh,
		"Asinh":      math.Asinh,
		"Acosh":      math.Acosh,
		"Atanh":      math.Atanh,
		"Softplus":   softplus,
		"Softsign":   func(x float64) float64 { return x / (1 + math.Abs(x)) },
		"HardSwish":  func(x float64) float64 { return x * max(0, min(1, x/6+0.5)) },
		"Mish":       func(x float64) float64 { return x * math.Tanh(softplus(x)) },
	}
	for name, f := range floatFns {
		registerOp("", name, 1, 0, unaryFloat(func(*attrSet) (func(float64) float64, error) { return f, nil }))
	}
	registerOp("", "Elu", 1, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		return func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x)
			}
			return x
		}, nil
	}))
	registerOp("", "Celu", 12, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		if alpha == 0 {
			return nil, fmt.Errorf("alpha must not be 0")
		}
		return func(x float64) float64 { return max(0, x) + min(0, alpha*math.Expm1(x/alpha)) }, nil
	}))
	registerOp("", "Selu", 1, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1.67326319217681884765625))
		gamma := float64(a.Float("gamma", 1.05070102214813232421875))
		return func(x float64) float64 {
			if x <= 0 {
				return gamma * alpha * math.Expm1(x)
			}
			return gamma * x
		}, nil
	}))
	registerOp("", "LeakyRelu", 1, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 0.01))
		return func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}, nil
	}))
	registerOp("", "ThresholdedRelu", 10, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		alpha := float64(a.Float("alpha", 1))
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}, nil
	}))
	registerOp("", "Shrink", 9, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		bias, lambd := float64(a.Float("bias", 0)), float64(a.Float("lambd", 0.5))
		return func(x float64) float64 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		}, nil
	}))
	registerOp("", "Gelu", 20, 0, unaryFloat(func(a *attrSet) (func(float64) float64, error) {
		switch approx := a.String("approximate", "none"); approx {
		case "none":
			return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, nil
		case "tanh":
			c := math.Sqrt(2 / math.Pi)
			return func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x))) }, nil
		default:
			return nil, fmt.Errorf("approximate %q is not none or tanh", approx)
		}
	}))
	registerOp("", "Abs", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return unaryNumeric(func(x float64) float64 { return math.Abs(x) }, absInt), nil
	})
	registerOp("", "Sign", 9, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		sign := func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x // 0, -0 and NaN stay
		}
		return unaryNumeric(sign, func(v int64) int64 { return int64(max(-1, min(1, v))) }), nil
	})
	registerOp("", "IsNaN", 9, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return floatPredicate(math.IsNaN), nil
	})
	registerOp("", "IsInf", 10, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		a := attrs(n)
		neg, pos := a.Int("detect_negative", 1) != 0, a.Int("detect_positive", 1) != 0
		if err := a.Err(); err != nil {
			return nil, err
		}
		return floatPredicate(func(x float64) bool { return neg && math.IsInf(x, -1) || pos && math.IsInf(x, 1) }), nil
	})
}

func softplus(x float64) float64 {
	// log(1 + e^x) without overflow for large x.
	return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// unaryFloat builds a kernel applying the function mk returns (from the
// node's attributes) to a floating-point tensor; FLOAT16 and BFLOAT16 go
// through float32.
func unaryFloat(mk func(*attrSet) (func(float64) float64, error)) opBuilder {
	return func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		a := attrs(n)
		f, err := mk(a)
		if err == nil {
			err = a.Err()
		}
		if err != nil {
			return nil, err
		}
		return needing(1, func(in []*Tensor) ([]*Tensor, error) {
			return one(mapFloatAny(in[0], f))
		}), nil
	}
}

// mapFloatAny is mapFloat that also takes FLOAT16 and BFLOAT16.
func mapFloatAny(t *Tensor, f func(float64) float64) (*Tensor, error) {
	if t.DType == Float16 || t.DType == BFloat16 {
		return viaFloat32(t.DType, func() (*Tensor, error) {
			x, err := Cast(t, Float)
			if err != nil {
				return nil, err
			}
			return mapFloat(x, f)
		})
	}
	return mapFloat(t, f)
}

// viaFloat32 runs f, which computes in float32, and casts its result to d.
func viaFloat32(d DType, f func() (*Tensor, error)) (*Tensor, error) {
	y, err := f()
	if err != nil {
		return nil, err
	}
	return Cast(y, d)
}

// unaryNumeric applies ff to floating-point and fi to integer tensors.
func unaryNumeric(ff func(float64) float64, fi func(int64) int64) opKernel {
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		switch d := x.Data.(type) {
		case []float32, []float64, []onnx.Float16, []onnx.BFloat16:
			return one(mapFloatAny(x, ff))
		case []int8:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []int16:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []int32:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []int64:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []uint8:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []uint16:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []uint32:
			return one(New(x.Shape, mapInt(d, fi)), nil)
		case []uint64:
			return one(New(x.Shape, mapUint64(d, fi)), nil)
		}
		return nil, fmt.Errorf("element type %s is not supported", x.DType)
	})
}

func mapInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](x []T, f func(int64) int64) []T {
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = T(f(int64(v)))
	}
	return y
}

// mapUint64 is mapInt for uint64, whose values above MaxInt64 do not fit
// f's int64: f is Abs or Sign, and for those Abs is the identity and Sign
// is 1.
func mapUint64(x []uint64, f func(int64) int64) []uint64 {
	sign := f(2) == 1
	y := make([]uint64, len(x))
	for i, v := range x {
		switch {
		case v <= math.MaxInt64:
			y[i] = uint64(f(int64(v)))
		case sign:
			y[i] = 1
		default:
			y[i] = v
		}
	}
	return y
}

// floatPredicate maps a floating-point tensor to BOOL.
func floatPredicate(p func(float64) bool) opKernel {
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.DType == Float16 || x.DType == BFloat16 {
			var err error
			if x, err = Cast(x, Float); err != nil {
				return nil, err
			}
		}
		out := make([]bool, x.Len())
		switch d := x.Data.(type) {
		case []float32:
			for i, v := range d {
				out[i] = p(float64(v))
			}
		case []float64:
			for i, v := range d {
				out[i] = p(v)
			}
		default:
			return nil, fmt.Errorf("input is %s, want a floating-point type", x.DType)
		}
		return []*Tensor{New(x.Shape, out)}, nil
	})
}
