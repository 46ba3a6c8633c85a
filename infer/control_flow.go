package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/birnn/birnn/onnx"
)

// Loop, Scan and If (https://onnx.ai/onnx/operators/onnx__Loop.html, …)
// run bodies compiled once with the model: an iteration is one call of a
// prepared graph, never a new walk of the node list. A body reads values
// of enclosing graphs by name; they reach the kernel as implicit inputs
// after the node's own, and each body picks its own from them.

func init() {
	registerSubgraphOp("Loop", 1, buildLoop)
	registerSubgraphOp("If", 1, buildIf)
	registerSubgraphOp("Scan", 8, buildScan)
}

// outerIndex maps body.outer[j] to its position in implicit.
func outerIndex(body *graph, implicit []string) []int {
	pos := make(map[string]int, len(implicit))
	for i, name := range implicit {
		pos[name] = i
	}
	idx := make([]int, len(body.outer))
	for j, name := range body.outer {
		idx[j] = pos[name]
	}
	return idx
}

// outerValues picks body's outer values from the implicit inputs.
func outerValues(implicitIn []*Tensor, idx []int) []*Tensor {
	out := make([]*Tensor, len(idx))
	for j, i := range idx {
		out[j] = implicitIn[i]
	}
	return out
}

func needBody(bodies map[string]*graph, name string) (*graph, error) {
	b, ok := bodies[name]
	if !ok {
		return nil, fmt.Errorf("attribute %s (a graph) is required", name)
	}
	return b, nil
}

// scalarBool reads a one-element BOOL tensor.
func scalarBool(t *Tensor, what string) (bool, error) {
	b, ok := t.Data.([]bool)
	if !ok || len(b) != 1 {
		return false, fmt.Errorf("%s must be one BOOL, is %s", what, t)
	}
	return b[0], nil
}

type loopOp struct {
	fused    *fusedLoop // the recurrent cell this Loop computes, if recognised
	body     *graph
	nIn      int // the node's declared inputs: M, cond, N carried values
	carried  int
	scans    int
	scanType []DType
	outerIdx []int
}

func buildLoop(n *onnx.NodeProto, opset int64, bodies map[string]*graph, implicit []string) (opKernel, error) {
	body, err := needBody(bodies, "body")
	if err != nil {
		return nil, err
	}
	nIn := len(n.GetInput())
	if nIn < 2 {
		return nil, fmt.Errorf("needs inputs M and cond (either may be empty), has %d inputs", nIn)
	}
	carried := nIn - 2
	if len(body.inputs) != 2+carried {
		return nil, fmt.Errorf("body has %d inputs, want 2 + %d loop-carried values", len(body.inputs), carried)
	}
	if len(body.outputs) < 1+carried {
		return nil, fmt.Errorf("body has %d outputs, want the condition + %d loop-carried values (+ scan outputs)", len(body.outputs), carried)
	}
	scans := len(body.outputs) - 1 - carried
	if len(n.GetOutput()) > carried+scans {
		return nil, fmt.Errorf("has %d outputs, the body gives %d", len(n.GetOutput()), carried+scans)
	}
	op := &loopOp{body: body, nIn: nIn, carried: carried, scans: scans, outerIdx: outerIndex(body, implicit)}
	for _, o := range body.outputs[1+carried:] {
		op.scanType = append(op.scanType, o.DType)
	}
	return op, nil
}

func (l *loopOp) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	if l.fused != nil {
		if outs, handled, err := l.fused.run(ctx, l, in); handled {
			return outs, err
		}
	}
	trip := int64(math.MaxInt64)
	if in[0] != nil {
		v, err := in[0].Ints()
		if err != nil || len(v) != 1 {
			return nil, fmt.Errorf("trip count M must be one integer, is %s", in[0])
		}
		trip = v[0]
	}
	cond := true
	if in[1] != nil {
		var err error
		if cond, err = scalarBool(in[1], "cond"); err != nil {
			return nil, err
		}
	}
	carried := make([]*Tensor, l.carried)
	for i := range carried {
		if carried[i] = in[2+i]; carried[i] == nil {
			return nil, fmt.Errorf("loop-carried input %d is required", i)
		}
	}
	outer := outerValues(in[l.nIn:], l.outerIdx)
	scans := make([][]*Tensor, l.scans)
	scanElems := 0
	formals := make([]*Tensor, 2+l.carried)
	for i := int64(0); i < trip && cond; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		formals[0] = NewInt64(nil, []int64{i})
		formals[1] = NewBool(nil, []bool{cond})
		copy(formals[2:], carried)
		outs, err := l.body.call(ctx, formals, outer)
		if err != nil {
			return nil, fmt.Errorf("iteration %d: %w", i, err)
		}
		if cond, err = scalarBool(outs[0], "the body's condition output"); err != nil {
			return nil, fmt.Errorf("iteration %d: %w", i, err)
		}
		copy(carried, outs[1:1+l.carried])
		for k := range scans {
			t := outs[1+l.carried+k]
			if len(scans[k]) > 0 && (t.DType != scans[k][0].DType || !slices.Equal(t.Shape, scans[k][0].Shape)) {
				return nil, fmt.Errorf("iteration %d: scan output %d is %s, earlier iterations gave %s", i, k, t, scans[k][0])
			}
			if scanElems += t.Len(); scanElems > MaxElements {
				return nil, fmt.Errorf("scan outputs exceed %d elements", MaxElements)
			}
			scans[k] = append(scans[k], t)
		}
	}
	out := append([]*Tensor{}, carried...)
	for k, ts := range scans {
		st, err := stack(ts, 0, l.scanType[k])
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// stack joins tensors of one shape along a new axis (in [0, rank]); an
// empty list gives a [0] tensor of dtype d (FLOAT when unknown).
func stack(ts []*Tensor, axis int, d DType) (*Tensor, error) {
	if len(ts) == 0 {
		if !d.Supported() {
			d = Float
		}
		return Zeros(d, []int{0})
	}
	first := ts[0]
	shape := make([]int, 0, first.Rank()+1)
	shape = append(shape, first.Shape[:axis]...)
	shape = append(shape, len(ts))
	shape = append(shape, first.Shape[axis:]...)
	data, err := newData(first.DType, numel(shape))
	if err != nil {
		return nil, err
	}
	outer, inner := numel(first.Shape[:axis]), numel(first.Shape[axis:])
	for j, t := range ts {
		for o := 0; o < outer; o++ {
			copyRange(data, (o*len(ts)+j)*inner, t.Data, o*inner, inner)
		}
	}
	return &Tensor{DType: first.DType, Shape: shape, Data: data}, nil
}

// along returns x[…, i, …] with axis removed.
func along(x *Tensor, axis, i int) (*Tensor, error) {
	shape := append(append([]int{}, x.Shape[:axis]...), x.Shape[axis+1:]...)
	data, err := newData(x.DType, numel(shape))
	if err != nil {
		return nil, err
	}
	outer, dim, inner := numel(x.Shape[:axis]), x.Shape[axis], numel(x.Shape[axis+1:])
	for o := 0; o < outer; o++ {
		copyRange(data, o*inner, x.Data, (o*dim+i)*inner, inner)
	}
	return &Tensor{DType: x.DType, Shape: shape, Data: data}, nil
}

type ifOp struct {
	then, els       *graph
	thenIdx, elsIdx []int
	nIn             int
}

func buildIf(n *onnx.NodeProto, opset int64, bodies map[string]*graph, implicit []string) (opKernel, error) {
	then, err := needBody(bodies, "then_branch")
	if err != nil {
		return nil, err
	}
	els, err := needBody(bodies, "else_branch")
	if err != nil {
		return nil, err
	}
	if len(n.GetInput()) != 1 {
		return nil, fmt.Errorf("needs one input (cond), has %d", len(n.GetInput()))
	}
	for _, b := range []*graph{then, els} {
		if len(b.inputs) != 0 {
			return nil, errors.New("a branch must have no inputs")
		}
		if len(b.outputs) < len(n.GetOutput()) {
			return nil, fmt.Errorf("a branch gives %d outputs for the node's %d", len(b.outputs), len(n.GetOutput()))
		}
	}
	if len(then.outputs) != len(els.outputs) {
		return nil, fmt.Errorf("then_branch gives %d outputs, else_branch %d", len(then.outputs), len(els.outputs))
	}
	return &ifOp{then: then, els: els, thenIdx: outerIndex(then, implicit), elsIdx: outerIndex(els, implicit), nIn: 1}, nil
}

func (o *ifOp) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	c, err := scalarBool(in[0], "cond")
	if err != nil {
		return nil, err
	}
	if c {
		return o.then.call(ctx, nil, outerValues(in[o.nIn:], o.thenIdx))
	}
	return o.els.call(ctx, nil, outerValues(in[o.nIn:], o.elsIdx))
}

type scanOp struct {
	body                 *graph
	opset                int64
	nIn, states, scanIns int
	scanOuts             int
	inAxes, inDirs       []int64
	outAxes, outDirs     []int64
	outerIdx             []int
}

func buildScan(n *onnx.NodeProto, opset int64, bodies map[string]*graph, implicit []string) (opKernel, error) {
	body, err := needBody(bodies, "body")
	if err != nil {
		return nil, err
	}
	a := attrs(n)
	m := a.Int("num_scan_inputs", -1)
	op := &scanOp{body: body, opset: opset, nIn: len(n.GetInput())}
	if opset < 9 {
		op.inDirs = a.Ints("directions")
	} else {
		op.inAxes, op.inDirs = a.Ints("scan_input_axes"), a.Ints("scan_input_directions")
		op.outAxes, op.outDirs = a.Ints("scan_output_axes"), a.Ints("scan_output_directions")
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if m < 1 {
		return nil, errors.New("attribute num_scan_inputs (≥ 1) is required")
	}
	nIn := op.nIn
	if opset < 9 {
		nIn-- // sequence_lens comes first
	}
	if int64(nIn) < m {
		return nil, fmt.Errorf("num_scan_inputs %d exceeds the %d inputs", m, nIn)
	}
	op.scanIns = int(m)
	op.states = nIn - op.scanIns
	if len(body.inputs) != nIn {
		return nil, fmt.Errorf("body has %d inputs, want %d", len(body.inputs), nIn)
	}
	if len(body.outputs) < op.states {
		return nil, fmt.Errorf("body has %d outputs, want at least the %d states", len(body.outputs), op.states)
	}
	op.scanOuts = len(body.outputs) - op.states
	check := func(name string, v []int64, n int) error {
		if v != nil && len(v) != n {
			return fmt.Errorf("attribute %s has %d entries, want %d", name, len(v), n)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    []int64
		n    int
	}{{"scan_input_axes", op.inAxes, op.scanIns}, {"scan_input_directions", op.inDirs, op.scanIns},
		{"scan_output_axes", op.outAxes, op.scanOuts}, {"scan_output_directions", op.outDirs, op.scanOuts}} {
		if err := check(c.name, c.v, c.n); err != nil {
			return nil, err
		}
	}
	for _, d := range append(append([]int64{}, op.inDirs...), op.outDirs...) {
		if d != 0 && d != 1 {
			return nil, fmt.Errorf("direction %d must be 0 (forward) or 1 (reverse)", d)
		}
	}
	op.outerIdx = outerIndex(body, implicit)
	return op, nil
}

func at(v []int64, i int) int64 {
	if v == nil {
		return 0
	}
	return v[i]
}

func (s *scanOp) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	outer := outerValues(in[s.nIn:], s.outerIdx)
	in = in[:s.nIn]
	if s.opset < 9 {
		return s.runBatched(ctx, in, outer)
	}
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d is required", i)
		}
	}
	axes := make([]int, s.scanIns)
	for j := range axes {
		ax, err := normAxis(at(s.inAxes, j), in[s.states+j].Rank())
		if err != nil {
			return nil, fmt.Errorf("scan input %d: %w", j, err)
		}
		axes[j] = ax
	}
	return s.scan(ctx, in[:s.states], in[s.states:], axes, -1, outer)
}

// scan runs the body over the scan inputs along axes (steps: all when
// < 0) and returns the final states and the stacked scan outputs.
func (s *scanOp) scan(ctx context.Context, states, xs []*Tensor, axes []int, steps int, outer []*Tensor) ([]*Tensor, error) {
	seq := xs[0].Shape[axes[0]]
	for j, x := range xs {
		if x.Shape[axes[j]] != seq {
			return nil, fmt.Errorf("scan inputs have %d and %d steps", seq, x.Shape[axes[j]])
		}
	}
	if steps >= 0 {
		seq = min(seq, steps)
	}
	states = append([]*Tensor{}, states...)
	outs := make([][]*Tensor, s.scanOuts)
	formals := make([]*Tensor, s.states+s.scanIns)
	elems := 0
	for t := 0; t < seq; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copy(formals, states)
		for j, x := range xs {
			i := t
			if at(s.inDirs, j) == 1 {
				i = seq - 1 - t
			}
			sl, err := along(x, axes[j], i)
			if err != nil {
				return nil, err
			}
			formals[s.states+j] = sl
		}
		res, err := s.body.call(ctx, formals, outer)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		copy(states, res[:s.states])
		for k := range outs {
			y := res[s.states+k]
			if len(outs[k]) > 0 && (y.DType != outs[k][0].DType || !slices.Equal(y.Shape, outs[k][0].Shape)) {
				return nil, fmt.Errorf("step %d: scan output %d is %s, earlier steps gave %s", t, k, y, outs[k][0])
			}
			if elems += y.Len(); elems > MaxElements {
				return nil, fmt.Errorf("scan outputs exceed %d elements", MaxElements)
			}
			outs[k] = append(outs[k], y)
		}
	}
	result := states
	for k, ys := range outs {
		if at(s.outDirs, k) == 1 {
			for i, j := 0, len(ys)-1; i < j; i, j = i+1, j-1 {
				ys[i], ys[j] = ys[j], ys[i]
			}
		}
		if len(ys) == 0 {
			z, err := stack(nil, 0, s.body.outputs[s.states+k].DType)
			if err != nil {
				return nil, err
			}
			result = append(result, z)
			continue
		}
		ax, err := normAxis(at(s.outAxes, k), ys[0].Rank()+1)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", k, err)
		}
		st, err := stack(ys, ax, ys[0].DType)
		if err != nil {
			return nil, err
		}
		result = append(result, st)
	}
	return result, nil
}

// runBatched is Scan-8: inputs carry a leading batch axis, scan inputs scan
// along axis 1, and an optional first input gives each batch entry's
// sequence length (shorter scan outputs are zero-padded).
func (s *scanOp) runBatched(ctx context.Context, in, outer []*Tensor) ([]*Tensor, error) {
	lensT, in := in[0], in[1:]
	for i, t := range in {
		if t == nil || t.Rank() < 1 {
			return nil, fmt.Errorf("input %d is required and needs a batch axis", i+1)
		}
	}
	batch := in[0].Shape[0]
	for i, t := range in {
		if t.Shape[0] != batch {
			return nil, fmt.Errorf("input %d has batch %d, input 1 has %d", i+1, t.Shape[0], batch)
		}
		if i >= s.states && t.Rank() < 2 {
			return nil, fmt.Errorf("scan input %d needs [batch, seq, …], is %s", i+1-s.states, t)
		}
	}
	var lens []int64
	if lensT != nil {
		var err error
		if lens, err = lensT.Ints(); err != nil || len(lens) != batch {
			return nil, fmt.Errorf("sequence_lens must hold %d integers, is %s", batch, lensT)
		}
	}
	axes := make([]int, s.scanIns)
	per := make([][]*Tensor, len(in)+s.scanOuts)
	for b := 0; b < batch; b++ {
		sub := make([]*Tensor, len(in))
		for i, t := range in {
			v, err := along(t, 0, b)
			if err != nil {
				return nil, err
			}
			sub[i] = v
		}
		steps := -1
		if lens != nil {
			if lens[b] < 0 || lens[b] > int64(sub[s.states].Shape[0]) {
				return nil, fmt.Errorf("sequence length %d is out of range", lens[b])
			}
			steps = int(lens[b])
		}
		res, err := s.scan(ctx, sub[:s.states], sub[s.states:], axes, steps, outer)
		if err != nil {
			return nil, err
		}
		for i, r := range res {
			per[i] = append(per[i], r)
		}
	}
	out := make([]*Tensor, 0, s.states+s.scanOuts)
	for i := 0; i < s.states+s.scanOuts; i++ {
		ts := per[i]
		if i >= s.states {
			// Pad each entry's scan output to the longest.
			longest := 0
			for _, t := range ts {
				longest = max(longest, t.Shape[0])
			}
			for j, t := range ts {
				if t.Shape[0] < longest {
					pads := make([]int64, 2*t.Rank())
					pads[t.Rank()] = int64(longest - t.Shape[0])
					p, err := pad(t, pads, nil, "constant", nil)
					if err != nil {
						return nil, err
					}
					ts[j] = p
				}
			}
		}
		if len(ts) == 0 {
			return nil, errors.New("batch is empty")
		}
		for _, t := range ts[1:] {
			if !slices.Equal(t.Shape, ts[0].Shape) {
				return nil, fmt.Errorf("output %d differs in shape across the batch: %v and %v", i, ts[0].Shape, t.Shape)
			}
		}
		st, err := stack(ts, 0, ts[0].DType)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
