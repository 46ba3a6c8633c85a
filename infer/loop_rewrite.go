package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// Keras 3 (tf2onnx) exports a GRU, a SimpleRNN, an LSTM after
// Embedding(mask_zero=True) and an LSTM with recurrent_dropout as a
// tf.while_loop: an ONNX Loop whose body is the cell, unrolled into MatMul,
// Add, Split, Sigmoid, Tanh and Mul nodes, one time step per iteration.
// Run as written, every step costs the body's ~30 kernels on [batch, H]
// tensors. At load such a Loop is recognised and run on the engine's fused
// LSTM, GRU or RNN kernel instead (whole-sequence input GEMM, packed
// recurrent weights), with the same numbers up to rounding.
//
// The form recognised, as Keras writes it:
//
//   - loop-carried: a counter t from 0 (the body's output is t+1), the
//     states (h; h and c for an LSTM; with a mask also the last output),
//     and the weights, passed through unchanged;
//   - the body reads the input sequence as Gather(X, t) of a value of the
//     enclosing graph, X [seq, batch, in], and with a mask also
//     Gather(mask, t); it reads nothing else from outside;
//   - the condition depends on the counters only, and there is one scan
//     output: the new h (the new output, with a mask).
//
// The cell is identified by the shapes of the weights in Keras's layout
// (kernel [in, g·H], recurrent kernel [H, g·H], bias [g·H], or [2, 3H] for
// a GRU with reset_after; g = 1, 3, 4 for SimpleRNN, GRU, LSTM) and
// confirmed by running the body once on random probes against one step of
// the fused kernel: a form that does not match is left as a Loop. At run
// time the fused path checks what it assumes — the loop runs once per step
// of X, and a mask is a prefix of ones per row (pad steps at the end) —
// and runs the Loop as written otherwise.

// rewriteRecurrentLoops turns the rewrite on; tests turn it off to compare
// with the Loop as written. fusedLoopRuns counts runs of a Loop on the fused
// kernel, so tests can tell it from a fallback to the Loop.
var (
	rewriteRecurrentLoops = true
	fusedLoopRuns         atomic.Int64
)

// fusedLoop runs a recognised recurrent Loop on a fused kernel.
type fusedLoop struct {
	body    *graph
	kind    string // "LSTM", "GRU" or "RNN"
	cell    opKernel
	w, r, b *Tensor // ONNX layout, as the cell was prepared with
	hidden  int
	inputs  int

	counter               int // carried index of t
	timeType              DType
	roleH, roleC, roleOut int // carried indices; −1 when absent
	xImplicit, mImplicit  int // implicit-input indices of X and the mask (−1: none)

	cone                       []int // body steps that compute the condition
	iterSlot, timeSlot, condOf int

	trips sync.Map // trip count M → iterations the condition allows
}

// prepare recognises a recurrent Loop once its constant inputs are known.
func (l *loopOp) prepare(consts []*Tensor) {
	if rewriteRecurrentLoops {
		l.fused = recognizeRecurrentLoop(l, consts)
	}
}

// loopShape is what the structure of a Loop tells before weights are
// interpreted.
type loopShape struct {
	counter  int
	states   []int // carried indices of runtime (non-constant) values
	weights  []int // carried indices of constant pass-through floats
	xOuter   int   // index into body.outer
	mOuter   int   // −1: no mask
	cone     []int
	condSlot int
}

func recognizeRecurrentLoop(l *loopOp, consts []*Tensor) *fusedLoop {
	if l.scans != 1 || len(consts) < l.nIn {
		return nil
	}
	sh, ok := loopStructure(l, consts)
	if !ok || len(sh.weights) < 2 || len(sh.weights) > 3 {
		return nil
	}
	ws := make([]*Tensor, len(sh.weights))
	for i, j := range sh.weights {
		ws[i] = consts[2+j]
	}
	// Every reading of the weights as kernel, recurrent kernel and bias
	// that the shapes allow, until the body agrees with one.
	for a, k := range ws {
		for b, rec := range ws {
			if a == b || k.Rank() != 2 || rec.Rank() != 2 || k.Shape[1] != rec.Shape[1] ||
				rec.Shape[0] == 0 || rec.Shape[1]%rec.Shape[0] != 0 {
				continue
			}
			var bias *Tensor
			for c, t := range ws {
				if c != a && c != b {
					bias = t
				}
			}
			if f := tryCell(l, consts, sh, k, rec, bias); f != nil {
				return f
			}
		}
	}
	return nil
}

// loopStructure checks the Keras while-loop form and finds the counter,
// the states, the weights, the Gathers of X and the mask, and the
// condition's steps.
func loopStructure(l *loopOp, consts []*Tensor) (loopShape, bool) {
	body := l.body
	sh := loopShape{counter: -1, xOuter: -1, mOuter: -1}
	producer := map[int]int{} // slot → step
	consumers := map[int][]int{}
	for i, st := range body.steps {
		for _, o := range st.out {
			if o >= 0 {
				producer[o] = i
			}
		}
		for _, in := range st.in {
			if in >= 0 {
				consumers[in] = append(consumers[in], i)
			}
		}
	}
	isConst := func(slot int) bool { _, ok := body.consts[slot]; return ok }
	constValue := func(slot int) (int64, bool) {
		t, ok := body.consts[slot]
		if !ok || t.Len() != 1 {
			return 0, false
		}
		v, err := t.Ints()
		if err != nil {
			return 0, false
		}
		return v[0], true
	}
	for j := 0; j < l.carried; j++ {
		c := consts[2+j]
		inSlot, outSlot := body.inSlot[2+j], body.outSlot[1+j]
		switch {
		case c != nil && outSlot == inSlot && c.DType == Float:
			sh.weights = append(sh.weights, j)
		case c != nil && outSlot == inSlot:
			return sh, false // a constant of another kind: not this form
		case c != nil && c.Len() == 1 && (c.DType == Int32 || c.DType == Int64) && sh.counter < 0:
			if v, _ := c.Ints(); v[0] != 0 {
				return sh, false
			}
			p, ok := producer[outSlot]
			if !ok || body.steps[p].op != "Add" || len(body.steps[p].in) != 2 {
				return sh, false
			}
			a, b := body.steps[p].in[0], body.steps[p].in[1]
			if a != inSlot {
				a, b = b, a
			}
			if v, ok := constValue(b); a != inSlot || !ok || v != 1 {
				return sh, false
			}
			sh.counter = j
		case c == nil:
			sh.states = append(sh.states, j)
		default:
			return sh, false
		}
	}
	if sh.counter < 0 || len(sh.states) == 0 {
		return sh, false
	}
	timeSlot := body.inSlot[2+sh.counter]
	outerAt := map[int]int{}
	for k, sl := range body.outerSlot {
		outerAt[sl] = k
	}
	for _, st := range body.steps {
		if st.op != "Gather" || len(st.in) != 2 || st.in[1] != timeSlot {
			continue
		}
		k, ok := outerAt[st.in[0]]
		if !ok || attrs(st.node).Int("axis", 0) != 0 {
			return sh, false
		}
		feedsMatMul := false
		for _, c := range consumers[st.out[0]] {
			feedsMatMul = feedsMatMul || body.steps[c].op == "MatMul"
		}
		switch {
		case feedsMatMul && sh.xOuter < 0:
			sh.xOuter = k
		case !feedsMatMul && sh.mOuter < 0:
			sh.mOuter = k
		default:
			return sh, false
		}
	}
	if sh.xOuter < 0 {
		return sh, false
	}
	// Nothing else may come from outside.
	for k := range body.outer {
		if k != sh.xOuter && k != sh.mOuter {
			return sh, false
		}
	}
	// The condition's steps, which must read only the counters and
	// constants.
	iterSlot := body.inSlot[0]
	sh.condSlot = body.outSlot[0]
	inCone := map[int]bool{}
	var walk func(slot int) bool
	walk = func(slot int) bool {
		if slot == iterSlot || slot == timeSlot || isConst(slot) {
			return true
		}
		p, ok := producer[slot]
		if !ok {
			return false
		}
		if inCone[p] {
			return true
		}
		inCone[p] = true
		for _, in := range body.steps[p].in {
			if in >= 0 && !walk(in) {
				return false
			}
		}
		return true
	}
	if !walk(sh.condSlot) {
		return sh, false
	}
	for i := range body.steps {
		if inCone[i] {
			sh.cone = append(sh.cone, i)
		}
	}
	return sh, true
}

// kerasToONNX converts a Keras kernel [rows, g·H] to an ONNX weight
// [1, g·H, rows], taking ONNX gate block k from Keras block perm[k].
func kerasToONNX(k *Tensor, hidden int, perm []int) *Tensor {
	rows, cols := k.Shape[0], k.Shape[1]
	src := k.Float32s()
	out := make([]float32, rows*cols)
	for gk, kb := range perm {
		for u := 0; u < hidden; u++ {
			for r := 0; r < rows; r++ {
				out[(gk*hidden+u)*rows+r] = src[r*cols+kb*hidden+u]
			}
		}
	}
	return NewFloat32([]int{1, cols, rows}, out)
}

func permuteBlocks(v []float32, hidden int, perm []int) []float32 {
	out := make([]float32, len(v))
	for gk, kb := range perm {
		copy(out[gk*hidden:(gk+1)*hidden], v[kb*hidden:(kb+1)*hidden])
	}
	return out
}

// tryCell builds the fused cell for one reading of the weights and keeps
// it if the body agrees with it on random probes.
func tryCell(l *loopOp, consts []*Tensor, sh loopShape, kernelT, rec, bias *Tensor) *fusedLoop {
	hidden := rec.Shape[0]
	g := rec.Shape[1] / hidden
	in := kernelT.Shape[0]
	var kind string
	var perm []int
	switch g {
	case 1:
		kind, perm = "RNN", []int{0}
	case 3:
		kind, perm = "GRU", []int{0, 1, 2} // Keras z, r, h = ONNX z, r, h
	case 4:
		kind, perm = "LSTM", []int{0, 3, 1, 2} // Keras i, f, c, o → ONNX i, o, f, c
	default:
		return nil
	}
	masked := sh.mOuter >= 0
	nStates := 1
	if kind == "LSTM" {
		nStates = 2
	}
	if masked {
		nStates++
	}
	if len(sh.states) != nStates {
		return nil
	}
	b := make([]float32, 2*g*hidden)
	linearBeforeReset := int64(0)
	switch {
	case bias == nil:
	case bias.Rank() == 1 && bias.Shape[0] == g*hidden:
		copy(b, permuteBlocks(bias.Float32s(), hidden, perm))
	case bias.Rank() == 2 && bias.Shape[0] == 2 && bias.Shape[1] == g*hidden && kind == "GRU":
		// reset_after: the input bias, then the recurrent one applied
		// before the reset gate, as ONNX's linear_before_reset.
		copy(b, permuteBlocks(bias.Float32s()[:g*hidden], hidden, perm))
		copy(b[g*hidden:], permuteBlocks(bias.Float32s()[g*hidden:], hidden, perm))
		linearBeforeReset = 1
	default:
		return nil
	}
	f := &fusedLoop{
		body: l.body, kind: kind, hidden: hidden, inputs: in, counter: sh.counter,
		timeType: consts[2+sh.counter].DType, roleC: -1, roleOut: -1, mImplicit: -1,
		w: kerasToONNX(kernelT, hidden, perm), r: kerasToONNX(rec, hidden, perm),
		b:    NewFloat32([]int{1, 2 * g * hidden}, b),
		cone: sh.cone, iterSlot: l.body.inSlot[0], timeSlot: l.body.inSlot[2+sh.counter], condOf: sh.condSlot,
		xImplicit: l.outerIdx[sh.xOuter],
	}
	if masked {
		f.mImplicit = l.outerIdx[sh.mOuter]
	}
	outs := []string{"Y", "Y_h"}
	if kind == "LSTM" {
		outs = append(outs, "Y_c")
	}
	node := onnx.MakeNode("fused", kind, []string{"X", "W", "R", "B", "lens", "h0", "c0"}[:len(outs)+4], outs,
		onnx.AttrInt("hidden_size", int64(hidden)))
	if kind == "GRU" {
		node.Attribute = append(node.Attribute, onnx.AttrInt("linear_before_reset", linearBeforeReset))
	}
	build, ok := lookupOp("", kind, 14)
	if !ok {
		return nil
	}
	cell, err := build(proto.Clone(node).(*onnx.NodeProto), 14)
	if err != nil {
		return nil
	}
	if p, ok := cell.(preparer); ok {
		p.prepare([]*Tensor{nil, f.w, f.r})
	}
	f.cell = cell
	// Which runtime value is h, c and (with a mask) the last output: try
	// each assignment against the body.
	roles := permutations(sh.states)
	for _, r := range roles {
		f.roleH = r[0]
		f.roleC, f.roleOut = -1, -1
		next := 1
		if kind == "LSTM" {
			f.roleC = r[next]
			next++
		}
		if masked {
			f.roleOut = r[next]
		}
		if f.agrees(l, consts) {
			return f
		}
	}
	return nil
}

func permutations(v []int) [][]int {
	if len(v) <= 1 {
		return [][]int{append([]int{}, v...)}
	}
	var out [][]int
	for i := range v {
		rest := append(append([]int{}, v[:i]...), v[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{v[i]}, p...))
		}
	}
	return out
}

// agrees runs the body once on random states, inputs and (with a mask) a
// mixed mask, and compares its new states and scan output with one step
// of the fused cell.
func (f *fusedLoop) agrees(l *loopOp, consts []*Tensor) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	const batch = 3
	rng := rand.New(rand.NewPCG(uint64(f.hidden), uint64(f.inputs)))
	randT := func(shape []int, sd float64) *Tensor {
		v := make([]float32, numel(shape))
		for i := range v {
			v[i] = float32(rng.NormFloat64() * sd)
		}
		return NewFloat32(shape, v)
	}
	x := randT([]int{1, batch, f.inputs}, 1)
	mask := NewBool([]int{1, batch, 1}, []bool{true, false, true})
	formals := make([]*Tensor, 2+l.carried)
	formals[0], formals[1] = NewInt64(nil, []int64{0}), NewBool(nil, []bool{true})
	state := map[int]*Tensor{}
	for j := 0; j < l.carried; j++ {
		formals[2+j] = consts[2+j]
		if consts[2+j] == nil {
			state[j] = randT([]int{batch, f.hidden}, 0.7)
			formals[2+j] = state[j]
		}
	}
	outer := make([]*Tensor, len(l.body.outer))
	for k := range outer {
		outer[k] = x
		if f.mImplicit >= 0 && l.outerIdx[k] == f.mImplicit {
			outer[k] = mask
		}
	}
	got, err := l.body.call(context.Background(), formals, outer)
	if err != nil {
		return false
	}
	var c0 *Tensor
	if f.roleC >= 0 {
		c0 = state[f.roleC]
	}
	yh, yc, err := f.step(x, state[f.roleH], c0)
	if err != nil {
		return false
	}
	wantH, wantC, wantOut := yh, yc, yh
	if f.mImplicit >= 0 {
		pick := func(a, b *Tensor) *Tensor { // rows of a where the mask is set, else b
			out := b.Clone()
			for row, m := range mask.Bools() {
				if m {
					copy(out.Float32s()[row*f.hidden:(row+1)*f.hidden], a.Float32s()[row*f.hidden:(row+1)*f.hidden])
				}
			}
			return out
		}
		wantH, wantOut = pick(yh, state[f.roleH]), pick(yh, state[f.roleOut])
		if f.roleC >= 0 {
			wantC = pick(yc, state[f.roleC])
		}
	}
	close := func(a, b *Tensor) bool {
		return a != nil && b != nil && a.DType == Float && slices.Equal(a.Shape, b.Shape) && maxDiff(a.Float32s(), b.Float32s()) <= 1e-4
	}
	scan := got[1+l.carried]
	switch {
	case !close(got[1+f.roleH], wantH):
		return false
	case f.roleC >= 0 && !close(got[1+f.roleC], wantC):
		return false
	case f.roleOut >= 0 && !close(got[1+f.roleOut], wantOut):
		return false
	case f.roleOut >= 0:
		return close(scan, wantOut)
	}
	return close(scan, wantH)
}

func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d != d {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

// step runs the fused cell for one time step: x [1, batch, in], h0 and c0
// [batch, H]; it returns the new h and c as [batch, H].
func (f *fusedLoop) step(x, h0, c0 *Tensor) (h, c *Tensor, err error) {
	ins := []*Tensor{x, f.w, f.r, f.b, nil, reshaped(h0, []int{1, h0.Shape[0], f.hidden})}
	if f.kind == "LSTM" {
		ins = append(ins, reshaped(c0, []int{1, c0.Shape[0], f.hidden}))
	}
	outs, err := f.cell.Run(context.Background(), ins)
	if err != nil {
		return nil, nil, err
	}
	h = reshaped(outs[1], []int{h0.Shape[0], f.hidden})
	if f.kind == "LSTM" {
		c = reshaped(outs[2], []int{h0.Shape[0], f.hidden})
	}
	return h, c, nil
}

// tripCount is how many iterations the loop runs for trip count m (< 0:
// none given), stopping early past limit. The condition reads only the
// counters and constants, so the answer depends on m alone and is kept.
func (f *fusedLoop) tripCount(ctx context.Context, m int64, limit int) (int, error) {
	if v, ok := f.trips.Load(m); ok {
		return v.(int), nil
	}
	vals := make([]*Tensor, f.body.nslots)
	copy(vals, f.body.base)
	n := 0
	for k := int64(0); m < 0 || k < m; k++ {
		if n > limit {
			return n, nil // the caller falls back; not kept
		}
		n++
		vals[f.iterSlot] = NewInt64(nil, []int64{k})
		t, err := Cast(NewInt64(nil, []int64{k}), f.timeType)
		if err != nil {
			return 0, err
		}
		vals[f.timeSlot] = t
		for _, i := range f.cone {
			st := &f.body.steps[i]
			outs, err := runStep(ctx, st, func(j int) *Tensor { return vals[j] })
			if err != nil {
				return 0, err
			}
			for j, o := range st.out {
				if o >= 0 {
					vals[o] = outs[j]
				}
			}
		}
		c, err := scalarBool(vals[f.condOf], "the condition")
		if err != nil {
			return 0, err
		}
		if !c {
			break
		}
	}
	f.trips.Store(m, n)
	return n, nil
}

// run computes the Loop's outputs on the fused cell; handled is false when
// the inputs are outside what the rewrite assumes, and the Loop must run as
// written.
func (f *fusedLoop) run(ctx context.Context, l *loopOp, in []*Tensor) (outs []*Tensor, handled bool, err error) {
	m := int64(-1)
	if in[0] != nil {
		v, err := in[0].Ints()
		if err != nil || len(v) != 1 {
			return nil, false, nil
		}
		m = v[0]
	}
	if in[1] != nil {
		if c, err := scalarBool(in[1], "cond"); err != nil || !c {
			return nil, false, nil
		}
	}
	if t, err := in[2+f.counter].Ints(); err != nil || len(t) != 1 || t[0] != 0 {
		return nil, false, nil
	}
	implicit := in[l.nIn:]
	x := implicit[f.xImplicit]
	if x.DType != Float || x.Rank() != 3 || x.Shape[2] != f.inputs || x.Shape[1] == 0 {
		return nil, false, nil
	}
	seq, batch := x.Shape[0], x.Shape[1]
	n, err := f.tripCount(ctx, m, seq)
	if err != nil || n == 0 || n > seq {
		return nil, false, nil
	}
	state := func(j int) *Tensor {
		if j < 0 {
			return nil
		}
		t := in[2+j]
		if t == nil || t.DType != Float || t.Rank() != 2 || t.Shape[0] != batch || t.Shape[1] != f.hidden {
			return nil
		}
		return t
	}
	h0, c0, out0 := state(f.roleH), state(f.roleC), state(f.roleOut)
	if h0 == nil || (f.roleC >= 0 && c0 == nil) || (f.roleOut >= 0 && out0 == nil) {
		return nil, false, nil
	}
	var lens []int32
	if f.mImplicit >= 0 {
		if lens = prefixLengths(implicit[f.mImplicit], n, batch); lens == nil {
			return nil, false, nil
		}
	}
	xs := &Tensor{DType: Float, Shape: []int{n, batch, f.inputs}, Data: x.Float32s()[:n*batch*f.inputs]}
	ins := []*Tensor{xs, f.w, f.r, f.b, nil, reshaped(h0, []int{1, batch, f.hidden})}
	if lens != nil {
		ins[4] = NewInt32([]int{batch}, lens)
	}
	if f.kind == "LSTM" {
		ins = append(ins, reshaped(c0, []int{1, batch, f.hidden}))
	}
	res, err := f.cell.Run(ctx, ins)
	if err != nil {
		return nil, true, err
	}
	hb := batch * f.hidden
	y := res[0].Float32s() // [n, 1, batch, H]
	h := res[1].Float32s()[:hb]
	var c []float32
	if f.kind == "LSTM" {
		c = res[2].Float32s()[:hb]
	}
	if lens != nil {
		// Keras carries the last output (and the states) over masked
		// steps; ONNX leaves zeros. Rows with no step keep their inputs.
		for row, ln := range lens {
			r := row * f.hidden
			for t := int(ln); t < n; t++ {
				src := out0.Float32s()[r : r+f.hidden]
				if ln > 0 {
					src = y[(int(ln)-1)*hb+r : (int(ln)-1)*hb+r+f.hidden]
				}
				copy(y[t*hb+r:t*hb+r+f.hidden], src)
			}
			if ln == 0 {
				copy(h[r:r+f.hidden], h0.Float32s()[r:r+f.hidden])
				if c != nil {
					copy(c[r:r+f.hidden], c0.Float32s()[r:r+f.hidden])
				}
			}
		}
	}
	outs = make([]*Tensor, l.carried+1)
	for j := 0; j < l.carried; j++ {
		outs[j] = in[2+j] // the weights, unchanged
	}
	t, err := Cast(NewInt64(nil, []int64{int64(n)}), f.timeType)
	if err != nil {
		return nil, true, err
	}
	outs[f.counter] = t
	outs[f.roleH] = NewFloat32([]int{batch, f.hidden}, h)
	if f.roleC >= 0 {
		outs[f.roleC] = NewFloat32([]int{batch, f.hidden}, c)
	}
	if f.roleOut >= 0 {
		outs[f.roleOut] = NewFloat32([]int{batch, f.hidden}, append([]float32{}, y[(n-1)*hb:n*hb]...))
	}
	outs[l.carried] = NewFloat32([]int{n, batch, f.hidden}, y)
	fusedLoopRuns.Add(1)
	return outs, true, nil
}

// prefixLengths reads a mask [seq, batch] or [seq, batch, 1] (any numeric
// or BOOL type) over its first n steps and returns each row's count of
// leading set steps, or nil unless every row is set steps then unset ones.
func prefixLengths(mask *Tensor, n, batch int) []int32 {
	if mask.Rank() < 2 || mask.Rank() > 3 || mask.Shape[0] < n || mask.Shape[1] != batch || (mask.Rank() == 3 && mask.Shape[2] != 1) {
		return nil
	}
	b, err := Cast(mask, Bool)
	if err != nil {
		return nil
	}
	m := b.Bools()
	lens := make([]int32, batch)
	for row := 0; row < batch; row++ {
		ln := 0
		for ln < n && m[ln*batch+row] {
			ln++
		}
		for t := ln; t < n; t++ {
			if m[t*batch+row] {
				return nil
			}
		}
		lens[row] = int32(ln)
	}
	return lens
}

// String names the recognised cell, for tests and logs.
func (f *fusedLoop) String() string {
	s := fmt.Sprintf("%s(hidden %d, in %d)", f.kind, f.hidden, f.inputs)
	if f.mImplicit >= 0 {
		s += " masked"
	}
	return s
}
