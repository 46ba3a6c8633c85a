package infer

import (
	"fmt"
	"reflect"

	"github.com/birnn/birnn/onnx"
)

// Type-agnostic data movement: the ops that only rearrange elements
// (Transpose, Slice, Tile, Expand, Pad, …) compute source indices once and
// call take, which switches on the element type once per call.

// newData allocates n zero elements of dtype d.
func newData(d DType, n int) (any, error) {
	t, err := Zeros(d, []int{n})
	if err != nil {
		return nil, err
	}
	return t.Data, nil
}

// take returns out[i] = src[idx[i]], or the zero value where idx[i] < 0.
func take(src any, idx []int) any {
	switch s := src.(type) {
	case []float32:
		return takeT(s, idx)
	case []float64:
		return takeT(s, idx)
	case []int8:
		return takeT(s, idx)
	case []int16:
		return takeT(s, idx)
	case []int32:
		return takeT(s, idx)
	case []int64:
		return takeT(s, idx)
	case []uint8:
		return takeT(s, idx)
	case []uint16:
		return takeT(s, idx)
	case []uint32:
		return takeT(s, idx)
	case []uint64:
		return takeT(s, idx)
	case []bool:
		return takeT(s, idx)
	case []onnx.Float16:
		return takeT(s, idx)
	case []onnx.BFloat16:
		return takeT(s, idx)
	}
	panic(fmt.Sprintf("infer: take: unsupported data %T", src))
}

func takeT[T Elem](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		if j >= 0 {
			out[i] = s[j]
		}
	}
	return out
}

// copyRange copies n elements src[so:] to dst[do:]; both hold the same type.
func copyRange(dst any, do int, src any, so, n int) {
	switch d := dst.(type) {
	case []float32:
		copy(d[do:do+n], src.([]float32)[so:so+n])
	case []float64:
		copy(d[do:do+n], src.([]float64)[so:so+n])
	case []int8:
		copy(d[do:do+n], src.([]int8)[so:so+n])
	case []int16:
		copy(d[do:do+n], src.([]int16)[so:so+n])
	case []int32:
		copy(d[do:do+n], src.([]int32)[so:so+n])
	case []int64:
		copy(d[do:do+n], src.([]int64)[so:so+n])
	case []uint8:
		copy(d[do:do+n], src.([]uint8)[so:so+n])
	case []uint16:
		copy(d[do:do+n], src.([]uint16)[so:so+n])
	case []uint32:
		copy(d[do:do+n], src.([]uint32)[so:so+n])
	case []uint64:
		copy(d[do:do+n], src.([]uint64)[so:so+n])
	case []bool:
		copy(d[do:do+n], src.([]bool)[so:so+n])
	case []onnx.Float16:
		copy(d[do:do+n], src.([]onnx.Float16)[so:so+n])
	case []onnx.BFloat16:
		copy(d[do:do+n], src.([]onnx.BFloat16)[so:so+n])
	default:
		panic(fmt.Sprintf("infer: copyRange: unsupported data %T", dst))
	}
}

// dataPtr identifies a tensor's backing array (0 for an empty one).
func dataPtr(t *Tensor) uintptr {
	v := reflect.ValueOf(t.Data)
	if v.Kind() != reflect.Slice || v.Len() == 0 {
		return 0
	}
	return v.Pointer()
}

// strides returns the row-major element strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// forEachIndex calls f with each multi-index of shape in row-major order
// and its position; idx is reused between calls.
func forEachIndex(shape []int, f func(pos int, idx []int)) {
	n := numel(shape)
	if n == 0 {
		return
	}
	idx := make([]int, len(shape))
	for pos := 0; pos < n; pos++ {
		f(pos, idx)
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// normAxis maps axis in [-rank, rank) to [0, rank). Errors: out of range.
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// reshaped returns a tensor sharing t's data with a new shape.
func reshaped(t *Tensor, shape []int) *Tensor {
	return &Tensor{DType: t.DType, Shape: shape, Data: t.Data}
}

// MaxElements bounds the size of a tensor an operator will allocate from
// sizes found in the data (ConstantOfShape, Expand, Tile, Pad, Range), so
// a hostile or broken model fails with an error instead of exhausting
// memory.
const MaxElements = 1 << 30

// checkSize returns the element count of shape. Errors: more than
// MaxElements elements.
func checkSize(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dim in shape %v", shape)
		}
		if d != 0 && n > MaxElements/d {
			for _, e := range shape {
				if e == 0 {
					return 0, nil
				}
			}
			return 0, fmt.Errorf("shape %v exceeds %d elements", shape, MaxElements)
		}
		n *= d
	}
	return n, nil
}
