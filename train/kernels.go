package train

import (
	"fmt"
	"math"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func dtypeOf[T float32 | float64]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float64); ok {
		return tensor.Float64
	}
	return tensor.Float32
}

// affineKernel is a Dense layer before its activation: y = x·W + b.
//
// Inputs: x [n, in], w [in, units] (Keras layout), b [units]. Output [n, units].
type affineKernel[T float32 | float64] struct {
	name      string
	n, in, u  int
	y, dx, dw []T
	db        []T
}

func (k *affineKernel[T]) String() string  { return "Dense(" + k.name + ")" }
func (k *affineKernel[T]) arity() int      { return 3 }
func (k *affineKernel[T]) diffWRT() []bool { return []bool{true, true, true} }
func (k *affineKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(2, dt), tensorType(1, dt), tensorType(2, dt)}
}
func (k *affineKernel[T]) inputShape(i int) tensor.Shape {
	return []tensor.Shape{{k.n, k.in}, {k.in, k.u}, {k.u}}[i]
}
func (k *affineKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	for i, s := range in {
		if s != nil && !s.Eq(k.inputShape(i)) {
			return nil, fmt.Errorf("train: %s: input %d has shape %v, want %v", k, i, s, k.inputShape(i))
		}
	}
	return tensor.Shape{k.n, k.u}, nil
}
func (k *affineKernel[T]) forward(in []G.Value) (G.Value, error) {
	x, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	w, _ := data[T](in[1])
	b, _ := data[T](in[2])
	k.y = grow(k.y, k.n*k.u)
	for i := 0; i < k.n; i++ {
		copy(k.y[i*k.u:(i+1)*k.u], b)
	}
	kernel.Gemm(false, false, k.n, k.u, k.in, 1, x, k.in, w, k.u, 1, k.y, k.u)
	return dense(k.y, k.n, k.u), nil
}
func (k *affineKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	x, _ := data[T](in[0])
	w, _ := data[T](in[1])
	dy, err := data[T](grad)
	if err != nil {
		return nil, err
	}
	k.dx = grow(k.dx, k.n*k.in)
	k.dw = grow(k.dw, k.in*k.u)
	k.db = grow(k.db, k.u)
	kernel.Gemm(false, true, k.n, k.in, k.u, 1, dy, k.u, w, k.u, 0, k.dx, k.in)
	kernel.Gemm(true, false, k.in, k.u, k.n, 1, x, k.in, dy, k.u, 0, k.dw, k.u)
	clear(k.db)
	for i := 0; i < k.n; i++ {
		for j, v := range dy[i*k.u : (i+1)*k.u] {
			k.db[j] += v
		}
	}
	return []G.Value{dense(k.dx, k.n, k.in), dense(k.dw, k.in, k.u), dense(k.db, k.u)}, nil
}

// lossKernel is the mean cross-entropy of a batch computed from logits, so
// saturated outputs give finite losses and gradients.
//
// Inputs: logits [n, units], labels [n, 1] (0/1, or the class index for a
// softmax head). Output: a scalar. With units == 1 it is binary
// cross-entropy of sigmoid(logit), softplus(z) − y·z; with units > 1 it is
// categorical cross-entropy of softmax(logits), logsumexp(z) − z[y].
type lossKernel[T float32 | float64] struct {
	n, u   int
	dz     []T
	losses []float64 // per row, for metrics
}

func (k *lossKernel[T]) String() string  { return "CrossEntropy" }
func (k *lossKernel[T]) arity() int      { return 2 }
func (k *lossKernel[T]) diffWRT() []bool { return []bool{true, false} }
func (k *lossKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(2, dt), dt}
}
func (k *lossKernel[T]) inputShape(i int) tensor.Shape {
	return []tensor.Shape{{k.n, k.u}, {k.n, 1}}[i]
}
func (k *lossKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func softplus(z float64) float64 { return math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) }

func (k *lossKernel[T]) forward(in []G.Value) (G.Value, error) {
	z, err := data[T](in[0])
	if err != nil {
		return nil, err
	}
	y, err := data[T](in[1])
	if err != nil {
		return nil, err
	}
	k.losses = grow(k.losses, k.n)
	sum := crossEntropy(z, y, k.n, k.u, k.losses)
	mean := sum / float64(k.n)
	var out T = T(mean)
	switch v := any(out).(type) {
	case float64:
		return G.NewF64(v), nil
	default:
		return G.NewF32(v.(float32)), nil
	}
}

// crossEntropy writes the loss of each of n rows of logits z [n, u]
// against labels y into losses and returns their sum: softplus(z) − y·z
// for one unit (sigmoid), logsumexp(z) − z[y] for more (softmax).
func crossEntropy[T float32 | float64](z, y []T, n, u int, losses []float64) float64 {
	var sum float64
	for i := 0; i < n; i++ {
		var l float64
		if u == 1 {
			zi := float64(z[i])
			l = softplus(zi) - float64(y[i])*zi
		} else {
			row := z[i*u : (i+1)*u]
			l = logSumExp(row) - float64(row[int(y[i])])
		}
		losses[i] = l
		sum += l
	}
	return sum
}

func logSumExp[T float32 | float64](row []T) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

func (k *lossKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	z, _ := data[T](in[0])
	y, _ := data[T](in[1])
	g, err := scalar(grad)
	if err != nil {
		return nil, err
	}
	k.dz = grow(k.dz, k.n*k.u)
	scale := g / float64(k.n)
	for i := 0; i < k.n; i++ {
		if k.u == 1 {
			k.dz[i] = T((kernel.Sigmoid(float64(z[i])) - float64(y[i])) * scale)
			continue
		}
		row := z[i*k.u : (i+1)*k.u]
		lse := logSumExp(row)
		for j := range row {
			p := math.Exp(float64(row[j]) - lse)
			if j == int(y[i]) {
				p--
			}
			k.dz[i*k.u+j] = T(p * scale)
		}
	}
	return []G.Value{dense(k.dz, k.n, k.u), nil}, nil
}

// embedKernel is the embedding lookup: rows of emb [vocab, dim] gathered
// by ids [n] into [n, dim], into a buffer reused across batches; backward
// scatter-adds ∂L/∂rows into a dense [vocab, dim] gradient, in row order.
// (gorgonia's ByIndices allocates both, 4 MB per study step.)
type embedKernel[T float32 | float64] struct {
	vocab, dim, n int
	y, dw         []T
}

func (k *embedKernel[T]) String() string  { return "Embedding" }
func (k *embedKernel[T]) arity() int      { return 2 }
func (k *embedKernel[T]) diffWRT() []bool { return []bool{true, false} }
func (k *embedKernel[T]) types() []hm.Type {
	dt := dtypeOf[T]()
	return []hm.Type{tensorType(2, dt), tensorType(1, tensor.Int), tensorType(2, dt)}
}
func (k *embedKernel[T]) inputShape(i int) tensor.Shape {
	return []tensor.Shape{{k.vocab, k.dim}, {k.n}}[i]
}
func (k *embedKernel[T]) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	for i, s := range in {
		if s != nil && !s.Eq(k.inputShape(i)) {
			return nil, fmt.Errorf("train: %s: input %d has shape %v, want %v", k, i, s, k.inputShape(i))
		}
	}
	return tensor.Shape{k.n, k.dim}, nil
}
func (k *embedKernel[T]) ids(v G.Value) ([]int, error) {
	ids, ok := v.Data().([]int)
	if !ok || len(ids) != k.n {
		return nil, fmt.Errorf("train: %s: want %d int ids, got %v", k, k.n, v.Shape())
	}
	for _, id := range ids {
		if id < 0 || id >= k.vocab {
			return nil, fmt.Errorf("train: %s: id %d outside [0, %d)", k, id, k.vocab)
		}
	}
	return ids, nil
}

// operands are the float data of v (the table, or the output's gradient)
// and the checked ids of idv.
func (k *embedKernel[T]) operands(v, idv G.Value) ([]T, []int, error) {
	x, err := data[T](v)
	if err != nil {
		return nil, nil, err
	}
	ids, err := k.ids(idv)
	return x, ids, err
}

func (k *embedKernel[T]) forward(in []G.Value) (G.Value, error) {
	w, ids, err := k.operands(in[0], in[1])
	if err != nil {
		return nil, err
	}
	d := k.dim
	k.y = grow(k.y, k.n*d)
	for r, id := range ids {
		copy(k.y[r*d:(r+1)*d], w[id*d:(id+1)*d])
	}
	return dense(k.y, k.n, d), nil
}

func (k *embedKernel[T]) backward(in []G.Value, grad G.Value) ([]G.Value, error) {
	dy, ids, err := k.operands(grad, in[1])
	if err != nil {
		return nil, err
	}
	d := k.dim
	k.dw = grow(k.dw, k.vocab*d)
	clear(k.dw)
	for r, id := range ids {
		dst, src := k.dw[id*d:(id+1)*d], dy[r*d:(r+1)*d]
		for j, v := range src {
			dst[j] += v
		}
	}
	return []G.Value{dense(k.dw, k.vocab, d), nil}, nil
}
