package infer

import "github.com/birnn/birnn/internal/kernel"

// clipSlice bounds x to [−clip, clip]; clip 0 means no clipping.
func clipSlice[T kernel.Float](x []T, clip float32) {
	if clip <= 0 {
		return
	}
	lo, hi := T(-clip), T(clip)
	for i, v := range x {
		x[i] = min(hi, max(lo, v))
	}
}

// lstmCell holds one direction's recurrent weights and options.
type lstmCell[T rnnFloat] struct {
	batch, hidden int
	r             []T // [4H, H]
	mat           matFunc[T]
	p             []T // [3H] peepholes i, o, f, or nil
	acts          []kernel.Activation
	clip          float32
	inputForget   bool
	general       bool // anything besides the default activations and no options
}

func (l *lstmCell[T]) step() rnnStep[T] {
	batch, H := l.batch, l.hidden
	R := l.mat(l.r, 4*H, H)
	if !l.general {
		return func(z, h, c, hn, cn []T) {
			R.mulAdd(batch, h, 1, z, 4*H)
			kernel.LSTMForward(z, c, cn, hn, batch, H)
		}
	}
	f, g, act := l.acts[0], l.acts[1], l.acts[2]
	tmp := make([]T, H)
	return func(z, h, c, hn, cn []T) {
		R.mulAdd(batch, h, 1, z, 4*H)
		for b := 0; b < batch; b++ {
			zr := z[b*4*H : (b+1)*4*H]
			zi, zo, zf, zc := zr[:H], zr[H:2*H], zr[2*H:3*H], zr[3*H:]
			cp, cr, hr := c[b*H:(b+1)*H], cn[b*H:(b+1)*H], hn[b*H:(b+1)*H]
			if l.p != nil {
				pi, pf := l.p[:H], l.p[2*H:]
				for j := range H {
					zi[j] += pi[j] * cp[j]
					zf[j] += pf[j] * cp[j]
				}
			}
			clipSlice(zi, l.clip)
			kernel.ApplyActivation(f, zi)
			if l.inputForget {
				for j := range H {
					zf[j] = 1 - zi[j]
				}
			} else {
				clipSlice(zf, l.clip)
				kernel.ApplyActivation(f, zf)
			}
			clipSlice(zc, l.clip)
			kernel.ApplyActivation(g, zc)
			for j := range H {
				cr[j] = zf[j]*cp[j] + zi[j]*zc[j]
			}
			if l.p != nil {
				po := l.p[H : 2*H]
				for j := range H {
					zo[j] += po[j] * cr[j]
				}
			}
			clipSlice(zo, l.clip)
			kernel.ApplyActivation(f, zo)
			copy(tmp, cr)
			kernel.ApplyActivation(act, tmp)
			for j := range H {
				hr[j] = zo[j] * tmp[j]
			}
		}
	}
}

// gruCell holds one direction's recurrent weights and options. Gate order
// is z (update), r (reset), h (candidate).
type gruCell[T rnnFloat] struct {
	batch, hidden     int
	r                 []T // [3H, H]
	mat               matFunc[T]
	rbh               []T // [H] recurrent bias of the candidate gate, or nil
	acts              []kernel.Activation
	clip              float32
	linearBeforeReset bool
}

func (g *gruCell[T]) step() rnnStep[T] {
	batch, H := g.batch, g.hidden
	f, act := g.acts[0], g.acts[1]
	if g.linearBeforeReset {
		R := g.mat(g.r, 3*H, H)
		hr := make([]T, batch*3*H)
		return func(z, h, _, hn, _ []T) {
			// hr = h·Rᵀ for all three gates; the candidate's share is reset
			// after the product: r ⊙ (h·Rhᵀ + Rbh).
			R.mulAdd(batch, h, 0, hr, 3*H)
			for b := 0; b < batch; b++ {
				zr, rr := z[b*3*H:(b+1)*3*H], hr[b*3*H:(b+1)*3*H]
				for j := range 2 * H {
					zr[j] += rr[j]
				}
				zz, zg, zh := zr[:H], zr[H:2*H], zr[2*H:]
				clipSlice(zr[:2*H], g.clip)
				kernel.ApplyActivation(f, zr[:2*H])
				rh := rr[2*H:]
				for j := range H {
					v := rh[j]
					if g.rbh != nil {
						v += g.rbh[j]
					}
					zh[j] += zg[j] * v
				}
				clipSlice(zh, g.clip)
				kernel.ApplyActivation(act, zh)
				hp, ho := h[b*H:(b+1)*H], hn[b*H:(b+1)*H]
				for j := range H {
					ho[j] = (1-zz[j])*zh[j] + zz[j]*hp[j]
				}
			}
		}
	}
	Rzr := g.mat(g.r[:2*H*H], 2*H, H)
	Rh := g.mat(g.r[2*H*H:], H, H)
	hr := make([]T, batch*2*H)
	rh := make([]T, batch*H)
	return func(z, h, _, hn, _ []T) {
		Rzr.mulAdd(batch, h, 0, hr, 2*H)
		for b := 0; b < batch; b++ {
			zr, rr := z[b*3*H:b*3*H+2*H], hr[b*2*H:(b+1)*2*H]
			for j := range 2 * H {
				zr[j] += rr[j]
			}
			clipSlice(zr, g.clip)
			kernel.ApplyActivation(f, zr)
			hp, rg := h[b*H:(b+1)*H], zr[H:2*H]
			for j := range H {
				rh[b*H+j] = rg[j] * hp[j]
			}
		}
		// Candidate: (r ⊙ h)·Rhᵀ added onto its x-projection.
		Rh.mulAdd(batch, rh, 1, z[2*H:], 3*H)
		for b := 0; b < batch; b++ {
			zr := z[b*3*H : (b+1)*3*H]
			zz, zh := zr[:H], zr[2*H:]
			if g.rbh != nil {
				for j := range H {
					zh[j] += g.rbh[j]
				}
			}
			clipSlice(zh, g.clip)
			kernel.ApplyActivation(act, zh)
			hp, ho := h[b*H:(b+1)*H], hn[b*H:(b+1)*H]
			for j := range H {
				ho[j] = (1-zz[j])*zh[j] + zz[j]*hp[j]
			}
		}
	}
}

// rnnCell is the simple recurrent cell h = f(x·Wᵀ + h·Rᵀ + Wb + Rb).
type rnnCell[T rnnFloat] struct {
	batch, hidden int
	r             []T // [H, H]
	mat           matFunc[T]
	act           kernel.Activation
	clip          float32
}

func (c *rnnCell[T]) step() rnnStep[T] {
	batch, H := c.batch, c.hidden
	R := c.mat(c.r, H, H)
	return func(z, h, _, hn, _ []T) {
		R.mulAdd(batch, h, 1, z, H)
		clipSlice(z, c.clip)
		kernel.ApplyActivation(c.act, z)
		copy(hn, z)
	}
}
