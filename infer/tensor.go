package infer

import (
	"fmt"

	"github.com/birnn/birnn/onnx"
)

// DType is a tensor element type, numbered as onnx TensorProto.DataType.
type DType int32

// Element types the engine computes with.
const (
	Float    DType = 1  // float32
	Uint8    DType = 2  // uint8
	Int8     DType = 3  // int8
	Uint16   DType = 4  // uint16
	Int16    DType = 5  // int16
	Int32    DType = 6  // int32
	Int64    DType = 7  // int64
	String   DType = 8  // not supported by any operator here
	Bool     DType = 9  // bool
	Float16  DType = 10 // onnx.Float16 (IEEE half-precision bits)
	Double   DType = 11 // float64
	Uint32   DType = 12 // uint32
	Uint64   DType = 13 // uint64
	BFloat16 DType = 16 // onnx.BFloat16 (the upper half of a float32)
)

// String returns the ONNX name of d (FLOAT, INT64, …).
func (d DType) String() string {
	return onnx.TensorProto_DataType(d).String()
}

// Supported reports whether tensors of d can be built and computed with.
func (d DType) Supported() bool {
	switch d {
	case Float, Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Double, Uint32, Uint64, Float16, BFloat16:
		return true
	}
	return false
}

// Elem is the set of Go element types of a Tensor's Data. Float16 and
// BFloat16 tensors are moved, cast and compared; arithmetic on them goes
// through float32.
type Elem interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | bool | onnx.Float16 | onnx.BFloat16
}

// Number is Elem without bool: the types arithmetic operators accept.
type Number interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// Tensor is a dense row-major tensor. Data holds a slice matching DType:
// []float32, []float64, []int8, []int16, []int32, []int64, []uint8,
// []uint16, []uint32, []uint64, []bool, []onnx.Float16 or
// []onnx.BFloat16, with exactly Len() elements.
// A tensor with an empty Shape is a scalar (one element).
type Tensor struct {
	DType DType
	Shape []int
	Data  any
}

// DTypeOf is the DType of Go element type T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float
	case float64:
		return Double
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case onnx.Float16:
		return Float16
	case onnx.BFloat16:
		return BFloat16
	}
	panic("unreachable")
}

// New returns a tensor of shape holding data (not copied); nil data means
// zeros. It panics if len(data) disagrees with shape: callers pass sizes
// they computed, so a mismatch is a bug, not bad input.
func New[T Elem](shape []int, data []T) *Tensor {
	n := numel(shape)
	if data == nil {
		data = make([]T, n)
	} else if len(data) != n {
		panic(fmt.Sprintf("infer: New: shape %v needs %d elements, got %d", shape, n, len(data)))
	}
	return &Tensor{DType: DTypeOf[T](), Shape: append([]int{}, shape...), Data: data}
}

// NewFloat32 is New for float32 data.
func NewFloat32(shape []int, data []float32) *Tensor { return New(shape, data) }

// NewFloat64 is New for float64 data.
func NewFloat64(shape []int, data []float64) *Tensor { return New(shape, data) }

// NewInt32 is New for int32 data.
func NewInt32(shape []int, data []int32) *Tensor { return New(shape, data) }

// NewInt64 is New for int64 data.
func NewInt64(shape []int, data []int64) *Tensor { return New(shape, data) }

// NewBool is New for bool data.
func NewBool(shape []int, data []bool) *Tensor { return New(shape, data) }

// Zeros returns a zero tensor of dtype d and shape. Errors: d unsupported.
func Zeros(d DType, shape []int) (*Tensor, error) {
	n := numel(shape)
	var data any
	switch d {
	case Float:
		data = make([]float32, n)
	case Double:
		data = make([]float64, n)
	case Int8:
		data = make([]int8, n)
	case Int16:
		data = make([]int16, n)
	case Int32:
		data = make([]int32, n)
	case Int64:
		data = make([]int64, n)
	case Uint8:
		data = make([]uint8, n)
	case Uint16:
		data = make([]uint16, n)
	case Uint32:
		data = make([]uint32, n)
	case Uint64:
		data = make([]uint64, n)
	case Bool:
		data = make([]bool, n)
	case Float16:
		data = make([]onnx.Float16, n)
	case BFloat16:
		data = make([]onnx.BFloat16, n)
	default:
		return nil, fmt.Errorf("infer: element type %s is not supported", d)
	}
	return &Tensor{DType: d, Shape: append([]int{}, shape...), Data: data}, nil
}

// Data returns t's elements as []T; it panics if T is not t's element
// type (dtypes are checked at load and run time, so that is a bug).
func Data[T Elem](t *Tensor) []T { return t.Data.([]T) }

// Float32s returns the data of a FLOAT tensor.
func (t *Tensor) Float32s() []float32 { return t.Data.([]float32) }

// Float64s returns the data of a DOUBLE tensor.
func (t *Tensor) Float64s() []float64 { return t.Data.([]float64) }

// Int32s returns the data of an INT32 tensor.
func (t *Tensor) Int32s() []int32 { return t.Data.([]int32) }

// Int64s returns the data of an INT64 tensor.
func (t *Tensor) Int64s() []int64 { return t.Data.([]int64) }

// Bools returns the data of a BOOL tensor.
func (t *Tensor) Bools() []bool { return t.Data.([]bool) }

// Len is the number of elements (the product of Shape; 1 for a scalar).
func (t *Tensor) Len() int { return numel(t.Shape) }

// Rank is len(Shape).
func (t *Tensor) Rank() int { return len(t.Shape) }

// String describes the tensor's type and shape, e.g. "FLOAT[2 3]".
func (t *Tensor) String() string { return fmt.Sprintf("%s%v", t.DType, t.Shape) }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Ints returns the elements of an integer tensor (INT32, INT64, …) as
// int64s; shape tensors (axes, pads, starts) are read this way.
// Errors: t is not an integer tensor.
func (t *Tensor) Ints() ([]int64, error) {
	switch d := t.Data.(type) {
	case []int64:
		return append([]int64{}, d...), nil
	case []int32:
		return convertSlice[int32, int64](d), nil
	case []int16:
		return convertSlice[int16, int64](d), nil
	case []int8:
		return convertSlice[int8, int64](d), nil
	case []uint8:
		return convertSlice[uint8, int64](d), nil
	case []uint16:
		return convertSlice[uint16, int64](d), nil
	case []uint32:
		return convertSlice[uint32, int64](d), nil
	case []uint64:
		return convertSlice[uint64, int64](d), nil
	}
	return nil, fmt.Errorf("infer: expected an integer tensor, got %s", t)
}

func convertSlice[S, D Number](s []S) []D {
	out := make([]D, len(s))
	for i, v := range s {
		out[i] = D(v)
	}
	return out
}

// FromProto converts a TensorProto to a Tensor (a copy of its data).
// Errors: *onnx.ExternalDataError, *onnx.UnsupportedTypeError (STRING,
// FLOAT16, …), or data inconsistent with the dims.
func FromProto(tp *onnx.TensorProto) (*Tensor, error) {
	shape, err := onnx.Shape(tp)
	if err != nil {
		return nil, err
	}
	dt := DType(tp.GetDataType())
	if !dt.Supported() {
		return nil, &onnx.UnsupportedTypeError{Tensor: tp.GetName(), DataType: onnx.TensorProto_DataType(dt)}
	}
	data, err := onnx.TensorData(tp)
	if err != nil {
		return nil, err
	}
	return &Tensor{DType: dt, Shape: shape, Data: data}, nil
}

// ToProto converts t to a TensorProto named name, data in raw_data.
func ToProto(name string, t *Tensor) (*onnx.TensorProto, error) {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	switch d := t.Data.(type) {
	case []float32:
		return onnx.MakeTensor(name, dims, d)
	case []float64:
		return onnx.MakeTensor(name, dims, d)
	case []int8:
		return onnx.MakeTensor(name, dims, d)
	case []int16:
		return onnx.MakeTensor(name, dims, d)
	case []int32:
		return onnx.MakeTensor(name, dims, d)
	case []int64:
		return onnx.MakeTensor(name, dims, d)
	case []uint8:
		return onnx.MakeTensor(name, dims, d)
	case []uint16:
		return onnx.MakeTensor(name, dims, d)
	case []uint32:
		return onnx.MakeTensor(name, dims, d)
	case []uint64:
		return onnx.MakeTensor(name, dims, d)
	case []bool:
		return onnx.MakeTensor(name, dims, d)
	case []onnx.Float16:
		return onnx.MakeTensor(name, dims, d)
	case []onnx.BFloat16:
		return onnx.MakeTensor(name, dims, d)
	}
	return nil, fmt.Errorf("infer: tensor %q: unsupported data %T", name, t.Data)
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...)}
	switch d := t.Data.(type) {
	case []float32:
		c.Data = append([]float32{}, d...)
	case []float64:
		c.Data = append([]float64{}, d...)
	case []int8:
		c.Data = append([]int8{}, d...)
	case []int16:
		c.Data = append([]int16{}, d...)
	case []int32:
		c.Data = append([]int32{}, d...)
	case []int64:
		c.Data = append([]int64{}, d...)
	case []uint8:
		c.Data = append([]uint8{}, d...)
	case []uint16:
		c.Data = append([]uint16{}, d...)
	case []uint32:
		c.Data = append([]uint32{}, d...)
	case []uint64:
		c.Data = append([]uint64{}, d...)
	case []bool:
		c.Data = append([]bool{}, d...)
	case []onnx.Float16:
		c.Data = append([]onnx.Float16{}, d...)
	case []onnx.BFloat16:
		c.Data = append([]onnx.BFloat16{}, d...)
	default:
		c.Data = t.Data
	}
	return c
}
