package infer

import (
	"errors"
	"fmt"
	"math"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

func init() {
	registerOp("", "MatMul", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return needing(2, func(in []*Tensor) ([]*Tensor, error) {
			return one(matMul(in[0], in[1]))
		}), nil
	})
	registerOp("", "Gemm", 1, 0, buildGemm)
	registerOp("", "Softmax", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildSoftmax(n, opset, false) })
	registerOp("", "LogSoftmax", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildSoftmax(n, opset, true) })
	registerOp("", "ArgMax", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildArgMax(n, opset, false) })
	registerOp("", "ArgMin", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildArgMax(n, opset, true) })
}

// matMul is numpy matmul: the last two axes multiply, the leading ones
// broadcast; a 1-D operand is a row (left) or column (right) vector whose
// axis is dropped from the result.
func matMul(a, b *Tensor) (*Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operand types differ: %s and %s", a.DType, b.DType)
	}
	switch a.Data.(type) {
	case []float32:
		return matMulT[float32](a, b)
	case []float64:
		return matMulT[float64](a, b)
	}
	return nil, fmt.Errorf("element type %s is not supported", a.DType)
}

func matMulT[T float32 | float64](a, b *Tensor) (*Tensor, error) {
	if a.Rank() == 0 || b.Rank() == 0 {
		return nil, fmt.Errorf("MatMul needs operands of rank ≥ 1, got %v and %v", a.Shape, b.Shape)
	}
	as, bs := a.Shape, b.Shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, fmt.Errorf("shapes %v and %v do not multiply (%d ≠ %d)", a.Shape, b.Shape, k, k2)
	}
	batch, err := broadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, err
	}
	x, y := a.Data.([]T), b.Data.([]T)
	nb := numel(batch)
	out := make([]T, nb*m*n)
	if nb > 0 && m*n > 0 {
		// Offsets of each batch's matrices, by broadcasting index grids.
		offs := make([][2]int, 0, nb)
		p := newPlan(batch, as[:len(as)-2], bs[:len(bs)-2])
		sa, sb := p.inner(0), p.inner(1)
		p.rows(func(_ int, o []int, cnt int) {
			for i := 0; i < cnt; i++ {
				offs = append(offs, [2]int{(o[0] + i*sa) * m * k, (o[1] + i*sb) * k * n})
			}
		})
		for i, o := range offs {
			kernel.Gemm(false, false, m, n, k, 1, x[o[0]:o[0]+m*k], max(k, 1), y[o[1]:o[1]+k*n], max(n, 1), 0, out[i*m*n:(i+1)*m*n], max(n, 1))
		}
	}
	shape := append([]int{}, batch...)
	if a.Rank() > 1 {
		shape = append(shape, m)
	}
	if b.Rank() > 1 {
		shape = append(shape, n)
	}
	return New(shape, out), nil
}

func buildGemm(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	alpha, beta := a.Float("alpha", 1), a.Float("beta", 1)
	transA, transB := a.Int("transA", 0) != 0, a.Int("transB", 0) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	return needing(2, func(in []*Tensor) ([]*Tensor, error) {
		var c *Tensor
		if len(in) > 2 {
			c = in[2]
		}
		if c == nil && opset < 11 {
			return nil, fmt.Errorf("input C is required before opset 11")
		}
		switch in[0].Data.(type) {
		case []float32:
			return one(gemmT[float32](in[0], in[1], c, alpha, beta, transA, transB))
		case []float64:
			return one(gemmT[float64](in[0], in[1], c, alpha, beta, transA, transB))
		}
		return nil, fmt.Errorf("element type %s is not supported", in[0].DType)
	}), nil
}

func gemmT[T float32 | float64](a, b, c *Tensor, alpha, beta float32, transA, transB bool) (*Tensor, error) {
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, fmt.Errorf("inputs A and B must be matrices, got %v and %v", a.Shape, b.Shape)
	}
	if b.DType != a.DType || (c != nil && c.DType != a.DType) {
		return nil, fmt.Errorf("operand types differ")
	}
	m, k := a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	k2, n := b.Shape[0], b.Shape[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("inputs A %v and B %v do not multiply (transA=%v, transB=%v)", a.Shape, b.Shape, transA, transB)
	}
	out := make([]T, m*n)
	var bt T
	if c != nil && beta != 0 {
		cs, err := broadcastShape(c.Shape, []int{m, n})
		if err != nil || len(cs) != 2 || cs[0] != m || cs[1] != n {
			return nil, fmt.Errorf("input C %v does not broadcast to [%d %d]", c.Shape, m, n)
		}
		e, _ := expand(c, []int{m, n})
		copy(out, e.Data.([]T))
		bt = T(beta)
	}
	kernel.Gemm(transA, transB, m, n, k, T(alpha), a.Data.([]T), max(a.Shape[1], 1), b.Data.([]T), max(b.Shape[1], 1), bt, out, max(n, 1))
	return New([]int{m, n}, out), nil
}

// softmaxAxis reads the axis of Softmax, LogSoftmax and Hardmax: −1 by
// default from opset 13, 1 before.
func softmaxAxis(n *onnx.NodeProto, opset int64) (int64, error) {
	a := attrs(n)
	def := int64(-1)
	if opset < 13 {
		def = 1
	}
	axis := a.Int("axis", def)
	return axis, a.Err()
}

// softmaxView views shape as [outer, dim, inner] around axis, the layout
// these operators normalise along dim; before opset 13 they flatten the
// input to 2-D at axis, so dim takes every axis from it on.
func softmaxView(shape []int, axis, opset int64) (outer, dim, inner int, err error) {
	if len(shape) == 0 {
		return 0, 0, 0, errors.New("input must have rank ≥ 1")
	}
	ax, err := normAxis(axis, len(shape))
	if err != nil {
		return 0, 0, 0, err
	}
	outer, dim, inner = numel(shape[:ax]), shape[ax], numel(shape[ax+1:])
	if opset < 13 {
		dim, inner = numel(shape[ax:]), 1
	}
	return outer, dim, inner, nil
}

// alongAxis is the kernel of Softmax, LogSoftmax and Hardmax: the axis
// attribute read once (softmaxAxis), then f run on the one input viewed
// as [outer, dim, inner] about it (softmaxView).
func alongAxis(n *onnx.NodeProto, opset int64, f func(x *Tensor, outer, dim, inner int) ([]*Tensor, error)) (opKernel, error) {
	axis, err := softmaxAxis(n, opset)
	if err != nil {
		return nil, err
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		outer, dim, inner, err := softmaxView(x.Shape, axis, opset)
		if err != nil {
			return nil, err
		}
		return f(x, outer, dim, inner)
	}), nil
}

func buildSoftmax(n *onnx.NodeProto, opset int64, logOut bool) (opKernel, error) {
	return alongAxis(n, opset, func(x *Tensor, outer, dim, inner int) ([]*Tensor, error) {
		switch d := x.Data.(type) {
		case []float32:
			return []*Tensor{New(x.Shape, softmaxT(d, outer, dim, inner, logOut))}, nil
		case []float64:
			return []*Tensor{New(x.Shape, softmaxT(d, outer, dim, inner, logOut))}, nil
		}
		return nil, fmt.Errorf("input is %s, want FLOAT or DOUBLE", x.DType)
	})
}

// softmaxT normalises x viewed as [outer, dim, inner] along dim,
// subtracting the maximum first so large inputs do not overflow.
func softmaxT[T float32 | float64](x []T, outer, dim, inner int, logOut bool) []T {
	y := make([]T, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			mx := math.Inf(-1)
			for j := 0; j < dim; j++ {
				mx = math.Max(mx, float64(x[base+j*inner]))
			}
			var sum float64
			for j := 0; j < dim; j++ {
				sum += math.Exp(float64(x[base+j*inner]) - mx)
			}
			for j := 0; j < dim; j++ {
				v := float64(x[base+j*inner]) - mx
				if logOut {
					y[base+j*inner] = T(v - math.Log(sum))
				} else {
					y[base+j*inner] = T(math.Exp(v) / sum)
				}
			}
		}
	}
	return y
}

// buildArgMax builds ArgMax, or ArgMin when least.
func buildArgMax(n *onnx.NodeProto, opset int64, least bool) (opKernel, error) {
	a := attrs(n)
	axis, keep, last := a.Int("axis", 0), a.Int("keepdims", 1) != 0, a.Int("select_last_index", 0) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		if x.Shape[ax] == 0 {
			return nil, fmt.Errorf("%s over an empty axis", n.GetOpType())
		}
		switch d := x.Data.(type) {
		case []float32:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []float64:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []int8:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []int16:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []int32:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []int64:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []uint8:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []uint16:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []uint32:
			return one(argMaxT(x, d, ax, keep, last, least))
		case []uint64:
			return one(argMaxT(x, d, ax, keep, last, least))
		}
		return nil, fmt.Errorf("element type %s is not supported", x.DType)
	}), nil
}

func argMaxT[T Number](x *Tensor, d []T, ax int, keep, last, least bool) (*Tensor, error) {
	outer, dim, inner := numel(x.Shape[:ax]), x.Shape[ax], numel(x.Shape[ax+1:])
	out := make([]int64, outer*inner)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			best, bi := d[base], 0
			for j := 1; j < dim; j++ {
				v := d[base+j*inner]
				if (!least && v > best) || (least && v < best) || (last && v == best) {
					best, bi = v, j
				}
			}
			out[o*inner+i] = int64(bi)
		}
	}
	red := make([]bool, x.Rank())
	red[ax] = true
	return New(reducedShape(x.Shape, red, keep), out), nil
}

// reducedShape drops (or, with keep, sets to 1) the axes marked in red.
func reducedShape(shape []int, red []bool, keep bool) []int {
	out := []int{}
	for i, d := range shape {
		switch {
		case i < len(red) && red[i] && keep:
			out = append(out, 1)
		case i < len(red) && red[i]:
		default:
			out = append(out, d)
		}
	}
	return out
}
