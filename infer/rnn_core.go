package infer

import "github.com/birnn/birnn/internal/kernel"

// rnnProblem is one recurrent operator invocation on plain slices, in
// layout 0: x [seq, batch, in], y [seq, dirs, batch, H], states
// [dirs, batch, H]. The cell (LSTM, GRU, RNN) supplies the per-step math.
type rnnProblem[T rnnFloat] struct {
	seq, batch, in, hidden int
	dirs                   int
	reverse                bool // single direction running right to left
	gates                  int  // gate blocks per direction: 4 (LSTM), 3 (GRU), 1 (RNN)

	x    []T       // [seq, batch, in]; nil with emb
	emb  *embedIDs // token ids projected through folded tables, or nil
	lens []int32   // [batch] valid steps per row, or nil for all seq

	h0, c0 []T // [dirs, batch, H] initial states, or nil for zeros

	y      []T // [seq, dirs, batch, H] or nil; must be zeroed by the caller
	yh, yc []T // [dirs, batch, H] or nil

	// ycat and yhcat (fused path only) lay y out as [seq, batch, dirs, H]
	// and yh as [batch, dirs, H].
	ycat, yhcat bool
}

// yOff is the offset of row b of direction d at time t in y.
func (p *rnnProblem[T]) yOff(t, d, b int) int {
	if p.ycat {
		return ((t*p.batch+b)*p.dirs + d) * p.hidden
	}
	return ((t*p.dirs+d)*p.batch + b) * p.hidden
}

// yhOff is the offset of row b of direction d in yh.
func (p *rnnProblem[T]) yhOff(d, b int) int {
	if p.yhcat {
		return (b*p.dirs + d) * p.hidden
	}
	return (d*p.batch + b) * p.hidden
}

// rnnStep advances one direction by one time step for all batch rows.
//
//	z        [batch, gates*H] x-projection of the step (x·Wᵀ plus input
//	         biases); the step may overwrite it.
//	hPrev    [batch, H] hidden state of the previous step.
//	cPrev    [batch, H] cell state (LSTM only, else nil).
//	hNext, cNext the new states; they never alias the previous ones.
type rnnStep[T rnnFloat] func(z, hPrev, cPrev, hNext, cNext []T)

// rnnDirection is what a cell provides for one direction: the input weights
// W [gates*H, in] (as a recurrentMat: the same product, once per run), the bias added to the x-projection [gates*H] (nil for
// none) and a per-run step function with its own scratch space.
type rnnDirection[T rnnFloat] struct {
	w     *recurrentMat[T]
	xbias []T
	step  func() rnnStep[T]
}

// run computes every direction, one task each on kernel.Parallel's pool
// (up to threads threads; ≤ 0 means GOMAXPROCS).
func (p *rnnProblem[T]) run(dirs []rnnDirection[T], threads int) {
	kernel.Parallel(threads, len(dirs), &cellTasks[T]{p: p, dirs: dirs})
}

// cellTasks runs one direction of the general cells per task.
type cellTasks[T rnnFloat] struct {
	p    *rnnProblem[T]
	dirs []rnnDirection[T]
}

func (c *cellTasks[T]) Task(d int) { c.p.runDirection(d, d == 1 || c.p.reverse, c.dirs[d]) }

func (p *rnnProblem[T]) runDirection(dir int, reverse bool, cell rnnDirection[T]) {
	seq, batch, H, G := p.seq, p.batch, p.hidden, p.gates*p.hidden
	hasC := p.c0 != nil || p.yc != nil || p.gates == 4

	// One GEMM for the input projection of the whole sequence:
	// [seq*batch, in] × [in, G] → xp [seq*batch, G], seeded with the bias.
	xp := getScratch[T](seq * batch * G)
	defer putScratch(xp)
	beta := T(0)
	if cell.xbias != nil {
		for r := 0; r < seq*batch; r++ {
			copy(xp[r*G:(r+1)*G], cell.xbias)
		}
		beta = 1
	}
	cell.w.mulAdd(seq*batch, p.x, beta, xp, G)

	h, hn := make([]T, batch*H), make([]T, batch*H)
	var c, cn []T
	if hasC {
		c, cn = make([]T, batch*H), make([]T, batch*H)
	}
	if p.h0 != nil {
		copy(h, p.h0[dir*batch*H:(dir+1)*batch*H])
	}
	if p.c0 != nil && hasC {
		copy(c, p.c0[dir*batch*H:(dir+1)*batch*H])
	}

	step := cell.step()
	maxLen := seq
	if p.lens != nil {
		maxLen = 0
		for _, l := range p.lens {
			maxLen = max(maxLen, int(l))
		}
	}
	var z []T
	if p.lens != nil {
		z = make([]T, batch*G)
	}
	for s := 0; s < maxLen; s++ {
		// Gather this step's projections. Without sequence_lens every row
		// reads the same time step, so the slab is used in place.
		if p.lens == nil {
			t := s
			if reverse {
				t = seq - 1 - s
			}
			step(xp[t*batch*G:(t+1)*batch*G], h, c, hn, cn)
		} else {
			for b := 0; b < batch; b++ {
				l := int(p.lens[b])
				if s >= l {
					continue
				}
				t := s
				if reverse {
					t = l - 1 - s
				}
				copy(z[b*G:(b+1)*G], xp[(t*batch+b)*G:(t*batch+b+1)*G])
			}
			step(z, h, c, hn, cn)
			// Rows past their length keep the state of their last valid step.
			for b := 0; b < batch; b++ {
				if s >= int(p.lens[b]) {
					copy(hn[b*H:(b+1)*H], h[b*H:(b+1)*H])
					if hasC {
						copy(cn[b*H:(b+1)*H], c[b*H:(b+1)*H])
					}
				}
			}
		}
		if p.y != nil {
			for b := 0; b < batch; b++ {
				t := s
				if p.lens != nil {
					l := int(p.lens[b])
					if s >= l {
						continue
					}
					if reverse {
						t = l - 1 - s
					}
				} else if reverse {
					t = seq - 1 - s
				}
				off := ((t*p.dirs+dir)*batch + b) * H
				copy(p.y[off:off+H], hn[b*H:(b+1)*H])
			}
		}
		h, hn = hn, h
		c, cn = cn, c
	}
	// ONNX Runtime reports zero states, not the initial ones, for rows
	// of length 0.
	for b, l := range p.lens {
		if l == 0 {
			clear(h[b*H : (b+1)*H])
			if hasC {
				clear(c[b*H : (b+1)*H])
			}
		}
	}
	if p.yh != nil {
		copy(p.yh[dir*batch*H:(dir+1)*batch*H], h)
	}
	if p.yc != nil && hasC {
		copy(p.yc[dir*batch*H:(dir+1)*batch*H], c)
	}
}
