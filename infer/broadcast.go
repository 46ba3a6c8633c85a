package infer

import (
	"context"
	"fmt"
)

// fn adapts a context-free function to opKernel.
type fn func(in []*Tensor) ([]*Tensor, error)

func (f fn) Run(_ context.Context, in []*Tensor) ([]*Tensor, error) { return f(in) }

// need checks that the first k inputs are present.
func need(in []*Tensor, k int) error {
	if len(in) < k {
		return fmt.Errorf("needs %d inputs, got %d", k, len(in))
	}
	for i := 0; i < k; i++ {
		if in[i] == nil {
			return fmt.Errorf("input %d is required", i)
		}
	}
	return nil
}

// one wraps a single output.
func one(t *Tensor, err error) ([]*Tensor, error) {
	if err != nil {
		return nil, err
	}
	return []*Tensor{t}, nil
}

// broadcastShape is the numpy broadcast of shapes. Errors: a dim pair that
// is neither equal nor 1.
func broadcastShape(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

// bplan iterates an output of a broadcast over rows of its innermost
// (merged) dimension, giving each operand's offset and inner stride.
type bplan struct {
	shape   []int   // merged output shape, rank ≥ 1
	strides [][]int // per operand, per merged dim; 0 where broadcast
	n       int
}

func newPlan(out []int, ins ...[]int) *bplan {
	r := len(out)
	k := len(ins)
	bc := func(j, d int) bool { // operand j broadcast along out dim d
		off := r - len(ins[j])
		return d < off || ins[j][d-off] == 1
	}
	p := &bplan{n: numel(out), strides: make([][]int, k)}
	var flags [][]bool
	for d := 0; d < r; d++ {
		if out[d] == 1 {
			continue
		}
		f := make([]bool, k)
		for j := range f {
			f[j] = bc(j, d)
		}
		if last := len(p.shape) - 1; last >= 0 && equalBools(flags[last], f) {
			p.shape[last] *= out[d]
			continue
		}
		p.shape = append(p.shape, out[d])
		flags = append(flags, f)
	}
	if len(p.shape) == 0 {
		p.shape = []int{1}
		flags = [][]bool{make([]bool, k)}
	}
	for j := 0; j < k; j++ {
		st := make([]int, len(p.shape))
		acc := 1
		for d := len(p.shape) - 1; d >= 0; d-- {
			if flags[d][j] {
				continue
			}
			st[d] = acc
			acc *= p.shape[d]
		}
		p.strides[j] = st
	}
	return p
}

func equalBools(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rows calls f for each innermost row: the output offset, the operands'
// offsets, and the row length; inner strides are p.inner(j).
func (p *bplan) rows(f func(o int, offs []int, n int)) {
	if p.n == 0 {
		return
	}
	r := len(p.shape)
	n := p.shape[r-1]
	k := len(p.strides)
	offs := make([]int, k)
	idx := make([]int, r-1)
	for o := 0; o < p.n; o += n {
		f(o, offs, n)
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			for j := 0; j < k; j++ {
				offs[j] += p.strides[j][d]
			}
			if idx[d] < p.shape[d] {
				break
			}
			for j := 0; j < k; j++ {
				offs[j] -= p.strides[j][d] * idx[d]
			}
			idx[d] = 0
		}
	}
}

func (p *bplan) inner(j int) int { return p.strides[j][len(p.shape)-1] }
