package train

import (
	"fmt"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmCell is the LSTM step of seqLayer with the default activations, in
// ONNX gate order i, o, f, c (W [4H, in], R [4H, H], Wb [4H]; Rb is zero
// in birnn models and not trained). The forward step is the engine's
// kernel.LSTMForward (LSTMForward32 for float32), the backward step
// kernel.LSTMCellBackward.
type lstmCell[T kernel.Float] struct{ hidden int }

func (lstmCell[T]) gates() int      { return 4 }
func (lstmCell[T]) cellState() bool { return true }

func (l lstmCell[T]) forwardRows(rows int, z []T, ldz int, cPrev, c, h []T, ldh int) {
	H := l.hidden
	for b := range rows {
		zr := z[b*ldz : b*ldz+4*H]
		cr, hr := c[b*ldh:b*ldh+H], h[b*ldh:b*ldh+H]
		if cPrev == nil {
			// c(−1) = 0: the cell update reads cPrev as a zero vector,
			// here c itself cleared first.
			clear(cr)
			kernel.LSTMForward(zr, cr, cr, hr, 1, H)
			continue
		}
		kernel.LSTMForward(zr, cPrev[b*ldh:b*ldh+H], cr, hr, 1, H)
	}
}

func (l lstmCell[T]) backwardRows(rows int, z []T, ldz int, cPrev, c []T, ldh int, dh, dc, tc []T) {
	H := l.hidden
	for b := range rows {
		var cp []T
		if cPrev != nil {
			cp = cPrev[b*ldh : b*ldh+H]
		}
		g := z[b*ldz : b*ldz+4*H]
		kernel.LSTMCellBackward(g, cp, c[b*ldh:b*ldh+H], dh[b*H:b*H+H], dc[b*H:b*H+H], g, tc)
	}
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

// seqOp is a seqLayer as a graph operator, for one batch shape.
//
// Inputs: x [seq·batch, in] (time-major), then per direction W [G·H, in],
// R [G·H, H] and b [G·H]. Output: [seq·batch, out] with return_sequences,
// else [batch, out].
type seqOp[T float32 | float64] struct {
	l          *seqLayer[T]
	batch, seq int
	training   bool
	steps      *seqMask // mask_zero: the padded steps of the net's batch; nil when not masked
	w, r, b    [][]T    // per-call views, kept to avoid allocating
}

func (k *seqOp[T]) String() string { return "Recurrent(" + k.l.name + ")" }
func (k *seqOp[T]) arity() int     { return 1 + 3*k.l.dirs }
func (k *seqOp[T]) diffWRT() []bool {
	d := make([]bool, k.arity())
	for i := range d {
		d[i] = true
	}
	return d
}
func (k *seqOp[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	ts := []hm.Type{tensorType(2, dt)}
	for range k.l.dirs {
		ts = append(ts, tensorType(2, dt), tensorType(2, dt), tensorType(1, dt))
	}
	return append(ts, tensorType(2, dt))
}
func (k *seqOp[T]) inputShape(i int) tensor.Shape {
	l := k.l
	GH := l.cell.gates() * l.hidden
	if i == 0 {
		return tensor.Shape{k.batch * k.seq, l.in}
	}
	switch (i - 1) % 3 {
	case 0:
		return tensor.Shape{GH, l.in}
	case 1:
		return tensor.Shape{GH, l.hidden}
	}
	return tensor.Shape{GH}
}
func (k *seqOp[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	for i, s := range in {
		if s != nil && !s.Eq(k.inputShape(i)) {
			return nil, fmt.Errorf("train: %s: input %d has shape %v, want %v", k, i, s, k.inputShape(i))
		}
	}
	return tensor.Shape{k.l.outRows(k.batch, k.seq), k.l.out()}, nil
}

func (k *seqOp[T]) forward(in []G.Value) (G.Value, error) {
	x, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	D := k.l.dirs
	if k.w == nil {
		k.w, k.r, k.b = make([][]T, D), make([][]T, D), make([][]T, D)
	}
	for d := range D {
		var e1, e2, e3 error
		k.w[d], e1 = data[T](in[1+3*d])
		k.r[d], e2 = data[T](in[2+3*d])
		k.b[d], e3 = data[T](in[3+3*d])
		if err := firstErr(e1, e2, e3); err != nil {
			return nil, err
		}
	}
	k.l.steps = k.steps
	y := k.l.forward(k.batch, k.seq, k.training, x, k.w, k.r, k.b)
	return dense(y, k.l.outRows(k.batch, k.seq), k.l.out()), nil
}

func (k *seqOp[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	dy, err := data[T](grad)
	if err != nil {
		return nil, err
	}
	l := k.l
	if l.batch != k.batch || l.seq != k.seq {
		return nil, fmt.Errorf("train: %s: backward of a %d×%d batch after a forward of %d×%d", k, k.batch, k.seq, l.batch, l.seq)
	}
	l.backward(dy)
	GH := l.cell.gates() * l.hidden
	out := []G.Value{dense(l.dx, k.batch*k.seq, l.in)}
	for d := range l.dirs {
		out = append(out, dense(l.dw[d], GH, l.in), dense(l.dr[d], GH, l.hidden), dense(l.db[d], GH))
	}
	return out, nil
}
