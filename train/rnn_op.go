package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/birnn/birnn/model"
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rnnKernel is one direction of one GRU or SimpleRNN layer as a graph
// operator (rnnCore does the work).
//
// Inputs: x [batch·seq, in] (batch-major), w [G, in], r [G, H], b: [2G] =
// [Wb, Rb] for a GRU, whose two Keras biases are both trained, [G] = Wb for
// a SimpleRNN. Output: [batch·seq, H] with return_sequences, else
// [batch, H].
type rnnKernel[T float32 | float64] struct {
	core     rnnCore[T]
	name     string
	dropout  float64    // recurrent dropout rate p (training only)
	rng      *rand.Rand // draws the masks
	training bool
	mask     []T
	fixed    bool     // a test set mask itself
	steps    *seqMask // mask_zero: the padded steps; nil when not masked
	y        []T
}

func (k *rnnKernel[T]) String() string {
	if k.core.gru {
		return "GRU(" + k.name + ")"
	}
	return "SimpleRNN(" + k.name + ")"
}
func (k *rnnKernel[T]) arity() int      { return 4 }
func (k *rnnKernel[T]) diffWRT() []bool { return []bool{true, true, true, true} }
func (k *rnnKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(2, dt), tensorType(2, dt), tensorType(1, dt), tensorType(2, dt)}
}

func (k *rnnKernel[T]) biasLen() int {
	g := k.core.gates() * k.core.hidden
	if k.core.gru {
		return 2 * g
	}
	return g
}

func (k *rnnKernel[T]) inputShape(i int) tensor.Shape {
	c := &k.core
	g := c.gates() * c.hidden
	switch i {
	case 0:
		return tensor.Shape{c.batch * c.seq, c.in}
	case 1:
		return tensor.Shape{g, c.in}
	case 2:
		return tensor.Shape{g, c.hidden}
	default:
		return tensor.Shape{k.biasLen()}
	}
}

func (k *rnnKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	for i, s := range in {
		if s != nil && !s.Eq(k.inputShape(i)) {
			return nil, fmt.Errorf("train: %s: input %d has shape %v, want %v", k, i, s, k.inputShape(i))
		}
	}
	if k.core.retSeq {
		return tensor.Shape{k.core.batch * k.core.seq, k.core.hidden}, nil
	}
	return tensor.Shape{k.core.batch, k.core.hidden}, nil
}

func (k *rnnKernel[T]) forward(in []G.Value) (G.Value, error) {
	x, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	w, _ := data[T](in[1])
	r, _ := data[T](in[2])
	b, _ := data[T](in[3])
	c := &k.core
	g := c.gates() * c.hidden
	var rb []T
	if c.gru {
		rb = b[g:]
	}
	var mask []T
	switch {
	case k.fixed:
		mask = k.mask
	case k.training && k.dropout > 0:
		k.mask = dropoutMask(k.mask, c.batch*c.hidden, k.dropout, k.rng)
		mask = k.mask
	}
	if k.steps != nil {
		c.valid = k.steps.valid
	}
	k.y = grow(k.y, c.outSize())
	c.forward(x, w, r, b[:g], rb, mask, k.y)
	if c.retSeq {
		return dense(k.y, c.batch*c.seq, c.hidden), nil
	}
	return dense(k.y, c.batch, c.hidden), nil
}

func (k *rnnKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	x, _ := data[T](in[0])
	w, _ := data[T](in[1])
	r, _ := data[T](in[2])
	dy, err := data[T](grad)
	if err != nil {
		return nil, err
	}
	c := &k.core
	c.backward(x, w, r, dy)
	g := c.gates() * c.hidden
	db := c.dwb
	if c.gru {
		db = append(append(make([]T, 0, 2*g), c.dwb...), c.drb...)
	}
	return []G.Value{
		dense(c.dx, c.batch*c.seq, c.in),
		dense(c.dw, g, c.in),
		dense(c.dr, g, c.hidden),
		dense(db, len(db)),
	}, nil
}

// dropoutMask draws Keras's recurrent dropout mask of n values: one per
// sequence and unit, the same at every step, kept units scaled by 1/(1−p).
func dropoutMask[T float32 | float64](mask []T, n int, p float64, rng *rand.Rand) []T {
	mask = grow(mask, n)
	scale := T(1 / (1 - p))
	for i := range mask {
		if rng.Float64() >= p {
			mask[i] = scale
		} else {
			mask[i] = 0
		}
	}
	return mask
}

// addRecurrent adds a GRU or SimpleRNN layer reading x [batch·seq, width]:
// one rnnKernel per direction on slices of the model's W, R and B, then
// the Bidirectional merge. param makes a trainable node sharing memory
// with the model's weights; steps is the mask of a masked layer, else nil.
func addRecurrent[T float32 | float64](l model.LayerSpec, x *G.Node, width, batch, seq int, src paramSource[T],
	param func(name string, v []T, shape ...int) *G.Node, dropout float64, training bool, rng *rand.Rand, steps *seqMask) (*G.Node, error) {
	H, g := l.Units, model.Gates(l.Kind)*l.Units
	w, err1 := src(l.Name + ".W")
	r, err2 := src(l.Name + ".R")
	b, err3 := src(l.Name + ".B")
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	if len(w) != l.Dirs*g*width || len(r) != l.Dirs*g*H || len(b) != l.Dirs*2*g {
		return nil, fmt.Errorf("train: %s: weights do not match [%d, %d, %d]", l.Name, l.Dirs, g, width)
	}
	outs := make([]*G.Node, l.Dirs)
	for d := range l.Dirs {
		k := &rnnKernel[T]{
			core: rnnCore[T]{batch: batch, seq: seq, in: width, hidden: H, gru: l.Kind == model.KindGRU,
				relu: l.Activation == "relu", reverse: d == 1, retSeq: l.ReturnSequences},
			name: fmt.Sprintf("%s/%d", l.Name, d), dropout: dropout, rng: rng, training: training, steps: steps,
		}
		bname, blen := fmt.Sprintf("%s.Wb#%d", l.Name, d), g
		if l.TrainedRb() {
			bname, blen = fmt.Sprintf("%s.B#%d", l.Name, d), 2*g
		}
		wn := param(fmt.Sprintf("%s.W#%d", l.Name, d), w[d*g*width:(d+1)*g*width], g, width)
		rn := param(fmt.Sprintf("%s.R#%d", l.Name, d), r[d*g*H:(d+1)*g*H], g, H)
		bn := param(bname, b[d*2*g:d*2*g+blen], blen)
		o, err := applyFused(k, x, wn, rn, bn)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", l.Name, err)
		}
		outs[d] = o
	}
	if l.Dirs == 1 {
		return outs[0], nil
	}
	y, err := mergeNodes(l.MergeMode, outs[0], outs[1])
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", l.Name, err)
	}
	return y, nil
}

// mergeNodes is Keras's Bidirectional merge of the two directions' outputs
// [rows, H] (the rows in the same order in both).
func mergeNodes(mode string, a, b *G.Node) (*G.Node, error) {
	switch mode {
	case "", model.MergeConcat:
		return G.Concat(1, a, b)
	case model.MergeSum:
		return G.Add(a, b)
	case model.MergeMul:
		return G.HadamardProd(a, b)
	case model.MergeAve:
		s, err := G.Add(a, b)
		if err != nil {
			return nil, err
		}
		half := any(float32(0.5))
		if a.Dtype() == tensor.Float64 {
			half = 0.5
		}
		return G.HadamardProd(s, G.NewConstant(half))
	}
	return nil, fmt.Errorf("unknown merge mode %q", mode)
}
