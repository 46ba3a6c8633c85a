package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Element is the set of Go element types a TensorProto converts to and
// from. Float16 and BFloat16 keep the IEEE bit patterns.
type Element interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | bool | Float16 | BFloat16
}

// Float16 is an IEEE 754 half-precision number, stored as its bits.
type Float16 uint16

// BFloat16 is a bfloat16 number (the upper half of a float32), stored as its bits.
type BFloat16 uint16

// Float32 converts h to float32 exactly.
func (h Float16) Float32() float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// Float32 converts b to float32 exactly.
func (b BFloat16) Float32() float32 { return math.Float32frombits(uint32(b) << 16) }

// Float16Of rounds v to the nearest half-precision number (ties to even),
// overflowing to ±Inf; NaN stays NaN.
func Float16Of(v float64) Float16 {
	bits := math.Float64bits(v)
	sign := uint16(bits>>48) & 0x8000
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return Float16(sign | 0x7e00)
	case a >= 65520: // rounds past the largest half, 65504
		return Float16(sign | 0x7c00)
	case a < 0x1p-25: // rounds to zero, (ties to even at exactly 2^-25)
		return Float16(sign)
	}
	e := math.Ilogb(a)
	if e < -14 {
		// Subnormal: a multiple of 2^-24.
		q := math.RoundToEven(a * (1 << 24))
		return Float16(sign | uint16(q))
	}
	// Normal: 10 fraction bits; rounding may carry into the exponent.
	m := math.RoundToEven(math.Ldexp(a, 10-e)) // in [1024, 2048]
	exp := uint16(e + 15)
	if m == 2048 {
		m, exp = 1024, exp+1
	}
	if exp >= 31 {
		return Float16(sign | 0x7c00)
	}
	return Float16(sign | exp<<10 | (uint16(m) - 1024))
}

// BFloat16Of rounds v to the nearest bfloat16 (ties to even); NaN stays NaN.
func BFloat16Of(v float32) BFloat16 {
	b := math.Float32bits(v)
	if v != v {
		return BFloat16(b>>16 | 0x40)
	}
	b += 0x7fff + (b>>16)&1
	return BFloat16(b >> 16)
}

// UnsupportedTypeError reports a tensor element type that has no Go slice
// form here (STRING, COMPLEX, FLOAT8, INT4, …).
type UnsupportedTypeError struct {
	Tensor   string
	DataType TensorProto_DataType
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("onnx: tensor %q: element type %s is not supported", e.Tensor, e.DataType)
}

// Shape returns the dims of t as ints. Errors: a negative dim.
func Shape(t *TensorProto) ([]int, error) {
	shape := make([]int, len(t.GetDims()))
	for i, d := range t.GetDims() {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("onnx: tensor %q: invalid dim %d", t.GetName(), d)
		}
		shape[i] = int(d)
	}
	return shape, nil
}

// NumElements is the product of t's dims (1 for a scalar).
func NumElements(t *TensorProto) (int, error) {
	shape, err := Shape(t)
	if err != nil {
		return 0, err
	}
	n := 1
	for _, d := range shape {
		if d != 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("onnx: tensor %q: too many elements", t.GetName())
		}
		n *= d
	}
	return n, nil
}

// TensorData decodes the elements of t into a new Go slice of its element
// type: []float32 (FLOAT), []uint8, []int8, []uint16, []int16, []int32,
// []int64, []bool, []Float16, []float64 (DOUBLE), []uint32, []uint64,
// []BFloat16. The data comes from raw_data (little-endian) when set, else
// from the typed field.
//
// A tensor stored externally gives an *ExternalDataError matching
// ErrNoModelFolder: read such tensors with TensorDataFrom.
//
// Errors: *ExternalDataError, *UnsupportedTypeError, or an element count
// that disagrees with the dims.
func TensorData(t *TensorProto) (any, error) {
	if t.GetDataLocation() == TensorProto_EXTERNAL {
		return TensorDataFrom(t, nil)
	}
	if t.RawData != nil {
		return rawData(t, t.GetRawData(), "raw_data")
	}
	n, err := NumElements(t)
	if err != nil {
		return nil, err
	}
	dt := TensorProto_DataType(t.GetDataType())
	if elemSize(dt) == 0 {
		return nil, &UnsupportedTypeError{Tensor: t.GetName(), DataType: dt}
	}
	var have int
	switch dt {
	case TensorProto_FLOAT:
		have = len(t.GetFloatData())
	case TensorProto_DOUBLE:
		have = len(t.GetDoubleData())
	case TensorProto_INT64:
		have = len(t.GetInt64Data())
	case TensorProto_UINT32, TensorProto_UINT64:
		have = len(t.GetUint64Data())
	default:
		have = len(t.GetInt32Data())
	}
	if have != n {
		return nil, fmt.Errorf("onnx: tensor %q: holds %d elements, dims %v need %d", t.GetName(), have, t.GetDims(), n)
	}
	switch dt {
	case TensorProto_FLOAT:
		return clone(t.GetFloatData()), nil
	case TensorProto_DOUBLE:
		return clone(t.GetDoubleData()), nil
	case TensorProto_INT64:
		return clone(t.GetInt64Data()), nil
	case TensorProto_UINT32:
		return convert[uint64, uint32](t.GetUint64Data()), nil
	case TensorProto_UINT64:
		return clone(t.GetUint64Data()), nil
	case TensorProto_INT32:
		return clone(t.GetInt32Data()), nil
	case TensorProto_INT8:
		return convert[int32, int8](t.GetInt32Data()), nil
	case TensorProto_INT16:
		return convert[int32, int16](t.GetInt32Data()), nil
	case TensorProto_UINT8:
		return convert[int32, uint8](t.GetInt32Data()), nil
	case TensorProto_UINT16:
		return convert[int32, uint16](t.GetInt32Data()), nil
	case TensorProto_FLOAT16:
		return convert[int32, Float16](t.GetInt32Data()), nil
	case TensorProto_BFLOAT16:
		return convert[int32, BFloat16](t.GetInt32Data()), nil
	case TensorProto_BOOL:
		src := t.GetInt32Data()
		out := make([]bool, len(src))
		for i, v := range src {
			out[i] = v != 0
		}
		return out, nil
	}
	return nil, &UnsupportedTypeError{Tensor: t.GetName(), DataType: dt}
}

// rawData decodes raw, the little-endian bytes of t's elements (from
// where), checking their count against t's dims.
func rawData(t *TensorProto, raw []byte, where string) (any, error) {
	n, err := NumElements(t)
	if err != nil {
		return nil, err
	}
	dt := TensorProto_DataType(t.GetDataType())
	size := elemSize(dt)
	if size == 0 {
		return nil, &UnsupportedTypeError{Tensor: t.GetName(), DataType: dt}
	}
	if len(raw) != n*size {
		return nil, fmt.Errorf("onnx: tensor %q: %s holds %d bytes, dims %v need %d", t.GetName(), where, len(raw), t.GetDims(), n*size)
	}
	return decodeRaw(dt, raw, n), nil
}

func clone[T any](s []T) []T {
	out := make([]T, len(s))
	copy(out, s)
	return out
}

func convert[S, D int32 | uint64 | int8 | int16 | uint8 | uint16 | uint32 | Float16 | BFloat16](src []S) []D {
	out := make([]D, len(src))
	for i, v := range src {
		out[i] = D(v)
	}
	return out
}

func elemSize(dt TensorProto_DataType) int {
	switch dt {
	case TensorProto_UINT8, TensorProto_INT8, TensorProto_BOOL:
		return 1
	case TensorProto_UINT16, TensorProto_INT16, TensorProto_FLOAT16, TensorProto_BFLOAT16:
		return 2
	case TensorProto_FLOAT, TensorProto_INT32, TensorProto_UINT32:
		return 4
	case TensorProto_DOUBLE, TensorProto_INT64, TensorProto_UINT64:
		return 8
	}
	return 0
}

func decodeRaw(dt TensorProto_DataType, raw []byte, n int) any {
	le := binary.LittleEndian
	switch dt {
	case TensorProto_FLOAT:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out
	case TensorProto_DOUBLE:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out
	case TensorProto_INT64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out
	case TensorProto_UINT64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out
	case TensorProto_INT32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out
	case TensorProto_UINT32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[4*i:])
		}
		return out
	case TensorProto_INT16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[2*i:]))
		}
		return out
	case TensorProto_UINT16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[2*i:])
		}
		return out
	case TensorProto_FLOAT16:
		out := make([]Float16, n)
		for i := range out {
			out[i] = Float16(le.Uint16(raw[2*i:]))
		}
		return out
	case TensorProto_BFLOAT16:
		out := make([]BFloat16, n)
		for i := range out {
			out[i] = BFloat16(le.Uint16(raw[2*i:]))
		}
		return out
	case TensorProto_INT8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out
	case TensorProto_UINT8:
		return clone(raw[:n])
	case TensorProto_BOOL:
		out := make([]bool, n)
		for i := range out {
			out[i] = raw[i] != 0
		}
		return out
	}
	panic("onnx: decodeRaw: unhandled type " + dt.String())
}

// DataTypeOf returns the TensorProto data type of Go element type T.
func DataTypeOf[T Element]() TensorProto_DataType {
	var z T
	switch any(z).(type) {
	case float32:
		return TensorProto_FLOAT
	case float64:
		return TensorProto_DOUBLE
	case int8:
		return TensorProto_INT8
	case int16:
		return TensorProto_INT16
	case int32:
		return TensorProto_INT32
	case int64:
		return TensorProto_INT64
	case uint8:
		return TensorProto_UINT8
	case uint16:
		return TensorProto_UINT16
	case uint32:
		return TensorProto_UINT32
	case uint64:
		return TensorProto_UINT64
	case bool:
		return TensorProto_BOOL
	case Float16:
		return TensorProto_FLOAT16
	case BFloat16:
		return TensorProto_BFLOAT16
	}
	panic("unreachable")
}

// MakeTensor builds a TensorProto named name with the given dims whose
// data, stored little-endian in raw_data, is a copy of data. Errors: the
// product of dims differs from len(data), or a negative dim.
func MakeTensor[T Element](name string, dims []int64, data []T) (*TensorProto, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("onnx: tensor %q: negative dim %d", name, d)
		}
		n *= int(d)
	}
	if n != len(data) {
		return nil, fmt.Errorf("onnx: tensor %q: dims %v need %d elements, got %d", name, dims, n, len(data))
	}
	return &TensorProto{
		Name:     &name,
		Dims:     append([]int64{}, dims...),
		DataType: proto32(int32(DataTypeOf[T]())),
		RawData:  EncodeRaw(data),
	}, nil
}

// EncodeRaw returns data as little-endian bytes, the raw_data layout.
func EncodeRaw[T Element](data []T) []byte {
	le := binary.LittleEndian
	switch d := any(data).(type) {
	case []float32:
		b := make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case []float64:
		b := make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	case []int8:
		b := make([]byte, len(d))
		for i, v := range d {
			b[i] = byte(v)
		}
		return b
	case []uint8:
		return append([]byte{}, d...)
	case []bool:
		b := make([]byte, len(d))
		for i, v := range d {
			if v {
				b[i] = 1
			}
		}
		return b
	case []int16:
		b := make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(b[2*i:], uint16(v))
		}
		return b
	case []uint16:
		b := make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(b[2*i:], v)
		}
		return b
	case []Float16:
		b := make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(b[2*i:], uint16(v))
		}
		return b
	case []BFloat16:
		b := make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(b[2*i:], uint16(v))
		}
		return b
	case []int32:
		b := make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(b[4*i:], uint32(v))
		}
		return b
	case []uint32:
		b := make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(b[4*i:], v)
		}
		return b
	case []int64:
		b := make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(b[8*i:], uint64(v))
		}
		return b
	case []uint64:
		b := make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(b[8*i:], v)
		}
		return b
	}
	panic("unreachable")
}

func proto32(v int32) *int32 { return &v }
