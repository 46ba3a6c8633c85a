package infer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/birnn/birnn/onnx"
)

// MaxOpset is the highest default-domain (ai.onnx) opset version accepted;
// it is the newest one of onnx 1.22.
const MaxOpset = 27

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
// Dims. Kind is empty for a tensor, else the kind of value the engine
// cannot hold ("sequence", "map", "optional", "sparse tensor"; only in a
// ModelInfo).
type ValueInfo struct {
	Name  string
	DType DType
	Dims  []Dim
	Kind  string
}

// String formats v as "name FLOAT[batch 100]" ("name sequence" for a
// non-tensor Kind).
func (v ValueInfo) String() string {
	if v.Kind != "" {
		return v.Name + " " + v.Kind
	}
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

// Session is a loaded, validated model ready to run. It is safe for
// concurrent use by multiple goroutines.
type Session struct {
	*graph
	meta   Metadata
	hist   map[string]int
	params int64
}

// Load reads and prepares the ONNX model at path, reading tensors it keeps
// in external data files from path's folder (never outside it); see
// LoadModel for the errors.
func Load(path string) (*Session, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	s, err := LoadBytesFrom(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// LoadBytes prepares a serialized ONNX model; see LoadModel for the errors.
// A model that keeps tensors in external data files needs LoadBytesFrom.
func LoadBytes(b []byte) (*Session, error) { return LoadBytesFrom(b, "") }

// LoadBytesFrom prepares a serialized ONNX model whose external data
// files, if any, are in dir ("" refuses external data); see LoadModel for
// the errors.
func LoadBytesFrom(b []byte, dir string) (*Session, error) {
	m, err := onnx.DecodeModel(b)
	if err != nil {
		return nil, err
	}
	return LoadModelFrom(m, dir)
}

// LoadModel validates m and prepares it to run: ops are looked up for the
// model's opsets, nodes sorted topologically, initializers and Constant
// nodes turned into tensors and kernels built, all once; the bodies of
// Loop, Scan and If nodes are validated and prepared the same way, once.
//
// Errors: *UnsupportedError listing every operator the engine lacks (with
// its opset, node count, first node and the Loop/Scan/If holding it) and
// every value of an unsupported type; *onnx.ExternalDataError for tensors
// kept in external files (LoadModel has no folder: use LoadModelFrom);
// opsets out of range; and ErrInvalidModel for values produced twice,
// inputs produced by nobody, or cycles.
func LoadModel(m *onnx.ModelProto) (*Session, error) { return LoadModelFrom(m, "") }

// LoadModelFrom is LoadModel for a model whose external data files are in
// dir ("" refuses external data). Data files are memory-mapped while the
// model loads and closed before LoadModelFrom returns.
func LoadModelFrom(m *onnx.ModelProto, dir string) (s *Session, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: internal error while loading: %v", ErrInvalidModel, r)
		}
	}()
	meta, err := metadataOf(m)
	if err != nil {
		return nil, err
	}
	// Operators and types first: what the engine lacks is the most useful
	// thing to name, all of it at once.
	scan := newUnsupportedScan(meta.Opsets)
	scan.graph(m.GetGraph(), "")
	if e := scan.err(); e != nil {
		return nil, e
	}
	l := &loader{opsets: meta.Opsets, hist: map[string]int{}}
	if dir != "" {
		l.ext = onnx.NewExternalData(dir)
		defer l.ext.Close()
		// A data file truncated while mapped faults on access: make that
		// a panic the recover above turns into an error.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	}
	g, err := l.compile(m.GetGraph(), nil, "")
	if err != nil {
		return nil, err
	}
	g.pool = newFloatPool()
	return &Session{graph: g, meta: meta, hist: l.hist, params: l.params}, nil
}

// metadataOf reads what m says about itself. Errors: no graph, an ai.onnx
// opset out of range.
func metadataOf(m *onnx.ModelProto) (Metadata, error) {
	g := m.GetGraph()
	if g == nil {
		return Metadata{}, fmt.Errorf("%w: no graph", ErrInvalidModel)
	}
	meta := Metadata{
		ProducerName:    m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		Domain:          m.GetDomain(),
		ModelVersion:    m.GetModelVersion(),
		DocString:       m.GetDocString(),
		GraphName:       g.GetName(),
		IRVersion:       m.GetIrVersion(),
		Opsets:          map[string]int64{},
		Props:           map[string]string{},
	}
	for _, kv := range m.GetMetadataProps() {
		meta.Props[kv.GetKey()] = kv.GetValue()
	}
	for _, o := range m.GetOpsetImport() {
		meta.Opsets[normDomain(o.GetDomain())] = o.GetVersion()
	}
	if len(m.GetOpsetImport()) == 0 {
		// IR version 1 and 2 models predate opset_import and mean opset 1.
		meta.Opsets[""] = 1
	}
	if v, ok := meta.Opsets[""]; ok && (v < 1 || v > MaxOpset) {
		return meta, fmt.Errorf("infer: ai.onnx opset %d is out of the supported range [1, %d]", v, MaxOpset)
	}
	return meta, nil
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
	if s.pool != nil {
		ctx = withPool(ctx, s.pool)
		defer s.pool.forget(vals)
	}
	if err := s.exec(ctx, vals); err != nil {
		return nil, err
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
	case []onnx.Float16:
		have, ok = len(d), t.DType == Float16
	case []onnx.BFloat16:
		have, ok = len(d), t.DType == BFloat16
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
