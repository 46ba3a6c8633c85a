package train

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernelOp is the body of a fused operator: a forward pass and a backward
// pass that yields the gradient of every differentiable input at once.
// fusedOp adapts it to gorgonia (an Op with SymDiff); the gradients reach
// the graph through one backward node and one pick node per extra input.
type kernelOp interface {
	String() string
	arity() int
	diffWRT() []bool
	// types returns the input types followed by the output type.
	types() []hm.Type
	inferShape(in []tensor.Shape) (tensor.Shape, error)
	forward(in []G.Value) (G.Value, error)
	// backward returns one gradient per input (nil where not
	// differentiable), shaped like the input.
	backward(in []G.Value, grad G.Value) ([]G.Value, error)
}

var opSeq atomic.Int64

// fusedOp is the forward node. Each instance has its own identity so that
// gorgonia never merges two layers that happen to share inputs.
type fusedOp struct {
	k     kernelOp
	id    int64
	grads []G.Value // set by the backward node, read by the pick nodes
}

func newFusedOp(k kernelOp) *fusedOp { return &fusedOp{k: k, id: opSeq.Add(1)} }

func applyFused(k kernelOp, in ...*G.Node) (*G.Node, error) {
	return G.ApplyOp(newFusedOp(k), in...)
}

func (op *fusedOp) Arity() int                        { return op.k.arity() }
func (op *fusedOp) Type() hm.Type                     { return hm.NewFnType(op.k.types()...) }
func (op *fusedOp) ReturnsPtr() bool                  { return false }
func (op *fusedOp) CallsExtern() bool                 { return false }
func (op *fusedOp) OverwritesInput() int              { return -1 }
func (op *fusedOp) String() string                    { return fmt.Sprintf("%s#%d", op.k, op.id) }
func (op *fusedOp) WriteHash(h hash.Hash)             { fmt.Fprint(h, op.String()) }
func (op *fusedOp) Hashcode() uint32                  { return hashOf(op) }
func (op *fusedOp) DiffWRT(n int) []bool              { return op.k.diffWRT() }
func (op *fusedOp) Do(in ...G.Value) (G.Value, error) { return op.k.forward(in) }
func (op *fusedOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.k.inferShape(shapesOf(in))
}

// SymDiff adds one backward node computing every gradient, returning the
// first differentiable input's, and a pick node for each other one.
func (op *fusedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	wrt := op.k.diffWRT()
	first := -1
	for i, d := range wrt {
		if d {
			first = i
			break
		}
	}
	bw := &backwardOp{fwd: op, first: first}
	args := append(append(G.Nodes(nil), inputs...), grad)
	head, err := G.ApplyOp(bw, args...)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	for i, d := range wrt {
		switch {
		case !d:
		case i == first:
			out[i] = head
		default:
			out[i], err = G.ApplyOp(&pickOp{fwd: op, idx: i, typ: op.k.types()[i]}, head)
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// backwardOp runs kernelOp.backward once and yields the gradient of input
// first; the other gradients wait in fwd.grads for their pick nodes, which
// depend on this node and so run after it.
type backwardOp struct {
	fwd   *fusedOp
	first int
}

func (op *backwardOp) Arity() int { return op.fwd.k.arity() + 1 }
func (op *backwardOp) Type() hm.Type {
	ts := op.fwd.k.types()
	in := append(append([]hm.Type(nil), ts[:len(ts)-1]...), ts[len(ts)-1], ts[op.first])
	return hm.NewFnType(in...)
}
func (op *backwardOp) ReturnsPtr() bool      { return false }
func (op *backwardOp) CallsExtern() bool     { return false }
func (op *backwardOp) OverwritesInput() int  { return -1 }
func (op *backwardOp) String() string        { return "∂" + op.fwd.String() }
func (op *backwardOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *backwardOp) Hashcode() uint32      { return hashOf(op) }
func (op *backwardOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := shapesOf(in)
	return s[op.first].Clone(), nil
}
func (op *backwardOp) Do(in ...G.Value) (G.Value, error) {
	n := op.fwd.k.arity()
	grads, err := op.fwd.k.backward(in[:n], in[n])
	if err != nil {
		return nil, err
	}
	op.fwd.grads = grads
	return grads[op.first], nil
}

// pickOp returns the gradient of input idx left by the backward node.
type pickOp struct {
	fwd *fusedOp
	idx int
	typ hm.Type
}

func (op *pickOp) Arity() int            { return 1 }
func (op *pickOp) Type() hm.Type         { return hm.NewFnType(hm.TypeVariable('a'), op.typ) }
func (op *pickOp) ReturnsPtr() bool      { return false }
func (op *pickOp) CallsExtern() bool     { return false }
func (op *pickOp) OverwritesInput() int  { return -1 }
func (op *pickOp) String() string        { return fmt.Sprintf("∂%s[%d]", op.fwd, op.idx) }
func (op *pickOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *pickOp) Hashcode() uint32      { return hashOf(op) }
func (op *pickOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.pickShape(op.idx)
}
func (op *pickOp) Do(in ...G.Value) (G.Value, error) {
	if op.fwd.grads == nil || op.fwd.grads[op.idx] == nil {
		return nil, fmt.Errorf("train: %s ran before its backward node", op)
	}
	return op.fwd.grads[op.idx], nil
}

// shapes of the forward inputs, recorded at graph construction for the pick
// nodes (gorgonia asks them for a shape before anything runs).
func (op *fusedOp) pickShape(i int) (tensor.Shape, error) {
	if s, ok := op.k.(interface{ inputShape(int) tensor.Shape }); ok {
		return s.inputShape(i), nil
	}
	return nil, fmt.Errorf("train: %s: no shape for input %d", op, i)
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func shapesOf(in []G.DimSizer) []tensor.Shape {
	s := make([]tensor.Shape, len(in))
	for i, d := range in {
		if sh, ok := d.(tensor.Shape); ok {
			s[i] = sh
		}
	}
	return s
}

func tensorType(dims int, dt tensor.Dtype) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

// data returns the backing slice of a tensor value.
func data[T float32 | float64](v G.Value) ([]T, error) {
	d, ok := v.Data().([]T)
	if !ok {
		return nil, fmt.Errorf("train: want a %T tensor, got %T", d, v.Data())
	}
	return d, nil
}

// scalar returns the value of a scalar (or one-element tensor).
func scalar(v G.Value) (float64, error) {
	switch d := v.Data().(type) {
	case float32:
		return float64(d), nil
	case float64:
		return d, nil
	case []float32:
		if len(d) == 1 {
			return float64(d[0]), nil
		}
	case []float64:
		if len(d) == 1 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("train: want a scalar, got %v", v.Shape())
}

func dense[T float32 | float64](d []T, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}
