package infer

import (
	"errors"
	"fmt"
	"math"

	"github.com/birnn/birnn/onnx"
)

// Compare checks got against want: same dtype, same shape, floating-point
// elements (FLOAT16 and BFLOAT16 as float32) within |got−want| ≤ atol +
// rtol·|want| (NaN equals NaN, an infinity equals itself), other elements
// exactly. The error names the first mismatch.
func Compare(got, want *Tensor, atol, rtol float64) error {
	if got == nil {
		return errors.New("missing")
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %s, want %s", got.DType, want.DType)
	}
	if len(got.Shape) != len(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range got.Shape {
		if got.Shape[i] != want.Shape[i] {
			return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
		}
	}
	switch w := want.Data.(type) {
	case []float32:
		g := got.Float32s()
		for i := range w {
			if !close64(float64(g[i]), float64(w[i]), atol, rtol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	case []float64:
		g := got.Float64s()
		for i := range w {
			if !close64(g[i], w[i], atol, rtol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	case []onnx.Float16, []onnx.BFloat16:
		g, _ := Cast(got, Float)
		wf, _ := Cast(want, Float)
		return Compare(g, wf, atol, rtol)
	}
	return compareExact(got, want)
}

func close64(g, w, atol, rtol float64) bool {
	if math.IsNaN(w) {
		return math.IsNaN(g)
	}
	if math.IsInf(w, 0) {
		return g == w
	}
	return math.Abs(g-w) <= atol+rtol*math.Abs(w)
}

func compareExact(got, want *Tensor) error {
	switch w := want.Data.(type) {
	case []int8:
		return exact(got.Data.([]int8), w)
	case []int16:
		return exact(got.Data.([]int16), w)
	case []int32:
		return exact(got.Data.([]int32), w)
	case []int64:
		return exact(got.Data.([]int64), w)
	case []uint8:
		return exact(got.Data.([]uint8), w)
	case []uint16:
		return exact(got.Data.([]uint16), w)
	case []uint32:
		return exact(got.Data.([]uint32), w)
	case []uint64:
		return exact(got.Data.([]uint64), w)
	case []bool:
		return exact(got.Data.([]bool), w)
	}
	return fmt.Errorf("cannot compare %s", want.DType)
}

func exact[T comparable](g, w []T) error {
	for i := range w {
		if g[i] != w[i] {
			return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
		}
	}
	return nil
}
