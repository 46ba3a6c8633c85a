package train

import (
	"fmt"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/model"
)

// inferPass is the forward pass of validation and Evaluate without the
// tape: the embedding rows are gathered, each recurrent layer runs its
// seqLayer forward (the same kernels as training, sharing its buffers),
// each Dense layer is one kernel.Gemm and its activation, and the loss is
// scored from the logits. No graph is built, nothing is kept for
// gradients and, once the buffers have grown, nothing is allocated.
type inferPass struct {
	x      []float32   // embedded batch, time-major
	dense  [][]float32 // per layer: Dense outputs
	views  []dirViews  // per layer: the recurrent weights per direction
	rowIDs []int       // the batch's ids, row-major
	loss   []float64
}

type dirViews struct{ w, r, b [][]float32 }

// views returns layer li's recurrent weights per direction (W, R, Wb),
// slices of the model's parameters (updated in place by the optimizer).
func (r *runner) views(li int) (dirViews, error) {
	p := &r.infer
	if p.views == nil {
		p.views = make([]dirViews, len(r.layers))
	}
	if v := p.views[li]; v.w != nil {
		return v, nil
	}
	l := r.layers[li]
	H, in := l.Units, r.rec[li].in
	w, e1 := r.source(l.Name + ".W")
	rr, e2 := r.source(l.Name + ".R")
	b, e3 := r.source(l.Name + ".B")
	if err := firstErr(e1, e2, e3); err != nil {
		return dirViews{}, err
	}
	if len(w) != l.Dirs*4*H*in || len(rr) != l.Dirs*4*H*H || len(b) != l.Dirs*8*H {
		return dirViews{}, fmt.Errorf("train: %s: weights do not match [%d, %d, %d]", l.Name, l.Dirs, 4*H, in)
	}
	var v dirViews
	for d := range l.Dirs {
		v.w = append(v.w, w[d*4*H*in:(d+1)*4*H*in])
		v.r = append(v.r, rr[d*4*H*H:(d+1)*4*H*H])
		v.b = append(v.b, b[d*8*H:d*8*H+4*H])
	}
	p.views[li] = v
	return v, nil
}

// inferBatch scores rows idx of d: the summed loss and the number of
// correct predictions.
func (r *runner) inferBatch(d Data, idx []int) (float64, int, error) {
	p := &r.infer
	B, S := len(idx), d.X.Cols
	emb, err := r.source("embedding")
	if err != nil {
		return 0, 0, err
	}
	dim := r.dim
	p.rowIDs, r.labels = appendRows(p.rowIDs[:0], r.labels[:0], d, idx)
	r.ids = timeMajor(r.ids, p.rowIDs, B, S)
	p.x = grow(p.x, B*S*dim)
	for n, id := range r.ids {
		copy(p.x[n*dim:(n+1)*dim], emb[id*dim:(id+1)*dim])
	}
	if p.dense == nil {
		p.dense = make([][]float32, len(r.layers))
	}
	x, rows, width := p.x, B*S, dim
	for li, l := range r.layers {
		switch l.Kind {
		case model.KindLSTM:
			v, err := r.views(li)
			if err != nil {
				return 0, 0, err
			}
			s := r.rec[li]
			s.steps = nil
			if l.Masked {
				s.steps = r.inferX.batchMask(B, S, p.rowIDs)
			}
			x = s.forward(B, S, false, x, v.w, v.r, v.b)
			rows, width = s.outRows(B, S), s.out()
		case model.KindDense:
			w, e1 := r.source(l.Name + ".W")
			b, e2 := r.source(l.Name + ".B")
			if err := firstErr(e1, e2); err != nil {
				return 0, 0, err
			}
			u := l.Units
			if len(w) != width*u || len(b) != u {
				return 0, 0, fmt.Errorf("train: %s: weights do not match [%d, %d]", l.Name, width, u)
			}
			y := grow(p.dense[li], rows*u)
			p.dense[li] = y
			for i := range rows {
				copy(y[i*u:(i+1)*u], b)
			}
			kernel.Gemm(false, false, rows, u, width, 1, x, width, w, u, 1, y, u)
			if li < len(r.layers)-1 {
				if err := activate(l.Activation, y); err != nil {
					return 0, 0, fmt.Errorf("train: %s: %w", l.Name, err)
				}
			}
			x, width = y, u
		default:
			var err error
			if x, rows, width, err = r.inferOther(li, x, rows, width, B, S, p.rowIDs); err != nil {
				return 0, 0, err
			}
		}
	}
	p.loss = grow(p.loss, B)
	loss := crossEntropy(x, r.labels, B, width, p.loss)
	return loss, countCorrect(x, r.labels, B, width), nil
}

// activate applies a hidden Dense layer's activation in place, as the
// graph's gorgonia nodes do.
func activate(name string, y []float32) error {
	switch name {
	case "", "sigmoid":
		for i, v := range y {
			y[i] = kernel.Sigmoid(v)
		}
	case "relu":
		for i, v := range y {
			y[i] = max(v, 0)
		}
	case "tanh":
		for i, v := range y {
			y[i] = kernel.Tanh(v)
		}
	case "linear":
	default:
		return fmt.Errorf("activation %q is only supported on the last layer", name)
	}
	return nil
}
