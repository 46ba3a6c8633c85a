package export_test

import (
	"math"

	"github.com/birnn/birnn/model"
)

// refForward is an independent forward pass of m in float64, written from
// the ONNX LSTM equations and Keras's layer semantics with plain loops, as
// the reference the exports are checked against. ids is [batch, seq]
// row-major; the result is [batch, units of the last layer].
func refForward(m *model.Model, ids []int32, batch, seq int) []float64 {
	emb := m.Param("embedding")
	dim := emb.Shape[1]
	// xs[b][t] is the input vector of step t of review b.
	xs := make([][][]float64, batch)
	for b := range batch {
		xs[b] = make([][]float64, seq)
		for t := range seq {
			id := int(ids[b*seq+t])
			v := make([]float64, dim)
			for k := range dim {
				v[k] = float64(emb.Data[id*dim+k])
			}
			xs[b][t] = v
		}
	}
	var vec [][]float64 // [batch][width] once the sequence is reduced
	for _, l := range m.Layers() {
		if l.Kind == model.KindLSTM {
			outs := make([][][][]float64, l.Dirs) // [dir][batch][t][H]
			lasts := make([][][]float64, l.Dirs)  // [dir][batch][H]
			for d := range l.Dirs {
				outs[d], lasts[d] = refLSTM(m, l, d, xs)
			}
			merge := func(parts [][]float64) []float64 {
				if l.Dirs == 1 {
					return parts[0]
				}
				f, r := parts[0], parts[1]
				out := make([]float64, 0, 2*len(f))
				switch l.MergeMode {
				case model.MergeConcat:
					out = append(append(out, f...), r...)
				case model.MergeSum:
					for j := range f {
						out = append(out, f[j]+r[j])
					}
				case model.MergeMul:
					for j := range f {
						out = append(out, f[j]*r[j])
					}
				case model.MergeAve:
					for j := range f {
						out = append(out, (f[j]+r[j])/2)
					}
				}
				return out
			}
			if l.ReturnSequences {
				next := make([][][]float64, batch)
				for b := range batch {
					next[b] = make([][]float64, seq)
					for t := range seq {
						parts := make([][]float64, l.Dirs)
						for d := range l.Dirs {
							parts[d] = outs[d][b][t]
						}
						next[b][t] = merge(parts)
					}
				}
				xs = next
			} else {
				vec = make([][]float64, batch)
				for b := range batch {
					parts := make([][]float64, l.Dirs)
					for d := range l.Dirs {
						parts[d] = lasts[d][b]
					}
					vec[b] = merge(parts)
				}
			}
			continue
		}
		w, bias := m.Param(l.Name+".W"), m.Param(l.Name+".B")
		for b := range batch {
			out := make([]float64, l.Units)
			for u := range l.Units {
				s := float64(bias.Data[u])
				for k := range l.In {
					s += vec[b][k] * float64(w.Data[k*l.Units+u])
				}
				out[u] = s
			}
			switch l.Activation {
			case "sigmoid":
				for u := range out {
					out[u] = 1 / (1 + math.Exp(-out[u]))
				}
			case "relu":
				for u := range out {
					out[u] = math.Max(0, out[u])
				}
			case "tanh":
				for u := range out {
					out[u] = math.Tanh(out[u])
				}
			case "softmax":
				mx := math.Inf(-1)
				for _, v := range out {
					mx = math.Max(mx, v)
				}
				var sum float64
				for u := range out {
					out[u] = math.Exp(out[u] - mx)
					sum += out[u]
				}
				for u := range out {
					out[u] /= sum
				}
			}
			vec[b] = out
		}
	}
	var flat []float64
	for _, v := range vec {
		flat = append(flat, v...)
	}
	return flat
}

// refLSTM runs direction d of LSTM layer l over xs [batch][seq][in]:
// i, o, f, c gate blocks of W [dirs, 4H, in], R [dirs, 4H, H], B [dirs, 8H];
// c' = f⊙c + i⊙tanh(g), h' = o⊙tanh(c'); direction 1 reads the sequence
// from the end. It returns h at every step in the original time order and
// the state after the last step read.
func refLSTM(m *model.Model, l model.LayerSpec, d int, xs [][][]float64) (outs [][][]float64, last [][]float64) {
	H, in := l.Units, l.In
	W := m.Param(l.Name + ".W").Data[d*4*H*in : (d+1)*4*H*in]
	R := m.Param(l.Name + ".R").Data[d*4*H*H : (d+1)*4*H*H]
	B := m.Param(l.Name + ".B").Data[d*8*H : (d+1)*8*H]
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	outs = make([][][]float64, len(xs))
	last = make([][]float64, len(xs))
	for b, x := range xs {
		seq := len(x)
		h, c := make([]float64, H), make([]float64, H)
		outs[b] = make([][]float64, seq)
		for s := range seq {
			t := s
			if d == 1 {
				t = seq - 1 - s
			}
			z := make([]float64, 4*H)
			for k := range 4 * H {
				v := float64(B[k]) + float64(B[4*H+k])
				for j := range in {
					v += float64(W[k*in+j]) * x[t][j]
				}
				for j := range H {
					v += float64(R[k*H+j]) * h[j]
				}
				z[k] = v
			}
			nh := make([]float64, H)
			for j := range H {
				ig, og, fg, g := sig(z[j]), sig(z[H+j]), sig(z[2*H+j]), math.Tanh(z[3*H+j])
				c[j] = fg*c[j] + ig*g
				nh[j] = og * math.Tanh(c[j])
			}
			h = nh
			outs[b][t] = h
		}
		last[b] = h
	}
	return outs, last
}
