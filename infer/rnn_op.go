package infer

import (
	"context"
	"fmt"
	"math"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// rnnKind tells the three recurrent operators apart.
type rnnKind int

const (
	kindLSTM rnnKind = iota
	kindGRU
	kindRNN
)

func (k rnnKind) String() string { return [...]string{"LSTM", "GRU", "RNN"}[k] }

// gates is the number of weight blocks per direction: W is [dirs, gates*H, in].
func (k rnnKind) gates() int { return [...]int{4, 3, 1}[k] }

// numActs is the number of activation functions per direction.
func (k rnnKind) numActs() int { return [...]int{3, 2, 1}[k] }

func (k rnnKind) defaultActs() []string {
	return [...][]string{{"Sigmoid", "Tanh", "Tanh"}, {"Sigmoid", "Tanh"}, {"Tanh"}}[k]
}

// rnnOp is a built LSTM, GRU or RNN node: validated attributes only, no
// per-run state, so one value serves concurrent runs.
type rnnOp struct {
	kind              rnnKind
	hidden            int // 0 when hidden_size is absent (taken from R)
	dirs              int
	reverse           bool
	layout            int
	clip              float32               // 0 = no clipping
	acts              [][]kernel.Activation // per direction
	defaultActs       bool
	inputForget       bool
	linearBeforeReset bool
	outputs           [3]bool // Y, Y_h, Y_c wanted
	nOut              int

	// yCat and yhCat (set by plan, layout 0 only) write Y as [seq, batch,
	// dirs·H] and Y_h as [batch, dirs·H]: the directions side by side, as
	// the Concat the planner removed would have.
	yCat, yhCat bool

	// constW and constR are inputs W and R when the session holds them
	// fixed (see prepare); runs given exactly those tensors reuse their
	// packed blocks from mats.
	constW, constR *Tensor
	mats           matCache

	// fused holds W, R and B packed for the fused float32 kernels when
	// they are session constants (see prepareFused).
	fused *fusedCache
}

// prepare notes W and R when they are session constants (initializers no
// run can override), so that their packing is done once, not on every run.
func (op *rnnOp) prepare(consts []*Tensor) {
	if len(consts) > 2 {
		op.constW, op.constR = consts[1], consts[2]
	}
	op.prepareFused(consts)
}

func buildLSTM(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return buildRNNOp(n, opset, kindLSTM)
}
func buildGRU(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildRNNOp(n, opset, kindGRU) }
func buildRNN(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildRNNOp(n, opset, kindRNN) }

func init() {
	// LSTM/GRU/RNN changed at opset 7 (current semantics), 14 (layout) and
	// 22 (bfloat16); the computation is the same for all three.
	registerOp("", "LSTM", 7, 0, buildLSTM)
	registerOp("", "GRU", 7, 0, buildGRU)
	registerOp("", "RNN", 7, 0, buildRNN)
}

func buildRNNOp(n *onnx.NodeProto, opset int64, kind rnnKind) (opKernel, error) {
	a := attrs(n)
	op := &rnnOp{kind: kind}
	if a.Has("hidden_size") {
		h := a.Int("hidden_size", 0)
		if h <= 0 || h > math.MaxInt32 {
			return nil, fmt.Errorf("hidden_size must be positive, got %d", h)
		}
		op.hidden = int(h)
	}
	switch d := a.String("direction", "forward"); d {
	case "forward":
		op.dirs = 1
	case "reverse":
		op.dirs, op.reverse = 1, true
	case "bidirectional":
		op.dirs = 2
	default:
		return nil, fmt.Errorf("direction must be forward, reverse or bidirectional, got %q", d)
	}
	layout := a.Int("layout", 0)
	if layout != 0 && layout != 1 {
		return nil, fmt.Errorf("layout must be 0 or 1, got %d", layout)
	}
	if layout == 1 && opset < 14 {
		return nil, fmt.Errorf("layout=1 needs opset 14 or later (model has opset %d)", opset)
	}
	op.layout = int(layout)
	if a.Has("clip") {
		c := a.Float("clip", 0)
		if !(c > 0) {
			return nil, fmt.Errorf("clip must be positive, got %v", c)
		}
		op.clip = c
	}
	names := a.Strings("activations")
	if len(names) == 0 {
		for range op.dirs {
			names = append(names, kind.defaultActs()...)
		}
	}
	if len(names) != kind.numActs()*op.dirs {
		return nil, fmt.Errorf("activations: %s with %d direction(s) needs %d functions, got %d",
			kind, op.dirs, kind.numActs()*op.dirs, len(names))
	}
	acts, err := kernel.ParseActivations(names, a.Floats("activation_alpha"), a.Floats("activation_beta"))
	if err != nil {
		return nil, err
	}
	op.defaultActs = true
	for d := range op.dirs {
		da := acts[d*kind.numActs() : (d+1)*kind.numActs()]
		op.acts = append(op.acts, da)
		for i, ac := range da {
			def := kernel.ActTanh
			if kind != kindRNN && i == 0 {
				def = kernel.ActSigmoid
			}
			if ac.Kind != def {
				op.defaultActs = false
			}
		}
	}
	switch kind {
	case kindLSTM:
		v := a.Int("input_forget", 0)
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("input_forget must be 0 or 1, got %d", v)
		}
		op.inputForget = v == 1
	case kindGRU:
		v := a.Int("linear_before_reset", 0)
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("linear_before_reset must be 0 or 1, got %d", v)
		}
		op.linearBeforeReset = v == 1
	}
	maxOut := 2
	if kind == kindLSTM {
		maxOut = 3
	}
	if len(n.GetOutput()) > maxOut {
		return nil, fmt.Errorf("%s has at most %d outputs, node lists %d", kind, maxOut, len(n.GetOutput()))
	}
	maxIn := 6
	if kind == kindLSTM {
		maxIn = 8
	}
	if len(n.GetInput()) < 3 || len(n.GetInput()) > maxIn {
		return nil, fmt.Errorf("%s takes 3 to %d inputs, node lists %d", kind, maxIn, len(n.GetInput()))
	}
	for i, name := range n.GetOutput() {
		op.outputs[i] = name != ""
	}
	op.nOut = len(n.GetOutput())
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// rnnFloat is the element types the recurrent operators compute in.
type rnnFloat interface{ float32 | float64 }

func (op *rnnOp) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, fmt.Errorf("%s needs inputs X, W and R", op.kind)
	}
	threads := threadsFrom(ctx)
	switch in[0].Data.(type) {
	case []float32, *embedIDs:
		return runRNNOp[float32](op, in, threads, poolFrom(ctx))
	case []float64:
		return runRNNOp[float64](op, in, threads, nil)
	}
	return nil, fmt.Errorf("%s: X must be float32 or float64, got %v", op.kind, in[0].DType)
}

// rnnInput returns in[i] or nil when the input is absent.
func rnnInput(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

func rnnFloats[T rnnFloat](t *Tensor, name string, shape ...int) ([]T, error) {
	d, ok := t.Data.([]T)
	if !ok {
		var z T
		return nil, fmt.Errorf("%s must have the element type of X (%T), got %v", name, z, t.DType)
	}
	if !rnnSameShape(t.Shape, shape) {
		return nil, fmt.Errorf("%s must have shape %v, got %v", name, shape, t.Shape)
	}
	if len(d) != rnnProd(shape) {
		return nil, fmt.Errorf("%s: shape %v holds %d elements, data has %d", name, t.Shape, rnnProd(shape), len(d))
	}
	return d, nil
}

func rnnSameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func rnnProd(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// maxRNNElems bounds every buffer an RNN run allocates, so that a malformed
// model fails with an error instead of exhausting memory.
const maxRNNElems = 1 << 30

func rnnCheckedProd(dims ...int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 || (d != 0 && n > maxRNNElems/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

func runRNNOp[T rnnFloat](op *rnnOp, in []*Tensor, threads int, pool *floatPool) ([]*Tensor, error) {
	k := op.kind
	W, R := in[1], in[2]
	if len(R.Shape) != 3 {
		return nil, fmt.Errorf("%s: R must be 3-D, got shape %v", k, R.Shape)
	}
	H := op.hidden
	if H == 0 {
		H = R.Shape[2]
	}
	prob, err := newRNNProblem[T](op, in, H, pool)
	if err != nil {
		return nil, err
	}
	G, dirs, inSize := prob.gates, prob.dirs, prob.in
	w, err := rnnFloats[T](W, "W", dirs, G*H, inSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	r, err := rnnFloats[T](R, "R", dirs, G*H, H)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	var b []T
	if t := rnnInput(in, 3); t != nil {
		if b, err = rnnFloats[T](t, "B", dirs, 2*G*H); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	var p []T
	if k == kindLSTM {
		if t := rnnInput(in, 7); t != nil {
			if p, err = rnnFloats[T](t, "P", dirs, 3*H); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	if p32, ok := any(prob).(*rnnProblem[float32]); ok && op.fusable() && p == nil && prob.seq > 0 && prob.batch > 0 {
		p32.ycat, p32.yhcat = op.yCat, op.yhCat
		w32, r32, b32 := any(w).([]float32), any(r).([]float32), any(b).([]float32)
		fw := op.fusedWeightsFor(W, R, rnnInput(in, 3), p32, w32, r32, b32)
		if prob.emb != nil && prob.emb.fw != fw {
			return nil, fmt.Errorf("%s: internal error: folded embedding made with other weights", k)
		}
		runFused(p32, k, op.linearBeforeReset, fw, threads)
	} else if prob.emb != nil {
		return nil, fmt.Errorf("%s: internal error: folded embedding off the fused path", k)
	} else {
		runCells(op, prob, w, r, b, p, W, R, threads)
	}
	return rnnOutputs(op, prob), nil
}

// newRNNProblem validates X (in[0]), sequence_lens (in[4]) and the initial
// states (in[5], and in[6] for an LSTM) of a recurrent node with hidden size
// H, brings them to layout 0 and allocates the outputs the node names.
func newRNNProblem[T rnnFloat](op *rnnOp, in []*Tensor, H int, pool *floatPool) (*rnnProblem[T], error) {
	k := op.kind
	X := in[0]
	if len(X.Shape) != 3 {
		return nil, fmt.Errorf("%s: X must be 3-D, got shape %v", k, X.Shape)
	}
	seq, batch, inSize := X.Shape[0], X.Shape[1], X.Shape[2]
	emb, _ := X.Data.(*embedIDs)
	if emb != nil && op.layout != 0 {
		return nil, fmt.Errorf("%s: internal error: folded embedding with layout %d", k, op.layout)
	}
	if op.layout == 1 {
		seq, batch = batch, seq
	}
	G := k.gates()
	dirs := op.dirs
	if _, ok := rnnCheckedProd(dirs, G, H, max(H, inSize, 2)); !ok {
		return nil, fmt.Errorf("%s: hidden size %d and input size %d are too large", k, H, inSize)
	}
	if _, ok := rnnCheckedProd(seq, batch, dirs, G, max(H, inSize)); !ok {
		return nil, fmt.Errorf("%s: X shape %v is too large", k, X.Shape)
	}
	if H <= 0 {
		return nil, fmt.Errorf("%s: hidden size is %d", k, H)
	}
	var x []T
	var err error
	if emb == nil {
		if x, err = rnnFloats[T](X, "X", X.Shape...); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	var lens []int32
	if t := rnnInput(in, 4); t != nil {
		if !rnnSameShape(t.Shape, []int{batch}) {
			return nil, fmt.Errorf("%s: sequence_lens must have shape [%d], got %v", k, batch, t.Shape)
		}
		switch d := t.Data.(type) {
		case []int32:
			lens = d
		case []int64:
			lens = make([]int32, len(d))
			for i, v := range d {
				lens[i] = int32(max(min(v, math.MaxInt32), math.MinInt32))
			}
		default:
			return nil, fmt.Errorf("%s: sequence_lens must be int32, got %v", k, t.DType)
		}
		if len(lens) != batch {
			return nil, fmt.Errorf("%s: sequence_lens holds %d values for batch %d", k, len(lens), batch)
		}
		for i, l := range lens {
			if l < 0 || int(l) > seq {
				return nil, fmt.Errorf("%s: sequence_lens[%d] = %d is outside [0, %d]", k, i, l, seq)
			}
		}
	}
	stateShape := []int{dirs, batch, H}
	if op.layout == 1 {
		stateShape = []int{batch, dirs, H}
	}
	var h0, c0 []T
	if t := rnnInput(in, 5); t != nil {
		if h0, err = rnnFloats[T](t, "initial_h", stateShape...); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	if k == kindLSTM {
		if t := rnnInput(in, 6); t != nil {
			if c0, err = rnnFloats[T](t, "initial_c", stateShape...); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	if op.layout == 1 {
		x = rnnSwap01(x, batch, seq, inSize)
		if h0 != nil {
			h0 = rnnSwap01(h0, batch, dirs, H)
		}
		if c0 != nil {
			c0 = rnnSwap01(c0, batch, dirs, H)
		}
	}
	prob := &rnnProblem[T]{
		seq: seq, batch: batch, in: inSize, hidden: H, dirs: dirs, reverse: op.reverse,
		gates: G, x: x, lens: lens, h0: h0, c0: c0, emb: emb,
	}
	if op.outputs[0] {
		// The fused kernels write every element of Y when every row runs
		// all steps; anything else needs it zeroed.
		var zero T
		_, f32 := any(zero).(float32)
		fused := f32 && op.fusable() && rnnInput(in, 7) == nil && lens == nil
		prob.y = rnnAlloc[T](pool, seq*dirs*batch*H, !fused)
	}
	if op.outputs[1] {
		prob.yh = make([]T, dirs*batch*H)
	}
	if op.outputs[2] && k == kindLSTM {
		prob.yc = make([]T, dirs*batch*H)
	}
	return prob, nil
}

// rnnAlloc returns n elements for Y, from the run's pool when T is
// float32, zeroed when zero is set or the buffer is new.
func rnnAlloc[T rnnFloat](pool *floatPool, n int, zero bool) []T {
	var z T
	if _, ok := any(z).(float32); ok && pool != nil && n >= minPooled {
		y := any(pool.get(n)).([]T)
		if zero {
			clear(y)
		}
		return y
	}
	return make([]T, n)
}

// rnnOutputs wraps the results of prob as the node's outputs (Y, Y_h,
// Y_c, nil where the node names none), in the op's layout.
func rnnOutputs[T rnnFloat](op *rnnOp, prob *rnnProblem[T]) []*Tensor {
	seq, dirs, batch, H := prob.seq, prob.dirs, prob.batch, prob.hidden
	out := make([]*Tensor, 0, 3)
	if op.outputs[0] {
		if op.yCat {
			y := prob.y
			if !prob.ycat {
				y = make([]T, len(prob.y))
				for t := range seq {
					for d := range dirs {
						for bb := range batch {
							copy(y[((t*batch+bb)*dirs+d)*H:][:H], prob.y[((t*dirs+d)*batch+bb)*H:][:H])
						}
					}
				}
			}
			out = append(out, New([]int{seq, batch, dirs * H}, y))
		} else if op.layout == 1 {
			// [seq, dirs, batch, H] → [batch, seq, dirs, H]
			y := make([]T, len(prob.y))
			for t := range seq {
				for d := range dirs {
					for bb := range batch {
						copy(y[((bb*seq+t)*dirs+d)*H:][:H], prob.y[((t*dirs+d)*batch+bb)*H:][:H])
					}
				}
			}
			out = append(out, New([]int{batch, seq, dirs, H}, y))
		} else {
			out = append(out, New([]int{seq, dirs, batch, H}, prob.y))
		}
	} else {
		out = append(out, nil)
	}
	for i, s := range [][]T{prob.yh, prob.yc} {
		switch {
		case s == nil:
			out = append(out, nil)
		case i == 0 && op.yhCat && prob.yhcat:
			out = append(out, New([]int{batch, dirs * H}, s))
		case i == 0 && op.yhCat:
			out = append(out, New([]int{batch, dirs * H}, rnnSwap01(s, dirs, batch, H)))
		case op.layout == 1:
			out = append(out, New([]int{batch, dirs, H}, rnnSwap01(s, dirs, batch, H)))
		default:
			out = append(out, New([]int{dirs, batch, H}, s))
		}
	}
	return out[:op.nOut]
}

// rnnSwap01 transposes [a, b, n] into [b, a, n].
func rnnSwap01[T any](s []T, a, b, n int) []T {
	out := make([]T, len(s))
	for i := range a {
		for j := range b {
			copy(out[(j*a+i)*n:][:n], s[(i*b+j)*n:][:n])
		}
	}
	return out
}

// runCells computes prob on the general cells (rnn_cells.go): any
// activations, clip, peepholes, input_forget, float64.
func runCells[T rnnFloat](op *rnnOp, prob *rnnProblem[T], w, r, b, p []T, W, R *Tensor, threads int) {
	k, G, H, dirs, batch, inSize := op.kind, prob.gates, prob.hidden, prob.dirs, prob.batch, prob.in
	mat, wMat := newRecurrentMat[T], newRecurrentMat[T]
	if R != nil && R == op.constR {
		mat = cachedMats[T](&op.mats)
	}
	if W != nil && W == op.constW {
		wMat = cachedMats[T](&op.mats)
	}
	cells := make([]rnnDirection[T], dirs)
	for d := range dirs {
		var wb, rb []T
		if b != nil {
			wb, rb = b[d*2*G*H:d*2*G*H+G*H], b[d*2*G*H+G*H:(d+1)*2*G*H]
		}
		rd := r[d*G*H*H : (d+1)*G*H*H]
		cell := rnnDirection[T]{w: wMat(w[d*G*H*inSize:(d+1)*G*H*inSize], G*H, inSize)}
		switch k {
		case kindLSTM, kindRNN:
			// Both biases add onto the x-projection.
			if b != nil {
				cell.xbias = make([]T, G*H)
				for j := range cell.xbias {
					cell.xbias[j] = wb[j] + rb[j]
				}
			}
		case kindGRU:
			// Rbh stays apart: with linear_before_reset it sits inside the
			// reset product, and without it after (r ⊙ h)·Rhᵀ.
			if b != nil {
				cell.xbias = make([]T, G*H)
				for j := range cell.xbias {
					cell.xbias[j] = wb[j]
					if j < 2*H {
						cell.xbias[j] += rb[j]
					}
				}
			}
		}
		switch k {
		case kindLSTM:
			c := &lstmCell[T]{batch: batch, hidden: H, r: rd, mat: mat, acts: op.acts[d], clip: op.clip,
				inputForget: op.inputForget}
			if p != nil {
				c.p = p[d*3*H : (d+1)*3*H]
			}
			c.general = !op.defaultActs || op.clip > 0 || op.inputForget || p != nil
			cell.step = c.step
		case kindGRU:
			c := &gruCell[T]{batch: batch, hidden: H, r: rd, mat: mat, acts: op.acts[d], clip: op.clip,
				linearBeforeReset: op.linearBeforeReset}
			if rb != nil {
				c.rbh = rb[2*H:]
			}
			cell.step = c.step
		case kindRNN:
			c := &rnnCell[T]{batch: batch, hidden: H, r: rd, mat: mat, act: op.acts[d][0], clip: op.clip}
			cell.step = c.step
		}
		cells[d] = cell
	}
	prob.run(cells, threads)
}
