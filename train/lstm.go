package train

import "github.com/birnn/birnn/internal/kernel"

// lstmCore is one direction of one LSTM layer over a whole batch of
// sequences: the forward pass keeps every step's gates and states so that
// backward (BPTT) needs no recomputation. Buffers are allocated on the first
// call for a shape and reused afterwards.
//
// Layouts (row-major):
//
//	x      [batch, seq, in]    batch-major input rows b*seq+t
//	w      [4H, in]            ONNX W of this direction, gates i, o, f, c
//	r      [4H, H]             ONNX R of this direction
//	bias   [4H]                Wb (Rb is zero in birnn models and not trained)
//	y      [batch, seq, H]     with retSeq; [batch, H] (the state after the
//	                           last step read) without
//	mask   [batch, H]          recurrent dropout mask on h(t−1), already
//	                           scaled by 1/(1−p); nil for none
//
// reverse reads the sequence right to left and writes y in original time
// order, as ONNX direction="reverse" and Keras go_backwards+reverse do.
type lstmCore[T kernel.Float] struct {
	batch, seq, in, hidden int
	reverse, retSeq        bool

	xproj []T // [batch, seq, 4H] x·Wᵀ
	gates []T // [seq, batch, 4H] activated gates by processing step
	cells []T // [seq+1, batch, H] c by processing step, c[0] = 0
	hs    []T // [seq+1, batch, H] h by processing step, h[0] = 0
	hm    []T // [seq, batch, H] mask ⊙ h(s−1), the recurrent GEMM operand
	mask  []T
	wt    []T // [in, 4H] Wᵀ and [H, 4H] Rᵀ: row-major right operands
	rt    []T // keep every forward GEMM in gonum's faster NoTrans·NoTrans form

	// backward scratch and results
	dh, dc []T // [batch, H]
	dzp    []T // [seq, batch, 4H] ∂L/∂z by processing step
	dzb    []T // [batch, seq, 4H] the same, batch-major in time order
	dx     []T // [batch, seq, in]
	dw     []T // [4H, in]
	dr     []T // [4H, H]
	db     []T // [4H]
}

func grow[T kernel.Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// transpose returns aᵀ for a [rows, cols] matrix, reusing dst.
func transpose[T kernel.Float](dst, a []T, rows, cols int) []T {
	dst = grow(dst, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			dst[j*rows+i] = a[i*cols+j]
		}
	}
	return dst
}

func (l *lstmCore[T]) step(s int) int {
	if l.reverse {
		return l.seq - 1 - s
	}
	return s
}

// outSize is the number of elements of y.
func (l *lstmCore[T]) outSize() int {
	if l.retSeq {
		return l.batch * l.seq * l.hidden
	}
	return l.batch * l.hidden
}

// forward runs the layer and writes y; mask may be nil.
func (l *lstmCore[T]) forward(x, w, r, bias, mask, y []T) {
	B, S, I, H := l.batch, l.seq, l.in, l.hidden
	G := 4 * H
	l.xproj = grow(l.xproj, B*S*G)
	l.gates = grow(l.gates, S*B*G)
	l.cells = grow(l.cells, (S+1)*B*H)
	l.hs = grow(l.hs, (S+1)*B*H)
	l.mask = mask
	clear(l.cells[:B*H])
	clear(l.hs[:B*H])

	l.wt = transpose(l.wt, w, G, I)
	l.rt = transpose(l.rt, r, G, H)
	// One GEMM for the input projection of every step: [B*S, I]·[I, 4H].
	kernel.GemmPar(false, false, B*S, G, I, 1, x, I, l.wt, G, 0, l.xproj, G)

	if mask != nil {
		l.hm = grow(l.hm, S*B*H)
	}
	for s := 0; s < S; s++ {
		t := l.step(s)
		z := l.gates[s*B*G : (s+1)*B*G]
		h := l.hs[s*B*H : (s+1)*B*H]
		if mask != nil {
			hm := l.hm[s*B*H : (s+1)*B*H]
			for i := range hm {
				hm[i] = h[i] * mask[i]
			}
			h = hm
		}
		kernel.Gemm(false, false, B, G, H, 1, h, H, l.rt, G, 0, z, G)
		for b := 0; b < B; b++ {
			zr := z[b*G : (b+1)*G]
			xr := l.xproj[(b*S+t)*G : (b*S+t+1)*G]
			for j := range zr {
				zr[j] += xr[j] + bias[j]
			}
		}
		cNew := l.cells[(s+1)*B*H : (s+2)*B*H]
		hNew := l.hs[(s+1)*B*H : (s+2)*B*H]
		kernel.LSTMForward(z, l.cells[s*B*H:(s+1)*B*H], cNew, hNew, B, H)
		if l.retSeq {
			for b := 0; b < B; b++ {
				copy(y[(b*S+t)*H:(b*S+t+1)*H], hNew[b*H:(b+1)*H])
			}
		}
	}
	if !l.retSeq {
		copy(y[:B*H], l.hs[S*B*H:(S+1)*B*H])
	}
}

// backward runs BPTT from dy (shaped like y) and fills l.dx, l.dw, l.dr and
// l.db. It must follow forward with the same inputs.
func (l *lstmCore[T]) backward(x, w, r, dy []T) {
	B, S, I, H := l.batch, l.seq, l.in, l.hidden
	G := 4 * H
	l.dh = grow(l.dh, B*H)
	l.dc = grow(l.dc, B*H)
	l.dzp = grow(l.dzp, S*B*G)
	l.dzb = grow(l.dzb, B*S*G)
	l.dx = grow(l.dx, B*S*I)
	l.dw = grow(l.dw, G*I)
	l.dr = grow(l.dr, G*H)
	l.db = grow(l.db, G)
	clear(l.dh)
	clear(l.dc)

	for s := S - 1; s >= 0; s-- {
		t := l.step(s)
		if l.retSeq {
			for b := 0; b < B; b++ {
				src := dy[(b*S+t)*H : (b*S+t+1)*H]
				dst := l.dh[b*H : (b+1)*H]
				for j := range dst {
					dst[j] += src[j]
				}
			}
		} else if s == S-1 {
			for i := range l.dh {
				l.dh[i] += dy[i]
			}
		}
		dz := l.dzp[s*B*G : (s+1)*B*G]
		kernel.LSTMBackward(l.gates[s*B*G:(s+1)*B*G], l.cells[s*B*H:(s+1)*B*H],
			l.cells[(s+1)*B*H:(s+2)*B*H], l.dh, l.dc, dz, B, H)
		// ∂L/∂h(s−1) through the recurrence: dz·R, then the dropout mask.
		kernel.Gemm(false, false, B, H, G, 1, dz, G, r, H, 0, l.dh, H)
		if l.mask != nil {
			for i := range l.dh {
				l.dh[i] *= l.mask[i]
			}
		}
	}

	// dR = Σ_s dz(s)ᵀ·(mask ⊙ h(s−1)): one GEMM over all steps.
	hm := l.hs[:S*B*H]
	if l.mask != nil {
		hm = l.hm
	}
	kernel.GemmPar(true, false, G, H, S*B, 1, l.dzp, G, hm, H, 0, l.dr, H)

	for s := 0; s < S; s++ {
		t := l.step(s)
		for b := 0; b < B; b++ {
			copy(l.dzb[(b*S+t)*G:(b*S+t+1)*G], l.dzp[(s*B+b)*G:(s*B+b+1)*G])
		}
	}
	kernel.GemmPar(true, false, G, I, B*S, 1, l.dzb, G, x, I, 0, l.dw, I)
	kernel.GemmPar(false, false, B*S, I, G, 1, l.dzb, G, w, I, 0, l.dx, I)
	clear(l.db)
	for n := 0; n < B*S; n++ {
		row := l.dzb[n*G : (n+1)*G]
		for j, v := range row {
			l.db[j] += v
		}
	}
}
