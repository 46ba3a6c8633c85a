package train

import "github.com/birnn/birnn/internal/kernel"

// rnnCore is one direction of one GRU or SimpleRNN layer over a whole batch
// of sequences, as one operator: the forward pass keeps what BPTT needs,
// and backward batches every weight-gradient product over all time steps
// (one GEMM each for dW, dR and dx).
//
// GRU (Keras reset_after=True, ONNX GRU linear_before_reset=1, gates z, r,
// h in both):
//
//	p = hm·Rᵀ + Rb                      hm = mask ⊙ h(t−1)
//	z = σ(xz + pz), r = σ(xr + pr), n = tanh(xh + r ⊙ ph)
//	h(t) = z ⊙ h(t−1) + (1 − z) ⊙ n
//
// SimpleRNN (ONNX RNN): h(t) = act(x·Wᵀ + Wb + hm·Rᵀ), act tanh or relu.
//
// Layouts (row-major, G = gates·H):
//
//	x     [batch·seq, in]    input rows in the order of seqRow
//	w     [G, in]            ONNX W of this direction
//	r     [G, H]             ONNX R of this direction
//	wb    [G]                Wb
//	rb    [G]                Rb (GRU only; nil for a SimpleRNN, whose
//	                         single Keras bias is Wb)
//	y     [batch·seq, H] (seqRow order) with retSeq, else [batch, H]
//	mask  [batch, H]         recurrent dropout mask, scaled by 1/(1−p), or nil
//
// reverse reads right to left and writes y in original time order, as ONNX
// direction="reverse" and Keras go_backwards do.
type rnnCore[T kernel.Float] struct {
	batch, seq, in, hidden int
	gru                    bool
	relu                   bool // SimpleRNN activation relu instead of tanh
	reverse, retSeq        bool
	// valid[b·seq+t] is false at the padded steps of a masked layer
	// (mask_zero), which leave the state unchanged and output zeros, as
	// ONNX sequence_lens does; nil when the layer is not masked.
	valid []bool

	xproj []T // [batch·seq, G] x·Wᵀ + Wb, seqRow order
	acts  []T // [seq, batch, G] GRU: z, r, n; SimpleRNN: h
	rproj []T // [seq, batch, G] GRU: hm·Rᵀ + Rb
	hs    []T // [seq+1, batch, H] h by processing step, hs[0] = 0
	hm    []T // [seq, batch, H] mask ⊙ h(s−1) when masked
	mask  []T
	wt    []T // [in, G] Wᵀ
	rt    []T // [H, G] Rᵀ

	dh, tmp []T // [batch, H]
	dxp     []T // [seq, batch, G] ∂L/∂(x·Wᵀ + Wb) by processing step
	drp     []T // [seq, batch, G] ∂L/∂(hm·Rᵀ + Rb) (GRU; a SimpleRNN reuses dxp)
	dxb     []T // [batch·seq, G] dxp in seqRow order
	dx      []T // [batch·seq, in]
	dw, dr  []T // [G, in], [G, H]
	dwb     []T // [G]
	drb     []T // [G] (GRU)
}

func (l *rnnCore[T]) gates() int {
	if l.gru {
		return 3
	}
	return 1
}

func (l *rnnCore[T]) step(s int) int {
	if l.reverse {
		return l.seq - 1 - s
	}
	return s
}

func (l *rnnCore[T]) outSize() int {
	if l.retSeq {
		return l.batch * l.seq * l.hidden
	}
	return l.batch * l.hidden
}

// forward runs the layer and writes y; rb and mask may be nil.
func (l *rnnCore[T]) forward(x, w, r, wb, rb, mask, y []T) {
	B, S, I, H := l.batch, l.seq, l.in, l.hidden
	G := l.gates() * H
	l.xproj = grow(l.xproj, B*S*G)
	l.acts = grow(l.acts, S*B*G)
	l.hs = grow(l.hs, (S+1)*B*H)
	l.mask = mask
	clear(l.hs[:B*H])
	if l.gru {
		l.rproj = grow(l.rproj, S*B*G)
	}
	if mask != nil {
		l.hm = grow(l.hm, S*B*H)
	}
	l.wt = transpose(l.wt, w, G, I)
	l.rt = transpose(l.rt, r, G, H)
	for n := 0; n < B*S; n++ {
		copy(l.xproj[n*G:(n+1)*G], wb)
	}
	kernel.GemmPar(false, false, B*S, G, I, 1, x, I, l.wt, G, 1, l.xproj, G)

	for s := 0; s < S; s++ {
		t := l.step(s)
		hPrev := l.hs[s*B*H : (s+1)*B*H]
		hNew := l.hs[(s+1)*B*H : (s+2)*B*H]
		hm := hPrev
		if mask != nil {
			hm = l.hm[s*B*H : (s+1)*B*H]
			for i := range hm {
				hm[i] = hPrev[i] * mask[i]
			}
		}
		a := l.acts[s*B*G : (s+1)*B*G]
		if !l.gru {
			for b := 0; b < B; b++ {
				r := seqRow(b, t, B, S)
				copy(a[b*G:(b+1)*G], l.xproj[r*G:(r+1)*G])
			}
			kernel.Gemm(false, false, B, G, H, 1, hm, H, l.rt, G, 1, a, G)
			for i, v := range a {
				if l.relu {
					a[i] = max(v, 0)
				} else {
					a[i] = kernel.Tanh(v)
				}
			}
			copy(hNew, a)
		} else {
			p := l.rproj[s*B*G : (s+1)*B*G]
			for b := 0; b < B; b++ {
				if rb != nil {
					copy(p[b*G:(b+1)*G], rb)
				} else {
					clear(p[b*G : (b+1)*G])
				}
			}
			kernel.Gemm(false, false, B, G, H, 1, hm, H, l.rt, G, 1, p, G)
			for b := 0; b < B; b++ {
				r := seqRow(b, t, B, S)
				xr := l.xproj[r*G : (r+1)*G]
				pr, ar := p[b*G:(b+1)*G], a[b*G:(b+1)*G]
				hp, hn := hPrev[b*H:(b+1)*H], hNew[b*H:(b+1)*H]
				for j := 0; j < H; j++ {
					z := kernel.Sigmoid(xr[j] + pr[j])
					rg := kernel.Sigmoid(xr[H+j] + pr[H+j])
					n := kernel.Tanh(xr[2*H+j] + rg*pr[2*H+j])
					ar[j], ar[H+j], ar[2*H+j] = z, rg, n
					hn[j] = z*hp[j] + (1-z)*n
				}
			}
		}
		for b := 0; b < B; b++ {
			yr := y[:0]
			if l.retSeq {
				yr = y[seqRow(b, t, B, S)*H : (seqRow(b, t, B, S)+1)*H]
			}
			if l.valid != nil && !l.valid[b*S+t] {
				copy(hNew[b*H:(b+1)*H], hPrev[b*H:(b+1)*H])
				clear(yr)
				continue
			}
			copy(yr, hNew[b*H:(b+1)*H])
		}
	}
	if !l.retSeq {
		copy(y[:B*H], l.hs[S*B*H:(S+1)*B*H])
	}
}

// backward runs BPTT from dy (shaped like y) and fills dx, dw, dr, dwb and
// (GRU) drb. It must follow forward with the same inputs.
func (l *rnnCore[T]) backward(x, w, r, dy []T) {
	B, S, I, H := l.batch, l.seq, l.in, l.hidden
	G := l.gates() * H
	l.dh = grow(l.dh, B*H)
	l.tmp = grow(l.tmp, B*H)
	l.dxp = grow(l.dxp, S*B*G)
	drp := l.dxp
	if l.gru {
		l.drp = grow(l.drp, S*B*G)
		drp = l.drp
	}
	clear(l.dh)
	for s := S - 1; s >= 0; s-- {
		t := l.step(s)
		if l.retSeq {
			for b := 0; b < B; b++ {
				if l.valid != nil && !l.valid[b*S+t] {
					continue // a padded step outputs a constant zero
				}
				r := seqRow(b, t, B, S)
				src, dst := dy[r*H:(r+1)*H], l.dh[b*H:(b+1)*H]
				for j := range dst {
					dst[j] += src[j]
				}
			}
		} else if s == S-1 {
			for i := range l.dh {
				l.dh[i] += dy[i]
			}
		}
		a := l.acts[s*B*G : (s+1)*B*G]
		dx := l.dxp[s*B*G : (s+1)*B*G]
		dr := drp[s*B*G : (s+1)*B*G]
		if !l.gru {
			for i, h := range a {
				switch {
				case l.valid != nil && !l.valid[(i/H)*S+t]:
					dx[i] = 0
					continue // h(t) = h(t−1): ∂L/∂h passes through
				case !l.relu:
					dx[i] = l.dh[i] * (1 - h*h)
				case h <= 0:
					dx[i] = 0
				default:
					dx[i] = l.dh[i]
				}
				l.dh[i] = 0 // h(t−1) reaches h(t) only through R
			}
		} else {
			p := l.rproj[s*B*G : (s+1)*B*G]
			hPrev := l.hs[s*B*H : (s+1)*B*H]
			for b := 0; b < B; b++ {
				ar, pr := a[b*G:(b+1)*G], p[b*G:(b+1)*G]
				dxr, drr := dx[b*G:(b+1)*G], dr[b*G:(b+1)*G]
				dh, hp := l.dh[b*H:(b+1)*H], hPrev[b*H:(b+1)*H]
				if l.valid != nil && !l.valid[b*S+t] {
					clear(dxr)
					clear(drr)
					continue // h(t) = h(t−1): ∂L/∂h passes through
				}
				for j := 0; j < H; j++ {
					z, rg, n := ar[j], ar[H+j], ar[2*H+j]
					g := dh[j]
					dn := g * (1 - z) * (1 - n*n)
					dz := g * (hp[j] - n) * z * (1 - z)
					dr := dn * pr[2*H+j] * rg * (1 - rg)
					dxr[j], dxr[H+j], dxr[2*H+j] = dz, dr, dn
					drr[j], drr[H+j], drr[2*H+j] = dz, dr, dn*rg
					dh[j] = g * z // the direct path h(t−1) → h(t)
				}
			}
		}
		// ∂L/∂h(t−1) through the recurrent product: dr·R, then the mask.
		kernel.Gemm(false, false, B, H, G, 1, dr, G, r, H, 0, l.tmp, H)
		for i := range l.dh {
			if l.mask != nil {
				l.dh[i] += l.tmp[i] * l.mask[i]
			} else {
				l.dh[i] += l.tmp[i]
			}
		}
	}

	// dR = Σ_s drp(s)ᵀ·hm(s): one GEMM over all steps.
	hm := l.hs[:S*B*H]
	if l.mask != nil {
		hm = l.hm
	}
	l.dr = grow(l.dr, G*H)
	kernel.GemmPar(true, false, G, H, S*B, 1, drp, G, hm, H, 0, l.dr, H)
	if l.gru {
		l.drb = sumRows(l.drb, drp, S*B, G)
	}
	l.dxb = grow(l.dxb, B*S*G)
	for s := 0; s < S; s++ {
		t := l.step(s)
		for b := 0; b < B; b++ {
			r := seqRow(b, t, B, S)
			copy(l.dxb[r*G:(r+1)*G], l.dxp[(s*B+b)*G:(s*B+b+1)*G])
		}
	}
	l.dw = grow(l.dw, G*I)
	l.dx = grow(l.dx, B*S*I)
	kernel.GemmPar(true, false, G, I, B*S, 1, l.dxb, G, x, I, 0, l.dw, I)
	kernel.GemmPar(false, false, B*S, I, G, 1, l.dxb, G, w, I, 0, l.dx, I)
	l.dwb = sumRows(l.dwb, l.dxb, B*S, G)
}

// sumRows returns the column sums of the [rows, cols] matrix a, reusing dst.
func sumRows[T kernel.Float](dst, a []T, rows, cols int) []T {
	dst = grow(dst, cols)
	clear(dst)
	for n := 0; n < rows; n++ {
		for j, v := range a[n*cols : (n+1)*cols] {
			dst[j] += v
		}
	}
	return dst
}
