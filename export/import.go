package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// ErrUnmapped is wrapped by every error of a graph that does not map onto a
// birnn model.
var ErrUnmapped = errors.New("export: graph does not map to a birnn model")

// UnmappedError names the node of a graph that Import cannot map: an
// operator outside the embedding → LSTM → Dense pattern, or a supported
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
		return "export: import: " + e.Reason
	}
	return fmt.Sprintf("export: import: node %q (%s): %s", e.Node, e.Op, e.Reason)
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
	"Tanh": true, "Identity": true, "Reshape": true, "LSTM": true, "Mul": true, "Div": true,
	"Flatten": true,
}

// recurrentOps are recurrent and control-flow operators birnn has no layer
// for; an import error names one of them before any other node.
var recurrentOps = map[string]bool{"GRU": true, "RNN": true, "Loop": true, "Scan": true, "If": true}

// graph indexes a GraphProto for the walks Import makes.
type graph struct {
	g         *onnx.GraphProto
	consts    map[string]*onnx.TensorProto // initializers and Constant outputs
	producer  map[string]*onnx.NodeProto
	consumers map[string][]*onnx.NodeProto
}

func newGraph(g *onnx.GraphProto) *graph {
	gr := &graph{g: g, consts: map[string]*onnx.TensorProto{}, producer: map[string]*onnx.NodeProto{}, consumers: map[string][]*onnx.NodeProto{}}
	for _, t := range g.GetInitializer() {
		gr.consts[t.GetName()] = t
	}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			if o != "" {
				gr.producer[o] = n
			}
		}
		for _, in := range n.GetInput() {
			if in != "" {
				gr.consumers[in] = append(gr.consumers[in], n)
			}
		}
		if n.GetOpType() == "Constant" && len(n.GetOutput()) == 1 {
			for _, a := range n.GetAttribute() {
				if a.GetName() == "value" && a.GetT() != nil {
					gr.consts[n.GetOutput()[0]] = a.GetT()
				}
			}
		}
	}
	return gr
}

// constant resolves name, through Identity nodes, to a constant tensor.
func (gr *graph) constant(name string) *onnx.TensorProto {
	for range 64 {
		if t, ok := gr.consts[name]; ok {
			return t
		}
		p := gr.producer[name]
		if p == nil || p.GetOpType() != "Identity" {
			return nil
		}
		name = input(p, 0)
	}
	return nil
}

// floats decodes a FLOAT constant and its shape.
func (gr *graph) floats(name string) ([]float32, []int, bool) {
	t := gr.constant(name)
	if t == nil || onnx.TensorProto_DataType(t.GetDataType()) != onnx.TensorProto_FLOAT {
		return nil, nil, false
	}
	d, err := onnx.TensorData(t)
	if err != nil {
		return nil, nil, false
	}
	shape, err := onnx.Shape(t)
	if err != nil {
		return nil, nil, false
	}
	return d.([]float32), shape, true
}

// isZero reports whether the value name is all zeros: a zero constant, a
// ConstantOfShape of zero, or shape plumbing of such a value. It is how a
// tf2onnx zero initial state is recognised.
func (gr *graph) isZero(name string, depth int) bool {
	if depth > 32 {
		return false
	}
	if t := gr.constant(name); t != nil {
		d, err := onnx.TensorData(t)
		if err != nil {
			return false
		}
		switch v := d.(type) {
		case []float32:
			for _, x := range v {
				if x != 0 {
					return false
				}
			}
			return true
		}
		return false
	}
	p := gr.producer[name]
	if p == nil {
		return false
	}
	switch p.GetOpType() {
	case "ConstantOfShape":
		for _, a := range p.GetAttribute() {
			if a.GetName() == "value" {
				d, err := onnx.TensorData(a.GetT())
				if err != nil {
					return false
				}
				v, ok := d.([]float32)
				return ok && len(v) == 1 && v[0] == 0
			}
		}
		return true // the default value is a float 0
	case "Identity", "Cast", "Expand", "Unsqueeze", "Squeeze", "Reshape", "Transpose", "Slice", "Flatten":
		return gr.isZero(input(p, 0), depth+1)
	case "Concat":
		for _, in := range p.GetInput() {
			if !gr.isZero(in, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// ancestors returns every value name upstream of name (name included).
func (gr *graph) ancestors(name string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{name}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		if p := gr.producer[v]; p != nil {
			stack = append(stack, p.GetInput()...)
		}
	}
	return seen
}

// dataPath returns the nodes on data paths from any of from to the value
// to, not following shape computations (the outputs of Shape nodes).
func (gr *graph) dataPath(from []string, to string) []*onnx.NodeProto {
	up := gr.ancestors(to)
	seen := map[*onnx.NodeProto]bool{}
	var out []*onnx.NodeProto
	stack := append([]string(nil), from...)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range gr.consumers[v] {
			if seen[c] || c.GetOpType() == "Shape" {
				continue
			}
			seen[c] = true
			reaches := false
			for _, o := range c.GetOutput() {
				if up[o] {
					reaches = true
				}
			}
			if !reaches {
				continue
			}
			out = append(out, c)
			stack = append(stack, c.GetOutput()...)
		}
	}
	return out
}

func attrOf(n *onnx.NodeProto, name string) *onnx.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func output(n *onnx.NodeProto, i int) string {
	if i < len(n.GetOutput()) {
		return n.GetOutput()[i]
	}
	return ""
}

func input(n *onnx.NodeProto, i int) string {
	if i < len(n.GetInput()) {
		return n.GetInput()[i]
	}
	return ""
}

// lstmFound is one LSTM node mapped to a layer.
type lstmFound struct {
	node    *onnx.NodeProto
	dirs, h int
	in      int
	W, R, B []float32 // ONNX layout; B is [dirs, 8H] with Rb folded into Wb
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

// Import reads a graph that computes embedding → LSTM stack → Dense stack —
// birnn's own exports, or Keras/tf2onnx exports of the same layer kinds —
// back into a trainable model:
//
//	Gather(data = embedding [num_words, dim])
//	→ LSTM nodes (forward or bidirectional; zero or omitted initial state;
//	  default activations; no clip, peepholes or sequence_lens)
//	→ MatMul + Add or Gemm, then Sigmoid, Softmax, Relu, Tanh or nothing
//
// LSTM biases become B = [Wb + Rb, 0]. The configuration is birnn.config
// from the metadata when present (checked against the graph); otherwise it
// is built from the weights (num_words = embedding rows, widths, merge mode
// from the merge pattern: concat when the next layer reads 2H values, else
// Add → sum, Mul → mul, Add then Mul/Div → ave) over the study's defaults,
// with the data settings taken from the birnn.* metadata when present and
// maxlen from a fixed input length.
//
// Errors: *UnmappedError (wrapping ErrUnmapped) naming the node that does
// not map; a configuration that disagrees with the graph.
func Import(mp *onnx.ModelProto) (*model.Model, error) {
	if mp.GetGraph() == nil {
		return nil, unmapped(nil, "the model has no graph")
	}
	gr := newGraph(mp.GetGraph())
	// Name the recurrent or control-flow node of a graph first: it says
	// more than the loop plumbing around it.
	var firstBad *onnx.NodeProto
	for _, n := range gr.g.GetNode() {
		foreign := n.GetDomain() != "" && n.GetDomain() != "ai.onnx"
		if foreign || !importOps[n.GetOpType()] {
			if firstBad == nil || (!foreign && recurrentOps[n.GetOpType()] && !recurrentOps[firstBad.GetOpType()]) {
				firstBad = n
			}
		}
	}
	if n := firstBad; n != nil {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			return nil, unmapped(n, "operator domain %q has no birnn layer", n.GetDomain())
		}
		if recurrentOps[n.GetOpType()] {
			return nil, unmapped(n, "birnn's only recurrent layer is the ONNX LSTM (a Keras LSTM without masking)")
		}
		return nil, unmapped(n, "no birnn layer computes this operator (birnn maps Gather → LSTM → MatMul/Gemm + Add → activation)")
	}
	var gathers, lstmNodes, denseNodes []*onnx.NodeProto
	for _, n := range gr.g.GetNode() {
		switch n.GetOpType() {
		case "Gather":
			if _, s, ok := gr.floats(input(n, 0)); ok && len(s) == 2 {
				gathers = append(gathers, n)
			}
		case "LSTM":
			lstmNodes = append(lstmNodes, n)
		case "MatMul", "Gemm":
			if _, s, ok := gr.floats(input(n, 1)); ok && len(s) == 2 {
				denseNodes = append(denseNodes, n)
			} else {
				return nil, unmapped(n, "the right operand is not a constant weight matrix")
			}
		}
	}
	switch {
	case len(gathers) == 0:
		return nil, unmapped(nil, "no embedding: no Gather reads a constant [num_words, dim] matrix")
	case len(gathers) > 1:
		return nil, unmapped(gathers[1], "a second embedding Gather; birnn models have one")
	case len(lstmNodes) == 0:
		return nil, unmapped(nil, "no LSTM node")
	case len(denseNodes) == 0:
		return nil, unmapped(nil, "no Dense layer (MatMul or Gemm with a constant weight)")
	}
	embNode := gathers[0]
	if a := attrOf(embNode, "axis"); a != nil && a.GetI() != 0 {
		return nil, unmapped(embNode, "embedding Gather on axis %d, want 0", a.GetI())
	}
	emb, embShape, _ := gr.floats(input(embNode, 0))

	// The chain: embedding → each LSTM → each Dense, each reading the one before.
	prev, prevNode := output(embNode, 0), embNode
	lstms := make([]*lstmFound, len(lstmNodes))
	for i, n := range lstmNodes {
		if !gr.ancestors(input(n, 0))[prev] {
			return nil, unmapped(n, "its input X does not come from %q (%s); birnn layers form one chain", prevNode.GetName(), prevNode.GetOpType())
		}
		l, err := gr.lstm(n)
		if err != nil {
			return nil, err
		}
		if i > 0 && len(lstmNodes[i-1].GetOutput()) > 0 && !gr.ancestors(input(n, 0))[output(lstmNodes[i-1], 0)] {
			return nil, unmapped(n, "its input X is not the output sequence Y of %q", lstmNodes[i-1].GetName())
		}
		lstms[i] = l
		prev, prevNode = "", n
		for _, o := range n.GetOutput() { // the last output used: Y or Y_h
			if o != "" && len(gr.consumers[o]) > 0 {
				prev = o
			}
		}
	}
	prevOuts := lstmNodes[len(lstmNodes)-1].GetOutput()
	denses := make([]*denseFound, len(denseNodes))
	for i, n := range denseNodes {
		up := gr.ancestors(input(n, 0))
		ok := false
		if i == 0 {
			for _, o := range prevOuts {
				ok = ok || (o != "" && up[o])
			}
		} else {
			ok = up[denses[i-1].out]
		}
		if !ok {
			return nil, unmapped(n, "its input does not come from the layer before it; birnn layers form one chain")
		}
		d, err := gr.dense(n)
		if err != nil {
			return nil, err
		}
		denses[i] = d
	}
	outs := gr.g.GetOutput()
	if len(outs) == 0 || !gr.ancestors(outs[0].GetName())[denses[len(denses)-1].out] {
		return nil, unmapped(denseNodes[len(denseNodes)-1], "the graph output is not this layer's result")
	}
	// Every node computing on the data path must be part of a layer.
	mapped := map[*onnx.NodeProto]bool{embNode: true}
	for _, n := range lstmNodes {
		mapped[n] = true
	}
	for _, d := range denses {
		for _, n := range d.nodes {
			mapped[n] = true
		}
	}

	// Layers and widths.
	layers := make([]configs.Layer, 0, len(lstms)+len(denses))
	in := embShape[1]
	for i, l := range lstms {
		if l.in != in {
			return nil, unmapped(l.node, "W reads %d values per step, the layer before gives %d", l.in, in)
		}
		var next int
		var nextNode *onnx.NodeProto
		if i+1 < len(lstms) {
			next, nextNode = lstms[i+1].in, lstms[i+1].node
		} else {
			next, nextNode = denses[0].in, denses[0].node
		}
		cl := configs.Layer{Type: "lstm", Units: l.h, ReturnSequences: i+1 < len(lstms)}
		out := l.h
		if l.dirs == 2 {
			cl.Bidirectional = true
			switch next {
			case 2 * l.h:
				cl.MergeMode, out = model.MergeConcat, 2*l.h
			case l.h:
				mm, err := gr.mergeMode(l.node, input(nextNode, 0), mapped)
				if err != nil {
					return nil, err
				}
				cl.MergeMode = mm
			default:
				return nil, unmapped(nextNode, "reads %d values from a bidirectional LSTM of %d units (want %d or %d)", next, l.h, 2*l.h, l.h)
			}
		}
		if next != out {
			return nil, unmapped(nextNode, "reads %d values, the LSTM %q before it gives %d", next, l.node.GetName(), out)
		}
		layers = append(layers, cl)
		in = out
	}
	for _, n := range gr.dataPath(embNode.GetOutput(), outs[0].GetName()) {
		if !mapped[n] && !plumbing[n.GetOpType()] {
			return nil, unmapped(n, "computes on the data path but belongs to no birnn layer")
		}
	}
	for _, d := range denses {
		if d.in != in {
			return nil, unmapped(d.node, "reads %d values, the layer before gives %d", d.in, in)
		}
		layers = append(layers, configs.Layer{Type: "dense", Units: d.units, Activation: d.activation})
		in = d.units
	}

	cfg, err := importConfig(mp, embShape, layers)
	if err != nil {
		return nil, err
	}
	m, err := model.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("export: import: %w", err)
	}
	copy(m.Param("embedding").Data, emb)
	specs := m.Layers()
	for i, l := range lstms {
		name := specs[i].Name
		copy(m.Param(name+".W").Data, l.W)
		copy(m.Param(name+".R").Data, l.R)
		copy(m.Param(name+".B").Data, l.B)
	}
	for i, d := range denses {
		name := specs[len(lstms)+i].Name
		copy(m.Param(name+".W").Data, d.W)
		copy(m.Param(name+".B").Data, d.B)
	}
	return m, nil
}

// lstm maps one LSTM node.
func (gr *graph) lstm(n *onnx.NodeProto) (*lstmFound, error) {
	l := &lstmFound{node: n, dirs: 1}
	if a := attrOf(n, "direction"); a != nil {
		switch string(a.GetS()) {
		case "forward":
		case "bidirectional":
			l.dirs = 2
		default:
			return nil, unmapped(n, "direction %q (birnn maps forward and bidirectional)", a.GetS())
		}
	}
	if a := attrOf(n, "activations"); a != nil {
		for i, s := range a.GetStrings() {
			want := []string{"sigmoid", "tanh", "tanh"}[i%3]
			if !strings.EqualFold(string(s), want) {
				return nil, unmapped(n, "activation %q where birnn's LSTM has %s", s, want)
			}
		}
	}
	if a := attrOf(n, "clip"); a != nil {
		return nil, unmapped(n, "cell clip %g (birnn's LSTM has none)", a.GetF())
	}
	if a := attrOf(n, "input_forget"); a != nil && a.GetI() != 0 {
		return nil, unmapped(n, "input_forget coupling (birnn's LSTM has none)")
	}
	W, ws, ok := gr.floats(input(n, 1))
	if !ok || len(ws) != 3 || ws[0] != l.dirs || ws[1]%4 != 0 {
		return nil, unmapped(n, "W is not a constant [%d, 4H, in] tensor", l.dirs)
	}
	l.h, l.in = ws[1]/4, ws[2]
	if a := attrOf(n, "hidden_size"); a != nil && int(a.GetI()) != l.h {
		return nil, unmapped(n, "hidden_size %d but W has 4H = %d rows", a.GetI(), ws[1])
	}
	R, rs, ok := gr.floats(input(n, 2))
	if !ok || len(rs) != 3 || rs[0] != l.dirs || rs[1] != 4*l.h || rs[2] != l.h {
		return nil, unmapped(n, "R is not a constant [%d, %d, %d] tensor", l.dirs, 4*l.h, l.h)
	}
	l.W, l.R = W, R
	l.B = make([]float32, l.dirs*8*l.h)
	if name := input(n, 3); name != "" {
		B, bs, ok := gr.floats(name)
		if !ok || len(bs) != 2 || bs[0] != l.dirs || bs[1] != 8*l.h {
			return nil, unmapped(n, "B is not a constant [%d, %d] tensor", l.dirs, 8*l.h)
		}
		// Keras has one bias: fold Rb into Wb, leave Rb zero.
		for d := range l.dirs {
			for k := range 4 * l.h {
				l.B[d*8*l.h+k] = B[d*8*l.h+k] + B[d*8*l.h+4*l.h+k]
			}
		}
	}
	if input(n, 4) != "" {
		return nil, unmapped(n, "sequence_lens is set (birnn reads whole padded sequences)")
	}
	for i, what := range map[int]string{5: "initial_h", 6: "initial_c"} {
		if name := input(n, i); name != "" && !gr.isZero(name, 0) {
			return nil, unmapped(n, "%s is not a zero state", what)
		}
	}
	if input(n, 7) != "" {
		return nil, unmapped(n, "peephole weights P (birnn's LSTM has none)")
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

// importConfig is birnn.config when the metadata has it, else a
// configuration built over the defaults from what the graph holds.
func importConfig(mp *onnx.ModelProto, embShape []int, layers []configs.Layer) (*configs.Config, error) {
	meta := map[string]string{}
	for _, kv := range mp.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if y, ok := meta[model.MetaConfig]; ok {
		cfg, err := configs.Parse([]byte(y))
		if err != nil {
			return nil, fmt.Errorf("export: import: metadata %s: %w", model.MetaConfig, err)
		}
		if err := sameArchitecture(cfg, embShape, layers); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	cfg := configs.Defaults()
	cfg.Name = mp.GetGraph().GetName()
	if cfg.Name == "" || cfg.Name == "tf2onnx" { // tf2onnx's fixed graph name says nothing
		cfg.Name = "imported"
	}
	cfg.Description = "imported from ONNX"
	if p := mp.GetProducerName(); p != "" {
		cfg.Description += " (" + strings.TrimSpace(p+" "+mp.GetProducerVersion()) + ")"
	}
	cfg.Data.NumWords = embShape[0]
	cfg.Model.Embedding.Dim = embShape[1]
	cfg.Model.Layers = layers
	if ins := mp.GetGraph().GetInput(); len(ins) > 0 {
		dims := ins[0].GetType().GetTensorType().GetShape().GetDim()
		if len(dims) == 2 && dims[1].GetDimValue() > 0 {
			cfg.Data.MaxLen = int(dims[1].GetDimValue())
		}
	}
	ints := map[string]*int{model.MetaMaxLen: &cfg.Data.MaxLen, model.MetaIndexFrom: &cfg.Data.IndexFrom}
	for k, p := range ints {
		if v, ok := meta[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("export: import: metadata %s = %q: not an integer", k, v)
			}
			*p = n
		}
	}
	if v, ok := meta[model.MetaPadding]; ok {
		cfg.Data.Padding = v
	}
	if v, ok := meta[model.MetaTruncating]; ok {
		cfg.Data.Truncating = v
	}
	if err := cfg.Resolve(); err != nil {
		return nil, fmt.Errorf("export: import: %w", err)
	}
	return cfg, nil
}

// sameArchitecture checks a metadata config against what the graph holds.
func sameArchitecture(cfg *configs.Config, embShape []int, layers []configs.Layer) error {
	bad := func(key string, meta, graph any) error {
		return fmt.Errorf("export: import: metadata %s says %s = %v, the graph has %v", model.MetaConfig, key, meta, graph)
	}
	if cfg.Data.NumWords != embShape[0] {
		return bad("data.num_words", cfg.Data.NumWords, embShape[0])
	}
	if cfg.Model.Embedding.Dim != embShape[1] {
		return bad("model.embedding.dim", cfg.Model.Embedding.Dim, embShape[1])
	}
	if len(cfg.Model.Layers) != len(layers) {
		return bad("the number of layers", len(cfg.Model.Layers), len(layers))
	}
	for i, g := range layers {
		c := cfg.Model.Layers[i]
		key := fmt.Sprintf("model.layers[%d]", i)
		switch {
		case c.Type != g.Type:
			return bad(key+".type", c.Type, g.Type)
		case c.Units != g.Units:
			return bad(key+".units", c.Units, g.Units)
		case c.Bidirectional != g.Bidirectional:
			return bad(key+".bidirectional", c.Bidirectional, g.Bidirectional)
		case g.Bidirectional && c.MergeMode != g.MergeMode:
			return bad(key+".merge_mode", c.MergeMode, g.MergeMode)
		case c.ReturnSequences != g.ReturnSequences:
			return bad(key+".return_sequences", c.ReturnSequences, g.ReturnSequences)
		case g.Type == "dense" && c.Activation != g.Activation:
			return bad(key+".activation", c.Activation, g.Activation)
		}
	}
	return nil
}

// OptionsOf recovers the Options a birnn export was written with (opset,
// input dtype and the birnn.* metadata), so that exporting the imported
// model again gives the same bytes. Fields the file does not record keep
// their defaults. Errors: birnn.test_metrics that is not a JSON object of
// numbers.
func OptionsOf(mp *onnx.ModelProto) (Options, error) {
	var o Options
	for _, op := range mp.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			o.Opset = int(op.GetVersion())
		}
	}
	if ins := mp.GetGraph().GetInput(); len(ins) > 0 &&
		onnx.TensorProto_DataType(ins[0].GetType().GetTensorType().GetElemType()) == onnx.TensorProto_FLOAT {
		o.InputDType = "float32"
	}
	for _, kv := range mp.GetMetadataProps() {
		switch kv.GetKey() {
		case model.MetaTokenizer:
			o.Tokenizer = kv.GetValue()
		case model.MetaWordIndexSHA256:
			o.WordIndexSHA256 = kv.GetValue()
		case model.MetaVersion:
			o.Version = kv.GetValue()
		case model.MetaTestMetrics:
			if err := json.Unmarshal([]byte(kv.GetValue()), &o.TestMetrics); err != nil {
				return o, fmt.Errorf("export: metadata %s: %w", model.MetaTestMetrics, err)
			}
		}
	}
	return o, nil
}
