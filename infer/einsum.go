package infer

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// Einsum (https://onnx.ai/onnx/operators/onnx__Einsum.html), as attention
// layers export it: each operand's repeated labels become a diagonal, labels
// no one else needs are summed out, and operands are contracted left to
// right, each pair as one batched kernel.Gemm after a transpose to
// [batch, free, contracted] × [batch, contracted, free].

func init() {
	registerOp("", "Einsum", 12, 0, buildEinsum)
}

// ellipsisLabel is the first label of "..." dims (letters use 0–51).
const ellipsisLabel = 52

type einsumSpec struct {
	inputs [][]int // labels per operand, "..." not yet expanded (−1)
	output []int   // nil when implicit
}

func labelOf(r rune) (int, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return int(r - 'a'), true
	case r >= 'A' && r <= 'Z':
		return 26 + int(r-'A'), true
	}
	return 0, false
}

func parseTerm(s string) ([]int, error) {
	var out []int
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "...") {
			for _, l := range out {
				if l < 0 {
					return nil, fmt.Errorf("term %q has two ellipses", s)
				}
			}
			out = append(out, -1)
			i += 3
			continue
		}
		l, ok := labelOf(rune(s[i]))
		if !ok {
			return nil, fmt.Errorf("term %q: %q is not a letter", s, s[i])
		}
		out = append(out, l)
		i++
	}
	return out, nil
}

func parseEinsum(eq string) (einsumSpec, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	var spec einsumSpec
	lhs, rhs, explicit := strings.Cut(eq, "->")
	for _, t := range strings.Split(lhs, ",") {
		labels, err := parseTerm(t)
		if err != nil {
			return spec, err
		}
		spec.inputs = append(spec.inputs, labels)
	}
	if explicit {
		out, err := parseTerm(rhs)
		if err != nil {
			return spec, err
		}
		seen := map[int]bool{}
		for _, l := range out {
			if seen[l] {
				return spec, fmt.Errorf("output label repeated in %q", rhs)
			}
			seen[l] = true
		}
		if out == nil {
			out = []int{}
		}
		spec.output = out
	}
	return spec, nil
}

func buildEinsum(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	eq := a.String("equation", "")
	if err := a.Err(); err != nil {
		return nil, err
	}
	spec, err := parseEinsum(eq)
	if err != nil {
		return nil, fmt.Errorf("equation %q: %w", eq, err)
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if len(in) != len(spec.inputs) {
			return nil, fmt.Errorf("equation %q has %d operands, the node %d inputs", eq, len(spec.inputs), len(in))
		}
		if err := need(in, len(in)); err != nil {
			return nil, err
		}
		y, err := einsum(spec, in)
		if err != nil {
			return nil, fmt.Errorf("equation %q: %w", eq, err)
		}
		return []*Tensor{y}, nil
	}), nil
}

// labeled is an operand with one label per axis.
type labeled struct {
	t      *Tensor
	labels []int
}

func einsum(spec einsumSpec, in []*Tensor) (*Tensor, error) {
	d := in[0].DType
	for _, t := range in {
		if t.DType != d {
			return nil, fmt.Errorf("operand types differ: %s and %s", d, t.DType)
		}
	}
	if d != Float && d != Double {
		// Integers compute in float64, exact for the values Einsum sees.
		fs := make([]*Tensor, len(in))
		for i, t := range in {
			f, err := Cast(t, Double)
			if err != nil {
				return nil, err
			}
			fs[i] = f
		}
		y, err := einsum(spec, fs)
		if err != nil {
			return nil, err
		}
		return Cast(y, d)
	}
	// Expand "..." to labels aligned from the right.
	ell := 0
	for i, labels := range spec.inputs {
		named := 0
		for _, l := range labels {
			if l >= 0 {
				named++
			}
		}
		e := in[i].Rank() - named
		hasEll := len(labels) != named
		if e < 0 || (!hasEll && e != 0) {
			return nil, fmt.Errorf("operand %d has rank %d, the equation gives it %d labels", i, in[i].Rank(), named)
		}
		ell = max(ell, e)
	}
	ops := make([]labeled, len(in))
	size := map[int]int{}
	for i, labels := range spec.inputs {
		e := in[i].Rank() + 1 - len(labels)
		var full []int
		for _, l := range labels {
			if l < 0 {
				for k := ell - e; k < ell; k++ {
					full = append(full, ellipsisLabel+k)
				}
				continue
			}
			full = append(full, l)
		}
		for ax, l := range full {
			s := in[i].Shape[ax]
			prev, ok := size[l]
			switch {
			case !ok || prev == 1:
				size[l] = s
			case s != prev && s != 1:
				return nil, fmt.Errorf("label %s has sizes %d and %d", labelName(l), prev, s)
			case s != prev && l < ellipsisLabel:
				return nil, fmt.Errorf("label %s has sizes %d and %d", labelName(l), prev, s)
			}
		}
		ops[i] = labeled{in[i], full}
	}
	out := spec.output
	if out == nil {
		count := map[int]int{}
		for _, op := range ops {
			for _, l := range op.labels {
				count[l]++
			}
		}
		for k := 0; k < ell; k++ {
			out = append(out, ellipsisLabel+k)
		}
		var once []int
		for l, c := range count {
			if c == 1 && l < ellipsisLabel {
				once = append(once, l)
			}
		}
		sort.Ints(once)
		out = append(out, once...)
	} else {
		var full []int
		for _, l := range out {
			if l < 0 {
				for k := 0; k < ell; k++ {
					full = append(full, ellipsisLabel+k)
				}
				continue
			}
			full = append(full, l)
		}
		out = full
	}
	for _, l := range out {
		if _, ok := size[l]; !ok {
			return nil, fmt.Errorf("output label %s appears in no operand", labelName(l))
		}
	}
	// needed(i) is the set of labels the output or operands after i use.
	needed := func(i int) map[int]bool {
		m := map[int]bool{}
		for _, l := range out {
			m[l] = true
		}
		for _, op := range ops[i+1:] {
			for _, l := range op.labels {
				m[l] = true
			}
		}
		return m
	}
	for i := range ops {
		var err error
		if ops[i], err = diagonal(ops[i]); err != nil {
			return nil, err
		}
	}
	acc := ops[0]
	for i := 1; i < len(ops); i++ {
		keep := needed(i)
		// Labels of one operand that nothing else needs are summed first.
		var err error
		if acc, err = sumOut(acc, keep, ops[i].labels); err != nil {
			return nil, err
		}
		if ops[i], err = sumOut(ops[i], keep, acc.labels); err != nil {
			return nil, err
		}
		if acc, err = contract(acc, ops[i], keep, size); err != nil {
			return nil, err
		}
	}
	keep := map[int]bool{}
	for _, l := range out {
		keep[l] = true
	}
	acc, err := sumOut(acc, keep, nil)
	if err != nil {
		return nil, err
	}
	// Broadcast what a size-1 ellipsis dim left and permute to the output.
	perm := make([]int64, len(out))
	for j, l := range out {
		p := labelIndex(acc.labels, l)
		if p < 0 {
			return nil, fmt.Errorf("internal error: label %s lost", labelName(l))
		}
		perm[j] = int64(p)
	}
	y, err := transpose(acc.t, perm)
	if err != nil {
		return nil, err
	}
	want := make([]int, len(out))
	for j, l := range out {
		want[j] = size[l]
	}
	if !slices.Equal(y.Shape, want) {
		return expand(y, want)
	}
	return y, nil
}

func labelName(l int) string {
	switch {
	case l < 26:
		return string(rune('a' + l))
	case l < ellipsisLabel:
		return string(rune('A' + l - 26))
	}
	return fmt.Sprintf("...[%d]", l-ellipsisLabel)
}

func labelIndex(v []int, x int) int {
	for i, y := range v {
		if y == x {
			return i
		}
	}
	return -1
}

// diagonal folds each repeated label of op into one axis.
func diagonal(op labeled) (labeled, error) {
	for {
		i, j := -1, -1
		for a := range op.labels {
			if b := labelIndex(op.labels[a+1:], op.labels[a]); b >= 0 {
				i, j = a, a+1+b
				break
			}
		}
		if i < 0 {
			return op, nil
		}
		x := op.t
		if x.Shape[i] != x.Shape[j] {
			return op, fmt.Errorf("repeated label %s has sizes %d and %d", labelName(op.labels[i]), x.Shape[i], x.Shape[j])
		}
		shape := append(append([]int{}, x.Shape[:j]...), x.Shape[j+1:]...)
		st := strides(x.Shape)
		idx := make([]int, 0, numel(shape))
		forEachIndex(shape, func(_ int, ix []int) {
			p := 0
			for a := range ix {
				ax := a
				if a >= j {
					ax = a + 1
				}
				p += ix[a] * st[ax]
			}
			idx = append(idx, p+ix[i]*st[j])
		})
		labels := append(append([]int{}, op.labels[:j]...), op.labels[j+1:]...)
		op = labeled{&Tensor{DType: x.DType, Shape: shape, Data: take(x.Data, idx)}, labels}
	}
}

// sumOut reduces the labels of op that neither keep nor other holds.
func sumOut(op labeled, keep map[int]bool, other []int) (labeled, error) {
	red := make([]bool, len(op.labels))
	cut := false
	var labels []int
	for a, l := range op.labels {
		if !keep[l] && labelIndex(other, l) < 0 {
			red[a], cut = true, true
			continue
		}
		labels = append(labels, l)
	}
	if !cut {
		return op, nil
	}
	t, err := reduce(op.t, red, false, rSum)
	if err != nil {
		return op, err
	}
	return labeled{t, labels}, nil
}

// contract multiplies a and b over their shared labels that keep lacks;
// shared labels in keep are batch axes.
func contract(a, b labeled, keep map[int]bool, size map[int]int) (labeled, error) {
	var batch, left, right, sum []int
	for _, l := range a.labels {
		switch {
		case labelIndex(b.labels, l) < 0:
			left = append(left, l)
		case keep[l]:
			batch = append(batch, l)
		default:
			sum = append(sum, l)
		}
	}
	for _, l := range b.labels {
		if labelIndex(a.labels, l) < 0 {
			right = append(right, l)
		}
	}
	arrange := func(op labeled, order []int) (*Tensor, error) {
		perm := make([]int64, len(order))
		shape := make([]int, len(order))
		for j, l := range order {
			perm[j] = int64(labelIndex(op.labels, l))
			shape[j] = size[l]
		}
		t, err := transpose(op.t, perm)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(t.Shape, shape) {
			// A size-1 batch (ellipsis) axis broadcast against the other.
			if t, err = expand(t, shape); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	at, err := arrange(a, concatLabels(batch, left, sum))
	if err != nil {
		return a, err
	}
	bt, err := arrange(b, concatLabels(batch, sum, right))
	if err != nil {
		return a, err
	}
	prod := func(ls []int) int {
		p := 1
		for _, l := range ls {
			p *= size[l]
		}
		return p
	}
	nb, m, k, n := prod(batch), prod(left), prod(sum), prod(right)
	shape := make([]int, 0, len(batch)+len(left)+len(right))
	for _, l := range concatLabels(batch, left, right) {
		shape = append(shape, size[l])
	}
	if _, err := checkSize(shape); err != nil {
		return a, err
	}
	var y *Tensor
	switch at.Data.(type) {
	case []float32:
		y = New(shape, batchedGemm(at.Float32s(), bt.Float32s(), nb, m, k, n))
	case []float64:
		y = New(shape, batchedGemm(at.Float64s(), bt.Float64s(), nb, m, k, n))
	default:
		return a, errors.New("internal error: einsum on " + at.DType.String())
	}
	return labeled{y, concatLabels(batch, left, right)}, nil
}

func concatLabels(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func batchedGemm[T float32 | float64](a, b []T, nb, m, k, n int) []T {
	out := make([]T, nb*m*n)
	if m*n == 0 || k == 0 {
		return out
	}
	for i := 0; i < nb; i++ {
		kernel.Gemm(false, false, m, n, k, 1, a[i*m*k:(i+1)*m*k], k, b[i*k*n:(i+1)*k*n], n, 0, out[i*m*n:(i+1)*m*n], n)
	}
	return out
}
