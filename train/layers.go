package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/birnn/birnn/model"
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// seqRow is the row of step t of review b in a sequence tensor
// [batch·seq, width] between the embedding and the last recurrent layer:
// rows are time-major (see seqLayer).
func seqRow(b, t, batch, seq int) int { return t*batch + b }

// seqReview is the review a row of a sequence tensor belongs to.
func seqReview(row, batch, seq int) int { return row % batch }

// seqMask is the mask_zero mask of the batch a net runs: valid[b·seq+t] is
// false where the id is 0 (padding). net.run fills it before the tape runs.
type seqMask struct {
	batch, seq int
	valid      []bool
	count      []int // valid steps per review
}

func (m *seqMask) set(ids []int) {
	m.valid = m.valid[:0]
	m.count = append(m.count[:0], make([]int, m.batch)...)
	for i, id := range ids {
		m.valid = append(m.valid, id != 0)
		if id != 0 {
			m.count[i/m.seq]++
		}
	}
}

// mask returns the net's mask, creating it on first use.
func (n *net[T]) seqMask() *seqMask {
	if n.mask == nil {
		n.mask = &seqMask{batch: n.batch, seq: n.seq}
	}
	return n.mask
}

// addWeightless adds a dropout, spatial_dropout1d or pooling layer reading
// x [rows, width] (a sequence when seqOut). It returns the layer's output
// and its rows.
func (n *net[T]) addWeightless(l model.LayerSpec, x *G.Node, rows, width int, seqOut bool, rng *rand.Rand) (*G.Node, int, error) {
	switch l.Kind {
	case model.KindDropout, model.KindSpatialDropout:
		if !n.training || l.Rate == 0 {
			return x, rows, nil
		}
		y, err := applyFused(&dropoutKernel[T]{name: l.Name, n: rows, w: width, rate: l.Rate,
			spatial: l.Kind == model.KindSpatialDropout, batch: n.batch, seq: n.seq, rng: rng}, x)
		return y, rows, err
	case model.KindGlobalMaxPool, model.KindGlobalAveragePool:
		if !seqOut {
			return nil, 0, fmt.Errorf("train: %s: a pool needs a sequence", l.Name)
		}
		k := &poolKernel[T]{name: l.Name, batch: n.batch, seq: n.seq, w: width, max: l.Kind == model.KindGlobalMaxPool}
		if l.Masked {
			k.mask = n.seqMask()
		}
		y, err := applyFused(k, x)
		return y, n.batch, err
	}
	return nil, 0, fmt.Errorf("train: %s: unknown kind %q", l.Name, l.Kind)
}

// inputDropout is a recurrent layer's dropout (Keras dropout=p on an
// LSTM, GRU or SimpleRNN): one mask per review and input unit, the same
// at every step, kept units scaled by 1/(1−p) — a spatial dropout of the
// layer's input. Inference and p = 0 leave x as it is.
func (n *net[T]) inputDropout(l model.LayerSpec, x *G.Node, width int, rng *rand.Rand) (*G.Node, error) {
	if !n.training || l.Rate == 0 {
		return x, nil
	}
	return applyFused(&dropoutKernel[T]{name: l.Name + "/dropout", n: n.batch * n.seq, w: width, rate: l.Rate,
		spatial: true, batch: n.batch, seq: n.seq, rng: rng}, x)
}

// dropoutKernel is Keras's Dropout (one draw per value) or
// SpatialDropout1D (one draw per review and channel, shared by every
// step) at training time: kept values scaled by 1/(1−rate).
//
// Input and output: [n, w].
type dropoutKernel[T float32 | float64] struct {
	name       string
	n, w       int
	rate       float64
	spatial    bool
	batch, seq int
	rng        *rand.Rand
	mask       []T // [n, w] as applied
	fixed      bool
	y, dx      []T
}

func (k *dropoutKernel[T]) String() string  { return "Dropout(" + k.name + ")" }
func (k *dropoutKernel[T]) arity() int      { return 1 }
func (k *dropoutKernel[T]) diffWRT() []bool { return []bool{true} }
func (k *dropoutKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(2, dt)}
}
func (k *dropoutKernel[T]) inputShape(int) tensor.Shape { return tensor.Shape{k.n, k.w} }
func (k *dropoutKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0] != nil && !in[0].Eq(k.inputShape(0)) {
		return nil, fmt.Errorf("train: %s: input has shape %v, want %v", k, in[0], k.inputShape(0))
	}
	return tensor.Shape{k.n, k.w}, nil
}

func (k *dropoutKernel[T]) forward(in []G.Value) (G.Value, error) {
	x, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	if !k.fixed {
		k.mask = grow(k.mask, k.n*k.w)
		if k.spatial {
			per := dropoutMask[T](nil, k.batch*k.w, k.rate, k.rng)
			for r := range k.n {
				b := seqReview(r, k.batch, k.seq)
				copy(k.mask[r*k.w:(r+1)*k.w], per[b*k.w:(b+1)*k.w])
			}
		} else {
			k.mask = dropoutMask(k.mask, k.n*k.w, k.rate, k.rng)
		}
	}
	k.y = grow(k.y, k.n*k.w)
	for i, v := range x {
		k.y[i] = v * k.mask[i]
	}
	return dense(k.y, k.n, k.w), nil
}

func (k *dropoutKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	dy, err := data[T](grad)
	if err != nil {
		return nil, err
	}
	k.dx = grow(k.dx, k.n*k.w)
	for i, v := range dy {
		k.dx[i] = v * k.mask[i]
	}
	return []G.Value{dense(k.dx, k.n, k.w)}, nil
}

// poolKernel is GlobalMaxPooling1D or GlobalAveragePooling1D over time.
// With a mask (mask_zero) it pools the valid steps only — the average is
// Keras's masked mean, Σ valid x / count; the max is over valid steps —
// and a review with no valid step gives zeros (as the export does).
//
// Input: x [batch·seq, w] (seqRow order). Output: [batch, w].
type poolKernel[T float32 | float64] struct {
	name       string
	batch, seq int
	w          int
	max        bool
	mask       *seqMask // nil: every step counts
	arg        []int    // max: the row each output came from (−1: none)
	y, dx      []T
}

func (k *poolKernel[T]) String() string {
	if k.max {
		return "GlobalMaxPool(" + k.name + ")"
	}
	return "GlobalAveragePool(" + k.name + ")"
}
func (k *poolKernel[T]) arity() int      { return 1 }
func (k *poolKernel[T]) diffWRT() []bool { return []bool{true} }
func (k *poolKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(2, dt)}
}
func (k *poolKernel[T]) inputShape(int) tensor.Shape { return tensor.Shape{k.batch * k.seq, k.w} }
func (k *poolKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0] != nil && !in[0].Eq(k.inputShape(0)) {
		return nil, fmt.Errorf("train: %s: input has shape %v, want %v", k, in[0], k.inputShape(0))
	}
	return tensor.Shape{k.batch, k.w}, nil
}

func (k *poolKernel[T]) valid(b, t int) bool {
	return k.mask == nil || k.mask.valid[b*k.seq+t]
}

func (k *poolKernel[T]) count(b int) int {
	if k.mask == nil {
		return k.seq
	}
	return k.mask.count[b]
}

func (k *poolKernel[T]) forward(in []G.Value) (G.Value, error) {
	x, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	k.poolForward(x)
	return dense(k.y, k.batch, k.w), nil
}

// poolForward pools x [batch·seq, w] into k.y [batch, w].
func (k *poolKernel[T]) poolForward(x []T) {
	B, S, W := k.batch, k.seq, k.w
	k.y = grow(k.y, B*W)
	clear(k.y)
	if k.max {
		k.arg = append(k.arg[:0], make([]int, B*W)...)
	}
	for b := range B {
		yr := k.y[b*W : (b+1)*W]
		if k.max {
			ar := k.arg[b*W : (b+1)*W]
			for j := range ar {
				ar[j], yr[j] = -1, T(math.Inf(-1))
			}
			for t := range S {
				if !k.valid(b, t) {
					continue
				}
				r := seqRow(b, t, B, S)
				for j, v := range x[r*W : (r+1)*W] {
					if ar[j] < 0 || v > yr[j] {
						yr[j], ar[j] = v, r
					}
				}
			}
			for j := range ar {
				if ar[j] < 0 {
					yr[j] = 0
				}
			}
			continue
		}
		n := k.count(b)
		if n == 0 {
			continue
		}
		for t := range S {
			if !k.valid(b, t) {
				continue
			}
			r := seqRow(b, t, B, S)
			for j, v := range x[r*W : (r+1)*W] {
				yr[j] += v
			}
		}
		inv := 1 / T(n)
		for j := range yr {
			yr[j] *= inv
		}
	}
}

func (k *poolKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	dy, err := data[T](grad)
	if err != nil {
		return nil, err
	}
	B, S, W := k.batch, k.seq, k.w
	k.dx = grow(k.dx, B*S*W)
	clear(k.dx)
	for b := range B {
		g := dy[b*W : (b+1)*W]
		if k.max {
			for j, r := range k.arg[b*W : (b+1)*W] {
				if r >= 0 {
					k.dx[r*W+j] += g[j]
				}
			}
			continue
		}
		n := k.count(b)
		if n == 0 {
			continue
		}
		inv := 1 / T(n)
		for t := range S {
			if !k.valid(b, t) {
				continue
			}
			r := seqRow(b, t, B, S)
			for j := range W {
				k.dx[r*W+j] = g[j] * inv
			}
		}
	}
	return []G.Value{dense(k.dx, B*S, W)}, nil
}
