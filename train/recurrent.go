package train

import (
	"math/rand/v2"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/model"
)

// seqCell is what a recurrent layer's kind adds to the shared skeleton
// seqLayer: the gate arithmetic of one time step, forward and backward,
// on a block of batch rows of one direction. The skeleton owns everything
// else: the input projection of every step as one GEMM per direction, the
// time loop and its split into tasks, recurrent dropout, the merge of the
// directions, ∂h(t−1) = ∂z·R, and the weight gradients as GEMMs over all
// steps at once (∂W = ∂zᵀ·x, ∂R = ∂zᵀ·h(t−1), ∂b = Σ ∂z, ∂x = ∂z·W).
//
// A cell whose recurrent product is not z += h(t−1)·Rᵀ on every gate block
// (a GRU with linear_before_reset) needs its own ∂R and ∂h(t−1) and so its
// own skeleton hooks; LSTM and simple RNN fit as they are.
type seqCell[T kernel.Float] interface {
	// gates is G, the pre-activation blocks per hidden unit (LSTM 4, RNN 1).
	gates() int
	// cellState reports whether the cell keeps a second state c (LSTM).
	cellState() bool
	// forwardRows advances rows of one direction by one step. z [rows,
	// G·H] (row stride ldz) holds x·Wᵀ + b + h(t−1)·Rᵀ of the step; the
	// cell leaves in z what backwardRows reads. It writes h and, with a
	// cell state, c (row stride ldh) from cPrev (nil: zeros).
	forwardRows(rows int, z []T, ldz int, cPrev, c, h []T, ldh int)
	// backwardRows turns the z left by forwardRows into ∂L/∂z in place,
	// from dh = ∂L/∂h(t) [rows, H] (row stride H, every path summed) and dc
	// = ∂L/∂c(t) (same shape), which it updates to ∂L/∂c(t−1). c and cPrev
	// (nil: zeros) have row stride ldh; tc is [H] scratch.
	backwardRows(rows int, z []T, ldz int, cPrev, c []T, ldh int, dh, dc, tc []T)
}

// seqLayer is one recurrent layer, every direction and every time step,
// as one operator: the whole-layer forward stores each step's activations
// once, in the layout the backward pass reads, and backward runs BPTT
// over all steps. Rows are time-major (row t·batch + b), so a step's rows
// are contiguous, the input projection and the weight gradients are
// single GEMMs over all steps, and no step copies anything.
//
// Layouts (row-major, D directions, G gate blocks, N = seq·batch):
//
//	x    [N, in]       input, time-major
//	z    [D, N, G·H]   x·Wᵀ + b + h·Rᵀ, then the activated gates, then ∂L/∂z
//	hs   [N, D·H]      h(t) of each direction, side by side: with
//	                   return_sequences and concat (or one direction) it
//	                   is the layer's output itself
//	cs   [N, D·H]      c(t), for cells with a cell state
//	hm   [N, D·H]      mask ⊙ h(t−1), the recurrent operand under dropout
//
// The time loop is cut into tasks: per direction, slices of about 32
// batch rows (rows never interact). The cut depends on the batch alone,
// never on the thread count, and every
// product is bit-identical however kernel.Parallel and kernel.GemmPar
// share it, so a run's results do not depend on GOMAXPROCS.
//
// Buffers grow to the largest batch seen and are reused: nets of different
// batch sizes (the last short batch of an epoch, validation) share one
// seqLayer, as only one net runs at a time.
type seqLayer[T kernel.Float] struct {
	cell        seqCell[T]
	name        string
	dirs        int
	in, hidden  int
	retSeq      bool
	merge       string
	dropout     float64              // recurrent dropout rate p (training only)
	rng         *rand.Rand           // draws the masks
	fixedMask   []T                  // [D, batch, H]: a test's mask instead of drawn ones
	batch, seq  int                  // shape of the last forward
	x           []T                  // input of the last forward
	w, r, rt, b [][]T                // per direction: W [GH, in], R [GH, H], Rᵀ, bias [GH]
	rp, rtp     []*kernel.GateMatrix // float32: R and Rᵀ packed for the step kernels
	wp, wtp     []*kernel.GateMatrix // float32: W and Wᵀ packed likewise
	wt          [][]T                // Wᵀ [in, GH]
	dbt         [][]T                // per task: its rows' share of ∂b
	rowJob      rowTasks
	gradJob     gradTasks[T]
	mask        []T // [D, batch, H], nil without dropout
	// steps is the mask_zero mask of the batch (nil: not masked), set by
	// the caller before forward: a padded step leaves h and c as they
	// were, outputs zeros with return_sequences (as the GRU and SimpleRNN
	// ops and ONNX sequence_lens do) and passes ∂L/∂h and ∂L/∂c through
	// unchanged in backward.
	steps *seqMask

	z, hs, cs, hm []T
	last          []T // [batch, D·H] final states (no return_sequences)
	y             []T // merged output when it is not hs itself
	ym            []T // masked return_sequences: hs with padded steps zeroed
	dhs, dlast    []T // ∂L/∂hs and ∂L/∂last (dy itself, or the buffers below)
	dhsBuf        []T
	dlastBuf      []T
	maskBuf       []T
	zero          []T // [H] zeros
	dx            []T
	dw, dr, db    [][]T
	scratch       [][]T // per task: dh, dc [rows, H], tc [H]
	tasks         seqTasks[T]
}

func newSeqLayer[T kernel.Float](cell seqCell[T], l model.LayerSpec, in int, dropout float64, rng *rand.Rand) *seqLayer[T] {
	s := &seqLayer[T]{cell: cell, name: l.Name, dirs: l.Dirs, in: in, hidden: l.Units,
		retSeq: l.ReturnSequences, merge: l.MergeMode, dropout: dropout, rng: rng}
	if s.merge == "" {
		s.merge = model.MergeConcat
	}
	s.w = make([][]T, s.dirs)
	s.r = make([][]T, s.dirs)
	s.rt = make([][]T, s.dirs)
	s.b = make([][]T, s.dirs)
	s.rp = make([]*kernel.GateMatrix, s.dirs)
	s.rtp = make([]*kernel.GateMatrix, s.dirs)
	s.wp = make([]*kernel.GateMatrix, s.dirs)
	s.wtp = make([]*kernel.GateMatrix, s.dirs)
	s.wt = make([][]T, s.dirs)
	s.dw = make([][]T, s.dirs)
	s.dr = make([][]T, s.dirs)
	s.db = make([][]T, s.dirs)
	s.tasks.l = s
	return s
}

// out is the width of the layer's output rows.
func (s *seqLayer[T]) out() int {
	if s.dirs == 2 && s.merge == model.MergeConcat {
		return 2 * s.hidden
	}
	return s.hidden
}

// outRows is the number of output rows for a batch.
func (s *seqLayer[T]) outRows(batch, seq int) int {
	if s.retSeq {
		return batch * seq
	}
	return batch
}

// chunkRows is the batch rows of one time-loop task (see seqLayer).
const chunkRows = 32

// chunks is the number of batch slices per direction: tasks of about
// chunkRows rows, so that on a busy machine a thread that runs ahead
// takes a descheduled one's share instead of waiting for it. It depends
// on the batch alone.
func (s *seqLayer[T]) chunks() int { return max(1, (s.batch+chunkRows-1)/chunkRows) }

// rows returns the batch rows [r0, r1) of chunk c.
func (s *seqLayer[T]) rows(c int) (int, int) {
	n := s.chunks()
	return s.batch * c / n, s.batch * (c + 1) / n
}

// seqTasks runs the time loop of one direction and chunk per task.
type seqTasks[T kernel.Float] struct {
	l        *seqLayer[T]
	backward bool
}

func (t *seqTasks[T]) Task(i int) {
	c := t.l.chunks()
	if t.backward {
		t.l.backwardTask(i/c, i%c, i)
	} else {
		t.l.forwardTask(i/c, i%c)
	}
}

// prev is the time index whose state feeds step t of direction d.
func (s *seqLayer[T]) prev(d, t int) int {
	if d == 1 {
		return t + 1
	}
	return t - 1
}

// time is the time index of processing step k of direction d.
func (s *seqLayer[T]) time(d, k int) int {
	if d == 1 {
		return s.seq - 1 - k
	}
	return k
}

// forward runs the layer on x [batch·seq, in] (time-major) with per
// direction weights w, r and bias b, and returns the output: [batch·seq,
// out] with return_sequences, else [batch, out] (the forward direction's
// state after the last step, the reverse one's after the first, as Keras
// does). The result is a buffer of the layer, valid until the next call.
func (s *seqLayer[T]) forward(batch, seq int, training bool, x []T, w, r, b [][]T) []T {
	B, S, H, D := batch, seq, s.hidden, s.dirs
	GH := s.cell.gates() * H
	N := B * S
	ldz, ldh := GH, D*H
	s.batch, s.seq, s.x = B, S, x
	s.z = grow(s.z, D*N*GH)
	s.hs = grow(s.hs, N*ldh)
	if s.cell.cellState() {
		s.cs = grow(s.cs, N*ldh)
	}
	s.zero = grow(s.zero, H)
	clear(s.zero)
	for d := range D {
		s.w[d], s.r[d], s.b[d] = w[d], r[d], b[d]
		s.rt[d] = transpose(s.rt[d], r[d], GH, H)
		if s.packed() {
			s.wt[d] = transpose(s.wt[d], w[d], GH, s.in)
			s.rp[d] = kernel.PackGateMatrix(s.rp[d], kernel.NewGates(1, GH), f32(r[d]), H)
			s.rtp[d] = kernel.PackGateMatrix(s.rtp[d], kernel.NewGates(1, H), f32(s.rt[d]), GH)
			s.wp[d] = kernel.PackGateMatrix(s.wp[d], kernel.NewGates(1, GH), f32(w[d]), s.in)
			if s.in%16 == 0 {
				s.wtp[d] = kernel.PackGateMatrix(s.wtp[d], kernel.NewGates(1, s.in), f32(s.wt[d]), GH)
			} else {
				s.wtp[d] = nil
			}
		}
	}
	// One product for the input projection of every step and direction,
	// bias included: z = x·Wᵀ + b.
	if s.packed() {
		s.parallelRows(N, func(r0, r1 int) {
			for d := range D {
				s.wp[d].Project(r1-r0, f32(x[r0*s.in:]), s.in, f32(b[d]), f32(s.z[d*N*GH+r0*GH:]), ldz)
			}
		})
	} else {
		for d := range D {
			for n := range N {
				copy(s.z[d*N*GH+n*GH:d*N*GH+n*GH+GH], b[d])
			}
			kernel.GemmPar(false, true, N, GH, s.in, 1, x, s.in, w[d], s.in, 1, s.z[d*N*GH:], ldz)
		}
	}
	s.mask = nil
	switch {
	case s.fixedMask != nil:
		s.mask = s.fixedMask
	case training && s.dropout > 0:
		// Keras recurrent_dropout: one mask per sequence on h(t−1), the
		// same at every step, kept units scaled by 1/(1−p).
		s.mask = s.drawMask(D * B * H)
	}
	if s.mask != nil {
		s.hm = grow(s.hm, N*ldh)
	}
	s.tasks.backward = false
	kernel.Parallel(0, D*s.chunks(), &s.tasks)
	return s.output()
}

// drawMask draws n mask values (direction by direction, row by row) into
// a buffer kept across calls.
func (s *seqLayer[T]) drawMask(n int) []T {
	s.maskBuf = grow(s.maskBuf, n)
	scale := T(1 / (1 - s.dropout))
	for i := range s.maskBuf {
		if s.rng.Float64() >= s.dropout {
			s.maskBuf[i] = scale
		} else {
			s.maskBuf[i] = 0
		}
	}
	return s.maskBuf
}

func (s *seqLayer[T]) forwardTask(d, c int) {
	r0, r1 := s.rows(c)
	rows := r1 - r0
	if rows == 0 {
		return
	}
	B, H := s.batch, s.hidden
	GH := s.cell.gates() * H
	ldz, ldh := GH, s.dirs*H
	zd := s.z[d*B*s.seq*GH:]
	cells := s.cell.cellState()
	for k := range s.seq {
		t := s.time(d, k)
		row := t*B + r0
		z := zd[row*ldz:]
		h := s.hs[row*ldh+d*H:]
		var c, cPrev, hPrev []T
		if cells {
			c = s.cs[row*ldh+d*H:]
		}
		if k > 0 {
			p := (s.prev(d, t)*B + r0) * ldh
			hPrev = s.hs[p+d*H:]
			if cells {
				cPrev = s.cs[p+d*H:]
			}
		}
		hOld := hPrev
		if s.mask != nil {
			hm := s.hm[row*ldh+d*H:]
			m := s.mask[(d*B+r0)*H:]
			for b := range rows {
				dst := hm[b*ldh : b*ldh+H]
				if hPrev == nil {
					clear(dst)
					continue
				}
				src, mr := hPrev[b*ldh:b*ldh+H], m[b*H:b*H+H]
				for j := range dst {
					dst[j] = src[j] * mr[j]
				}
			}
			if hPrev != nil {
				hPrev = hm
			}
		}
		if hPrev != nil {
			s.recurrent(d, rows, hPrev, ldh, z, ldz)
		}
		s.cell.forwardRows(rows, z, ldz, cPrev, c, h, ldh)
		if s.steps != nil {
			s.holdPadded(t, r0, rows, hOld, cPrev, h, c)
		}
	}
}

// holdPadded restores, on the rows [r0, r0+rows) of step t that are
// padding, the state before the step: h and c take hOld and cPrev (nil:
// zeros), all of row stride D·H.
func (s *seqLayer[T]) holdPadded(t, r0, rows int, hOld, cPrev, h, c []T) {
	H, ldh := s.hidden, s.dirs*s.hidden
	valid := s.steps.valid[r0*s.seq:]
	for b := range rows {
		if valid[b*s.seq+t] {
			continue
		}
		hr := h[b*ldh : b*ldh+H]
		if hOld == nil {
			clear(hr)
		} else {
			copy(hr, hOld[b*ldh:b*ldh+H])
		}
		if c == nil {
			continue
		}
		cr := c[b*ldh : b*ldh+H]
		if cPrev == nil {
			clear(cr)
		} else {
			copy(cr, cPrev[b*ldh:b*ldh+H])
		}
	}
}

// f32 is a float32 view of a slice on the packed path.
func f32[T kernel.Float](v []T) []float32 { return any(v).([]float32) }

// rowTasks cuts rows [0, n) into parts fixed by n alone, so results do
// not depend on how many threads take them.
type rowTasks struct {
	n, parts int
	fn       func(r0, r1 int)
}

func (t *rowTasks) Task(i int) { t.fn(t.n*i/t.parts, t.n*(i+1)/t.parts) }

// rowBlock is the rows of one task of parallelRows: products of rows
// never interact, and each row's arithmetic is the same in any block.
const rowBlock = 768

// parallelRows runs fn on blocks of rows [0, n) on kernel.Parallel.
func (s *seqLayer[T]) parallelRows(n int, fn func(r0, r1 int)) {
	s.rowJob = rowTasks{n: n, parts: max(1, n/rowBlock), fn: fn}
	kernel.Parallel(0, s.rowJob.parts, &s.rowJob)
	s.rowJob.fn = nil
}

// packed reports whether the per-step products run on the engine's
// step kernels (kernel.GateMatrix, float32): they write whole 16-float
// column blocks, so the gate width and the hidden size must be multiples
// of 16. Other shapes, and float64, use kernel.Gemm.
func (s *seqLayer[T]) packed() bool {
	var z T
	_, f32 := any(z).(float32)
	return f32 && s.hidden%16 == 0
}

// recurrent adds hPrev·Rᵀ of direction d to z (rows of stride ldz).
func (s *seqLayer[T]) recurrent(d, rows int, hPrev []T, ldh int, z []T, ldz int) {
	if s.packed() {
		s.rp[d].MulAdd(rows, any(hPrev).([]float32), ldh, any(z).([]float32), ldz)
		return
	}
	GH := s.cell.gates() * s.hidden
	kernel.Gemm(false, false, rows, GH, s.hidden, 1, hPrev, ldh, s.rt[d], GH, 1, z, ldz)
}

// recurrentBack writes dh = dz·R of direction d ([rows, H], stride H).
func (s *seqLayer[T]) recurrentBack(d, rows int, dz []T, ldz int, dh []T) {
	H := s.hidden
	if s.packed() {
		s.rtp[d].Project(rows, any(dz).([]float32), ldz, nil, any(dh).([]float32), H)
		return
	}
	kernel.Gemm(false, false, rows, H, s.cell.gates()*H, 1, dz, ldz, s.r[d], H, 0, dh, H)
}

// output merges the directions into the layer's output.
func (s *seqLayer[T]) output() []T {
	B, S, H, D := s.batch, s.seq, s.hidden, s.dirs
	ldh := D * H
	src := s.hs
	if !s.retSeq {
		s.last = grow(s.last, B*ldh)
		for d := range D {
			t := s.time(d, S-1)
			for b := range B {
				copy(s.last[b*ldh+d*H:b*ldh+d*H+H], s.hs[(t*B+b)*ldh+d*H:])
			}
		}
		src = s.last
	} else if s.steps != nil {
		// Padded steps output zeros; hs keeps the held states.
		s.ym = grow(s.ym, B*S*ldh)
		copy(s.ym, s.hs[:B*S*ldh])
		for t := range S {
			for b := range B {
				if !s.steps.valid[b*S+t] {
					clear(s.ym[(t*B+b)*ldh : (t*B+b+1)*ldh])
				}
			}
		}
		src = s.ym
	}
	if D == 1 || s.merge == model.MergeConcat {
		return src
	}
	n := len(src) / ldh
	s.y = grow(s.y, n*H)
	for i := range n {
		a, b, y := src[i*ldh:i*ldh+H], src[i*ldh+H:i*ldh+2*H], s.y[i*H:i*H+H]
		switch s.merge {
		case model.MergeSum:
			for j := range y {
				y[j] = a[j] + b[j]
			}
		case model.MergeMul:
			for j := range y {
				y[j] = a[j] * b[j]
			}
		case model.MergeAve:
			for j := range y {
				y[j] = (a[j] + b[j]) * 0.5
			}
		}
	}
	return s.y
}

// dstates turns ∂L/∂output into ∂L/∂(the states output merged), [rows,
// D·H]: dy itself for concat or one direction.
func (s *seqLayer[T]) dstates(dy, states []T, buf *[]T) []T {
	H, D := s.hidden, s.dirs
	if D == 1 || s.merge == model.MergeConcat {
		return dy
	}
	ldh := D * H
	n := len(states) / ldh
	*buf = grow(*buf, n*ldh)
	g := *buf
	for i := range n {
		dyr := dy[i*H : i*H+H]
		da, db := g[i*ldh:i*ldh+H], g[i*ldh+H:i*ldh+2*H]
		a, b := states[i*ldh:i*ldh+H], states[i*ldh+H:i*ldh+2*H]
		for j, v := range dyr {
			switch s.merge {
			case model.MergeSum:
				da[j], db[j] = v, v
			case model.MergeMul:
				da[j], db[j] = v*b[j], v*a[j]
			case model.MergeAve:
				da[j], db[j] = v*0.5, v*0.5
			}
		}
	}
	return g
}

// backward runs BPTT from dy (shaped like forward's output) after forward
// on the same batch, and fills s.dx and, per direction, s.dw, s.dr, s.db.
func (s *seqLayer[T]) backward(dy []T) {
	B, S, H, D := s.batch, s.seq, s.hidden, s.dirs
	GH := s.cell.gates() * H
	N := B * S
	ldz, ldh := GH, D*H
	if s.retSeq {
		s.dhs = s.dstates(dy, s.hs[:N*ldh], &s.dhsBuf)
	} else {
		s.dlast = s.dstates(dy, s.last[:B*ldh], &s.dlastBuf)
	}
	tasks := D * s.chunks()
	for len(s.scratch) < tasks {
		s.scratch = append(s.scratch, nil)
	}
	for len(s.dbt) < tasks {
		s.dbt = append(s.dbt, nil)
	}
	for i := range tasks {
		s.scratch[i] = grow(s.scratch[i], (4*(B/s.chunks()+1)+1)*H)
		s.dbt[i] = grow(s.dbt[i], GH)
		clear(s.dbt[i])
	}
	s.tasks.backward = true
	kernel.Parallel(0, tasks, &s.tasks)

	// Weight gradients: a few GEMMs over every step at once.
	s.dx = grow(s.dx, N*s.in)
	if s.packed() && s.wtp[0] != nil {
		s.parallelRows(N, func(r0, r1 int) {
			for d := range D {
				dz, dx := f32(s.z[d*N*GH+r0*GH:]), f32(s.dx[r0*s.in:])
				if d == 0 {
					s.wtp[d].Project(r1-r0, dz, ldz, nil, dx, s.in)
				} else {
					s.wtp[d].MulAdd(r1-r0, dz, ldz, dx, s.in)
				}
			}
		})
	} else {
		for d := range D {
			var beta T
			if d > 0 {
				beta = 1
			}
			kernel.GemmPar(false, false, N, s.in, GH, 1, s.z[d*N*GH:], ldz, s.w[d], s.in, beta, s.dx, s.in)
		}
	}
	for d := range D {
		s.dw[d] = grow(s.dw[d], GH*s.in)
		s.dr[d] = grow(s.dr[d], GH*H)
		s.db[d] = grow(s.db[d], GH)
	}
	s.gradJob.l = s
	kernel.Parallel(0, 2*D*gradBlocks(GH), &s.gradJob)
	for d := range D {
		// ∂b: the tasks' partial sums, in task order.
		copy(s.db[d], s.dbt[d*s.chunks()])
		for c := 1; c < s.chunks(); c++ {
			for j, v := range s.dbt[d*s.chunks()+c] {
				s.db[d][j] += v
			}
		}
	}
}

// gradRows is the rows of ∂W or ∂R (of G·H) one weight-gradient task
// computes: each is a GEMM over every time step.
const gradRows = 48

func gradBlocks(gh int) int { return (gh + gradRows - 1) / gradRows }

// gradTasks computes ∂W = ∂zᵀ·x and ∂R = Σ_t ∂z(t)ᵀ·h(t−1) of every
// direction in blocks of rows, fixed by the layer's shape.
type gradTasks[T kernel.Float] struct{ l *seqLayer[T] }

func (g *gradTasks[T]) Task(i int) {
	s := g.l
	B, S, H, D := s.batch, s.seq, s.hidden, s.dirs
	GH := s.cell.gates() * H
	N := B * S
	ldz, ldh := GH, D*H
	nb := gradBlocks(GH)
	d, kind, blk := i/(2*nb), (i/nb)%2, i%nb
	r0, r1 := blk*gradRows, min(GH, (blk+1)*gradRows)
	zd := s.z[d*N*GH+r0:] // columns r0… of direction d: rows r0… of op(A) = ∂zᵀ
	if kind == 0 {
		kernel.Gemm(true, false, r1-r0, s.in, N, 1, zd, ldz, s.x, s.in, 0, s.dw[d][r0*s.in:], s.in)
		return
	}
	dr := s.dr[d][r0*H:]
	// ∂R: only the steps whose h(t−1) is not zero.
	switch {
	case s.mask != nil:
		kernel.Gemm(true, false, r1-r0, H, N, 1, zd, ldz, s.hm[d*H:], ldh, 0, dr, H)
	case d == 0:
		kernel.Gemm(true, false, r1-r0, H, N-B, 1, zd[B*ldz:], ldz, s.hs[d*H:], ldh, 0, dr, H)
	default:
		kernel.Gemm(true, false, r1-r0, H, N-B, 1, zd, ldz, s.hs[B*ldh+d*H:], ldh, 0, dr, H)
	}
}

func (s *seqLayer[T]) backwardTask(d, c, task int) {
	r0, r1 := s.rows(c)
	rows := r1 - r0
	if rows == 0 {
		return
	}
	B, H := s.batch, s.hidden
	GH := s.cell.gates() * H
	ldz, ldh := GH, s.dirs*H
	zd := s.z[d*B*s.seq*GH:]
	sc := s.scratch[task]
	dh, dc, tc := sc[:rows*H], sc[rows*H:2*rows*H], sc[2*rows*H:2*rows*H+H]
	keep := sc[2*rows*H+H : 4*rows*H+H] // masked: ∂L/∂h, ∂L/∂c of padded rows
	var valid []bool
	if s.steps != nil {
		valid = s.steps.valid[r0*s.seq:]
	}
	db := s.dbt[task]
	clear(dh)
	clear(dc)
	cells := s.cell.cellState()
	for k := s.seq - 1; k >= 0; k-- {
		t := s.time(d, k)
		row := t*B + r0
		// The gradient reaching h(t) from the layer's output.
		var g []T
		switch {
		case s.retSeq:
			g = s.dhs[row*ldh+d*H:]
		case k == s.seq-1:
			g = s.dlast[r0*ldh+d*H:]
		}
		if g != nil {
			for b := range rows {
				if valid != nil && s.retSeq && !valid[b*s.seq+t] {
					continue // a padded step outputs a constant zero
				}
				dst, src := dh[b*H:b*H+H], g[b*ldh:b*ldh+H]
				for j := range dst {
					dst[j] += src[j]
				}
			}
		}
		z := zd[row*ldz:]
		var c, cPrev []T
		if cells {
			c = s.cs[row*ldh+d*H:]
			if k > 0 {
				cPrev = s.cs[(s.prev(d, t)*B+r0)*ldh+d*H:]
			}
		}
		padded := false
		if valid != nil {
			// A padded row's h(t) = h(t−1) and c(t) = c(t−1): its ∂L/∂h
			// and ∂L/∂c pass to step t−1 as they are, and its ∂z is zero.
			for b := range rows {
				if !valid[b*s.seq+t] {
					padded = true
					copy(keep[b*H:b*H+H], dh[b*H:b*H+H])
					copy(keep[(rows+b)*H:(rows+b)*H+H], dc[b*H:b*H+H])
				}
			}
		}
		s.cell.backwardRows(rows, z, ldz, cPrev, c, ldh, dh, dc, tc)
		if padded {
			for b := range rows {
				if !valid[b*s.seq+t] {
					clear(z[b*ldz : b*ldz+GH])
				}
			}
		}
		kernel.ColumnSums(db, rows, GH, z, ldz)
		if k == 0 {
			break
		}
		// ∂L/∂h(t−1) through the recurrence: ∂z·R, then the dropout mask.
		s.recurrentBack(d, rows, z, ldz, dh)
		if s.mask != nil {
			m := s.mask[(d*B+r0)*H : (d*B+r1)*H]
			for i := range dh {
				dh[i] *= m[i]
			}
		}
		if padded {
			for b := range rows {
				if !valid[b*s.seq+t] {
					copy(dh[b*H:b*H+H], keep[b*H:b*H+H])
					copy(dc[b*H:b*H+H], keep[(rows+b)*H:(rows+b)*H+H])
				}
			}
		}
	}
}
