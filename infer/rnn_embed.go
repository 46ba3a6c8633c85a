package infer

import (
	"context"
	"fmt"
	"slices"

	"github.com/birnn/birnn/internal/kernel"
)

// An embedding lookup feeding a recurrent layer (Gather of a constant
// table, Transpose to time-major, LSTM/GRU/RNN, as tf2onnx writes it) is
// folded at load: the first thing the layer does with each embedded token
// is its input projection x·Wᵀ + b, so that projection is computed once
// per vocabulary row (per direction: [vocab, LD], the fused kernels'
// layout) and a run copies rows of it instead of gathering, transposing
// and multiplying. The rows are computed by the same kernels as the
// projection they replace, which does not depend on how rows are grouped,
// so results are bit-identical. It pays whenever the table is small enough
// to keep (maxEmbedTable).

// maxEmbedTable bounds the folded tables of one layer (floats, all
// directions): 8M floats, 32 MB.
const maxEmbedTable = 8 << 20

// embedRNN is a recurrent op reading token ids through a folded embedding.
type embedRNN struct {
	inner opKernel // *rnnOp or *qLSTMOp
	op    *rnnOp
	emb   *Tensor // [vocab, dim] float32

	fw     *fusedWeights // the packed weights the tables were made with
	tables [][]float32   // per direction [vocab, LD]; nil: not folded
}

// embedIDs is the X an embedRNN hands its op: token ids, time-major, and
// the tables to project them with.
type embedIDs struct {
	seq, batch, dim int
	ids             []int32 // [seq·batch], t·batch + b
	fw              *fusedWeights
	tables          [][]float32
}

// fusedOf returns the packed weights of a prepared recurrent op whose
// weights are session constants.
func fusedOf(k opKernel) *fusedWeights {
	switch k := k.(type) {
	case *rnnOp:
		if k.fused != nil {
			return k.fused.fw
		}
	case *qLSTMOp:
		if k.fixed != nil {
			return k.fixed.fused
		}
	}
	return nil
}

func (e *embedRNN) prepare(consts []*Tensor) {
	if p, ok := e.inner.(preparer); ok {
		p.prepare(consts)
	}
	fw := fusedOf(e.inner)
	vocab, dim := e.emb.Shape[0], e.emb.Shape[1]
	if fw == nil || vocab*fw.l.LD*len(fw.dirs) > maxEmbedTable {
		return
	}
	d0 := fw.dirs[0]
	if (d0.w != nil && d0.w.K != dim) || (d0.qw != nil && d0.qw.K != dim) {
		return
	}
	E := e.emb.Float32s()
	var qs kernel.QScratch
	for d := range fw.dirs {
		t := make([]float32, vocab*fw.l.LD)
		fw.dirs[d].project(vocab, E, dim, t, fw.l.LD, &qs)
		e.tables = append(e.tables, t)
	}
	e.fw = fw
}

func (e *embedRNN) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return e.inner.Run(ctx, in)
	}
	ids := in[0]
	if e.tables == nil || ids.Rank() != 2 || ids.Len() == 0 {
		// As written: Gather, then Transpose to time-major.
		x, err := gather(e.emb, ids, 0)
		if err != nil {
			return nil, fmt.Errorf("embedding Gather: %w", err)
		}
		if x, err = transpose(x, []int64{1, 0, 2}); err != nil {
			return nil, fmt.Errorf("embedding Transpose: %w", err)
		}
		return e.inner.Run(ctx, append([]*Tensor{x}, in[1:]...))
	}
	batch, seq := ids.Shape[0], ids.Shape[1]
	vocab := e.emb.Shape[0]
	x := &embedIDs{seq: seq, batch: batch, dim: e.emb.Shape[1], ids: make([]int32, seq*batch), fw: e.fw, tables: e.tables}
	put := func(i int, v int64) error {
		if v < -int64(vocab) || v >= int64(vocab) {
			return fmt.Errorf("embedding Gather: index %d (at %d) is out of range for dim %d", v, i, vocab)
		}
		if v < 0 {
			v += int64(vocab)
		}
		b, t := i/seq, i%seq
		x.ids[t*batch+b] = int32(v)
		return nil
	}
	switch d := ids.Data.(type) {
	case []int32:
		for i, v := range d {
			if err := put(i, int64(v)); err != nil {
				return nil, err
			}
		}
	case []int64:
		for i, v := range d {
			if err := put(i, v); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("embedding Gather: indices must be int32 or int64, got %v", ids.DType)
	}
	xt := &Tensor{DType: Float, Shape: []int{seq, batch, x.dim}, Data: x}
	return e.inner.Run(ctx, append([]*Tensor{xt}, in[1:]...))
}

// foldEmbedding rewrites Gather(E, ids) → Transpose(1 0 2) → step i (a
// recurrent op of layout 0 on the fused kernels) into step i reading ids.
func (p *planner) foldEmbedding(i int, op *rnnOp) {
	st := &p.g.steps[i]
	if op.layout != 0 || !op.fusable() || len(st.in) < 3 || st.in[0] < 0 || (len(st.in) > 7 && st.in[7] >= 0) || p.only(st.in[0]) != i {
		return
	}
	for _, j := range []int{1, 2} {
		if _, ok := p.g.consts[st.in[j]]; !ok || slices.Contains(mapValues(p.g.overridable), st.in[j]) {
			return
		}
	}
	tr := p.producer(st.in[0])
	if tr < 0 || p.g.steps[tr].op != "Transpose" || p.g.steps[tr].node.GetDomain() != "" || len(p.g.steps[tr].in) != 1 {
		return
	}
	if perm := attrs(p.g.steps[tr].node).Ints("perm"); !slices.Equal(perm, []int64{1, 0, 2}) {
		return
	}
	gs := p.producer(p.g.steps[tr].in[0])
	if gs < 0 || p.only(p.g.steps[tr].in[0]) != tr {
		return
	}
	g := &p.g.steps[gs]
	if g.op != "Gather" || g.node.GetDomain() != "" || len(g.in) != 2 || g.in[1] < 0 {
		return
	}
	if a := attrs(g.node); a.Int("axis", 0) != 0 && a.Int("axis", 0) != -2 {
		return
	}
	E, ok := p.g.consts[g.in[0]]
	if !ok || slices.Contains(mapValues(p.g.overridable), g.in[0]) || E.DType != Float || E.Rank() != 2 {
		return
	}
	st.k = &embedRNN{inner: st.k, op: op, emb: E}
	st.in[0] = g.in[1]
	p.removed[tr], p.removed[gs] = true, true
}
