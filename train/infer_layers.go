package train

import (
	"fmt"

	"github.com/birnn/birnn/model"
)

// inferLayers is the graph-free forward pass (inferPass) of the layers
// rnn_op.go and layers.go add: GRU and SimpleRNN on rnnCore, pools, and
// dropout (the identity at inference).
type inferLayers struct {
	cores [][]*rnnCore[float32] // per layer, per direction
	outs  [][][]float32         // per layer, per direction: outputs
	y     [][]float32           // per layer: merged or pooled output
	mask  seqMask
}

// inferOther runs layer li of r on x [rows, width] for a batch of B
// reviews of S steps (ids row-major in rowIDs) and returns its output and
// shape.
func (r *runner) inferOther(li int, x []float32, rows, width, B, S int, rowIDs []int) ([]float32, int, int, error) {
	p := &r.inferX
	l := r.layers[li]
	if p.cores == nil {
		p.cores = make([][]*rnnCore[float32], len(r.layers))
		p.outs = make([][][]float32, len(r.layers))
		p.y = make([][]float32, len(r.layers))
	}
	if l.Masked {
		p.batchMask(B, S, rowIDs)
	}
	switch l.Kind {
	case model.KindDropout, model.KindSpatialDropout:
		return x, rows, width, nil
	case model.KindGlobalMaxPool, model.KindGlobalAveragePool:
		k := &poolKernel[float32]{name: l.Name, batch: B, seq: S, w: width, max: l.Kind == model.KindGlobalMaxPool, y: p.y[li], arg: nil}
		if l.Masked {
			k.mask = &p.mask
		}
		k.poolForward(x)
		p.y[li] = k.y
		return k.y, B, width, nil
	case model.KindGRU, model.KindSimpleRNN:
	default:
		return nil, 0, 0, fmt.Errorf("train: %s: no inference for kind %q", l.Name, l.Kind)
	}
	H, g := l.Units, model.Gates(l.Kind)*l.Units
	w, e1 := r.source(l.Name + ".W")
	rr, e2 := r.source(l.Name + ".R")
	b, e3 := r.source(l.Name + ".B")
	if err := firstErr(e1, e2, e3); err != nil {
		return nil, 0, 0, err
	}
	if len(w) != l.Dirs*g*width || len(rr) != l.Dirs*g*H || len(b) != l.Dirs*2*g {
		return nil, 0, 0, fmt.Errorf("train: %s: weights do not match [%d, %d, %d]", l.Name, l.Dirs, g, width)
	}
	if p.cores[li] == nil {
		p.outs[li] = make([][]float32, l.Dirs)
		for d := range l.Dirs {
			p.cores[li] = append(p.cores[li], &rnnCore[float32]{in: width, hidden: H, gru: l.Kind == model.KindGRU,
				relu: l.Activation == "relu", reverse: d == 1, retSeq: l.ReturnSequences})
		}
	}
	for d, c := range p.cores[li] {
		c.batch, c.seq, c.valid = B, S, nil
		if l.Masked {
			c.valid = p.mask.valid
		}
		var rb []float32
		if c.gru {
			rb = b[d*2*g+g : (d+1)*2*g]
		}
		p.outs[li][d] = grow(p.outs[li][d], c.outSize())
		c.forward(x, w[d*g*width:(d+1)*g*width], rr[d*g*H:(d+1)*g*H], b[d*2*g:d*2*g+g], rb, nil, p.outs[li][d])
	}
	n := p.cores[li][0].outSize() / H
	if l.Dirs == 1 {
		return p.outs[li][0], n, H, nil
	}
	p.y[li] = grow(p.y[li], n*l.Out)
	mergeRows(l.MergeMode, p.outs[li][0], p.outs[li][1], p.y[li], n, H)
	return p.y[li], n, l.Out, nil
}

// batchMask fills the mask_zero mask of a batch of B reviews of S steps
// (ids row-major) and returns it.
func (p *inferLayers) batchMask(B, S int, rowIDs []int) *seqMask {
	p.mask.batch, p.mask.seq = B, S
	p.mask.set(rowIDs)
	return &p.mask
}

// mergeRows is Keras's Bidirectional merge of a and b [n, H] into y ([n,
// 2H] for concat, else [n, H]).
func mergeRows(mode string, a, b, y []float32, n, H int) {
	for i := range n {
		ar, br := a[i*H:(i+1)*H], b[i*H:(i+1)*H]
		switch mode {
		case "", model.MergeConcat:
			copy(y[i*2*H:], ar)
			copy(y[i*2*H+H:], br)
		case model.MergeSum:
			for j := range ar {
				y[i*H+j] = ar[j] + br[j]
			}
		case model.MergeMul:
			for j := range ar {
				y[i*H+j] = ar[j] * br[j]
			}
		case model.MergeAve:
			for j := range ar {
				y[i*H+j] = (ar[j] + br[j]) * 0.5
			}
		}
	}
}
