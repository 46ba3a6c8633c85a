package infer

import (
	"runtime"
	"slices"
	"sync"

	"github.com/birnn/birnn/internal/kernel"
)

// The float32 fast path of the recurrent operators: LSTM, GRU (both
// linear_before_reset forms) and RNN with the default activations and no
// clip, peepholes or input_forget run on the fused step kernels of
// internal/kernel. Work is cut into tasks — a set of directions and a
// range of batch rows — that share nothing and run on kernel.Parallel's
// pool: rows never interact in a recurrent layer, so a task runs its whole
// sequence without waiting for another. A task holding both directions
// interleaves their steps (forward step s, then backward step s), giving
// one core two independent chains. The input projection x·Wᵀ + b is done
// a chunk of steps at a time (one GEMM per chunk), just before the steps
// that read it, so that it is still in cache and its buffer stays small.
//
// Every output element is computed by one task with the same arithmetic
// whatever the split, so results are bit-identical for any thread count.

// fusedDir holds one direction's weights packed for the fused kernels:
// float32 (w, r, rh) or, for DynamicQuantizeLSTM, int8 (qw, qr).
type fusedDir struct {
	w     *kernel.GateMatrix  // W [G·H, in]
	r     *kernel.GateMatrix  // R (GRU lbr 0: its z and r rows)
	rh    *kernel.GateMatrix  // GRU lbr 0: the h rows of R
	qw    *kernel.QGateMatrix // int8 W
	qr    *kernel.QGateMatrix // int8 R
	xbias []float32           // [l.LD] bias of the input projection
	rbias []float32           // GRU: bias of the recurrent product (lbr 1 in r's layout, lbr 0 in rh's)
}

// fusedWeights is the packed form of an operator's W, R and B.
type fusedWeights struct {
	l    kernel.Gates // layout of the input projections
	dirs []fusedDir
}

// project writes bias + x·Wᵀ for rows of x (row stride in) into c.
func (fd *fusedDir) project(rows int, x []float32, in int, c []float32, ld int, qs *kernel.QScratch) {
	if fd.qw != nil {
		fd.qw.MulAddQ(rows, x, in, fd.xbias, c, ld, qs)
		return
	}
	fd.w.Project(rows, x, in, fd.xbias, c, ld)
}

// fusable reports whether the op can run on the fused kernels (given
// float32 tensors and no peepholes).
func (op *rnnOp) fusable() bool {
	return op.defaultActs && op.clip == 0 && !op.inputForget
}

// packFused lays out w [dirs, G·H, in], r [dirs, G·H, H] and b [dirs, 2·G·H]
// (or nil) for the fused kernels.
func packFused(k rnnKind, lbr bool, dirs, H, in int, w, r, b []float32) *fusedWeights {
	G := k.gates()
	lx := kernel.NewGates(G, H)
	fw := &fusedWeights{l: lx, dirs: make([]fusedDir, dirs)}
	for d := range dirs {
		wd, rd := w[d*G*H*in:(d+1)*G*H*in], r[d*G*H*H:(d+1)*G*H*H]
		fd := &fw.dirs[d]
		fd.w = kernel.NewGateMatrix(lx, wd, in)
		var rb []float32
		fd.xbias, rb = fusedXBias(k, lx, b, d)
		switch {
		case k == kindGRU && !lbr:
			l2, l1 := kernel.NewGates(2, H), kernel.NewGates(1, H)
			fd.r = kernel.NewGateMatrix(l2, rd[:2*H*H], H)
			fd.rh = kernel.NewGateMatrix(l1, rd[2*H*H:], H)
			fd.rbias = make([]float32, l1.LD)
			if rb != nil {
				l1.Interleave(fd.rbias, rb[2*H:])
			}
		case k == kindGRU:
			fd.r = kernel.NewGateMatrix(lx, rd, H)
			fd.rbias = make([]float32, lx.LD)
			if rb != nil {
				full := make([]float32, 3*H)
				copy(full[2*H:], rb[2*H:])
				lx.Interleave(fd.rbias, full)
			}
		default:
			fd.r = kernel.NewGateMatrix(lx, rd, H)
		}
	}
	return fw
}

// fusedXBias returns direction d's bias of the input projection in lx's
// layout (b [dirs, 2·G·H] = [Wb, Rb] per direction, or nil) and its Rb
// (nil without b): Wb + Rb, except that a GRU keeps Rbh apart, inside the
// reset product with linear_before_reset and after (r ⊙ h)·Rhᵀ without.
func fusedXBias(k rnnKind, lx kernel.Gates, b []float32, d int) (xbias, rb []float32) {
	G, H := lx.G, lx.H
	xb := make([]float32, G*H)
	if b != nil {
		wb := b[d*2*G*H : d*2*G*H+G*H]
		rb = b[d*2*G*H+G*H : (d+1)*2*G*H]
		for j := range xb {
			xb[j] = wb[j]
			if k != kindGRU || j < 2*H {
				xb[j] += rb[j]
			}
		}
	}
	xbias = make([]float32, lx.LD)
	lx.Interleave(xbias, xb)
	return xbias, rb
}

// fusedCache keeps the packed weights of an op whose W, R and B are
// session constants, built once by prepare.
type fusedCache struct {
	w, r, b *Tensor
	fw      *fusedWeights
}

// prepareFused packs constant float32 weights at load time.
func (op *rnnOp) prepareFused(consts []*Tensor) {
	if len(consts) < 3 || consts[1] == nil || consts[2] == nil || !op.fusable() {
		return
	}
	w, wok := consts[1].Data.([]float32)
	r, rok := consts[2].Data.([]float32)
	if !wok || !rok || len(consts[2].Shape) != 3 || len(consts[1].Shape) != 3 {
		return
	}
	var bt *Tensor
	var b []float32
	if len(consts) > 3 {
		bt = consts[3]
	}
	H := op.hidden
	if H == 0 {
		H = consts[2].Shape[2]
	}
	G, in := op.kind.gates(), consts[1].Shape[2]
	if !rnnSameShape(consts[1].Shape, []int{op.dirs, G * H, in}) || !rnnSameShape(consts[2].Shape, []int{op.dirs, G * H, H}) ||
		len(w) != op.dirs*G*H*in || len(r) != op.dirs*G*H*H || H == 0 {
		return // Run reports the mismatch
	}
	if bt != nil {
		var ok bool
		if b, ok = bt.Data.([]float32); !ok || len(b) != op.dirs*2*G*H {
			return
		}
	}
	op.fused = &fusedCache{w: consts[1], r: consts[2], b: bt,
		fw: packFused(op.kind, op.linearBeforeReset, op.dirs, H, in, w, r, b)}
}

// fusedWeightsFor returns the packed weights for this run's W, R and B.
func (op *rnnOp) fusedWeightsFor(W, R, B *Tensor, p *rnnProblem[float32], w, r, b []float32) *fusedWeights {
	if c := op.fused; c != nil && c.w == W && c.r == R && c.b == B {
		return c.fw
	}
	return packFused(op.kind, op.linearBeforeReset, p.dirs, p.hidden, p.in, w, r, b)
}

// chunkFloats bounds the input projection buffer of one direction of a
// task (128 KB): a chunk of steps is projected at once.
const chunkFloats = 1 << 15

// fusedTask is one independent share of a run: directions dirs[:nd] for
// batch rows [b0, b1).
type fusedTask struct {
	dirs   [2]int
	nd     int
	b0, b1 int
}

// fusedRun is the state of one fused operator run; runs are pooled so
// that a steady state allocates only the outputs.
type fusedRun struct {
	p     *rnnProblem[float32]
	kind  rnnKind
	lbr   bool
	fw    *fusedWeights
	tasks []fusedTask
	chunk int // steps per projection chunk
	bufs  [][]float32
	qs    []kernel.QScratch // per task, for int8 weights
	order []int             // lens: rows by decreasing length
}

var fusedRuns = sync.Pool{New: func() any { return new(fusedRun) }}

// runFused computes p (float32, layout 0) on the fused kernels with up to
// threads threads (≤ 0: GOMAXPROCS).
func runFused(p *rnnProblem[float32], kind rnnKind, lbr bool, fw *fusedWeights, threads int) {
	threads = resolveThreads(threads)
	f := fusedRuns.Get().(*fusedRun)
	f.p, f.kind, f.lbr, f.fw = p, kind, lbr, fw
	f.plan(threads)
	for len(f.bufs) < len(f.tasks) {
		f.bufs = append(f.bufs, nil)
	}
	for len(f.qs) < len(f.tasks) {
		f.qs = append(f.qs, kernel.QScratch{})
	}
	if p.lens != nil {
		f.order = f.order[:0]
		for b := range p.batch {
			f.order = append(f.order, b)
		}
		slices.SortStableFunc(f.order, func(a, b int) int { return int(p.lens[b]) - int(p.lens[a]) })
	}
	kernel.Parallel(threads, len(f.tasks), f)
	f.p, f.fw = nil, nil
	fusedRuns.Put(f)
}

// resolveThreads is the thread count of a run: n, or GOMAXPROCS when n ≤ 0.
func resolveThreads(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// plan cuts the run into tasks for threads threads. Two directions go to
// separate tasks when there are threads for both; rows are split further
// (in multiples of the kernels' 6-row blocks) only without sequence_lens,
// whose tasks keep all rows to sort them by length.
func (f *fusedRun) plan(threads int) {
	p := f.p
	f.tasks = f.tasks[:0]
	var dirSets [][2]int
	if p.dirs == 2 && threads >= 2 {
		dirSets = [][2]int{{0, 0}, {1, 0}}
	} else if p.dirs == 2 {
		dirSets = [][2]int{{0, 1}}
	} else {
		dirSets = [][2]int{{0, 0}}
	}
	nd := 1
	if p.dirs == 2 && threads < 2 {
		nd = 2
	}
	chunks := 1
	if p.lens == nil {
		chunks = max(1, threads/len(dirSets))
		const minRows = 12
		chunks = max(1, min(chunks, p.batch/minRows))
	}
	size := (p.batch + chunks - 1) / chunks
	if chunks > 1 {
		size = (size + 5) / 6 * 6
	}
	for _, ds := range dirSets {
		for b0 := 0; b0 < p.batch; b0 += size {
			f.tasks = append(f.tasks, fusedTask{dirs: ds, nd: nd, b0: b0, b1: min(p.batch, b0+size)})
		}
	}
	f.chunk = p.seq
	if p.lens == nil {
		f.chunk = max(1, min(p.seq, chunkFloats/(size*f.fw.l.LD)))
	}
}

// taskBuffers carves the scratch of a task out of one pooled slice:
// per direction the projection chunk, h and c, then the step scratch.
type taskBuffers struct {
	xp, h, c [2][]float32
	acc, zr  []float32
	z        []float32 // lens: the gathered pre-activations of a step
	qs       *kernel.QScratch
}

func (f *fusedRun) buffers(i int) taskBuffers {
	t := f.tasks[i]
	p := f.p
	rows := t.b1 - t.b0
	lx := f.fw.l
	xpRows := f.chunk * rows
	if p.lens != nil {
		xpRows = p.seq * p.batch
	}
	need := t.nd * (xpRows*lx.LD + 2*rows*lx.Hp)
	var accN, zrN int
	switch {
	case f.kind == kindGRU && !f.lbr:
		d := f.fw.dirs[0]
		accN, zrN = 6*(d.r.L.LD+d.rh.L.LD), 2*6*lx.Hp
	case f.kind == kindGRU:
		accN = 6 * lx.LD
	}
	zN := 0
	if p.lens != nil {
		zN = rows * lx.LD
	}
	need += accN + zrN + zN
	if cap(f.bufs[i]) < need {
		f.bufs[i] = make([]float32, need)
	}
	s := f.bufs[i][:need]
	take := func(n int) []float32 {
		v := s[:n:n]
		s = s[n:]
		return v
	}
	var tb taskBuffers
	for j := range t.nd {
		tb.xp[j] = take(xpRows * lx.LD)
		tb.h[j] = take(rows * lx.Hp)
		tb.c[j] = take(rows * lx.Hp)
	}
	tb.acc, tb.zr, tb.z = take(accN), take(zrN), take(zN)
	tb.qs = &f.qs[i]
	return tb
}

// Task runs task i: see fusedTask.
func (f *fusedRun) Task(i int) {
	t := f.tasks[i]
	p := f.p
	tb := f.buffers(i)
	H := p.hidden
	hp := f.fw.l.Hp
	rows := t.b1 - t.b0
	for j := range t.nd {
		d := t.dirs[j]
		h, c := tb.h[j], tb.c[j]
		clear(h)
		clear(c)
		for b := range rows {
			src := (d*p.batch + t.b0 + b) * H
			if p.lens != nil {
				src = (d*p.batch + f.order[b]) * H
			}
			if p.h0 != nil {
				copy(h[b*hp:b*hp+H], p.h0[src:src+H])
			}
			if p.c0 != nil {
				copy(c[b*hp:b*hp+H], p.c0[src:src+H])
			}
		}
	}
	if p.lens != nil {
		f.runLens(t, tb)
	} else {
		f.runChunks(t, tb)
	}
	for j := range t.nd {
		d := t.dirs[j]
		for b := range rows {
			row := t.b0 + b
			if p.lens != nil {
				row = f.order[b]
			}
			dst := (d*p.batch + row) * H
			if p.lens != nil && p.lens[row] == 0 {
				// ONNX Runtime reports zero states, not the initial
				// ones, for rows of length 0.
				continue
			}
			if p.yh != nil {
				o := p.yhOff(d, row)
				copy(p.yh[o:o+H], tb.h[j][b*hp:b*hp+H])
			}
			if p.yc != nil {
				copy(p.yc[dst:dst+H], tb.c[j][b*hp:b*hp+H])
			}
		}
	}
}

// reversed reports whether direction d runs right to left.
func (f *fusedRun) reversed(d int) bool { return d == 1 || f.p.reverse }

// runChunks runs a task without sequence_lens: every row reads the same
// time step, so a chunk of steps is projected with one product per
// direction (per step when the task holds only some rows). When Y is
// wanted and H is a multiple of 8, each step writes its new hidden state
// straight into Y (the task's rows of Y[t, d] are contiguous with stride
// H) and the next step reads it from there.
func (f *fusedRun) runChunks(t fusedTask, tb taskBuffers) {
	p := f.p
	rows := t.b1 - t.b0
	l := f.fw.l
	ld := l.LD
	direct := p.y != nil && l.Hp == p.hidden && !p.ycat
	yRows := func(d, tt int) []float32 {
		off := p.yOff(tt, d, t.b0)
		return p.y[off : off+rows*p.hidden]
	}
	// A GRU only reads its input projection, so one row of a folded
	// embedding is read in its table, not copied.
	inTable := p.emb != nil && rows == 1 && f.kind == kindGRU && f.fw.dirs[0].qw == nil
	for s0 := 0; s0 < p.seq; s0 += f.chunk {
		n := min(f.chunk, p.seq-s0)
		for j := range t.nd {
			if inTable {
				break
			}
			d := t.dirs[j]
			// The chunk holds times [lo, lo+n) in increasing order.
			lo := s0
			if f.reversed(d) {
				lo = p.seq - s0 - n
			}
			if rows == p.batch {
				f.projectRows(d, lo*p.batch, n*rows, tb.xp[j], tb.qs)
			} else {
				for k := range n {
					f.projectRows(d, (lo+k)*p.batch+t.b0, rows, tb.xp[j][k*rows*ld:], tb.qs)
				}
			}
		}
		for s := s0; s < s0+n; s++ {
			for j := range t.nd {
				d := t.dirs[j]
				tt, lo, prev := s, s0, s-1
				if f.reversed(d) {
					tt, lo, prev = p.seq-1-s, p.seq-s0-n, p.seq-s
				}
				z := tb.xp[j][(tt-lo)*rows*ld:]
				if inTable {
					z = p.emb.tables[d][int(p.emb.ids[tt*p.batch+t.b0])*ld:]
				}
				if !direct {
					f.step(d, rows, z, tb.h[j], tb.h[j], tb.c[j], tb)
					f.writeY(d, tt, t.b0, rows, tb.h[j])
					continue
				}
				hPrev := tb.h[j]
				if s > 0 {
					hPrev = yRows(d, prev)
				}
				f.step(d, rows, z, hPrev, yRows(d, tt), tb.c[j], tb)
			}
		}
	}
	if direct {
		for j := range t.nd {
			d, last := t.dirs[j], p.seq-1
			if f.reversed(d) {
				last = 0
			}
			copy(tb.h[j], yRows(d, last))
		}
	}
}

// runLens runs a task with sequence_lens: the whole sequence is projected
// for all rows, rows are kept in order of decreasing length so that the
// rows still running at step s are a prefix, and each step gathers their
// projections (reverse rows read time len−1−s).
func (f *fusedRun) runLens(t fusedTask, tb taskBuffers) {
	p := f.p
	ld := f.fw.l.LD
	hp := f.fw.l.Hp
	for j := range t.nd {
		f.projectRows(t.dirs[j], 0, p.seq*p.batch, tb.xp[j], tb.qs)
	}
	maxLen := int(p.lens[f.order[0]])
	for s := range maxLen {
		active := 0
		for active < p.batch && int(p.lens[f.order[active]]) > s {
			active++
		}
		for j := range t.nd {
			d := t.dirs[j]
			for k := range active {
				b := f.order[k]
				tt := s
				if f.reversed(d) {
					tt = int(p.lens[b]) - 1 - s
				}
				copy(tb.z[k*ld:(k+1)*ld], tb.xp[j][(tt*p.batch+b)*ld:])
			}
			f.step(d, active, tb.z, tb.h[j], tb.h[j], tb.c[j], tb)
			if p.y == nil {
				continue
			}
			for k := range active {
				b := f.order[k]
				tt := s
				if f.reversed(d) {
					tt = int(p.lens[b]) - 1 - s
				}
				off := p.yOff(tt, d, b)
				copy(p.y[off:off+p.hidden], tb.h[j][k*hp:])
			}
		}
	}
}

// projectRows writes the input projection of rows [r0, r0+rows) of X
// (viewed as [seq·batch, in]) for direction d into c [rows, LD]: by the
// product, or by copying rows of a folded embedding's table.
func (f *fusedRun) projectRows(d, r0, rows int, c []float32, qs *kernel.QScratch) {
	p := f.p
	ld := f.fw.l.LD
	if e := p.emb; e != nil {
		t := e.tables[d]
		for r, id := range e.ids[r0 : r0+rows] {
			copy(c[r*ld:(r+1)*ld], t[int(id)*ld:])
		}
		return
	}
	f.fw.dirs[d].project(rows, p.x[r0*p.in:], p.in, c, ld, qs)
}

// step advances rows of direction d by one step on the pre-activations z
// from hidden state hPrev to h (which may be hPrev); c is updated in place.
func (f *fusedRun) step(d, rows int, z, hPrev, h, c []float32, tb taskBuffers) {
	fd := &f.fw.dirs[d]
	switch {
	case fd.qr != nil:
		kernel.QLSTMStep(fd.qr, rows, z, hPrev, h, c, tb.qs)
	case f.kind == kindLSTM:
		kernel.LSTMStep(fd.r, rows, z, hPrev, h, c)
	case f.kind == kindRNN:
		kernel.RNNStep(fd.r, rows, z, hPrev, h)
	case f.lbr:
		kernel.GRUStep(fd.r, fd.rbias, rows, z, tb.acc, hPrev, h)
	default:
		kernel.GRUStep0(fd.r, fd.rh, fd.rbias, rows, z, tb.acc, tb.zr, hPrev, h)
	}
}

// writeY copies the new hidden state of rows [b0, b0+rows) of direction d
// at time t into Y.
func (f *fusedRun) writeY(d, t, b0, rows int, h []float32) {
	p := f.p
	if p.y == nil {
		return
	}
	H := p.hidden
	hp := f.fw.l.Hp
	for b := range rows {
		off := p.yOff(t, d, b0+b)
		copy(p.y[off:off+H], h[b*hp:])
	}
}
