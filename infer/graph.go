package infer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// step is one node ready to run.
type step struct {
	name, op string
	node     *onnx.NodeProto // as written (attributes for load-time rewrites)
	k        opKernel
	in       []int // value slots, -1 for an omitted optional input; then the implicit (outer-scope) inputs of a subgraph op
	out      []int // value slots, -1 for an omitted optional output
	free     []int // slots whose last consumer is this step
}

// graph is a validated graph in run order: a model's main graph, or the
// body of a Loop, Scan or If, prepared once when the model loads. Every
// value has a slot; a run fills a slice of slots.
type graph struct {
	inputs  []ValueInfo
	inSlot  []int // slot of each input
	outputs []ValueInfo
	outSlot []int // slot of each output

	// outer lists the values a body reads from enclosing graphs (also
	// for its nested bodies), filled into outerSlot at each call.
	outer     []string
	outerSlot []int

	// overridable: graph inputs that have an initializer as default.
	overridable map[string]int
	nslots      int
	consts      map[int]*Tensor  // initializers and Constant outputs
	isConst     map[uintptr]bool // backing arrays of consts
	base        []*Tensor        // consts by slot: the start of every run
	steps       []step

	// pool recycles big intermediate buffers between runs (the main
	// graph's; nil in bodies).
	pool *floatPool
}

// scope is the set of values a graph defines, and its enclosing graph's.
type scope struct {
	parent  *scope
	defined map[string]bool
}

func (s *scope) visible(name string) bool {
	for p := s; p != nil; p = p.parent {
		if p.defined[name] {
			return true
		}
	}
	return false
}

// loader compiles a model's graphs; it accumulates what Session reports
// about the whole model.
type loader struct {
	opsets map[string]int64
	ext    *onnx.ExternalData // nil: external data is refused
	hist   map[string]int
	params int64
}

// compiledGraphs counts graphs compiled, for tests that check that bodies
// are prepared once, at load.
var compiledGraphs atomic.Int64

// subgraphBuilder builds the kernel of an operator holding subgraphs
// (Loop, Scan, If) from its bodies, keyed by attribute name, and the names
// of the outer values they read, which arrive after the node's inputs.
type subgraphBuilder func(n *onnx.NodeProto, opset int64, bodies map[string]*graph, implicit []string) (opKernel, error)

var subgraphOps = map[string]subgraphBuilder{}

// registerSubgraphOp registers a default-domain operator with subgraphs.
func registerSubgraphOp(op string, since int64, b subgraphBuilder) {
	subgraphOps[op] = b
	registerOp("", op, since, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) {
		return nil, errors.New("internal error: subgraph operator built without its bodies")
	})
}

// tensor converts an initializer or attribute tensor, reading external
// data through l.ext.
func (l *loader) tensor(tp *onnx.TensorProto) (*Tensor, error) {
	shape, err := onnx.Shape(tp)
	if err != nil {
		return nil, err
	}
	dt := DType(tp.GetDataType())
	if !dt.Supported() {
		return nil, &UnsupportedTypeError{Value: tp.GetName(), Type: dt.String()}
	}
	data, err := onnx.TensorDataFrom(tp, l.ext)
	if err != nil {
		return nil, err
	}
	return &Tensor{DType: dt, Shape: shape, Data: data}, nil
}

// resolveAttrs returns n, or a copy whose external TENSOR attributes are
// inlined, so builders read attributes without the model's folder.
func (l *loader) resolveAttrs(n *onnx.NodeProto) (*onnx.NodeProto, error) {
	external := false
	for _, a := range n.GetAttribute() {
		if a.GetT().GetDataLocation() == onnx.TensorProto_EXTERNAL {
			external = true
		}
	}
	if !external {
		return n, nil
	}
	c := proto.Clone(n).(*onnx.NodeProto)
	for _, a := range c.GetAttribute() {
		t := a.GetT()
		if t.GetDataLocation() != onnx.TensorProto_EXTERNAL {
			continue
		}
		if l.ext == nil {
			_, err := onnx.TensorDataFrom(t, nil)
			return nil, err
		}
		b, err := l.ext.Bytes(t)
		if err != nil {
			return nil, err
		}
		t.RawData = append([]byte{}, b...)
		t.DataLocation, t.ExternalData = nil, nil
	}
	return c, nil
}

// compile validates gp and prepares it to run. parent is the enclosing
// graph's scope (nil for the main graph), where names the node holding gp
// in errors (`Loop "while"`). Operators and types were checked before.
func (l *loader) compile(gp *onnx.GraphProto, parent *scope, where string) (g *graph, err error) {
	compiledGraphs.Add(1)
	defer func() {
		if err != nil && where != "" && !errors.Is(err, ErrUnsupported) {
			err = fmt.Errorf("%w (in the body of %s)", err, where)
		}
	}()
	g = &graph{overridable: map[string]int{}, consts: map[int]*Tensor{}}
	sc := &scope{parent: parent, defined: map[string]bool{}}
	slots := map[string]int{}
	producer := map[string]string{} // value → what made it
	slot := func(name string) int {
		if i, ok := slots[name]; ok {
			return i
		}
		slots[name] = len(slots)
		return slots[name]
	}
	define := func(name, by string) error {
		if prev, ok := producer[name]; ok {
			return fmt.Errorf("%w: value %q is produced twice (%s and %s)", ErrInvalidModel, name, prev, by)
		}
		producer[name] = by
		sc.defined[name] = true
		slot(name)
		return nil
	}
	outer := func(name string) {
		if _, ok := producer[name]; ok {
			return
		}
		producer[name] = "outer scope"
		g.outer = append(g.outer, name)
		g.outerSlot = append(g.outerSlot, slot(name))
	}

	for _, tp := range gp.GetInitializer() {
		name := tp.GetName()
		if err := define(name, "initializer"); err != nil {
			return nil, err
		}
		t, err := l.tensor(tp)
		if err != nil {
			var ut *onnx.UnsupportedTypeError
			if errors.As(err, &ut) {
				return nil, &UnsupportedTypeError{Value: name, Type: ut.DataType.String(), Within: where}
			}
			return nil, fmt.Errorf("infer: initializer %q: %w", name, err)
		}
		g.consts[slots[name]] = t
		if t.DType == Float || t.DType == Double {
			l.params += int64(t.Len())
		}
	}
	for _, vi := range gp.GetInput() {
		info, err := valueInfo(vi, parent != nil)
		if err != nil {
			return nil, err
		}
		if _, isInit := producer[info.Name]; isInit {
			g.overridable[info.Name] = slots[info.Name]
			continue
		}
		if err := define(info.Name, "graph input"); err != nil {
			return nil, err
		}
		g.inputs = append(g.inputs, info)
		g.inSlot = append(g.inSlot, slots[info.Name])
	}

	nodes := gp.GetNode()
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if err := define(o, fmt.Sprintf("node %q", nodeName(n, i))); err != nil {
				return nil, err
			}
		}
	}
	// Bodies first: their reads of this graph's values (or of values
	// further out) become implicit inputs of the node holding them.
	ins := make([][]string, len(nodes))
	bodies := make([]map[string]*graph, len(nodes))
	for i, n := range nodes {
		ins[i] = n.GetInput()
		if _, ok := subgraphOps[n.GetOpType()]; !ok || normDomain(n.GetDomain()) != "" {
			continue
		}
		bodies[i] = map[string]*graph{}
		seen := map[string]bool{}
		var implicit []string
		for _, a := range n.GetAttribute() {
			if a.GetG() == nil {
				continue
			}
			body, err := l.compile(a.GetG(), sc, within(where, n, i))
			if err != nil {
				return nil, err
			}
			bodies[i][a.GetName()] = body
			for _, name := range body.outer {
				if !seen[name] {
					seen[name] = true
					implicit = append(implicit, name)
				}
			}
		}
		ins[i] = append(append([]string{}, n.GetInput()...), implicit...)
	}
	for i, n := range nodes {
		for _, in := range ins[i] {
			if in == "" {
				continue
			}
			if _, ok := producer[in]; ok {
				continue
			}
			if parent.visible(in) {
				outer(in)
				continue
			}
			return nil, fmt.Errorf("%w: node %q (%s) reads %q, which no node, input or initializer produces", ErrInvalidModel, nodeName(n, i), n.GetOpType(), in)
		}
	}
	for _, vi := range gp.GetOutput() {
		info, err := valueInfo(vi, parent != nil)
		if err != nil {
			return nil, err
		}
		if _, ok := producer[info.Name]; !ok {
			if !parent.visible(info.Name) {
				return nil, fmt.Errorf("%w: graph output %q is produced by nothing", ErrInvalidModel, info.Name)
			}
			outer(info.Name)
		}
		g.outputs = append(g.outputs, info)
		g.outSlot = append(g.outSlot, slots[info.Name])
	}

	order, err := topoSort(nodes, ins)
	if err != nil {
		return nil, err
	}
	g.nslots = len(slots)
	keep := map[int]bool{}
	for _, o := range g.outSlot {
		keep[o] = true
	}
	for _, i := range order {
		n := nodes[i]
		l.hist[opLabel(n)]++
		opset := l.opsets[normDomain(n.GetDomain())]
		var k opKernel
		if bodies[i] != nil {
			k, err = buildSubgraphOp(subgraphOps[n.GetOpType()], n, opset, bodies[i], ins[i][len(n.GetInput()):])
		} else {
			b, ok := lookupOp(n.GetDomain(), n.GetOpType(), opset)
			if !ok {
				return nil, &UnsupportedOpError{Node: nodeName(n, i), Op: n.GetOpType(), Domain: normDomain(n.GetDomain()), Opset: opset, Nodes: 1, Within: where}
			}
			rn, rerr := l.resolveAttrs(n)
			if rerr != nil {
				return nil, fmt.Errorf("infer: node %q (%s): %w", nodeName(n, i), n.GetOpType(), rerr)
			}
			k, err = build(b, rn, opset)
		}
		if err != nil {
			return nil, fmt.Errorf("infer: node %q (%s): %w", nodeName(n, i), n.GetOpType(), err)
		}
		st := step{name: nodeName(n, i), op: n.GetOpType(), node: n, k: k}
		for _, in := range ins[i] {
			if in == "" {
				st.in = append(st.in, -1)
				continue
			}
			st.in = append(st.in, slots[in])
		}
		for _, o := range n.GetOutput() {
			if o == "" {
				st.out = append(st.out, -1)
				continue
			}
			st.out = append(st.out, slots[o])
		}
		// A Constant node is folded now, once.
		if n.GetOpType() == "Constant" {
			outs, err := runStep(context.Background(), &st, func(i int) *Tensor { return g.consts[i] })
			if err != nil {
				return nil, err
			}
			for j, o := range st.out {
				if o >= 0 {
					g.consts[o] = outs[j]
				}
			}
			continue
		}
		g.steps = append(g.steps, st)
	}
	if planGraphs {
		g.plan(l.opsets[""], keep)
	}
	lastUse := map[int]int{} // slot → index in steps
	for i, st := range g.steps {
		for _, in := range st.in {
			if in >= 0 {
				lastUse[in] = i
			}
		}
	}
	g.base = make([]*Tensor, g.nslots)
	for sl, t := range g.consts {
		g.base[sl] = t
	}
	g.isConst = make(map[uintptr]bool, len(g.consts))
	for _, t := range g.consts {
		if p := dataPtr(t); p != 0 {
			g.isConst[p] = true
		}
	}
	g.prepareSteps()
	for sl, at := range lastUse {
		if keep[sl] {
			continue
		}
		if _, isConst := g.consts[sl]; isConst {
			continue
		}
		g.steps[at].free = append(g.steps[at].free, sl)
	}
	for i := range g.steps {
		sort.Ints(g.steps[i].free)
	}
	return g, nil
}

// buildSubgraphOp calls b, turning a panic into an error.
func buildSubgraphOp(b subgraphBuilder, n *onnx.NodeProto, opset int64, bodies map[string]*graph, implicit []string) (k opKernel, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("internal error building kernel: %v", r)
		}
	}()
	return b(n, opset, bodies, implicit)
}

// preparer is a kernel that precomputes from inputs fixed for the
// session's life; prepare gets them by input position, nil for the others.
type preparer interface {
	prepare(consts []*Tensor)
}

// prepareSteps hands every preparer its constant inputs: initializers and
// Constant outputs, but not initializers a run may override.
func (g *graph) prepareSteps() {
	fixed := make(map[int]bool, len(g.consts))
	for sl := range g.consts {
		fixed[sl] = true
	}
	for _, sl := range g.overridable {
		delete(fixed, sl)
	}
	for _, st := range g.steps {
		p, ok := st.k.(preparer)
		if !ok {
			continue
		}
		consts := make([]*Tensor, len(st.in))
		for i, sl := range st.in {
			if sl >= 0 && fixed[sl] {
				consts[i] = g.consts[sl]
			}
		}
		p.prepare(consts)
	}
}

// exec runs g's steps on vals, whose inputs, outer values and constants
// are filled; ctx is checked between steps.
func (g *graph) exec(ctx context.Context, vals []*Tensor) error {
	for i := range g.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		st := &g.steps[i]
		outs, err := runStep(ctx, st, func(j int) *Tensor { return vals[j] })
		if err != nil {
			return err
		}
		for j, o := range st.out {
			if o >= 0 {
				vals[o] = outs[j]
			}
		}
		for _, f := range st.free {
			t := vals[f]
			vals[f] = nil
			if g.pool != nil && t != nil {
				g.pool.release(t, vals)
			}
		}
	}
	return nil
}

// call runs a body on its inputs (in order; extra slots stay empty) and
// the outer values (in g.outer order), and returns its outputs. An output
// that is one of the body's constants is copied, so the caller may keep it.
func (g *graph) call(ctx context.Context, formals, outer []*Tensor) ([]*Tensor, error) {
	vals := make([]*Tensor, g.nslots)
	copy(vals, g.base)
	for i, sl := range g.inSlot {
		if i < len(formals) {
			vals[sl] = formals[i]
		}
	}
	for i, sl := range g.outerSlot {
		vals[sl] = outer[i]
	}
	if err := g.exec(ctx, vals); err != nil {
		return nil, err
	}
	outs := make([]*Tensor, len(g.outSlot))
	for i, sl := range g.outSlot {
		t := vals[sl]
		if t == nil {
			return nil, fmt.Errorf("body output %q was not computed", g.outputs[i].Name)
		}
		if g.isConst[dataPtr(t)] {
			t = t.Clone()
		}
		outs[i] = t
	}
	return outs, nil
}

// runStep runs one kernel with a recover guard and checks its results.
func runStep(ctx context.Context, st *step, val func(int) *Tensor) (outs []*Tensor, err error) {
	in := make([]*Tensor, len(st.in))
	for j, sl := range st.in {
		if sl >= 0 {
			in[j] = val(sl)
		}
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error: %v", r)
			}
		}()
		outs, err = st.k.Run(ctx, in)
	}()
	if err == nil && len(outs) < len(st.out) {
		err = fmt.Errorf("internal error: kernel returned %d outputs for %d", len(outs), len(st.out))
	}
	if err == nil {
		for j, o := range st.out {
			if o >= 0 && outs[j] == nil {
				err = fmt.Errorf("internal error: kernel left output %d empty", j)
				break
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("infer: node %q (%s): %w", st.name, st.op, err)
	}
	return outs, nil
}

func nodeName(n *onnx.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return fmt.Sprintf("#%d", i)
}

func opLabel(n *onnx.NodeProto) string {
	if d := normDomain(n.GetDomain()); d != "" {
		return d + "/" + n.GetOpType()
	}
	return n.GetOpType()
}

// build calls b, turning a panic into an error.
func build(b opBuilder, n *onnx.NodeProto, opset int64) (k opKernel, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("internal error building kernel: %v", r)
		}
	}()
	k, err = b(n, opset)
	if err == nil && k == nil {
		err = errors.New("internal error: builder returned no kernel")
	}
	return k, err
}

// topoSort orders nodes so that each runs after the producers of its
// inputs ins[i] (Kahn's algorithm, stable in file order). Errors: a cycle.
func topoSort(nodes []*onnx.NodeProto, ins [][]string) ([]int, error) {
	prod := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				prod[o] = i
			}
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i := range nodes {
		seen := map[int]bool{}
		for _, in := range ins[i] {
			p, ok := prod[in]
			if in == "" || !ok || seen[p] {
				continue
			}
			seen[p] = true
			indeg[i]++
			users[p] = append(users[p], i)
		}
	}
	var ready, order []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		for i, d := range indeg {
			if d > 0 {
				return nil, fmt.Errorf("%w: the graph has a cycle through node %q (%s)", ErrInvalidModel, nodeName(nodes[i], i), nodes[i].GetOpType())
			}
		}
	}
	return order, nil
}

// valueInfo describes a graph input or output. In a subgraph (sub) a value
// may leave its type out; the main graph must state it.
func valueInfo(vi *onnx.ValueInfoProto, sub bool) (ValueInfo, error) {
	info := ValueInfo{Name: vi.GetName()}
	if typ := unsupportedValueType(vi); typ != "" {
		return info, &UnsupportedTypeError{Value: info.Name, Type: typ}
	}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		if sub {
			return info, nil
		}
		return info, fmt.Errorf("%w: value %q has no type", ErrInvalidModel, info.Name)
	}
	info.DType = DType(tt.GetElemType())
	if info.DType == 0 && !sub {
		return info, fmt.Errorf("%w: value %q has no element type", ErrInvalidModel, info.Name)
	}
	info.Dims = dimsOf(tt)
	return info, nil
}

// dimsOf reads a tensor type's shape: nil when it is not stated.
func dimsOf(tt *onnx.TypeProto_Tensor) []Dim {
	if tt.Shape == nil {
		return nil
	}
	dims := make([]Dim, len(tt.GetShape().GetDim()))
	for i, d := range tt.GetShape().GetDim() {
		switch {
		case d.GetDimParam() != "":
			dims[i] = Dim{Value: -1, Param: d.GetDimParam()}
		case d.GetValue() != nil:
			dims[i] = Dim{Value: d.GetDimValue()}
		default:
			dims[i] = Dim{Value: -1}
		}
	}
	return dims
}
