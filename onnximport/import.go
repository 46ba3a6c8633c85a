package onnximport

import (
	"errors"
	"fmt"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// ErrUnmapped is wrapped by every error of a graph that does not map onto a
// birnn model.
var ErrUnmapped = errors.New("onnximport: graph does not map to a birnn model")

// UnmappedError names the node of a graph that Import cannot map: an
// operator outside the embedding → recurrent → Dense pattern, or a supported
// operator used in a way birnn has no layer for (peepholes, a clip, a
// non-zero initial state, …). Node is empty when the problem is the graph
// as a whole.
type UnmappedError struct {
	Op     string // operator type, e.g. "Loop"
	Node   string // node name
	Reason string
}

func (e *UnmappedError) Error() string {
	if e.Op == "" {
		return "onnximport: " + e.Reason
	}
	return fmt.Sprintf("onnximport: node %q (%s): %s", e.Node, e.Op, e.Reason)
}

// Unwrap makes errors.Is(err, ErrUnmapped) true.
func (e *UnmappedError) Unwrap() error { return ErrUnmapped }

func unmapped(n *onnx.NodeProto, format string, args ...any) error {
	e := &UnmappedError{Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Op, e.Node = n.GetOpType(), n.GetName()
	}
	return e
}

// importOps are the operators an importable graph may hold: the layers'
// own and the shape plumbing tf2onnx puts around them.
var importOps = map[string]bool{
	"Cast": true, "Gather": true, "Transpose": true, "Shape": true, "Slice": true, "Concat": true,
	"Expand": true, "Unsqueeze": true, "Squeeze": true, "ConstantOfShape": true, "Constant": true,
	"MatMul": true, "Add": true, "Gemm": true, "Sigmoid": true, "Softmax": true, "Relu": true,
	"Tanh": true, "Identity": true, "Reshape": true, "LSTM": true, "GRU": true, "RNN": true,
	"Mul": true, "Div": true, "Flatten": true,
	// mask_zero (sequence_lens) and pools over time
	"Greater": true, "Equal": true, "Not": true, "ReduceSum": true, "ReduceMax": true, "ReduceMean": true,
	"Where": true, "Max": true, "Min": true,
}

// recurrentOps are recurrent and control-flow operators birnn has no layer
// for; an import error names one of them before any other node.
var recurrentOps = map[string]bool{"Loop": true, "Scan": true, "If": true}

// layerKinds maps the ONNX recurrent operators to birnn layer kinds.
var layerKinds = map[string]string{"LSTM": model.KindLSTM, "GRU": model.KindGRU, "RNN": model.KindSimpleRNN}

// Import reads a graph that computes embedding → recurrent stack → Dense
// stack — birnn's own exports, or Keras/tf2onnx exports of the same layer
// kinds — back into a trainable model:
//
//	Gather(data = embedding [num_words, dim])
//	→ LSTM, GRU (linear_before_reset=1, Keras reset_after) or RNN (tanh or
//	  relu) nodes (forward or bidirectional; zero or omitted initial state;
//	  default activations; no clip, peepholes or sequence_lens)
//	→ MatMul + Add or Gemm, then Sigmoid, Softmax, Relu, Tanh or nothing
//
// LSTM and RNN biases become B = [Wb + Rb, 0] (Keras has one bias); a
// GRU keeps both, as Keras's reset_after does. The configuration is birnn.config
// from the metadata when present (checked against the graph); otherwise it
// is built from the weights (num_words = embedding rows, widths, merge mode
// from the merge pattern: concat when the next layer reads 2H values, else
// Add → sum, Mul → mul, Add then Mul/Div → ave) over the study's defaults,
// with the data settings taken from the birnn.* metadata when present and
// maxlen from a fixed input length.
//
// The walk has four steps: refuse operators no layer computes (checkOps),
// find the embedding, recurrent and Dense nodes (findLayers), check they form
// one chain and map each (mapChain), then derive the layer list and widths
// (layers) and build the model over the configuration (build).
//
// Errors: *UnmappedError (wrapping ErrUnmapped) naming the node that does
// not map; a configuration that disagrees with the graph.
func Import(mp *onnx.ModelProto) (*model.Model, error) {
	if mp.GetGraph() == nil {
		return nil, unmapped(nil, "the model has no graph")
	}
	gr := newGraph(mp.GetGraph())
	if err := gr.checkOps(); err != nil {
		return nil, err
	}
	found, err := gr.findLayers()
	if err != nil {
		return nil, err
	}
	c, err := gr.mapChain(found)
	if err != nil {
		return nil, err
	}
	layers, err := gr.layers(c)
	if err != nil {
		return nil, err
	}
	cfg, err := importConfig(mp, c.embShape, layers, c.masked)
	if err != nil {
		return nil, err
	}
	return build(cfg, c)
}

// checkOps refuses a graph holding an operator no birnn layer computes. A
// recurrent or control-flow node is named before any other: it says more
// than the loop plumbing around it.
func (gr *graph) checkOps() error {
	var firstBad *onnx.NodeProto
	for _, n := range gr.g.GetNode() {
		foreign := n.GetDomain() != "" && n.GetDomain() != "ai.onnx"
		if foreign || !importOps[n.GetOpType()] {
			if firstBad == nil || (!foreign && recurrentOps[n.GetOpType()] && !recurrentOps[firstBad.GetOpType()]) {
				firstBad = n
			}
		}
	}
	n := firstBad
	switch {
	case n == nil:
		return nil
	case n.GetDomain() != "" && n.GetDomain() != "ai.onnx":
		return unmapped(n, "operator domain %q has no birnn layer", n.GetDomain())
	case recurrentOps[n.GetOpType()]:
		return unmapped(n, "birnn's recurrent layers are the ONNX LSTM, GRU and RNN nodes (a Loop is how tf2onnx writes a masked or dropout layer and Keras 3 a GRU or SimpleRNN)")
	}
	return unmapped(n, "no birnn layer computes this operator (birnn maps Gather → LSTM/GRU/RNN → MatMul/Gemm + Add → activation)")
}

// layerNodes are the nodes that carry a layer's weights, in graph order.
type layerNodes struct {
	emb          *onnx.NodeProto // the embedding Gather
	recs, denses []*onnx.NodeProto
}

// findLayers finds the one embedding Gather (of a constant [num_words,
// dim] matrix), the LSTM/GRU/RNN nodes and the MatMul/Gemm nodes of Dense
// layers.
func (gr *graph) findLayers() (layerNodes, error) {
	var f layerNodes
	var gathers []*onnx.NodeProto
	for _, n := range gr.g.GetNode() {
		switch n.GetOpType() {
		case "Gather":
			if _, s, ok := gr.floats(input(n, 0)); ok && len(s) == 2 {
				gathers = append(gathers, n)
			}
		case "LSTM", "GRU", "RNN":
			f.recs = append(f.recs, n)
		case "MatMul", "Gemm":
			if _, s, ok := gr.floats(input(n, 1)); !ok || len(s) != 2 {
				return f, unmapped(n, "the right operand is not a constant weight matrix")
			}
			f.denses = append(f.denses, n)
		}
	}
	switch {
	case len(gathers) == 0:
		return f, unmapped(nil, "no embedding: no Gather reads a constant [num_words, dim] matrix")
	case len(gathers) > 1:
		return f, unmapped(gathers[1], "a second embedding Gather; birnn models have one")
	case len(f.recs) == 0:
		return f, unmapped(nil, "no recurrent (LSTM, GRU or RNN) node")
	case len(f.denses) == 0:
		return f, unmapped(nil, "no Dense layer (MatMul or Gemm with a constant weight)")
	}
	f.emb = gathers[0]
	if a := attrOf(f.emb, "axis"); a != nil && a.GetI() != 0 {
		return f, unmapped(f.emb, "embedding Gather on axis %d, want 0", a.GetI())
	}
	return f, nil
}

// chain is a graph's layers mapped: the embedding, each recurrent and each
// Dense layer, each reading the one before.
type chain struct {
	layerNodes
	embW     []float32
	embShape []int // [num_words, dim]
	recs     []*recFound
	denses   []*denseFound
	mapped   map[*onnx.NodeProto]bool // nodes that belong to a layer
	output   string                   // the graph output
	pool     *poolFound               // a pool over time after the last recurrent layer, or nil
	masked   bool                     // the recurrent layers read sequence_lens (mask_zero)
}

// mapChain checks that the embedding, the recurrent and the Dense layers form
// one chain ending in the graph output, and maps each node to a layer.
func (gr *graph) mapChain(f layerNodes) (*chain, error) {
	c := &chain{layerNodes: f, mapped: map[*onnx.NodeProto]bool{f.emb: true}}
	c.embW, c.embShape, _ = gr.floats(input(f.emb, 0))
	prev, prevNode := output(f.emb, 0), f.emb
	for i, n := range f.recs {
		if !gr.ancestors(input(n, 0))[prev] {
			return nil, unmapped(n, "its input X does not come from %q (%s); birnn layers form one chain", prevNode.GetName(), prevNode.GetOpType())
		}
		l, err := gr.recurrent(n)
		if err != nil {
			return nil, err
		}
		if i > 0 && len(f.recs[i-1].GetOutput()) > 0 && !gr.ancestors(input(n, 0))[output(f.recs[i-1], 0)] {
			return nil, unmapped(n, "its input X is not the output sequence Y of %q", f.recs[i-1].GetName())
		}
		if i > 0 && (l.lens != "") != c.masked {
			return nil, unmapped(n, "some recurrent layers read sequence_lens and others do not (Keras mask_zero masks them all)")
		}
		if l.lens != "" {
			if !gr.maskedLens(c, l.lens) {
				return nil, unmapped(n, "sequence_lens is not the count of non-zero word ids (Keras mask_zero)")
			}
			c.masked = true
		}
		c.recs = append(c.recs, l)
		c.mapped[n] = true
		prev, prevNode = "", n
		for _, o := range n.GetOutput() { // the last output used: Y or Y_h
			if o != "" && len(gr.consumers[o]) > 0 {
				prev = o
			}
		}
	}
	prevOuts := f.recs[len(f.recs)-1].GetOutput()
	pool, err := gr.findPool(c, prevOuts, input(f.denses[0], 0))
	if err != nil {
		return nil, err
	}
	c.pool = pool
	for i, n := range f.denses {
		up := gr.ancestors(input(n, 0))
		ok := false
		if i == 0 {
			for _, o := range prevOuts {
				ok = ok || (o != "" && up[o])
			}
		} else {
			ok = up[c.denses[i-1].out]
		}
		if !ok {
			return nil, unmapped(n, "its input does not come from the layer before it; birnn layers form one chain")
		}
		d, err := gr.dense(n)
		if err != nil {
			return nil, err
		}
		c.denses = append(c.denses, d)
		for _, dn := range d.nodes {
			c.mapped[dn] = true
		}
	}
	outs := gr.g.GetOutput()
	if len(outs) == 0 || !gr.ancestors(outs[0].GetName())[c.denses[len(c.denses)-1].out] {
		return nil, unmapped(f.denses[len(f.denses)-1], "the graph output is not this layer's result")
	}
	c.output = outs[0].GetName()
	return c, nil
}

// layers derives the configuration's layer list from the mapped chain:
// widths, return_sequences, and the merge mode of bidirectional layers from
// what the next layer reads. Every node computing on the data path must
// belong to a layer (or be plumbing that moves values).
func (gr *graph) layers(c *chain) ([]configs.Layer, error) {
	layers := make([]configs.Layer, 0, len(c.recs)+len(c.denses))
	in := c.embShape[1]
	for i, l := range c.recs {
		if l.in != in {
			return nil, unmapped(l.node, "W reads %d values per step, the layer before gives %d", l.in, in)
		}
		var next int
		var nextNode *onnx.NodeProto
		if i+1 < len(c.recs) {
			next, nextNode = c.recs[i+1].in, c.recs[i+1].node
		} else {
			next, nextNode = c.denses[0].in, c.denses[0].node
		}
		lastRec := i+1 == len(c.recs)
		if lastRec && c.pool != nil {
			nextNode = c.pool.anchor
		}
		cl := configs.Layer{Type: l.kind, Units: l.h, ReturnSequences: !lastRec || c.pool != nil, Activation: l.activation}
		out := l.h
		if l.dirs == 2 {
			cl.Bidirectional = true
			switch next {
			case 2 * l.h:
				cl.MergeMode, out = model.MergeConcat, 2*l.h
			case l.h:
				into := input(nextNode, 0)
				if lastRec && c.pool != nil {
					into = c.pool.in
				}
				mm, err := gr.mergeMode(l.node, into, c.mapped)
				if err != nil {
					return nil, err
				}
				cl.MergeMode = mm
			default:
				return nil, unmapped(nextNode, "reads %d values from a bidirectional %s of %d units (want %d or %d)", next, l.node.GetOpType(), l.h, 2*l.h, l.h)
			}
		}
		if next != out {
			return nil, unmapped(nextNode, "reads %d values, the %s %q before it gives %d", next, l.node.GetOpType(), l.node.GetName(), out)
		}
		layers = append(layers, cl)
		in = out
	}
	if c.pool != nil {
		layers = append(layers, configs.Layer{Type: c.pool.kind})
	}
	for _, n := range gr.dataPath(c.layerNodes.emb.GetOutput(), c.output) {
		if !c.mapped[n] && !plumbing[n.GetOpType()] {
			return nil, unmapped(n, "computes on the data path but belongs to no birnn layer")
		}
	}
	for _, d := range c.denses {
		if d.in != in {
			return nil, unmapped(d.node, "reads %d values, the layer before gives %d", d.in, in)
		}
		layers = append(layers, configs.Layer{Type: model.KindDense, Units: d.units, Activation: d.activation})
		in = d.units
	}
	return gr.insertDropouts(c, layers)
}

// build makes the model of cfg and copies the chain's weights into it.
func build(cfg *configs.Config, c *chain) (*model.Model, error) {
	m, err := model.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("onnximport: %w", err)
	}
	specs, err := m.Layers()
	if err != nil {
		return nil, fmt.Errorf("onnximport: %w", err)
	}
	copy(m.Param("embedding").Data, c.embW)
	var rec []model.LayerSpec
	for _, l := range specs {
		if l.Recurrent() {
			rec = append(rec, l)
		}
	}
	for i, l := range c.recs {
		name := rec[i].Name
		copy(m.Param(name+".W").Data, l.W)
		copy(m.Param(name+".R").Data, l.R)
		copy(m.Param(name+".B").Data, l.B)
	}
	for i, d := range c.denses {
		name := specs[len(specs)-len(c.denses)+i].Name
		copy(m.Param(name+".W").Data, d.W)
		copy(m.Param(name+".B").Data, d.B)
	}
	return m, nil
}

// recFound is one LSTM, GRU or RNN node mapped to a layer.
type recFound struct {
	node       *onnx.NodeProto
	kind       string // model.KindLSTM, KindGRU or KindSimpleRNN
	activation string // simple_rnn: tanh or relu; else empty
	dirs, h    int
	in         int
	W, R, B    []float32 // ONNX layout; B is [dirs, 2gH], Rb folded into Wb except for a GRU
	lens       string    // sequence_lens, or ""
}

// denseFound is one MatMul/Gemm (+ Add) (+ activation) mapped to a layer.
type denseFound struct {
	node       *onnx.NodeProto // MatMul or Gemm
	in, units  int
	W, B       []float32 // W [in, units], B [units]
	activation string
	out        string            // the value the layer produces
	nodes      []*onnx.NodeProto // the nodes of the layer
}

// defaultActivations are the ONNX activations of one direction that
// birnn's layers compute.
var defaultActivations = map[string][]string{"LSTM": {"sigmoid", "tanh", "tanh"}, "GRU": {"sigmoid", "tanh"}, "RNN": {"tanh"}}

// recurrent maps one LSTM, GRU or RNN node.
func (gr *graph) recurrent(n *onnx.NodeProto) (*recFound, error) {
	op := n.GetOpType()
	l := &recFound{node: n, kind: layerKinds[op], dirs: 1}
	g := model.Gates(l.kind)
	if a := attrOf(n, "direction"); a != nil {
		switch string(a.GetS()) {
		case "forward":
		case "bidirectional":
			l.dirs = 2
		default:
			return nil, unmapped(n, "direction %q (birnn maps forward and bidirectional)", a.GetS())
		}
	}
	want := defaultActivations[op]
	if op == "RNN" {
		l.activation = "tanh"
		if a := attrOf(n, "activations"); a != nil && len(a.GetStrings()) > 0 && strings.EqualFold(string(a.GetStrings()[0]), "relu") {
			l.activation, want = "relu", []string{"relu"}
		}
	}
	if a := attrOf(n, "activations"); a != nil {
		for i, s := range a.GetStrings() {
			if w := want[i%len(want)]; !strings.EqualFold(string(s), w) {
				return nil, unmapped(n, "activation %q where birnn's %s has %s", s, op, w)
			}
		}
	}
	if a := attrOf(n, "clip"); a != nil {
		return nil, unmapped(n, "cell clip %g (birnn's %s has none)", a.GetF(), op)
	}
	if a := attrOf(n, "input_forget"); a != nil && a.GetI() != 0 {
		return nil, unmapped(n, "input_forget coupling (birnn's LSTM has none)")
	}
	if op == "GRU" {
		if a := attrOf(n, "linear_before_reset"); a == nil || a.GetI() != 1 {
			return nil, unmapped(n, "linear_before_reset is 0 (Keras reset_after=False); birnn's GRU is Keras's default reset_after=True, linear_before_reset=1")
		}
	}
	W, ws, ok := gr.floats(input(n, 1))
	if !ok || len(ws) != 3 || ws[0] != l.dirs || ws[1]%g != 0 {
		return nil, unmapped(n, "W is not a constant [%d, %dH, in] tensor", l.dirs, g)
	}
	l.h, l.in = ws[1]/g, ws[2]
	gh := g * l.h
	if a := attrOf(n, "hidden_size"); a != nil && int(a.GetI()) != l.h {
		return nil, unmapped(n, "hidden_size %d but W has %dH = %d rows", a.GetI(), g, ws[1])
	}
	R, rs, ok := gr.floats(input(n, 2))
	if !ok || len(rs) != 3 || rs[0] != l.dirs || rs[1] != gh || rs[2] != l.h {
		return nil, unmapped(n, "R is not a constant [%d, %d, %d] tensor", l.dirs, gh, l.h)
	}
	l.W, l.R = W, R
	l.B = make([]float32, l.dirs*2*gh)
	if name := input(n, 3); name != "" {
		B, bs, ok := gr.floats(name)
		if !ok || len(bs) != 2 || bs[0] != l.dirs || bs[1] != 2*gh {
			return nil, unmapped(n, "B is not a constant [%d, %d] tensor", l.dirs, 2*gh)
		}
		if op == "GRU" {
			copy(l.B, B) // reset_after keeps the recurrent bias apart
		} else {
			// Keras has one bias: fold Rb into Wb, leave Rb zero.
			for d := range l.dirs {
				for k := range gh {
					l.B[d*2*gh+k] = B[d*2*gh+k] + B[d*2*gh+gh+k]
				}
			}
		}
	}
	l.lens = input(n, 4) // checked by mapChain: Keras's mask_zero or unmapped
	states := map[int]string{5: "initial_h"}
	if op == "LSTM" {
		states[6] = "initial_c"
		if input(n, 7) != "" {
			return nil, unmapped(n, "peephole weights P (birnn's LSTM has none)")
		}
	}
	for i, what := range states {
		if name := input(n, i); name != "" && !gr.isZero(name, 0) {
			return nil, unmapped(n, "%s is not a zero state", what)
		}
	}
	return l, nil
}

// dense maps MatMul (+ Add) or Gemm, then an optional activation.
func (gr *graph) dense(n *onnx.NodeProto) (*denseFound, error) {
	W, ws, _ := gr.floats(input(n, 1))
	d := &denseFound{node: n, activation: "linear", nodes: []*onnx.NodeProto{n}}
	out := output(n, 0)
	var bias []float32
	if n.GetOpType() == "Gemm" {
		alpha, beta := float32(1), float32(1)
		if a := attrOf(n, "alpha"); a != nil {
			alpha = a.GetF()
		}
		if a := attrOf(n, "beta"); a != nil {
			beta = a.GetF()
		}
		if a := attrOf(n, "transA"); a != nil && a.GetI() != 0 {
			return nil, unmapped(n, "transA is set")
		}
		d.in, d.units = ws[0], ws[1]
		W = append([]float32(nil), W...)
		if a := attrOf(n, "transB"); a != nil && a.GetI() != 0 {
			d.in, d.units = ws[1], ws[0]
			t := make([]float32, len(W))
			for i := range d.units {
				for j := range d.in {
					t[j*d.units+i] = W[i*d.in+j]
				}
			}
			W = t
		}
		for i := range W {
			W[i] *= alpha
		}
		if c := input(n, 2); c != "" {
			b, _, ok := gr.floats(c)
			if !ok || len(b) != d.units {
				return nil, unmapped(n, "bias C is not a constant of %d values", d.units)
			}
			bias = make([]float32, d.units)
			for i, v := range b {
				bias[i] = v * beta
			}
		}
	} else {
		d.in, d.units = ws[0], ws[1]
		if cs := gr.consumers[out]; len(cs) == 1 && cs[0].GetOpType() == "Add" {
			add := cs[0]
			other := input(add, 1)
			if other == out {
				other = input(add, 0)
			}
			b, _, ok := gr.floats(other)
			if !ok || len(b) != d.units {
				return nil, unmapped(add, "the Dense bias is not a constant of %d values", d.units)
			}
			bias, out = b, output(add, 0)
			d.nodes = append(d.nodes, add)
		}
	}
	if bias == nil {
		bias = make([]float32, d.units)
	}
	d.W, d.B = W, bias
	// Skip Identity nodes, then take an activation if one follows.
	for {
		cs := gr.consumers[out]
		if len(cs) != 1 {
			break
		}
		c := cs[0]
		act := map[string]string{"Sigmoid": "sigmoid", "Relu": "relu", "Tanh": "tanh", "Softmax": "softmax"}[c.GetOpType()]
		if c.GetOpType() == "Identity" {
			out = output(c, 0)
			continue
		}
		if act == "softmax" {
			if a := attrOf(c, "axis"); a != nil && a.GetI() != -1 && a.GetI() != 1 {
				return nil, unmapped(c, "softmax over axis %d, want the last", a.GetI())
			}
		}
		if act != "" {
			d.activation, out = act, output(c, 0)
			d.nodes = append(d.nodes, c)
		}
		break
	}
	d.out = out
	return d, nil
}

// mergeMode tells sum, mul and ave apart by the operators between a
// bidirectional LSTM and the value the next layer reads: Add (sum), a Mul
// of two computed values (mul), Add then a Mul by 0.5 or a Div by 2 (ave).
// The nodes it accounts for are added to merged.
func (gr *graph) mergeMode(lstm *onnx.NodeProto, next string, merged map[*onnx.NodeProto]bool) (string, error) {
	var add, mul, half bool
	for _, n := range gr.dataPath(lstm.GetOutput(), next) {
		switch n.GetOpType() {
		case "Add":
			if gr.constant(input(n, 0)) != nil || gr.constant(input(n, 1)) != nil {
				return "", unmapped(n, "adds a constant between the directions of %q and the next layer", lstm.GetName())
			}
			add = true
		case "Mul", "Div":
			c, _, isConst := gr.floats(input(n, 1))
			if !isConst && n.GetOpType() == "Mul" {
				c, _, isConst = gr.floats(input(n, 0))
			}
			switch {
			case !isConst && n.GetOpType() == "Mul":
				mul = true
			case isConst && len(c) == 1 && ((n.GetOpType() == "Mul" && c[0] == 0.5) || (n.GetOpType() == "Div" && c[0] == 2)):
				half = true
			default:
				return "", unmapped(n, "scales the output of %q in a way no Keras merge mode does", lstm.GetName())
			}
		default:
			continue
		}
		merged[n] = true
	}
	switch {
	case add && half && !mul:
		return model.MergeAve, nil
	case add && !half && !mul:
		return model.MergeSum, nil
	case mul && !add && !half:
		return model.MergeMul, nil
	}
	return "", unmapped(lstm, "its two directions reach the next layer with H values each but no Keras merge (Add, Mul, or Add then halving) combines them")
}

// plumbing are operators that move or reshape values without computing on
// them; they may sit anywhere on the data path.
var plumbing = map[string]bool{
	"Cast": true, "Transpose": true, "Slice": true, "Concat": true, "Unsqueeze": true, "Squeeze": true,
	"Identity": true, "Reshape": true, "Flatten": true, "Expand": true, "Gather": true,
}
