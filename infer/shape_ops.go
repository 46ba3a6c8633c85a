package infer

import (
	"errors"
	"fmt"
	"math"

	"github.com/birnn/birnn/onnx"
)

func init() {
	registerOp("", "Identity", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return fn(func(in []*Tensor) ([]*Tensor, error) {
			if err := need(in, 1); err != nil {
				return nil, err
			}
			return in[:1], nil
		}), nil
	})
	registerOp("", "Dropout", 1, 0, buildDropout)
	registerOp("", "Shape", 1, 0, buildShape)
	registerOp("", "Reshape", 1, 0, buildReshape)
	registerOp("", "Flatten", 1, 0, buildFlatten)
	registerOp("", "Squeeze", 1, 0, buildSqueeze)
	registerOp("", "Unsqueeze", 1, 0, buildUnsqueeze)
	registerOp("", "Transpose", 1, 0, buildTranspose)
	registerOp("", "Concat", 1, 0, buildConcat)
	registerOp("", "Slice", 1, 0, buildSlice)
	registerOp("", "Split", 1, 0, buildSplit)
	registerOp("", "Expand", 8, 0, buildExpand)
	registerOp("", "Tile", 1, 0, buildTile)
	registerOp("", "Gather", 1, 0, buildGather)
	registerOp("", "GatherElements", 11, 0, buildGatherElements)
	registerOp("", "ConstantOfShape", 9, 0, buildConstantOfShape)
	registerOp("", "Constant", 1, 0, buildConstant)
	registerOp("", "Cast", 1, 0, buildCast)
	registerOp("", "Range", 11, 0, buildRange)
	registerOp("", "Pad", 1, 0, buildPad)
	registerOp("", "ReverseSequence", 10, 0, buildReverseSequence)
}

// intsInput reads an optional integer input (axes, shape, pads…); nil when
// absent.
func intsInput(in []*Tensor, i int) ([]int64, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	v, err := in[i].Ints()
	if err != nil {
		return nil, fmt.Errorf("input %d: %w", i, err)
	}
	return v, nil
}

// requiredInts reads input i, which must be present, as integers: the
// shape or axes that newer opsets take as an input instead of an attribute.
func requiredInts(in []*Tensor, i int) ([]int64, error) {
	if err := need(in, i+1); err != nil {
		return nil, err
	}
	return intsInput(in, i)
}

func buildDropout(n *onnx.NodeProto, opset int64) (opKernel, error) {
	// Before opset 7 an is_test attribute chose training behaviour; an
	// inference engine treats every Dropout as identity, as runtimes do.
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if len(in) > 2 && in[2] != nil {
			b, ok := in[2].Data.([]bool)
			if !ok || len(b) != 1 {
				return nil, errors.New("training_mode must be a BOOL scalar")
			}
			if b[0] {
				return nil, fmt.Errorf("%w: Dropout with training_mode=true (inference only)", ErrUnsupported)
			}
		}
		x := in[0]
		var mask *Tensor
		if opset >= 10 {
			m := make([]bool, x.Len())
			for i := range m {
				m[i] = true
			}
			mask = New(x.Shape, m)
		} else {
			ones, err := fillLike(x.DType, x.Shape, 1)
			if err != nil {
				return nil, err
			}
			mask = ones
		}
		return []*Tensor{x, mask}, nil
	}), nil
}

// fillLike returns a tensor of dtype d and shape with every element v.
func fillLike(d DType, shape []int, v float64) (*Tensor, error) {
	t, err := Zeros(d, shape)
	if err != nil {
		return nil, err
	}
	switch x := t.Data.(type) {
	case []float32:
		fill(x, float32(v))
	case []float64:
		fill(x, v)
	case []int8:
		fill(x, int8(v))
	case []int16:
		fill(x, int16(v))
	case []int32:
		fill(x, int32(v))
	case []int64:
		fill(x, int64(v))
	case []uint8:
		fill(x, uint8(v))
	case []uint16:
		fill(x, uint16(v))
	case []uint32:
		fill(x, uint32(v))
	case []uint64:
		fill(x, uint64(v))
	case []bool:
		fill(x, v != 0)
	case []onnx.Float16:
		fill(x, onnx.Float16Of(v))
	case []onnx.BFloat16:
		fill(x, onnx.BFloat16Of(float32(v)))
	}
	return t, nil
}

func fill[T Elem](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

func buildShape(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	start, end := a.Int("start", 0), a.Int("end", math.MaxInt64)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		r := int64(in[0].Rank())
		clampDim := func(v int64) int64 {
			if v < 0 {
				v += r
			}
			return max(0, min(r, v))
		}
		s, e := clampDim(start), clampDim(end)
		out := []int64{}
		for i := s; i < e; i++ {
			out = append(out, int64(in[0].Shape[i]))
		}
		return []*Tensor{New([]int{len(out)}, out)}, nil
	}), nil
}

func buildReshape(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	attrShape := a.Ints("shape")
	allowZero := a.Int("allowzero", 0) != 0
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		spec := attrShape
		if opset >= 5 {
			var err error
			if spec, err = requiredInts(in, 1); err != nil {
				return nil, err
			}
		}
		shape, err := reshapeTarget(in[0].Shape, spec, allowZero)
		if err != nil {
			return nil, err
		}
		return []*Tensor{reshaped(in[0], shape)}, nil
	}), nil
}

// reshapeTarget resolves a Reshape shape spec (0 copies the input dim
// unless allowZero, −1 is inferred) against the input shape.
func reshapeTarget(from []int, spec []int64, allowZero bool) ([]int, error) {
	shape := make([]int, len(spec))
	infer := -1
	known := 1
	for i, d := range spec {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(from) {
				return nil, fmt.Errorf("shape %v copies dim %d of a rank-%d input", spec, i, len(from))
			}
			shape[i] = from[i]
		case d < 0:
			return nil, fmt.Errorf("shape %v has invalid dim %d", spec, d)
		default:
			shape[i] = int(d)
		}
		known *= shape[i]
	}
	total := numel(from)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", from, spec)
		}
		shape[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", from, total, spec)
	}
	return shape, nil
}

func buildFlatten(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		r := in[0].Rank()
		ax := axis
		if ax < 0 {
			ax += int64(r)
		}
		if ax < 0 || ax > int64(r) {
			return nil, fmt.Errorf("axis %d is out of range for rank %d", axis, r)
		}
		outer := numel(in[0].Shape[:ax])
		return []*Tensor{reshaped(in[0], []int{outer, numel(in[0].Shape[ax:])})}, nil
	}), nil
}

// intAttrOp builds an op of one integer attribute (def when absent) that
// needs nIn inputs: f gets the inputs and the attribute's value.
func intAttrOp(n *onnx.NodeProto, name string, def int64, nIn int, f func(in []*Tensor, v int64) ([]*Tensor, error)) (opKernel, error) {
	a := attrs(n)
	v := a.Int(name, def)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, nIn); err != nil {
			return nil, err
		}
		return f(in, v)
	}), nil
}

// axesOp builds Squeeze or Unsqueeze: axes come from the attribute before
// opset 13, from input 1 after (required when required is set), and f
// maps the input and its axes to the output shape; the output is a view.
func axesOp(n *onnx.NodeProto, opset int64, required bool, f func(x *Tensor, axes []int64) ([]int, error)) (opKernel, error) {
	a := attrs(n)
	attrAxes := a.Ints("axes")
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		axes := attrAxes
		if opset >= 13 {
			read := intsInput
			if required {
				read = requiredInts
			}
			var err error
			if axes, err = read(in, 1); err != nil {
				return nil, err
			}
		}
		shape, err := f(in[0], axes)
		if err != nil {
			return nil, err
		}
		return []*Tensor{reshaped(in[0], shape)}, nil
	}), nil
}

func buildSqueeze(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return axesOp(n, opset, false, func(x *Tensor, axes []int64) ([]int, error) {
		drop := make([]bool, x.Rank())
		if len(axes) == 0 {
			for i, d := range x.Shape {
				drop[i] = d == 1
			}
		}
		for _, ax := range axes {
			i, err := normAxis(ax, x.Rank())
			if err != nil {
				return nil, err
			}
			if x.Shape[i] != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of shape %v: dim is not 1", ax, x.Shape)
			}
			drop[i] = true
		}
		shape := []int{}
		for i, d := range x.Shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
		return shape, nil
	})
}

func buildUnsqueeze(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return axesOp(n, opset, true, func(x *Tensor, axes []int64) ([]int, error) {
		r := x.Rank() + len(axes)
		ins := make([]bool, r)
		for _, ax := range axes {
			i, err := normAxis(ax, r)
			if err != nil {
				return nil, err
			}
			if ins[i] {
				return nil, fmt.Errorf("axes %v repeat an axis", axes)
			}
			ins[i] = true
		}
		shape := make([]int, r)
		j := 0
		for i := range shape {
			if ins[i] {
				shape[i] = 1
			} else {
				shape[i] = x.Shape[j]
				j++
			}
		}
		return shape, nil
	})
}

func buildTranspose(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	perm := a.Ints("perm")
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		return one(transpose(in[0], perm))
	}), nil
}

// transpose permutes t's axes (perm nil: reverse them).
func transpose(t *Tensor, perm64 []int64) (*Tensor, error) {
	r := t.Rank()
	perm := make([]int, r)
	if perm64 == nil {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	} else {
		if len(perm64) != r {
			return nil, fmt.Errorf("perm %v does not match rank %d", perm64, r)
		}
		seen := make([]bool, r)
		for i, p := range perm64 {
			if p < 0 || p >= int64(r) || seen[p] {
				return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm64, r-1)
			}
			seen[p] = true
			perm[i] = int(p)
		}
	}
	shape := make([]int, r)
	for i, p := range perm {
		shape[i] = t.Shape[p]
	}
	st := strides(t.Shape)
	n := t.Len()
	// Keep the last axis in place: copy whole rows.
	if r > 0 && perm[r-1] == r-1 {
		row := t.Shape[r-1]
		out, err := newData(t.DType, n)
		if err != nil {
			return nil, err
		}
		if row > 0 {
			forEachIndex(shape[:r-1], func(pos int, idx []int) {
				src := 0
				for i, p := range perm[:r-1] {
					src += idx[i] * st[p]
				}
				copyRange(out, pos*row, t.Data, src, row)
			})
		}
		return &Tensor{DType: t.DType, Shape: shape, Data: out}, nil
	}
	idx := make([]int, 0, n)
	forEachIndex(shape, func(_ int, ix []int) {
		src := 0
		for i, p := range perm {
			src += ix[i] * st[p]
		}
		idx = append(idx, src)
	})
	return &Tensor{DType: t.DType, Shape: shape, Data: take(t.Data, idx)}, nil
}

func buildConcat(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	if opset >= 4 && !a.Has("axis") {
		return nil, errors.New("attribute axis is required")
	}
	axis := a.Int("axis", 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		return one(concat(in, axis))
	}), nil
}

func concat(in []*Tensor, axis64 int64) (*Tensor, error) {
	first := in[0]
	r := first.Rank()
	axis, err := normAxis(axis64, r)
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, first.Shape...)
	shape[axis] = 0
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		if t.DType != first.DType || t.Rank() != r {
			return nil, fmt.Errorf("input %d is %s, input 0 is %s", i, t, first)
		}
		for d := range shape {
			if d != axis && t.Shape[d] != first.Shape[d] {
				return nil, fmt.Errorf("input %d has shape %v, incompatible with %v on axis %d", i, t.Shape, first.Shape, axis)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	outer := numel(shape[:axis])
	out, err := newData(first.DType, numel(shape))
	if err != nil {
		return nil, err
	}
	pos := 0
	for o := 0; o < outer; o++ {
		for _, t := range in {
			blk := numel(t.Shape[axis:])
			if blk > 0 {
				copyRange(out, pos, t.Data, o*blk, blk)
			}
			pos += blk
		}
	}
	return &Tensor{DType: first.DType, Shape: shape, Data: out}, nil
}

func buildSlice(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	aStarts, aEnds, aAxes := a.Ints("starts"), a.Ints("ends"), a.Ints("axes")
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int64
		if opset >= 10 {
			if err := need(in, 3); err != nil {
				return nil, err
			}
			var err error
			if starts, err = intsInput(in, 1); err != nil {
				return nil, err
			}
			if ends, err = intsInput(in, 2); err != nil {
				return nil, err
			}
			if axes, err = intsInput(in, 3); err != nil {
				return nil, err
			}
			if steps, err = intsInput(in, 4); err != nil {
				return nil, err
			}
		}
		return one(slice(in[0], starts, ends, axes, steps))
	}), nil
}

func slice(x *Tensor, starts, ends, axes, steps []int64) (*Tensor, error) {
	r := x.Rank()
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	begin := make([]int, r)
	step := make([]int, r)
	shape := append([]int{}, x.Shape...)
	for i := range step {
		step[i] = 1
	}
	seen := make([]bool, r)
	for i, ax := range axes {
		d, err := normAxis(ax, r)
		if err != nil {
			return nil, err
		}
		if seen[d] {
			return nil, fmt.Errorf("axes %v repeat an axis", axes)
		}
		seen[d] = true
		dim := int64(x.Shape[d])
		s, e, st := starts[i], ends[i], steps[i]
		if st == 0 {
			return nil, errors.New("step 0")
		}
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		// |step| beyond the dim selects at most one element; clamping keeps
		// the count arithmetic from overflowing.
		st = max(-dim-1, min(dim+1, st))
		var cnt int64
		if st > 0 {
			s, e = max(0, min(dim, s)), max(0, min(dim, e))
			if e > s {
				cnt = (e - s + st - 1) / st
			}
		} else {
			s, e = max(0, min(dim-1, s)), max(-1, min(dim-1, e))
			if s > e {
				cnt = (s - e + (-st) - 1) / (-st)
			}
		}
		begin[d], step[d], shape[d] = int(s), int(st), int(cnt)
	}
	return &Tensor{DType: x.DType, Shape: shape, Data: sliceData(x, begin, step, shape)}, nil
}

// sliceData gathers the elements of x at begin + i·step for i in shape, as
// runs of contiguous elements: the trailing axes the slice leaves whole,
// and the step-1 axis before them, are copied in blocks.
func sliceData(x *Tensor, begin, step, shape []int) any {
	st := strides(x.Shape)
	d := len(shape) - 1
	run := 1
	for d >= 0 && begin[d] == 0 && step[d] == 1 && shape[d] == x.Shape[d] {
		run *= shape[d]
		d--
	}
	if d >= 0 && step[d] == 1 {
		run *= shape[d]
		d--
	}
	// Axes 0..d are walked; each position copies run elements.
	out, _ := newData(x.DType, numel(shape))
	if run == 0 {
		return out
	}
	base := 0
	for e := d + 1; e < len(shape); e++ {
		base += begin[e] * st[e]
	}
	pos := 0
	forEachIndex(shape[:d+1], func(_ int, ix []int) {
		src := base
		for e := range ix {
			src += (begin[e] + ix[e]*step[e]) * st[e]
		}
		copyRange(out, pos, x.Data, src, run)
		pos += run
	})
	return out
}

func buildSplit(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", 0)
	attrSplit := a.Ints("split")
	numOut := a.Int("num_outputs", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	outs := len(n.GetOutput())
	if opset >= 18 && a.Has("num_outputs") && numOut != int64(outs) {
		return nil, fmt.Errorf("num_outputs %d but the node has %d outputs", numOut, outs)
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		split := attrSplit
		if opset >= 13 || (opset < 2 && len(in) > 1) {
			if split, err = intsInput(in, 1); err != nil {
				return nil, err
			}
		}
		dim := x.Shape[ax]
		if split == nil {
			chunk := dim / outs
			if dim%outs != 0 {
				if opset < 18 {
					return nil, fmt.Errorf("dim %d does not split into %d equal parts", dim, outs)
				}
				chunk = (dim + outs - 1) / outs
			}
			rest := dim
			for i := 0; i < outs; i++ {
				c := min(chunk, rest)
				split = append(split, int64(c))
				rest -= c
			}
		}
		if len(split) != outs {
			return nil, fmt.Errorf("split %v has %d parts for %d outputs", split, len(split), outs)
		}
		var total int64
		for _, s := range split {
			if s < 0 {
				return nil, fmt.Errorf("split %v has a negative part", split)
			}
			total += s
		}
		if total != int64(dim) {
			return nil, fmt.Errorf("split %v does not add up to dim %d", split, dim)
		}
		res := make([]*Tensor, outs)
		var start int64
		for i, s := range split {
			t, err := slice(x, []int64{start}, []int64{start + s}, []int64{int64(ax)}, nil)
			if err != nil {
				return nil, err
			}
			res[i] = t
			start += s
		}
		return res, nil
	}), nil
}

func buildExpand(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		spec, err := in[1].Ints()
		if err != nil {
			return nil, err
		}
		target := make([]int, len(spec))
		for i, d := range spec {
			if d < 0 || d > MaxElements {
				return nil, fmt.Errorf("shape %v has an invalid dim %d", spec, d)
			}
			target[i] = int(d)
		}
		return one(expand(in[0], target))
	}), nil
}

// expand broadcasts x to the broadcast of its shape and target.
func expand(x *Tensor, target []int) (*Tensor, error) {
	shape, err := broadcastShape(x.Shape, target)
	if err != nil {
		return nil, err
	}
	if _, err := checkSize(shape); err != nil {
		return nil, err
	}
	idx := make([]int, numel(shape))
	p := newPlan(shape, x.Shape)
	s := p.inner(0)
	p.rows(func(o int, offs []int, n int) {
		for i := 0; i < n; i++ {
			idx[o+i] = offs[0] + i*s
		}
	})
	return &Tensor{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}, nil
}

func buildTile(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		reps, err := in[1].Ints()
		if err != nil {
			return nil, err
		}
		if len(reps) != x.Rank() {
			return nil, fmt.Errorf("repeats %v do not match rank %d", reps, x.Rank())
		}
		shape := make([]int, x.Rank())
		for i, r := range reps {
			if r < 0 {
				return nil, fmt.Errorf("repeats %v has a negative entry", reps)
			}
			if r > MaxElements {
				return nil, fmt.Errorf("repeats %v are too large", reps)
			}
			shape[i] = x.Shape[i] * int(r)
		}
		if _, err := checkSize(shape); err != nil {
			return nil, err
		}
		st := strides(x.Shape)
		idx := make([]int, 0, numel(shape))
		forEachIndex(shape, func(_ int, ix []int) {
			src := 0
			for d := range ix {
				src += (ix[d] % x.Shape[d]) * st[d]
			}
			idx = append(idx, src)
		})
		return []*Tensor{{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}}, nil
	}), nil
}

func buildGather(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return intAttrOp(n, "axis", 0, 2, func(in []*Tensor, axis int64) ([]*Tensor, error) {
		return one(gather(in[0], in[1], axis))
	})
}

func gather(x, indices *Tensor, axis64 int64) (*Tensor, error) {
	axis, err := normAxis(axis64, x.Rank())
	if err != nil {
		return nil, err
	}
	ids, err := indices.Ints()
	if err != nil {
		return nil, fmt.Errorf("indices: %w", err)
	}
	dim := x.Shape[axis]
	for i, j := range ids {
		if j < -int64(dim) || j >= int64(dim) {
			return nil, fmt.Errorf("index %d (at %d) is out of range for dim %d", j, i, dim)
		}
		if j < 0 {
			ids[i] += int64(dim)
		}
	}
	shape := append(append(append([]int{}, x.Shape[:axis]...), indices.Shape...), x.Shape[axis+1:]...)
	outer, inner := numel(x.Shape[:axis]), numel(x.Shape[axis+1:])
	out, err := newData(x.DType, numel(shape))
	if err != nil {
		return nil, err
	}
	if inner > 0 {
		switch d := x.Data.(type) {
		case []float32: // the embedding lookup: one switch, then plain copies
			gatherRows(out.([]float32), d, ids, outer, dim, inner)
		default:
			pos := 0
			for o := 0; o < outer; o++ {
				for _, j := range ids {
					copyRange(out, pos, x.Data, (o*dim+int(j))*inner, inner)
					pos += inner
				}
			}
		}
	}
	return &Tensor{DType: x.DType, Shape: shape, Data: out}, nil
}

// gatherRows copies rows ids of x, viewed as [outer, dim, inner], to out.
func gatherRows[T Elem](out, x []T, ids []int64, outer, dim, inner int) {
	pos := 0
	for o := 0; o < outer; o++ {
		base := o * dim * inner
		for _, j := range ids {
			src := base + int(j)*inner
			copy(out[pos:pos+inner], x[src:src+inner])
			pos += inner
		}
	}
}

func buildGatherElements(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x, ind := in[0], in[1]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		if ind.Rank() != x.Rank() {
			return nil, fmt.Errorf("indices rank %d differs from data rank %d", ind.Rank(), x.Rank())
		}
		for d := range ind.Shape {
			if d != ax && ind.Shape[d] > x.Shape[d] {
				return nil, fmt.Errorf("indices shape %v exceeds data shape %v", ind.Shape, x.Shape)
			}
		}
		ids, err := ind.Ints()
		if err != nil {
			return nil, fmt.Errorf("indices: %w", err)
		}
		st := strides(x.Shape)
		dim := int64(x.Shape[ax])
		idx := make([]int, len(ids))
		var bad error
		forEachIndex(ind.Shape, func(pos int, ix []int) {
			j := ids[pos]
			if j < -dim || j >= dim {
				if bad == nil {
					bad = fmt.Errorf("index %d is out of range for dim %d", j, dim)
				}
				return
			}
			if j < 0 {
				j += dim
			}
			src := 0
			for d := range ix {
				if d == ax {
					src += int(j) * st[d]
				} else {
					src += ix[d] * st[d]
				}
			}
			idx[pos] = src
		})
		if bad != nil {
			return nil, bad
		}
		return []*Tensor{{DType: x.DType, Shape: append([]int{}, ind.Shape...), Data: take(x.Data, idx)}}, nil
	}), nil
}

func buildConstantOfShape(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	value := a.Tensor("value")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if value == nil {
		value = New([]int{1}, []float32{0})
	}
	if value.Len() != 1 {
		return nil, fmt.Errorf("value must hold one element, has %d", value.Len())
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		spec, err := in[0].Ints()
		if err != nil {
			return nil, err
		}
		shape := make([]int, len(spec))
		for i, d := range spec {
			if d < 0 || d > MaxElements {
				return nil, fmt.Errorf("shape %v has an invalid dim %d", spec, d)
			}
			shape[i] = int(d)
		}
		if _, err := checkSize(shape); err != nil {
			return nil, err
		}
		idx := make([]int, numel(shape)) // all zeros: element 0 of value
		return []*Tensor{{DType: value.DType, Shape: shape, Data: take(value.Data, idx)}}, nil
	}), nil
}

func buildConstant(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	var t *Tensor
	switch {
	case a.Has("value"):
		t = a.Tensor("value")
	case a.Has("value_float"):
		t = New(nil, []float32{a.Float("value_float", 0)})
	case a.Has("value_floats"):
		v := a.Floats("value_floats")
		t = New([]int{len(v)}, v)
	case a.Has("value_int"):
		t = New(nil, []int64{a.Int("value_int", 0)})
	case a.Has("value_ints"):
		v := a.Ints("value_ints")
		t = New([]int{len(v)}, v)
	case a.Has("value_string"), a.Has("value_strings"):
		return nil, &UnsupportedTypeError{Value: n.GetOutput()[0], Type: "STRING"}
	case a.Has("sparse_value"):
		return nil, &UnsupportedTypeError{Value: n.GetOutput()[0], Type: "sparse tensor"}
	default:
		return nil, errors.New("no value attribute")
	}
	if err := a.Err(); err != nil {
		var ut *onnx.UnsupportedTypeError
		if errors.As(err, &ut) {
			return nil, &UnsupportedTypeError{Value: n.GetOutput()[0], Type: ut.DataType.String()}
		}
		return nil, err
	}
	return fn(func([]*Tensor) ([]*Tensor, error) { return []*Tensor{t}, nil }), nil
}

func buildCast(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	var to DType
	if opset < 6 {
		// Cast-1 names the type as a string.
		if s := a.String("to", ""); s != "" {
			v, ok := onnx.TensorProto_DataType_value[s]
			if !ok {
				return nil, fmt.Errorf("unknown type %q", s)
			}
			to = DType(v)
		}
	} else {
		to = DType(a.Int("to", 0))
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if !a.Has("to") {
		return nil, errors.New("attribute to is required")
	}
	if !to.Supported() {
		return nil, &UnsupportedTypeError{Value: n.GetOutput()[0], Type: to.String()}
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		return one(Cast(in[0], to))
	}), nil
}

// Cast converts t to dtype to with Go conversion semantics (floats
// truncate toward zero into integers; bool is 1/0; nonzero is true);
// FLOAT16 and BFLOAT16 results are rounded to nearest, ties to even.
// Errors: an unsupported dtype.
func Cast(t *Tensor, to DType) (*Tensor, error) {
	if t.DType == to {
		return t, nil
	}
	switch d := t.Data.(type) {
	case []float32:
		return castFrom(d, t.Shape, to)
	case []float64:
		return castFrom(d, t.Shape, to)
	case []int8:
		return castFrom(d, t.Shape, to)
	case []int16:
		return castFrom(d, t.Shape, to)
	case []int32:
		return castFrom(d, t.Shape, to)
	case []int64:
		return castFrom(d, t.Shape, to)
	case []uint8:
		return castFrom(d, t.Shape, to)
	case []uint16:
		return castFrom(d, t.Shape, to)
	case []uint32:
		return castFrom(d, t.Shape, to)
	case []uint64:
		return castFrom(d, t.Shape, to)
	case []bool:
		src := make([]uint8, len(d))
		for i, v := range d {
			if v {
				src[i] = 1
			}
		}
		return castFrom(src, t.Shape, to)
	case []onnx.Float16:
		src := make([]float32, len(d))
		for i, v := range d {
			src[i] = v.Float32()
		}
		return castFrom(src, t.Shape, to)
	case []onnx.BFloat16:
		src := make([]float32, len(d))
		for i, v := range d {
			src[i] = v.Float32()
		}
		return castFrom(src, t.Shape, to)
	}
	return nil, fmt.Errorf("cannot cast %s", t.DType)
}

func castFrom[S Number](s []S, shape []int, to DType) (*Tensor, error) {
	switch to {
	case Float:
		return New(shape, convertSlice[S, float32](s)), nil
	case Double:
		return New(shape, convertSlice[S, float64](s)), nil
	case Int8:
		return New(shape, convertSlice[S, int8](s)), nil
	case Int16:
		return New(shape, convertSlice[S, int16](s)), nil
	case Int32:
		return New(shape, convertSlice[S, int32](s)), nil
	case Int64:
		return New(shape, convertSlice[S, int64](s)), nil
	case Uint8:
		return New(shape, convertSlice[S, uint8](s)), nil
	case Uint16:
		return New(shape, convertSlice[S, uint16](s)), nil
	case Uint32:
		return New(shape, convertSlice[S, uint32](s)), nil
	case Uint64:
		return New(shape, convertSlice[S, uint64](s)), nil
	case Bool:
		out := make([]bool, len(s))
		for i, v := range s {
			out[i] = v != 0
		}
		return New(shape, out), nil
	case Float16:
		out := make([]onnx.Float16, len(s))
		for i, v := range s {
			out[i] = onnx.Float16Of(float64(v))
		}
		return New(shape, out), nil
	case BFloat16:
		out := make([]onnx.BFloat16, len(s))
		for i, v := range s {
			out[i] = onnx.BFloat16Of(float32(v))
		}
		return New(shape, out), nil
	}
	return nil, &UnsupportedTypeError{Value: "Cast output", Type: to.String()}
}

func buildRange(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 3); err != nil {
			return nil, err
		}
		for _, t := range in[1:3] {
			if t.DType != in[0].DType {
				return nil, fmt.Errorf("start, limit and delta must share a type, got %s and %s", in[0].DType, t.DType)
			}
		}
		for i, t := range in[:3] {
			if t.Len() != 1 {
				return nil, fmt.Errorf("input %d must be a scalar, is %s", i, t)
			}
		}
		switch in[0].Data.(type) {
		case []float32:
			return one(rangeT[float32](in))
		case []float64:
			return one(rangeT[float64](in))
		case []int16:
			return one(rangeT[int16](in))
		case []int32:
			return one(rangeT[int32](in))
		case []int64:
			return one(rangeT[int64](in))
		}
		return nil, fmt.Errorf("element type %s is not supported", in[0].DType)
	}), nil
}

func rangeT[T float32 | float64 | int16 | int32 | int64](in []*Tensor) (*Tensor, error) {
	start, limit, delta := in[0].Data.([]T)[0], in[1].Data.([]T)[0], in[2].Data.([]T)[0]
	if delta == 0 {
		return nil, errors.New("delta is 0")
	}
	cnt := math.Ceil((float64(limit) - float64(start)) / float64(delta))
	if cnt < 0 {
		cnt = 0
	}
	if cnt > MaxElements {
		return nil, fmt.Errorf("range of %g elements is too large", cnt)
	}
	out := make([]T, int(cnt))
	for i := range out {
		out[i] = start + T(i)*delta
	}
	return New([]int{len(out)}, out), nil
}

func buildPad(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	mode := a.String("mode", "constant")
	attrPads := a.Ints("pads")
	if opset < 2 {
		attrPads = a.Ints("paddings")
	}
	value := a.Float("value", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		pads := attrPads
		var axes []int64
		cval := scalarOf(x.DType, float64(value))
		if opset >= 11 {
			var err error
			if pads, err = intsInput(in, 1); err != nil {
				return nil, err
			}
			if len(in) > 2 && in[2] != nil {
				if in[2].DType != x.DType || in[2].Len() != 1 {
					return nil, fmt.Errorf("constant_value must be a scalar %s, is %s", x.DType, in[2])
				}
				cval = in[2]
			}
			if axes, err = intsInput(in, 3); err != nil {
				return nil, err
			}
		}
		return one(pad(x, pads, axes, mode, cval))
	}), nil
}

func pad(x *Tensor, pads, axes []int64, mode string, cval *Tensor) (*Tensor, error) {
	r := x.Rank()
	if axes == nil {
		axes = make([]int64, r)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("pads %v need 2×%d entries", pads, len(axes))
	}
	lo, hi := make([]int, r), make([]int, r)
	for i, ax := range axes {
		d, err := normAxis(ax, r)
		if err != nil {
			return nil, err
		}
		for _, p := range []int64{pads[i], pads[i+len(axes)]} {
			if p > MaxElements || p < -MaxElements {
				return nil, fmt.Errorf("pads %v are too large", pads)
			}
		}
		lo[d], hi[d] = int(pads[i]), int(pads[i+len(axes)])
	}
	shape := make([]int, r)
	for d := range shape {
		shape[d] = x.Shape[d] + lo[d] + hi[d]
		if shape[d] < 0 {
			return nil, fmt.Errorf("pads %v crop more than dim %d holds", pads, d)
		}
		if mode != "constant" && x.Shape[d] == 0 && shape[d] > 0 {
			return nil, fmt.Errorf("mode %s cannot pad an empty axis", mode)
		}
	}
	if _, err := checkSize(shape); err != nil {
		return nil, err
	}
	st := strides(x.Shape)
	idx := make([]int, 0, numel(shape))
	forEachIndex(shape, func(_ int, ix []int) {
		src := 0
		for d := range ix {
			c, n := ix[d]-lo[d], x.Shape[d]
			if c < 0 || c >= n {
				switch mode {
				case "constant":
					src = -1
				case "edge":
					c = max(0, min(n-1, c))
				case "wrap":
					c = ((c % n) + n) % n
				case "reflect":
					if n == 1 {
						c = 0
					} else {
						period := 2 * (n - 1)
						c = ((c % period) + period) % period
						if c >= n {
							c = period - c
						}
					}
				}
			}
			if src < 0 {
				break
			}
			src += c * st[d]
		}
		idx = append(idx, src)
	})
	data := take(x.Data, idx)
	if cval != nil {
		// Fill the padding (idx −1) with the constant.
		filled := take(cval.Data, make([]int, 1))
		for i, j := range idx {
			if j < 0 {
				copyRange(data, i, filled, 0, 1)
			}
		}
	}
	return &Tensor{DType: x.DType, Shape: shape, Data: data}, nil
}

func buildReverseSequence(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	batchAxis, timeAxis := a.Int("batch_axis", 1), a.Int("time_axis", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if !(batchAxis == 0 && timeAxis == 1 || batchAxis == 1 && timeAxis == 0) {
		return nil, fmt.Errorf("batch_axis %d and time_axis %d must be 0 and 1 in some order", batchAxis, timeAxis)
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input must have rank ≥ 2, has shape %v", x.Shape)
		}
		lens, err := in[1].Ints()
		if err != nil {
			return nil, err
		}
		b, tm := int(batchAxis), int(timeAxis)
		if len(lens) != x.Shape[b] {
			return nil, fmt.Errorf("sequence_lens has %d entries for batch %d", len(lens), x.Shape[b])
		}
		for _, l := range lens {
			if l < 0 || l > int64(x.Shape[tm]) {
				return nil, fmt.Errorf("sequence length %d is out of range [0, %d]", l, x.Shape[tm])
			}
		}
		st := strides(x.Shape)
		idx := make([]int, 0, x.Len())
		forEachIndex(x.Shape, func(_ int, ix []int) {
			src := 0
			for d := range ix {
				c := ix[d]
				if d == tm {
					if l := int(lens[ix[b]]); c < l {
						c = l - 1 - c
					}
				}
				src += c * st[d]
			}
			idx = append(idx, src)
		})
		return []*Tensor{{DType: x.DType, Shape: append([]int{}, x.Shape...), Data: take(x.Data, idx)}}, nil
	}), nil
}
