package infer

import (
	"math"
	"slices"
)

// planGraphs turns planning on; tests turn it off to compare.
var planGraphs = true

// Load-time planning of a graph's steps. Exporters wrap the recurrent
// layers in small ops that cost a copy of a whole sequence each: tf2onnx
// splits a bidirectional LSTM's Y [seq, 2, batch, H] into its directions
// (Slice, Squeeze) and joins them on the feature axis (Concat), takes the
// last step of each direction the same way, and builds zero initial states
// from the input's shape (Shape, Slice, Concat, ConstantOfShape or
// Expand). plan rewrites those forms, all of whose meaning is fixed at
// load:
//
//   - an initial state that is provably all zeros (ConstantOfShape of 0,
//     Expand of a zero constant, through Unsqueeze/Squeeze/Reshape/Cast/
//     Identity/Concat) is dropped: an absent state is zeros;
//   - Slice+Squeeze of each direction of Y (or Y_h) followed by the Concat
//     of both on the last axis becomes the recurrent op writing its output
//     in that layout ([seq, batch, 2H], [batch, 2H]) in the first place;
//   - the last step of the forward direction and the first of the backward
//     one, taken from Y and joined, are Y_h in that layout (without
//     sequence_lens, where they are the same values);
//   - an embedding Gather feeding a recurrent layer is folded into the
//     layer's input projection (rnn_embed.go);
//   - Identity is bypassed;
//   - steps whose outputs nobody reads are removed, and outputs of a
//     recurrent op that nobody reads are not computed.
//
// Every rewrite is exact (the same numbers, the same shapes); a form that
// does not match in every detail is left as written.
type planner struct {
	g       *graph
	opset   int64
	keep    map[int]bool
	removed []bool
}

// plan rewrites g.steps; keep holds the slots of the graph's outputs.
func (g *graph) plan(opset int64, keep map[int]bool) {
	p := &planner{g: g, opset: opset, keep: keep, removed: make([]bool, len(g.steps))}
	p.bypassIdentity()
	for i := range g.steps {
		if op := rnnOf(g.steps[i].k); op != nil {
			p.zeroStates(i, op)
		}
	}
	p.compact()
	p.dropUnused() // the zero states' shape chains read the layers' inputs
	for i := range g.steps {
		if op := rnnOf(g.steps[i].k); op != nil && !p.removed[i] {
			p.joinDirections(i, op)
			p.foldEmbedding(i, op)
		}
	}
	p.compact()
	p.dropUnused()
}

// rnnOf returns the recurrent op behind a step's kernel, or nil.
func rnnOf(k opKernel) *rnnOp {
	switch k := k.(type) {
	case *rnnOp:
		return k
	case *qLSTMOp:
		return k.op
	case *embedRNN:
		return k.op
	}
	return nil
}

// compact drops the removed steps.
func (p *planner) compact() {
	steps := p.g.steps[:0]
	for i, st := range p.g.steps {
		if !p.removed[i] {
			steps = append(steps, st)
		}
	}
	p.g.steps = steps
	p.removed = make([]bool, len(steps))
}

// users returns the steps reading slot s.
func (p *planner) users(s int) []int {
	var out []int
	for i, st := range p.g.steps {
		if p.removed[i] {
			continue
		}
		for _, in := range st.in {
			if in == s {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// producer returns the step writing slot s, or −1.
func (p *planner) producer(s int) int {
	for i, st := range p.g.steps {
		if !p.removed[i] && slices.Contains(st.out, s) {
			return i
		}
	}
	return -1
}

// only returns the one step reading slot s when s is not a graph output
// and that step reads it once, else −1.
func (p *planner) only(s int) int {
	if s < 0 || p.keep[s] {
		return -1
	}
	u := p.users(s)
	if len(u) != 1 {
		return -1
	}
	n := 0
	for _, in := range p.g.steps[u[0]].in {
		if in == s {
			n++
		}
	}
	if n != 1 {
		return -1
	}
	return u[0]
}

// constInts returns the values of slot s when it is a fixed integer
// constant.
func (p *planner) constInts(s int) ([]int64, bool) {
	if s < 0 {
		return nil, false
	}
	t, ok := p.g.consts[s]
	if !ok || slices.Contains(mapValues(p.g.overridable), s) {
		return nil, false
	}
	v, err := t.Ints()
	return v, err == nil
}

func mapValues(m map[string]int) []int {
	out := make([]int, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// sliceOne returns the axis, start and end of a Slice step over one axis
// with step 1 and constant bounds.
func (p *planner) sliceOne(i int) (axis, start, end int64, ok bool) {
	st := &p.g.steps[i]
	if st.op != "Slice" || len(st.out) != 1 || st.node.GetDomain() != "" {
		return 0, 0, 0, false
	}
	var starts, ends, axes, steps []int64
	if p.opset >= 10 {
		if len(st.in) < 3 {
			return 0, 0, 0, false
		}
		var ok1, ok2 bool
		starts, ok1 = p.constInts(st.in[1])
		ends, ok2 = p.constInts(st.in[2])
		if !ok1 || !ok2 {
			return 0, 0, 0, false
		}
		if len(st.in) > 3 && st.in[3] >= 0 {
			if axes, ok = p.constInts(st.in[3]); !ok {
				return 0, 0, 0, false
			}
		}
		if len(st.in) > 4 && st.in[4] >= 0 {
			if steps, ok = p.constInts(st.in[4]); !ok {
				return 0, 0, 0, false
			}
		}
	} else {
		a := attrs(st.node)
		starts, ends, axes = a.Ints("starts"), a.Ints("ends"), a.Ints("axes")
		if a.Err() != nil {
			return 0, 0, 0, false
		}
	}
	if len(starts) != 1 || len(ends) != 1 || len(axes) > 1 || (len(steps) == 1 && steps[0] != 1) || len(steps) > 1 {
		return 0, 0, 0, false
	}
	if len(axes) == 1 {
		axis = axes[0]
	}
	return axis, starts[0], ends[0], true
}

// squeezeOne returns the one axis a Squeeze step removes.
func (p *planner) squeezeOne(i int) (int64, bool) {
	st := &p.g.steps[i]
	if st.op != "Squeeze" || len(st.out) != 1 || st.node.GetDomain() != "" {
		return 0, false
	}
	var axes []int64
	if p.opset >= 13 {
		if len(st.in) < 2 {
			return 0, false
		}
		var ok bool
		if axes, ok = p.constInts(st.in[1]); !ok {
			return 0, false
		}
	} else {
		a := attrs(st.node)
		axes = a.Ints("axes")
		if a.Err() != nil {
			return 0, false
		}
	}
	if len(axes) != 1 {
		return 0, false
	}
	return axes[0], true
}

// isAxis reports whether axis (possibly negative) is axis want of a rank-r
// tensor.
func isAxis(axis int64, want, r int) bool {
	return axis == int64(want) || axis == int64(want-r)
}

// dirPick follows slot s (a recurrent output with the direction axis dax
// of rank r) through Slice of one direction and Squeeze of that axis; it
// returns the direction taken (0 or 1), the squeezed slot and the two
// steps, or ok false.
func (p *planner) dirPick(sl, dax, r int) (dir, out int, steps [2]int, ok bool) {
	axis, start, end, ok := p.sliceOne(sl)
	if !ok || !isAxis(axis, dax, r) {
		return 0, 0, steps, false
	}
	switch {
	case (start == 0 || start == -2) && (end == 1 || end == -1):
		dir = 0
	case (start == 1 || start == -1) && end >= 2:
		dir = 1
	default:
		return 0, 0, steps, false
	}
	sq := p.only(p.g.steps[sl].out[0])
	if sq < 0 {
		return 0, 0, steps, false
	}
	ax, ok := p.squeezeOne(sq)
	if !ok || !isAxis(ax, dax, r) {
		return 0, 0, steps, false
	}
	return dir, p.g.steps[sq].out[0], [2]int{sl, sq}, true
}

// concatLast returns the Concat step reading exactly a then b on the last
// axis of rank-r inputs, or −1.
func (p *planner) concatLast(a, b, r int) int {
	c := p.only(a)
	if c < 0 || p.only(b) != c {
		return -1
	}
	st := &p.g.steps[c]
	if st.op != "Concat" || st.node.GetDomain() != "" || len(st.in) != 2 || st.in[0] != a || st.in[1] != b {
		return -1
	}
	at := attrs(st.node)
	axis := at.Int("axis", 1)
	if at.Err() != nil || !isAxis(axis, r-1, r) {
		return -1
	}
	return c
}

// joinDirections rewrites the split-and-join forms of a bidirectional
// op's Y and Y_h (see plan).
func (p *planner) joinDirections(i int, op *rnnOp) {
	st := &p.g.steps[i]
	if op.dirs != 2 || op.layout != 0 {
		return
	}
	// pair returns the steps taking direction 0 then 1 of slot s.
	pair := func(s, dax, r int) (outs [2]int, steps []int, ok bool) {
		if s < 0 || p.keep[s] {
			return outs, nil, false
		}
		u := p.users(s)
		if len(u) != 2 {
			return outs, nil, false
		}
		seen := [2]bool{}
		for _, sl := range u {
			if in := p.g.steps[sl].in; len(in) == 0 || in[0] != s || slices.Contains(in[1:], s) {
				return outs, nil, false
			}
			d, o, ss, ok := p.dirPick(sl, dax, r)
			if !ok || seen[d] {
				return outs, nil, false
			}
			seen[d] = true
			outs[d] = o
			steps = append(steps, ss[0], ss[1])
		}
		return outs, steps, seen[0] && seen[1]
	}
	remove := func(steps []int) {
		for _, s := range steps {
			p.removed[s] = true
		}
	}
	// Y_h [2, batch, H] → [batch, 2H].
	if len(st.out) > 1 && !op.yhCat {
		if outs, steps, ok := pair(st.out[1], 0, 3); ok {
			if c := p.concatLast(outs[0], outs[1], 2); c >= 0 {
				st.out[1] = p.g.steps[c].out[0]
				op.yhCat = true
				remove(append(steps, c))
			}
		}
	}
	if len(st.out) == 0 {
		return
	}
	outs, steps, ok := pair(st.out[0], 1, 4)
	if !ok {
		return
	}
	// Y [seq, 2, batch, H] → [seq, batch, 2H].
	if c := p.concatLast(outs[0], outs[1], 3); c >= 0 {
		st.out[0] = p.g.steps[c].out[0]
		op.yCat = true
		remove(append(steps, c))
		return
	}
	// The last forward step and the first backward step of Y, joined: Y_h
	// joined, when every row runs all steps and Y_h is not read as written.
	if op.yhCat || (len(st.in) > 4 && st.in[4] >= 0) {
		return
	}
	if len(st.out) > 1 && st.out[1] >= 0 && (p.keep[st.out[1]] || len(p.users(st.out[1])) > 0) {
		return
	}
	var ends [2]int
	for d, o := range outs {
		sl := p.only(o)
		if sl < 0 {
			return
		}
		axis, start, end, ok := p.sliceOne(sl)
		if !ok || !isAxis(axis, 0, 3) {
			return
		}
		if d == 0 && (start != -1 || end < math.MaxInt32) || d == 1 && (start != 0 || end != 1) {
			return
		}
		sq := p.only(p.g.steps[sl].out[0])
		if sq < 0 {
			return
		}
		if ax, ok := p.squeezeOne(sq); !ok || !isAxis(ax, 0, 3) {
			return
		}
		ends[d] = p.g.steps[sq].out[0]
		steps = append(steps, sl, sq)
	}
	c := p.concatLast(ends[0], ends[1], 2)
	if c < 0 {
		return
	}
	for len(st.out) < 2 {
		st.out = append(st.out, -1)
	}
	st.out[1] = p.g.steps[c].out[0]
	op.yhCat = true
	if op.nOut < 2 {
		op.nOut = 2
	}
	op.outputs[1] = true
	remove(append(steps, c))
}

// zeroStates drops initial states (inputs 5 and 6) that are all zeros.
func (p *planner) zeroStates(i int, op *rnnOp) {
	st := &p.g.steps[i]
	for j := 5; j <= 6 && j < len(st.in); j++ {
		if st.in[j] >= 0 && p.isZero(st.in[j], 0) {
			st.in[j] = -1
		}
	}
}

// isZero reports whether slot s is provably all zeros whatever the run's
// inputs.
func (p *planner) isZero(s, depth int) bool {
	if s < 0 || depth > 8 {
		return false
	}
	if t, ok := p.g.consts[s]; ok {
		return !slices.Contains(mapValues(p.g.overridable), s) && allZero(t)
	}
	pr := p.producer(s)
	if pr < 0 {
		return false
	}
	st := &p.g.steps[pr]
	if st.node.GetDomain() != "" || len(st.out) != 1 {
		return false
	}
	switch st.op {
	case "ConstantOfShape":
		v := attrs(st.node).Tensor("value")
		return v == nil || allZero(v)
	case "Expand", "Unsqueeze", "Squeeze", "Reshape", "Cast", "Identity":
		return len(st.in) > 0 && p.isZero(st.in[0], depth+1)
	case "Concat":
		for _, in := range st.in {
			if !p.isZero(in, depth+1) {
				return false
			}
		}
		return len(st.in) > 0
	}
	return false
}

// allZero reports whether every element of a numeric tensor is 0.
func allZero(t *Tensor) bool {
	switch d := t.Data.(type) {
	case []float32:
		return !slices.ContainsFunc(d, func(v float32) bool { return v != 0 })
	case []float64:
		return !slices.ContainsFunc(d, func(v float64) bool { return v != 0 })
	case []int32:
		return !slices.ContainsFunc(d, func(v int32) bool { return v != 0 })
	case []int64:
		return !slices.ContainsFunc(d, func(v int64) bool { return v != 0 })
	}
	return false
}

// bypassIdentity makes the readers of an Identity's output read its input.
func (p *planner) bypassIdentity() {
	for i := range p.g.steps {
		st := &p.g.steps[i]
		if st.op != "Identity" || st.node.GetDomain() != "" || len(st.in) != 1 || len(st.out) != 1 || st.in[0] < 0 || p.keep[st.out[0]] {
			continue
		}
		from, to := st.out[0], st.in[0]
		for j := range p.g.steps {
			for k, in := range p.g.steps[j].in {
				if in == from {
					p.g.steps[j].in[k] = to
				}
			}
		}
		p.removed[i] = true
	}
}

// dropUnused removes steps none of whose outputs is read (ops have no side
// effects) and stops recurrent ops computing outputs nobody reads.
func (p *planner) dropUnused() {
	for changed := true; changed; {
		changed = false
		read := map[int]bool{}
		for _, st := range p.g.steps {
			for _, in := range st.in {
				read[in] = true
			}
		}
		for i := range p.g.steps {
			st := &p.g.steps[i]
			used := false
			for j, o := range st.out {
				if o < 0 {
					continue
				}
				if read[o] || p.keep[o] {
					used = true
					continue
				}
				if op := rnnOf(st.k); op != nil {
					st.out[j] = -1
					op.outputs[j] = false
				}
			}
			if !used && len(st.out) > 0 {
				p.removed[i] = true
				changed = true
			}
		}
		p.compact()
	}
}
