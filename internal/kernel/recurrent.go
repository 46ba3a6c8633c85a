package kernel

import "gonum.org/v1/gonum/blas"

// Fused recurrent steps (LSTM, GRU, RNN) in float32.
//
// A step keeps the pre-activations of a block of batch rows in a
// gate-interleaved layout: for every group of 8 hidden units, the G gates'
// 8 values side by side (LSTM: i o f c, GRU: z r h, RNN: one), so that one
// 8-lane vector per gate covers the same units and the cell update of a
// group needs nothing from another group. The hidden size is padded to Hp,
// a multiple of 8, with zero weights and biases: padding units stay 0. A
// step multiplies the previous hidden state of a block of up to 6 rows by
// the packed recurrent weights (the product lands on top of the input
// projection, in L1), then applies the gate functions and the state update
// to those rows while they are hot:
//
//	x·Wᵀ + b (chunk of steps, one GEMM) ─┐
//	h(t−1)·Rᵀ (per step, 6-row blocks) ──┴→ z [rows, ld] ─cells→ h(t), c(t) in place
//
// Rows never interact, and every row's arithmetic is the same whichever
// kernel (6-row or 1-row) and whichever block computes it, so splitting
// rows among threads gives bit-identical results.

// Gates describes the gate-interleaved layout of one direction.
type Gates struct {
	G  int // gate blocks: 4 LSTM, 3 GRU, 1 RNN (2 for a GRU's z and r alone)
	H  int // hidden units
	Hp int // H rounded up to a multiple of 8: the row stride of states
	LD int // row length of pre-activations, G·Hp rounded up to a multiple of 16
}

// NewGates returns the layout of g gate blocks of hidden units.
func NewGates(g, hidden int) Gates {
	hp := (hidden + 7) &^ 7
	return Gates{G: g, H: hidden, Hp: hp, LD: (g*hp + 15) &^ 15}
}

// Col returns the interleaved column of unit j of gate block g.
func (l Gates) Col(g, j int) int { return (j>>3)*8*l.G + g*8 + j&7 }

// Groups is the number of 8-unit groups, Hp/8.
func (l Gates) Groups() int { return l.Hp >> 3 }

// Interleave writes v [G·H] (gate blocks one after the other, as an ONNX
// bias) into dst [LD] in the interleaved layout, zeros in the padding.
func (l Gates) Interleave(dst, v []float32) {
	clear(dst[:l.LD])
	for g := range l.G {
		for j := range l.H {
			dst[l.Col(g, j)] = v[g*l.H+j]
		}
	}
}

// GateMatrix is a block of weights W [G·H, K] of one direction (ONNX row
// order: gate block g, unit j at row g·H+j) packed as the right-hand side
// Wᵀ [K, LD] of products in the interleaved layout.
type GateMatrix struct {
	L    Gates
	K    int
	data []float32 // [K, LD]
}

// NewGateMatrix packs w [G·H, k] (row stride k) for the layout l.
func NewGateMatrix(l Gates, w []float32, k int) *GateMatrix {
	m := &GateMatrix{L: l, K: k, data: make([]float32, k*l.LD)}
	for g := range l.G {
		for j := range l.H {
			col := l.Col(g, j)
			row := w[(g*l.H+j)*k : (g*l.H+j+1)*k]
			for p, v := range row {
				m.data[p*l.LD+col] = v
			}
		}
	}
	return m
}

// MulAdd adds a·Wᵀ to c: a [rows, K] with row stride lda, c [rows, LD]
// with row stride ldc.
func (m *GateMatrix) MulAdd(rows int, a []float32, lda int, c []float32, ldc int) {
	if rows <= 0 || m.K == 0 {
		return
	}
	mulAddGates(m, rows, a, lda, nil, c, ldc)
}

// Project writes bias + a·Wᵀ to c (bias [LD] interleaved, or nil for 0),
// reading nothing of c.
func (m *GateMatrix) Project(rows int, a []float32, lda int, bias []float32, c []float32, ldc int) {
	if rows <= 0 {
		return
	}
	if m.K == 0 || bias == nil {
		fillRows(c, rows, m.L.LD, ldc, bias)
		m.MulAdd(rows, a, lda, c, ldc)
		return
	}
	mulAddGates(m, rows, a, lda, bias, c, ldc)
}

// fillRows sets rows of n elements of c (row stride ldc) to bias, or to 0
// when bias is nil.
func fillRows(c []float32, rows, n, ldc int, bias []float32) {
	for r := range rows {
		row := c[r*ldc : r*ldc+n]
		if bias != nil {
			copy(row, bias)
		} else {
			clear(row)
		}
	}
}

// mulAddGatesGo is MulAdd on gonum's BLAS (the pure-Go path of Gemm):
// each element of c gains its terms in order of p whatever the number of
// rows, so splitting rows does not change a result.
func mulAddGatesGo(m *GateMatrix, rows int, a []float32, lda int, bias, c []float32, ldc int) {
	if bias != nil {
		fillRows(c, rows, m.L.LD, ldc, bias)
	}
	impl.Sgemm(blas.NoTrans, blas.NoTrans, rows, m.L.LD, m.K, 1, a, lda, m.data, m.L.LD, 1, c, ldc)
}

// stepRows is the largest row block of a fused step: the pre-activations
// of 6 rows (6·LD floats, a few KB) stay in L1 between the product and the
// cells.
const stepRows = 6

// rowBlock returns the rows of the next block when left rows remain: the
// product kernels take 6, 5, 4, 2 or 1 rows, and a remainder of 7, 8 or 9
// is cut into two middling blocks rather than a full one and a sliver.
func rowBlock(left int) int {
	switch left {
	case 7:
		return 5
	case 8, 9:
		return 4
	case 3:
		return 2
	}
	return min(left, stepRows)
}

// LSTMStep advances rows [0, rows) of one LSTM direction by one time step
// with the default activations (sigmoid, tanh, tanh).
//
// Args:
//
//	r     the recurrent weights R [4H, H] of the direction (layout G 4).
//	z     [rows, LD] the step's input projection x·Wᵀ + Wb + Rb, gates
//	      i o f c interleaved; overwritten with the activated gates.
//	hPrev [rows, Hp] the previous hidden state.
//	h     [rows, Hp] the new hidden state; it may be hPrev.
//	c     [rows, Hp] the cell state, updated in place.
//
// Rows are done in blocks of up to 6, each block's product before its
// cells, so a row's new state never overwrites an input still needed.
func LSTMStep(r *GateMatrix, rows int, z, hPrev, h, c []float32) {
	l := r.L
	for b, n := 0, 0; b < rows; b += n {
		n = rowBlock(rows - b)
		r.MulAdd(n, hPrev[b*l.Hp:], l.Hp, z[b*l.LD:], l.LD)
		lstmCells(l, n, z[b*l.LD:], c[b*l.Hp:], h[b*l.Hp:])
	}
}

// lstmCellsGo is the LSTM cell update in portable Go; like the assembly,
// it leaves the activated gates in z.
func lstmCellsGo(l Gates, rows int, z, c, h []float32) {
	for b := range rows {
		zr, cr, hr := z[b*l.LD:], c[b*l.Hp:(b+1)*l.Hp], h[b*l.Hp:(b+1)*l.Hp]
		for j := range cr {
			g := (j>>3)*32 + j&7
			ig, og, fg, gg := Sigmoid32(zr[g]), Sigmoid32(zr[g+8]), Sigmoid32(zr[g+16]), Tanh32(zr[g+24])
			zr[g], zr[g+8], zr[g+16], zr[g+24] = ig, og, fg, gg
			cn := fg*cr[j] + ig*gg
			cr[j] = cn
			hr[j] = og * Tanh32(cn)
		}
	}
}

// GRUStep advances rows [0, rows) of one GRU direction with
// linear_before_reset = 1 and the default activations (sigmoid, tanh):
//
//	z = σ(xz + hRzᵀ + Rbz), r = σ(xr + hRrᵀ + Rbr),
//	n = tanh(xh + r ⊙ (hRhᵀ + Rbh)), h = n + z ⊙ (h − n).
//
// Args:
//
//	r     R [3H, H] of the direction (layout G 3).
//	rbias [LD] the recurrent bias (0, 0, Rbh) interleaved, or nil.
//	x     [rows, LD] the step's input projection x·Wᵀ + Wb (+ Rbz, Rbr
//	      may be folded in here instead of rbias), gates z r h interleaved.
//	acc   [stepRows, LD] scratch.
//	hPrev [rows, Hp] the previous hidden state.
//	h     [rows, Hp] the new hidden state; it may be hPrev.
func GRUStep(r *GateMatrix, rbias []float32, rows int, x, acc, hPrev, h []float32) {
	l := r.L
	for b, n := 0, 0; b < rows; b += n {
		n = rowBlock(rows - b)
		hb := hPrev[b*l.Hp:]
		fillRows(acc, n, l.LD, l.LD, rbias)
		r.MulAdd(n, hb, l.Hp, acc, l.LD)
		gruCells(l, n, x[b*l.LD:], acc, hb, h[b*l.Hp:])
	}
}

// gruCellsGo is the linear_before_reset GRU update in portable Go; hout
// may be h.
func gruCellsGo(l Gates, rows int, x, acc, h, hout []float32) {
	for b := range rows {
		xr, ar := x[b*l.LD:], acc[b*l.LD:]
		hr, ho := h[b*l.Hp:(b+1)*l.Hp], hout[b*l.Hp:(b+1)*l.Hp]
		for j := range hr {
			g := (j>>3)*24 + j&7
			zg := Sigmoid32(xr[g] + ar[g])
			rg := Sigmoid32(xr[g+8] + ar[g+8])
			n := Tanh32(xr[g+16] + rg*ar[g+16])
			ho[j] = n + zg*(hr[j]-n)
		}
	}
}

// GRUStep0 advances rows [0, rows) of one GRU direction with
// linear_before_reset = 0 and the default activations:
//
//	z = σ(xz + hRzᵀ + Rbz), r = σ(xr + hRrᵀ + Rbr),
//	n = tanh(xh + (r ⊙ h)Rhᵀ + Rbh), h = n + z ⊙ (h − n).
//
// Args:
//
//	rzr   Rz and Rr, the first 2H rows of R (layout G 2).
//	rh    Rh, the last H rows of R (layout G 1).
//	hbias [rh.L.LD] Rbh, or nil; Rbz and Rbr are folded into x.
//	x     [rows, LD3] the step's input projection, z r h interleaved in
//	      the G 3 layout (Wb, Rbz and Rbr included).
//	acc   [stepRows, rzr.L.LD + rh.L.LD] scratch.
//	zr    [stepRows, 2·Hp] scratch.
//	hPrev [rows, Hp] the previous hidden state.
//	h     [rows, Hp] the new hidden state; it may be hPrev.
func GRUStep0(rzr, rh *GateMatrix, hbias []float32, rows int, x, acc, zr, hPrev, h []float32) {
	l2, l1 := rzr.L, rh.L
	ld3 := NewGates(3, l2.H).LD
	acc1, acc2 := acc[:stepRows*l2.LD], acc[stepRows*l2.LD:]
	zs, rs := zr[:stepRows*l2.Hp], zr[stepRows*l2.Hp:]
	for b, n := 0, 0; b < rows; b += n {
		n = rowBlock(rows - b)
		hb, xb := hPrev[b*l2.Hp:], x[b*ld3:]
		clear(acc1[:n*l2.LD])
		rzr.MulAdd(n, hb, l2.Hp, acc1, l2.LD)
		gruGates0(l2, n, xb, ld3, acc1, hb, zs, rs)
		fillRows(acc2, n, l1.LD, l1.LD, hbias)
		rh.MulAdd(n, rs, l2.Hp, acc2, l1.LD)
		gruCandidate0(l2, n, xb, ld3, acc2, l1.LD, zs, hb, h[b*l2.Hp:])
	}
}

// gruGates0Go computes z and r ⊙ h of GRUStep0 in portable Go: l is the
// G 2 layout of acc, x has row stride ldx in the G 3 layout.
func gruGates0Go(l Gates, rows int, x []float32, ldx int, acc, h, zs, rs []float32) {
	for b := range rows {
		xr, ar, hr := x[b*ldx:], acc[b*l.LD:], h[b*l.Hp:(b+1)*l.Hp]
		zo, ro := zs[b*l.Hp:(b+1)*l.Hp], rs[b*l.Hp:(b+1)*l.Hp]
		for j := range hr {
			gx, ga := (j>>3)*24+j&7, (j>>3)*16+j&7
			zo[j] = Sigmoid32(xr[gx] + ar[ga])
			ro[j] = Sigmoid32(xr[gx+8]+ar[ga+8]) * hr[j]
		}
	}
}

// gruCandidate0Go finishes GRUStep0 in portable Go: acc [rows, lda] holds
// (r ⊙ h)·Rhᵀ + Rbh in the G 1 layout; hout may be h.
func gruCandidate0Go(l Gates, rows int, x []float32, ldx int, acc []float32, lda int, zs, h, hout []float32) {
	for b := range rows {
		xr, ar, zr := x[b*ldx:], acc[b*lda:], zs[b*l.Hp:]
		hr, ho := h[b*l.Hp:(b+1)*l.Hp], hout[b*l.Hp:(b+1)*l.Hp]
		for j := range hr {
			n := Tanh32(xr[(j>>3)*24+16+j&7] + ar[j])
			ho[j] = n + zr[j]*(hr[j]-n)
		}
	}
}

// RNNStep advances rows [0, rows) of one simple-RNN direction with the
// default activation: h = tanh(z + hPrev·Rᵀ), z [rows, LD] the step's
// input projection with both biases (overwritten), hPrev and h [rows, Hp]
// (h may be hPrev).
func RNNStep(r *GateMatrix, rows int, z, hPrev, h []float32) {
	l := r.L
	for b, n := 0, 0; b < rows; b += n {
		n = rowBlock(rows - b)
		r.MulAdd(n, hPrev[b*l.Hp:], l.Hp, z[b*l.LD:], l.LD)
		for i := range n {
			zr := z[(b+i)*l.LD : (b+i)*l.LD+l.Hp]
			TanhSlice32(zr)
			copy(h[(b+i)*l.Hp:(b+i+1)*l.Hp], zr)
		}
	}
}
