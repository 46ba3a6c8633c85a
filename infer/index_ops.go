package infer

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/birnn/birnn/onnx"
)

// Operators that select, count, sort or scatter elements by position:
// CumSum, NonZero, TopK, OneHot, Trilu, Size, EyeLike, GatherND, the
// Scatter family, Compress, Unique, DepthToSpace, SpaceToDepth, CastLike.

func init() {
	registerOp("", "CumSum", 11, 0, buildCumSum)
	registerOp("", "NonZero", 9, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return fn(func(in []*Tensor) ([]*Tensor, error) {
			if err := need(in, 1); err != nil {
				return nil, err
			}
			return one(nonZero(in[0]))
		}), nil
	})
	registerOp("", "TopK", 1, 0, buildTopK)
	registerOp("", "OneHot", 9, 0, buildOneHot)
	registerOp("", "Trilu", 14, 0, buildTrilu)
	registerOp("", "Size", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return fn(func(in []*Tensor) ([]*Tensor, error) {
			if err := need(in, 1); err != nil {
				return nil, err
			}
			return []*Tensor{NewInt64(nil, []int64{int64(in[0].Len())})}, nil
		}), nil
	})
	registerOp("", "EyeLike", 9, 0, buildEyeLike)
	registerOp("", "GatherND", 11, 0, buildGatherND)
	registerOp("", "ScatterElements", 11, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildScatterElements(n, opset) })
	registerOp("", "Scatter", 9, 10, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildScatterElements(n, opset) })
	registerOp("", "ScatterND", 11, 0, buildScatterND)
	registerOp("", "Compress", 9, 0, buildCompress)
	registerOp("", "Unique", 11, 0, buildUnique)
	registerOp("", "DepthToSpace", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildDepthSpace(n, true) })
	registerOp("", "SpaceToDepth", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildDepthSpace(n, false) })
	registerOp("", "CastLike", 15, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return fn(func(in []*Tensor) ([]*Tensor, error) {
			if err := need(in, 2); err != nil {
				return nil, err
			}
			return one(Cast(in[0], in[1].DType))
		}), nil
	})
}

// scalarInt reads a one-element integer tensor.
func scalarInt(t *Tensor, what string) (int64, error) {
	v, err := t.Ints()
	if err != nil || len(v) != 1 {
		return 0, fmt.Errorf("%s must be one integer, is %s", what, t)
	}
	return v[0], nil
}

func buildCumSum(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	exclusive, reverse := a.Int("exclusive", 0) != 0, a.Int("reverse", 0) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		axis, err := scalarInt(in[1], "axis")
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		outer, dim, inner := numel(x.Shape[:ax]), x.Shape[ax], numel(x.Shape[ax+1:])
		switch d := x.Data.(type) {
		case []float32:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		case []float64:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		case []int32:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		case []int64:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		case []uint32:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		case []uint64:
			return []*Tensor{New(x.Shape, cumSum(d, outer, dim, inner, exclusive, reverse))}, nil
		}
		return nil, fmt.Errorf("element type %s is not supported", x.DType)
	}), nil
}

func cumSum[T Number](x []T, outer, dim, inner int, exclusive, reverse bool) []T {
	y := make([]T, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var acc T
			for jj := 0; jj < dim; jj++ {
				j := jj
				if reverse {
					j = dim - 1 - jj
				}
				p := (o*dim+j)*inner + i
				if exclusive {
					y[p] = acc
					acc += x[p]
				} else {
					acc += x[p]
					y[p] = acc
				}
			}
		}
	}
	return y
}

// nonZero is the [rank, count] int64 tensor of the indices of x's nonzero
// elements in row-major order.
func nonZero(x *Tensor) (*Tensor, error) {
	b, err := Cast(x, Bool)
	if err != nil {
		return nil, err
	}
	flags := b.Bools()
	cnt := 0
	for _, f := range flags {
		if f {
			cnt++
		}
	}
	r := x.Rank()
	out := make([]int64, r*cnt)
	k := 0
	forEachIndex(x.Shape, func(pos int, idx []int) {
		if !flags[pos] {
			return
		}
		for d := 0; d < r; d++ {
			out[d*cnt+k] = int64(idx[d])
		}
		k++
	})
	if r == 0 {
		// A scalar: ONNX Runtime reports [1, count] with index 0.
		return New([]int{1, cnt}, make([]int64, cnt)), nil
	}
	return New([]int{r, cnt}, out), nil
}

func buildTopK(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", -1)
	kAttr := a.Int("k", -1)
	largest := a.Int("largest", 1) != 0
	a.Int("sorted", 1) // unsorted results may come in any order; sorted is one
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		k := kAttr
		if opset >= 10 {
			if err := need(in, 2); err != nil {
				return nil, err
			}
			var err error
			if k, err = scalarInt(in[1], "K"); err != nil {
				return nil, err
			}
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		dim := x.Shape[ax]
		if k < 0 || k > int64(dim) {
			return nil, fmt.Errorf("k %d is out of range [0, %d]", k, dim)
		}
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		outer, inner := numel(x.Shape[:ax]), numel(x.Shape[ax+1:])
		kk := int(k)
		shape := append([]int{}, x.Shape...)
		shape[ax] = kk
		pos := make([]int, 0, outer*kk*inner) // source positions in output order
		ind := make([]int64, outer*kk*inner)
		order := make([]int, dim)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				base := o*dim*inner + i
				for j := range order {
					order[j] = j
				}
				sort.SliceStable(order, func(p, q int) bool {
					u, v := xf[base+order[p]*inner], xf[base+order[q]*inner]
					if largest {
						return u > v
					}
					return u < v
				})
				for j := 0; j < kk; j++ {
					ind[(o*kk+j)*inner+i] = int64(order[j])
				}
			}
		}
		for o := 0; o < outer; o++ {
			for j := 0; j < kk; j++ {
				for i := 0; i < inner; i++ {
					pos = append(pos, o*dim*inner+int(ind[(o*kk+j)*inner+i])*inner+i)
				}
			}
		}
		vals := &Tensor{DType: x.DType, Shape: shape, Data: take(x.Data, pos)}
		return []*Tensor{vals, New(shape, ind)}, nil
	}), nil
}

func buildOneHot(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", -1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 3); err != nil {
			return nil, err
		}
		idxT, depthT, values := in[0], in[1], in[2]
		if depthT.Len() != 1 {
			return nil, fmt.Errorf("depth must be one number, is %s", depthT)
		}
		df, err := floatsOf(depthT)
		if err != nil {
			return nil, err
		}
		depth := int64(df[0])
		if depth < 1 || depth > MaxElements {
			return nil, fmt.Errorf("depth %v is out of range", df[0])
		}
		if values.Len() != 2 {
			return nil, fmt.Errorf("values must hold [off, on], is %s", values)
		}
		idxF, err := floatsOf(idxT)
		if err != nil {
			return nil, err
		}
		r := idxT.Rank() + 1
		ax, err := normAxis(axis, r)
		if err != nil {
			return nil, err
		}
		shape := append(append(append([]int{}, idxT.Shape[:ax]...), int(depth)), idxT.Shape[ax:]...)
		size, err := checkSize(shape)
		if err != nil {
			return nil, err
		}
		outer, inner := numel(idxT.Shape[:ax]), numel(idxT.Shape[ax:])
		src := make([]int, size) // 0: off, 1: on
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				v := int64(idxF[o*inner+i])
				if v < 0 {
					v += depth
				}
				if v >= 0 && v < depth {
					src[(o*int(depth)+int(v))*inner+i] = 1
				}
			}
		}
		return []*Tensor{{DType: values.DType, Shape: shape, Data: take(values.Data, src)}}, nil
	}), nil
}

func buildTrilu(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return intAttrOp(n, "upper", 1, 1, func(in []*Tensor, upperAttr int64) ([]*Tensor, error) {
		upper := upperAttr != 0
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input %v must have rank ≥ 2", x.Shape)
		}
		var k int64
		if len(in) > 1 && in[1] != nil {
			var err error
			if k, err = scalarInt(in[1], "k"); err != nil {
				return nil, err
			}
		}
		r, c := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
		idx := make([]int, x.Len())
		for p := range idx {
			i, j := int64((p/c)%r), int64(p%c)
			keep := j-i >= k
			if !upper {
				keep = j-i <= k
			}
			if keep {
				idx[p] = p
			} else {
				idx[p] = -1
			}
		}
		return []*Tensor{{DType: x.DType, Shape: append([]int{}, x.Shape...), Data: take(x.Data, idx)}}, nil
	})
}

func buildEyeLike(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	dt := a.Int("dtype", 0)
	k := a.Int("k", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() != 2 {
			return nil, fmt.Errorf("input %v must be a matrix", x.Shape)
		}
		d := x.DType
		if dt != 0 {
			d = DType(dt)
		}
		r, c := x.Shape[0], x.Shape[1]
		f := make([]float64, r*c)
		for i := 0; i < r; i++ {
			if j := int64(i) + k; j >= 0 && j < int64(c) {
				f[i*c+int(j)] = 1
			}
		}
		return one(Cast(New(x.Shape, f), d))
	}), nil
}

func buildGatherND(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return intAttrOp(n, "batch_dims", 0, 2, func(in []*Tensor, bd int64) ([]*Tensor, error) {
		x, it := in[0], in[1]
		ind, err := it.Ints()
		if err != nil {
			return nil, err
		}
		b := int(bd)
		if it.Rank() < 1 || b < 0 || b >= min(x.Rank(), it.Rank()) {
			return nil, fmt.Errorf("batch_dims %d does not fit data %v and indices %v", b, x.Shape, it.Shape)
		}
		for i := 0; i < b; i++ {
			if x.Shape[i] != it.Shape[i] {
				return nil, fmt.Errorf("batch dims of data %v and indices %v differ", x.Shape, it.Shape)
			}
		}
		last := it.Shape[it.Rank()-1]
		if last < 1 && x.Rank()-b > 0 || b+last > x.Rank() {
			return nil, fmt.Errorf("indices %v index %d axes of data %v after %d batch axes", it.Shape, last, x.Shape, b)
		}
		shape := append(append([]int{}, it.Shape[:it.Rank()-1]...), x.Shape[b+last:]...)
		inner := numel(x.Shape[b+last:])
		batch := numel(x.Shape[:b])
		perBatch := numel(it.Shape[b : it.Rank()-1])
		xst := strides(x.Shape)
		xBatch := numel(x.Shape[b:])
		idx := make([]int, 0, numel(shape))
		for bi := 0; bi < batch; bi++ {
			for q := 0; q < perBatch; q++ {
				tuple := ind[(bi*perBatch+q)*last : (bi*perBatch+q+1)*last]
				off := bi * xBatch
				for j, v := range tuple {
					dim := x.Shape[b+j]
					if v < -int64(dim) || v >= int64(dim) {
						return nil, fmt.Errorf("index %d is out of range for axis %d (size %d)", v, b+j, dim)
					}
					if v < 0 {
						v += int64(dim)
					}
					off += int(v) * xst[b+j]
				}
				for e := 0; e < inner; e++ {
					idx = append(idx, off+e)
				}
			}
		}
		return []*Tensor{{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}}, nil
	})
}

// scatterReduce combines an existing element with an update.
type scatterReduce string

func readReduction(a *attrSet) (scatterReduce, error) {
	r := scatterReduce(a.String("reduction", "none"))
	switch r {
	case "none", "add", "mul", "max", "min":
		return r, nil
	}
	return r, fmt.Errorf("reduction %q is not none, add, mul, max or min", r)
}

// scatterInto writes updates into a copy of x at the flat positions pos.
func scatterInto(x, updates *Tensor, pos []int, red scatterReduce) (*Tensor, error) {
	if updates.DType != x.DType {
		return nil, fmt.Errorf("updates are %s, data %s", updates.DType, x.DType)
	}
	y := x.Clone()
	if red == "none" {
		for i, p := range pos {
			copyRange(y.Data, p, updates.Data, i, 1)
		}
		return y, nil
	}
	yf, err := floatsOf(y)
	if err != nil {
		return nil, err
	}
	uf, err := floatsOf(updates)
	if err != nil {
		return nil, err
	}
	for i, p := range pos {
		switch red {
		case "add":
			yf[p] += uf[i]
		case "mul":
			yf[p] *= uf[i]
		case "max":
			yf[p] = max(yf[p], uf[i])
		case "min":
			yf[p] = min(yf[p], uf[i])
		}
	}
	return Cast(New(x.Shape, yf), x.DType)
}

func buildScatterElements(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", 0)
	red, err := readReduction(a)
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 3); err != nil {
			return nil, err
		}
		x, it, up := in[0], in[1], in[2]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		if it.Rank() != x.Rank() || !slices.Equal(it.Shape, up.Shape) {
			return nil, fmt.Errorf("indices %v and updates %v must have one shape of data's rank %d", it.Shape, up.Shape, x.Rank())
		}
		for d := range it.Shape {
			if d != ax && it.Shape[d] > x.Shape[d] {
				return nil, fmt.Errorf("indices %v exceed data %v", it.Shape, x.Shape)
			}
		}
		ind, err := it.Ints()
		if err != nil {
			return nil, err
		}
		xst := strides(x.Shape)
		pos := make([]int, len(ind))
		var bad error
		forEachIndex(it.Shape, func(p int, ix []int) {
			v := ind[p]
			dim := int64(x.Shape[ax])
			if v < -dim || v >= dim {
				bad = fmt.Errorf("index %d is out of range for axis %d (size %d)", v, ax, dim)
				return
			}
			if v < 0 {
				v += dim
			}
			off := 0
			for d, c := range ix {
				if d == ax {
					c = int(v)
				}
				off += c * xst[d]
			}
			pos[p] = off
		})
		if bad != nil {
			return nil, bad
		}
		return one(scatterInto(x, up, pos, red))
	}), nil
}

func buildScatterND(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	red, err := readReduction(a)
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 3); err != nil {
			return nil, err
		}
		x, it, up := in[0], in[1], in[2]
		ind, err := it.Ints()
		if err != nil {
			return nil, err
		}
		if it.Rank() < 1 {
			return nil, errors.New("indices must have rank ≥ 1")
		}
		last := it.Shape[it.Rank()-1]
		if last > x.Rank() {
			return nil, fmt.Errorf("indices %v index more axes than data %v has", it.Shape, x.Shape)
		}
		want := append(append([]int{}, it.Shape[:it.Rank()-1]...), x.Shape[last:]...)
		if !slices.Equal(up.Shape, want) {
			return nil, fmt.Errorf("updates %v, want %v", up.Shape, want)
		}
		inner := numel(x.Shape[last:])
		xst := strides(x.Shape)
		tuples := numel(it.Shape[:it.Rank()-1])
		pos := make([]int, 0, tuples*inner)
		for q := 0; q < tuples; q++ {
			off := 0
			for j, v := range ind[q*last : (q+1)*last] {
				dim := int64(x.Shape[j])
				if v < -dim || v >= dim {
					return nil, fmt.Errorf("index %d is out of range for axis %d (size %d)", v, j, dim)
				}
				if v < 0 {
					v += dim
				}
				off += int(v) * xst[j]
			}
			for e := 0; e < inner; e++ {
				pos = append(pos, off+e)
			}
		}
		return one(scatterInto(x, up, pos, red))
	}), nil
}

func buildCompress(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	hasAxis := a.Has("axis")
	axis := a.Int("axis", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		cond, ok := in[1].Data.([]bool)
		if !ok || in[1].Rank() != 1 {
			return nil, fmt.Errorf("condition must be a 1-D BOOL tensor, is %s", in[1])
		}
		if !hasAxis {
			x = reshaped(x, []int{x.Len()})
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		dim := x.Shape[ax]
		if len(cond) > dim {
			cond = cond[:dim] // ONNX Runtime ignores the extra flags
		}
		var keep []int
		for j, c := range cond {
			if c {
				keep = append(keep, j)
			}
		}
		outer, inner := numel(x.Shape[:ax]), numel(x.Shape[ax+1:])
		idx := make([]int, 0, outer*len(keep)*inner)
		for o := 0; o < outer; o++ {
			for _, j := range keep {
				for i := 0; i < inner; i++ {
					idx = append(idx, (o*dim+j)*inner+i)
				}
			}
		}
		shape := append([]int{}, x.Shape...)
		shape[ax] = len(keep)
		return []*Tensor{{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}}, nil
	}), nil
}

func buildUnique(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	hasAxis := a.Has("axis")
	axis := a.Int("axis", 0)
	sorted := a.Int("sorted", 1) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if !hasAxis {
			x = reshaped(x, []int{x.Len()})
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		outer, dim, inner := numel(x.Shape[:ax]), x.Shape[ax], numel(x.Shape[ax+1:])
		// slice j of the axis, as a comparable key
		key := func(j int) []float64 {
			k := make([]float64, 0, outer*inner)
			for o := 0; o < outer; o++ {
				k = append(k, xf[(o*dim+j)*inner:(o*dim+j+1)*inner]...)
			}
			return k
		}
		less := func(p, q []float64) bool {
			for i := range p {
				if p[i] != q[i] {
					return p[i] < q[i]
				}
			}
			return false
		}
		// Sort the slices (ties by position) and group equal ones: each
		// group is a unique slice, first seen at its smallest position.
		keys := make([][]float64, dim)
		byKey := make([]int, dim)
		for j := range keys {
			keys[j], byKey[j] = key(j), j
		}
		sort.SliceStable(byKey, func(p, q int) bool { return less(keys[byKey[p]], keys[byKey[q]]) })
		var firsts []int // per group, in sorted order
		group := make([]int, dim)
		for i, j := range byKey {
			if i == 0 || less(keys[byKey[i-1]], keys[j]) {
				firsts = append(firsts, j)
			}
			group[j] = len(firsts) - 1
		}
		order := make([]int, len(firsts)) // output position → group
		for i := range order {
			order[i] = i
		}
		if !sorted {
			sort.Slice(order, func(p, q int) bool { return firsts[order[p]] < firsts[order[q]] })
		}
		rank := make([]int64, len(firsts))
		for p, g := range order {
			rank[g] = int64(p)
		}
		inverse := make([]int64, dim)
		counts := make([]int64, len(firsts))
		for j := range inverse {
			inverse[j] = rank[group[j]]
			counts[inverse[j]]++
		}
		indices := make([]int64, len(firsts))
		for p, g := range order {
			indices[p] = int64(firsts[g])
		}
		nu := len(firsts)
		idx := make([]int, 0, outer*nu*inner)
		for o := 0; o < outer; o++ {
			for _, g := range order {
				j := firsts[g]
				for i := 0; i < inner; i++ {
					idx = append(idx, (o*dim+j)*inner+i)
				}
			}
		}
		shape := append([]int{}, x.Shape...)
		shape[ax] = nu
		y := &Tensor{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}
		u := []int{nu}
		return []*Tensor{y, New(u, indices), New([]int{dim}, inverse), New(u, counts)}, nil
	}), nil
}

func buildDepthSpace(n *onnx.NodeProto, toSpace bool) (opKernel, error) {
	a := attrs(n)
	bs := a.Int("blocksize", 0)
	mode := a.String("mode", "DCR")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if bs < 1 || bs > 1<<16 {
		return nil, fmt.Errorf("blocksize %d must be ≥ 1", bs)
	}
	if mode != "DCR" && mode != "CRD" {
		return nil, fmt.Errorf("mode %q is not DCR or CRD", mode)
	}
	b := int(bs)
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() != 4 {
			return nil, fmt.Errorf("input %v must be [N, C, H, W]", x.Shape)
		}
		nn, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		if toSpace {
			if c%(b*b) != 0 {
				return nil, fmt.Errorf("channels %d are not a multiple of blocksize² %d", c, b*b)
			}
			cc := c / (b * b)
			var t *Tensor
			var err error
			if mode == "DCR" {
				t, err = transpose(reshaped(x, []int{nn, b, b, cc, h, w}), []int64{0, 3, 4, 1, 5, 2})
			} else {
				t, err = transpose(reshaped(x, []int{nn, cc, b, b, h, w}), []int64{0, 1, 4, 2, 5, 3})
			}
			if err != nil {
				return nil, err
			}
			return []*Tensor{reshaped(t, []int{nn, cc, h * b, w * b})}, nil
		}
		if h%b != 0 || w%b != 0 {
			return nil, fmt.Errorf("height %d and width %d are not multiples of blocksize %d", h, w, b)
		}
		t, err := transpose(reshaped(x, []int{nn, c, h / b, b, w / b, b}), []int64{0, 3, 5, 1, 2, 4})
		if err != nil {
			return nil, err
		}
		return []*Tensor{reshaped(t, []int{nn, c * b * b, h / b, w / b})}, nil
	}), nil
}
