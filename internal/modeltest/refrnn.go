package modeltest

import (
	"math"

	"github.com/birnn/birnn/model"
)

// refDirection runs direction d of recurrent layer l (any kind) over xs
// [batch][seq][in]; see refLSTM and refGatedRNN. With valid (mask_zero),
// a padded step keeps the state and outputs zeros.
func refDirection(m *model.Model, l model.LayerSpec, d int, xs [][][]float64, valid [][]bool) (outs [][][]float64, last [][]float64) {
	if l.Kind == model.KindLSTM {
		return refLSTM(m, l, d, xs, valid)
	}
	return refGatedRNN(m, l, d, xs, valid)
}

// refMask is valid[b][t] = ids[b, t] != 0 for a mask_zero model, else nil.
func refMask(m *model.Model, ids []int32, batch, seq int) [][]bool {
	if !m.Config.Model.Embedding.MaskZero {
		return nil
	}
	v := make([][]bool, batch)
	for b := range batch {
		v[b] = make([]bool, seq)
		for t := range seq {
			v[b][t] = ids[b*seq+t] != 0
		}
	}
	return v
}

// refPool is a global max or average pool over the (valid) steps of xs; a
// review with no valid step gives zeros.
func refPool(l model.LayerSpec, xs [][][]float64, valid [][]bool) [][]float64 {
	out := make([][]float64, len(xs))
	for b, x := range xs {
		w := len(x[0])
		out[b] = make([]float64, w)
		n := 0
		for t, v := range x {
			if valid != nil && !valid[b][t] {
				continue
			}
			for j := range w {
				switch {
				case l.Kind == model.KindGlobalAveragePool:
					out[b][j] += v[j]
				case n == 0 || v[j] > out[b][j]:
					out[b][j] = v[j]
				}
			}
			n++
		}
		if l.Kind == model.KindGlobalAveragePool && n > 0 {
			for j := range w {
				out[b][j] /= float64(n)
			}
		}
	}
	return out
}

// refGatedRNN runs direction d of a GRU or SimpleRNN layer l from the ONNX
// equations, in float64: GRU (linear_before_reset=1, gates z, r, h of W
// [dirs, 3H, in], R [dirs, 3H, H], B [dirs, 6H] = [Wb, Rb])
// z = σ(Wz·x + Wbz + Rz·h + Rbz), r likewise, n = tanh(Wh·x + Wbh +
// r ⊙ (Rh·h + Rbh)), h' = (1 − z) ⊙ n + z ⊙ h; RNN h' = f(W·x + Wb + R·h +
// Rb), f tanh or relu. Direction 1 reads the sequence from the end.
func refGatedRNN(m *model.Model, l model.LayerSpec, d int, xs [][][]float64, valid [][]bool) (outs [][][]float64, last [][]float64) {
	H, in := l.Units, l.In
	g := model.Gates(l.Kind) * H
	W := m.Param(l.Name + ".W").Data[d*g*in : (d+1)*g*in]
	R := m.Param(l.Name + ".R").Data[d*g*H : (d+1)*g*H]
	B := m.Param(l.Name + ".B").Data[d*2*g : (d+1)*2*g]
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	outs = make([][][]float64, len(xs))
	last = make([][]float64, len(xs))
	for b, x := range xs {
		seq := len(x)
		h := make([]float64, H)
		outs[b] = make([][]float64, seq)
		for s := range seq {
			t := s
			if d == 1 {
				t = seq - 1 - s
			}
			if valid != nil && !valid[b][t] {
				outs[b][t] = make([]float64, H)
				continue
			}
			wx, rh := make([]float64, g), make([]float64, g)
			for k := range g {
				wx[k], rh[k] = float64(B[k]), float64(B[g+k])
				for j := range in {
					wx[k] += float64(W[k*in+j]) * x[t][j]
				}
				for j := range H {
					rh[k] += float64(R[k*H+j]) * h[j]
				}
			}
			nh := make([]float64, H)
			for j := range H {
				if l.Kind == model.KindGRU {
					z, r := sig(wx[j]+rh[j]), sig(wx[H+j]+rh[H+j])
					n := math.Tanh(wx[2*H+j] + r*rh[2*H+j])
					nh[j] = (1-z)*n + z*h[j]
				} else if a := wx[j] + rh[j]; l.Activation == "relu" {
					nh[j] = math.Max(a, 0)
				} else {
					nh[j] = math.Tanh(a)
				}
			}
			h = nh
			outs[b][t] = h
		}
		last[b] = h
	}
	return outs, last
}
