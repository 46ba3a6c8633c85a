package infer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/birnn/birnn/onnx"
)

// MaxOpset is the highest default-domain (ai.onnx) opset version accepted;
// it is the newest one of onnx 1.22.
const MaxOpset = 27

// ErrUnsupported is matched (errors.Is) by every error that says a model
// needs something the engine does not implement: *UnsupportedOpError,
// *UnsupportedTypeError.
var ErrUnsupported = errors.New("infer: unsupported")

// ErrInvalidModel is matched by errors about a structurally broken graph.
var ErrInvalidModel = errors.New("infer: invalid model")

// UnsupportedOpError names a node whose operator is not implemented for
// the model's opset, including the subgraph operators Loop, Scan and If.
type UnsupportedOpError struct {
	Node   string // node name (may be empty in the model)
	Op     string // op_type
	Domain string // "" for ai.onnx
	Opset  int64  // the model's opset version for Domain
}

func (e *UnsupportedOpError) Error() string {
	d := e.Domain
	if d == "" {
		d = "ai.onnx"
	}
	return fmt.Sprintf("infer: unsupported operator %s (domain %s, opset %d) at node %q", e.Op, d, e.Opset, e.Node)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedOpError) Is(target error) bool { return target == ErrUnsupported }

// UnsupportedTypeError names a value whose type the engine cannot compute
// with: an element type like STRING, FLOAT16 or INT4, or a sequence,
// map or optional value.
type UnsupportedTypeError struct {
	Value string // value or attribute name
	Type  string // e.g. "STRING", "sequence"
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("infer: value %q has unsupported type %s", e.Value, e.Type)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedTypeError) Is(target error) bool { return target == ErrUnsupported }

// Dim is one dimension of a graph input or output: fixed when Value ≥ 0,
// otherwise symbolic (Value −1) with the dim_param name in Param, which is
// empty for an unnamed unknown dimension.
type Dim struct {
	Value int64
	Param string
}

func (d Dim) String() string {
	if d.Value >= 0 {
		return fmt.Sprint(d.Value)
	}
	if d.Param == "" {
		return "?"
	}
	return d.Param
}

// ValueInfo describes a graph input or output. Dims is nil when the model
// does not state the shape (any rank accepted); a scalar has empty non-nil
// Dims.
type ValueInfo struct {
	Name  string
	DType DType
	Dims  []Dim
}

// String formats v as "name FLOAT[batch 100]".
func (v ValueInfo) String() string {
	if v.Dims == nil {
		return fmt.Sprintf("%s %s[?]", v.Name, v.DType)
	}
	parts := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		parts[i] = d.String()
	}
	return fmt.Sprintf("%s %s[%s]", v.Name, v.DType, strings.Join(parts, " "))
}

// Metadata is what a model says about itself.
type Metadata struct {
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	GraphName       string
	IRVersion       int64
	Opsets          map[string]int64  // domain ("" = ai.onnx) → version
	Props           map[string]string // metadata_props
}

// step is one node ready to run.
type step struct {
	name, op string
	k        Kernel
	in       []int // value slots, -1 for an omitted optional input
	out      []int // value slots, -1 for an omitted optional output
	free     []int // slots whose last consumer is this step
}

// Session is a loaded, validated model ready to run. It is safe for
// concurrent use by multiple goroutines.
type Session struct {
	meta    Metadata
	inputs  []ValueInfo
	outputs []ValueInfo
	inSlot  []int // slot of each input
	outSlot []int // slot of each output

	// overridable: graph inputs that have an initializer as default.
	overridable map[string]int
	nslots      int
	consts      map[int]*Tensor  // initializers and Constant outputs
	isConst     map[uintptr]bool // backing arrays of consts
	base        []*Tensor        // consts by slot: the start of every run
	steps       []step
	hist        map[string]int
	params      int64
}

// Load reads and prepares the ONNX model at path; see LoadModel for the
// errors.
func Load(path string) (*Session, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	s, err := LoadBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// LoadBytes prepares a serialized ONNX model; see LoadModel for the errors.
func LoadBytes(b []byte) (*Session, error) {
	m, err := onnx.DecodeModel(b)
	if err != nil {
		return nil, err
	}
	return LoadModel(m)
}

// LoadModel validates m and prepares it to run: ops are looked up for the
// model's opsets, nodes sorted topologically, initializers and Constant
// nodes turned into tensors and kernels built, all once.
//
// Errors: *UnsupportedOpError (unknown op, Loop/Scan/If, an op of a
// domain the engine does not know), *UnsupportedTypeError,
// *onnx.ExternalDataError, opsets out of range, and ErrInvalidModel for
// values produced twice, inputs produced by nobody, or cycles.
func LoadModel(m *onnx.ModelProto) (s *Session, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: internal error while loading: %v", ErrInvalidModel, r)
		}
	}()
	g := m.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("%w: no graph", ErrInvalidModel)
	}
	s = &Session{
		meta: Metadata{
			ProducerName:    m.GetProducerName(),
			ProducerVersion: m.GetProducerVersion(),
			Domain:          m.GetDomain(),
			ModelVersion:    m.GetModelVersion(),
			DocString:       m.GetDocString(),
			GraphName:       g.GetName(),
			IRVersion:       m.GetIrVersion(),
			Opsets:          map[string]int64{},
			Props:           map[string]string{},
		},
		overridable: map[string]int{},
		consts:      map[int]*Tensor{},
		hist:        map[string]int{},
	}
	for _, kv := range m.GetMetadataProps() {
		s.meta.Props[kv.GetKey()] = kv.GetValue()
	}
	for _, o := range m.GetOpsetImport() {
		s.meta.Opsets[normDomain(o.GetDomain())] = o.GetVersion()
	}
	if len(m.GetOpsetImport()) == 0 {
		// IR version 1 and 2 models predate opset_import and mean opset 1.
		s.meta.Opsets[""] = 1
	}
	if v, ok := s.meta.Opsets[""]; ok && (v < 1 || v > MaxOpset) {
		return nil, fmt.Errorf("infer: ai.onnx opset %d is out of the supported range [1, %d]", v, MaxOpset)
	}

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
		slot(name)
		return nil
	}

	for _, tp := range g.GetInitializer() {
		name := tp.GetName()
		if err := define(name, "initializer"); err != nil {
			return nil, err
		}
		t, err := FromProto(tp)
		if err != nil {
			var ut *onnx.UnsupportedTypeError
			if errors.As(err, &ut) {
				return nil, &UnsupportedTypeError{Value: name, Type: ut.DataType.String()}
			}
			return nil, fmt.Errorf("infer: initializer %q: %w", name, err)
		}
		s.consts[slots[name]] = t
		if t.DType == Float || t.DType == Double {
			s.params += int64(t.Len())
		}
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, &UnsupportedTypeError{Value: g.GetSparseInitializer()[0].GetValues().GetName(), Type: "sparse initializer"}
	}
	for _, vi := range g.GetInput() {
		info, err := valueInfo(vi)
		if err != nil {
			return nil, err
		}
		if _, isInit := producer[info.Name]; isInit {
			s.overridable[info.Name] = slots[info.Name]
			continue
		}
		if err := define(info.Name, "graph input"); err != nil {
			return nil, err
		}
		s.inputs = append(s.inputs, info)
		s.inSlot = append(s.inSlot, slots[info.Name])
	}

	// Operators first: an unsupported op is the most useful thing to name.
	nodes := g.GetNode()
	for i, n := range nodes {
		if _, err := s.builder(n, i); err != nil {
			return nil, err
		}
	}
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
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if _, ok := producer[in]; !ok {
				return nil, fmt.Errorf("%w: node %q (%s) reads %q, which no node, input or initializer produces", ErrInvalidModel, nodeName(n, i), n.GetOpType(), in)
			}
		}
	}
	for _, vi := range g.GetOutput() {
		info, err := valueInfo(vi)
		if err != nil {
			return nil, err
		}
		if _, ok := producer[info.Name]; !ok {
			return nil, fmt.Errorf("%w: graph output %q is produced by nothing", ErrInvalidModel, info.Name)
		}
		s.outputs = append(s.outputs, info)
		s.outSlot = append(s.outSlot, slots[info.Name])
	}

	order, err := topoSort(nodes)
	if err != nil {
		return nil, err
	}
	s.nslots = len(slots)
	keep := map[int]bool{}
	for _, o := range s.outSlot {
		keep[o] = true
	}
	lastUse := map[int]int{} // slot → index in steps
	for _, i := range order {
		n := nodes[i]
		s.hist[opLabel(n)]++
		b, _ := s.builder(n, i)
		k, err := build(b, n, s.meta.Opsets[normDomain(n.GetDomain())])
		if err != nil {
			return nil, fmt.Errorf("infer: node %q (%s): %w", nodeName(n, i), n.GetOpType(), err)
		}
		st := step{name: nodeName(n, i), op: n.GetOpType(), k: k}
		for _, in := range n.GetInput() {
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
		// A node whose inputs are all constants (Constant itself, or
		// shape arithmetic on initializers) is folded now, once.
		if n.GetOpType() == "Constant" {
			outs, err := s.runStep(context.Background(), &st, func(i int) *Tensor { return s.consts[i] })
			if err != nil {
				return nil, err
			}
			for j, o := range st.out {
				if o >= 0 {
					s.consts[o] = outs[j]
				}
			}
			continue
		}
		for _, in := range st.in {
			if in >= 0 {
				lastUse[in] = len(s.steps)
			}
		}
		s.steps = append(s.steps, st)
	}
	s.base = make([]*Tensor, s.nslots)
	for sl, t := range s.consts {
		s.base[sl] = t
	}
	s.isConst = make(map[uintptr]bool, len(s.consts))
	for _, t := range s.consts {
		if p := dataPtr(t); p != 0 {
			s.isConst[p] = true
		}
	}
	s.prepareSteps()
	for sl, at := range lastUse {
		if keep[sl] {
			continue
		}
		if _, isConst := s.consts[sl]; isConst {
			continue
		}
		s.steps[at].free = append(s.steps[at].free, sl)
	}
	return s, nil
}

// preparer is a Kernel that precomputes from inputs fixed for the
// session's life; prepare gets them by input position, nil for the others.
type preparer interface {
	prepare(consts []*Tensor)
}

// prepareSteps hands every preparer its constant inputs: initializers and
// Constant outputs, but not initializers a run may override.
func (s *Session) prepareSteps() {
	fixed := make(map[int]bool, len(s.consts))
	for sl := range s.consts {
		fixed[sl] = true
	}
	for _, sl := range s.overridable {
		delete(fixed, sl)
	}
	for _, st := range s.steps {
		p, ok := st.k.(preparer)
		if !ok {
			continue
		}
		consts := make([]*Tensor, len(st.in))
		for i, sl := range st.in {
			if sl >= 0 && fixed[sl] {
				consts[i] = s.consts[sl]
			}
		}
		p.prepare(consts)
	}
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

func (s *Session) builder(n *onnx.NodeProto, i int) (OpBuilder, error) {
	d := normDomain(n.GetDomain())
	v, ok := s.meta.Opsets[d]
	if !ok {
		return nil, &UnsupportedOpError{Node: nodeName(n, i), Op: n.GetOpType(), Domain: d}
	}
	b, ok := lookupOp(d, n.GetOpType(), v)
	if !ok {
		return nil, &UnsupportedOpError{Node: nodeName(n, i), Op: n.GetOpType(), Domain: d, Opset: v}
	}
	return b, nil
}

// build calls b, turning a panic into an error.
func build(b OpBuilder, n *onnx.NodeProto, opset int64) (k Kernel, err error) {
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
// inputs (Kahn's algorithm, stable in file order). Errors: a cycle.
func topoSort(nodes []*onnx.NodeProto) ([]int, error) {
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
	for i, n := range nodes {
		seen := map[int]bool{}
		for _, in := range n.GetInput() {
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

func valueInfo(vi *onnx.ValueInfoProto) (ValueInfo, error) {
	info := ValueInfo{Name: vi.GetName()}
	tp := vi.GetType()
	switch {
	case tp.GetSequenceType() != nil:
		return info, &UnsupportedTypeError{Value: info.Name, Type: "sequence"}
	case tp.GetMapType() != nil:
		return info, &UnsupportedTypeError{Value: info.Name, Type: "map"}
	case tp.GetOptionalType() != nil:
		return info, &UnsupportedTypeError{Value: info.Name, Type: "optional"}
	case tp.GetSparseTensorType() != nil:
		return info, &UnsupportedTypeError{Value: info.Name, Type: "sparse tensor"}
	case tp.GetTensorType() == nil:
		return info, fmt.Errorf("%w: value %q has no type", ErrInvalidModel, info.Name)
	}
	tt := tp.GetTensorType()
	info.DType = DType(tt.GetElemType())
	if !info.DType.Supported() {
		return info, &UnsupportedTypeError{Value: info.Name, Type: info.DType.String()}
	}
	if tt.Shape != nil {
		info.Dims = make([]Dim, len(tt.GetShape().GetDim()))
		for i, d := range tt.GetShape().GetDim() {
			switch {
			case d.GetDimParam() != "":
				info.Dims[i] = Dim{Value: -1, Param: d.GetDimParam()}
			case d.GetValue() != nil:
				info.Dims[i] = Dim{Value: d.GetDimValue()}
			default:
				info.Dims[i] = Dim{Value: -1}
			}
		}
	}
	return info, nil
}

// Inputs describes the inputs Run expects (graph inputs with an
// initializer as default are left out; Run still accepts them).
func (s *Session) Inputs() []ValueInfo { return append([]ValueInfo{}, s.inputs...) }

// Outputs describes the outputs Run returns.
func (s *Session) Outputs() []ValueInfo { return append([]ValueInfo{}, s.outputs...) }

// Metadata returns what the model says about itself.
func (s *Session) Metadata() Metadata {
	m := s.meta
	m.Opsets = map[string]int64{}
	for k, v := range s.meta.Opsets {
		m.Opsets[k] = v
	}
	m.Props = map[string]string{}
	for k, v := range s.meta.Props {
		m.Props[k] = v
	}
	return m
}

// OpHistogram counts the graph's nodes per operator ("domain/Op" outside
// the default domain).
func (s *Session) OpHistogram() map[string]int {
	h := make(map[string]int, len(s.hist))
	for k, v := range s.hist {
		h[k] = v
	}
	return h
}

// ParamCount is the number of elements of the model's floating-point
// initializers (its weights).
func (s *Session) ParamCount() int64 { return s.params }

// Run computes the graph's outputs from inputs, keyed by input name. Every
// input of Inputs() is required; each must have the declared dtype, rank
// and fixed dims, and the same symbolic dim name must have one size across
// inputs. ctx is checked between nodes. Intermediate tensors are released
// once their last consumer has run. The returned tensors are the caller's.
//
// Errors: unknown, missing or mistyped inputs (naming them), ctx.Err(),
// or a node's failure wrapped with its name and op.
func (s *Session) Run(ctx context.Context, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	vals := make([]*Tensor, s.nslots)
	copy(vals, s.base)
	known := make(map[string]bool, len(s.inputs))
	syms := map[string]int{}
	for i, info := range s.inputs {
		known[info.Name] = true
		t, ok := inputs[info.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("infer: missing input %q (%s)", info.Name, info)
		}
		if err := checkInput(info, t, syms); err != nil {
			return nil, err
		}
		vals[s.inSlot[i]] = t
	}
	for name, t := range inputs {
		if known[name] {
			continue
		}
		sl, ok := s.overridable[name]
		if !ok {
			want := make([]string, len(s.inputs))
			for i, in := range s.inputs {
				want[i] = in.Name
			}
			return nil, fmt.Errorf("infer: unknown input %q (the model's inputs: %s)", name, strings.Join(want, ", "))
		}
		if t == nil {
			continue
		}
		if err := checkData(name, t); err != nil {
			return nil, err
		}
		if c := s.consts[sl]; t.DType != c.DType {
			return nil, fmt.Errorf("infer: input %q: dtype %s, want %s", name, t.DType, c.DType)
		}
		vals[sl] = t
	}
	for i := range s.steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := &s.steps[i]
		outs, err := s.runStep(ctx, st, func(j int) *Tensor { return vals[j] })
		if err != nil {
			return nil, err
		}
		for j, o := range st.out {
			if o >= 0 {
				vals[o] = outs[j]
			}
		}
		for _, f := range st.free {
			vals[f] = nil
		}
	}
	out := make(map[string]*Tensor, len(s.outputs))
	for i, info := range s.outputs {
		t := vals[s.outSlot[i]]
		if t == nil {
			return nil, fmt.Errorf("infer: output %q was not computed", info.Name)
		}
		if s.isConst[dataPtr(t)] {
			// Initializers are shared by all runs (and views like Reshape
			// share their data); the caller gets a copy.
			t = t.Clone()
		}
		out[info.Name] = t
	}
	return out, nil
}

// runStep runs one kernel with a recover guard and checks its results.
func (s *Session) runStep(ctx context.Context, st *step, val func(int) *Tensor) (outs []*Tensor, err error) {
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

// checkData verifies that t's Data matches its DType and Shape.
func checkData(name string, t *Tensor) error {
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("infer: input %q: negative dim in shape %v", name, t.Shape)
		}
		n *= d
	}
	var have int
	ok := true
	switch d := t.Data.(type) {
	case []float32:
		have, ok = len(d), t.DType == Float
	case []float64:
		have, ok = len(d), t.DType == Double
	case []int8:
		have, ok = len(d), t.DType == Int8
	case []int16:
		have, ok = len(d), t.DType == Int16
	case []int32:
		have, ok = len(d), t.DType == Int32
	case []int64:
		have, ok = len(d), t.DType == Int64
	case []uint8:
		have, ok = len(d), t.DType == Uint8
	case []uint16:
		have, ok = len(d), t.DType == Uint16
	case []uint32:
		have, ok = len(d), t.DType == Uint32
	case []uint64:
		have, ok = len(d), t.DType == Uint64
	case []bool:
		have, ok = len(d), t.DType == Bool
	default:
		return fmt.Errorf("infer: input %q: unsupported data %T", name, t.Data)
	}
	if !ok {
		return fmt.Errorf("infer: input %q: data %T does not match dtype %s", name, t.Data, t.DType)
	}
	if have != n {
		return fmt.Errorf("infer: input %q: shape %v needs %d elements, data has %d", name, t.Shape, n, have)
	}
	return nil
}

func checkInput(info ValueInfo, t *Tensor, syms map[string]int) error {
	if err := checkData(info.Name, t); err != nil {
		return err
	}
	if t.DType != info.DType {
		return fmt.Errorf("infer: input %q: dtype %s, want %s", info.Name, t.DType, info.DType)
	}
	if info.Dims == nil {
		return nil
	}
	if len(t.Shape) != len(info.Dims) {
		return fmt.Errorf("infer: input %q: shape %v has rank %d, want %s", info.Name, t.Shape, len(t.Shape), info)
	}
	for i, d := range info.Dims {
		switch {
		case d.Value >= 0 && int64(t.Shape[i]) != d.Value:
			return fmt.Errorf("infer: input %q: dim %d is %d, want %d (%s)", info.Name, i, t.Shape[i], d.Value, info)
		case d.Param != "":
			if v, ok := syms[d.Param]; ok && v != t.Shape[i] {
				return fmt.Errorf("infer: input %q: dim %d (%s) is %d, but %s is %d in another input", info.Name, i, d.Param, t.Shape[i], d.Param, v)
			}
			syms[d.Param] = t.Shape[i]
		}
	}
	return nil
}
