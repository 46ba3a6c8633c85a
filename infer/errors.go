package infer

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/birnn/birnn/onnx"
)

// ErrUnsupported is matched (errors.Is) by every error that says a model
// needs something the engine does not implement: *UnsupportedError,
// *UnsupportedOpError, *UnsupportedTypeError, and behaviour the engine
// refuses by design (a Dropout in training mode).
var ErrUnsupported = errors.New("infer: unsupported")

// ErrInvalidModel is matched by errors about a structurally broken graph.
var ErrInvalidModel = errors.New("infer: invalid model")

// UnsupportedOpError names an operator that is not implemented for the
// model's opset: the first node using it, how many nodes do, and the Loop,
// Scan or If bodies that hold them.
type UnsupportedOpError struct {
	Node   string // name of the first node using it (may be empty in the model)
	Op     string // op_type
	Domain string // "" for ai.onnx
	Opset  int64  // the model's opset version for Domain (0: domain not imported)
	Nodes  int    // nodes using it (in the same Within)
	Within string // `Loop "while"`, `Loop "a" / If "b"`, … ; "" in the main graph
}

func (e *UnsupportedOpError) Error() string {
	return "infer: unsupported operator " + e.describe()
}

func (e *UnsupportedOpError) describe() string {
	d := e.Domain
	if d == "" {
		d = "ai.onnx"
	}
	var b strings.Builder
	if e.Opset == 0 && e.Domain != "" {
		fmt.Fprintf(&b, "%s (domain %s, not imported by the model) at node %q", e.Op, d, e.Node)
	} else {
		fmt.Fprintf(&b, "%s (domain %s, opset %d) at node %q", e.Op, d, e.Opset, e.Node)
	}
	if e.Nodes > 1 {
		fmt.Fprintf(&b, " and %d more", e.Nodes-1)
	}
	if e.Within != "" {
		fmt.Fprintf(&b, ", inside %s", e.Within)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedOpError) Is(target error) bool { return target == ErrUnsupported }

// UnsupportedTypeError names a value whose type the engine cannot compute
// with: an element type like STRING, COMPLEX64 or INT4, or a sequence,
// map or optional value.
type UnsupportedTypeError struct {
	Value  string // value or attribute name
	Type   string // e.g. "STRING", "sequence"
	Within string // as in UnsupportedOpError
}

func (e *UnsupportedTypeError) Error() string { return "infer: " + e.describe() }

func (e *UnsupportedTypeError) describe() string {
	s := fmt.Sprintf("value %q has unsupported type %s", e.Value, e.Type)
	if e.Within != "" {
		s += ", inside " + e.Within
	}
	return s
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedTypeError) Is(target error) bool { return target == ErrUnsupported }

// UnsupportedError lists everything a model needs that the engine lacks:
// every unsupported operator once (with its node count and first node) and
// every value of an unsupported type. errors.As finds its parts: the first
// *UnsupportedOpError or *UnsupportedTypeError.
type UnsupportedError struct {
	Ops   []*UnsupportedOpError
	Types []*UnsupportedTypeError
}

func (e *UnsupportedError) Error() string {
	if len(e.Ops)+len(e.Types) == 1 {
		return e.Unwrap()[0].Error()
	}
	parts := make([]string, 0, len(e.Ops)+len(e.Types))
	for _, o := range e.Ops {
		parts = append(parts, "operator "+o.describe())
	}
	for _, t := range e.Types {
		parts = append(parts, t.describe())
	}
	return fmt.Sprintf("infer: the model needs %d things the engine does not implement: %s", len(parts), strings.Join(parts, "; "))
}

// Unwrap returns the operator errors, then the type errors.
func (e *UnsupportedError) Unwrap() []error {
	out := make([]error, 0, len(e.Ops)+len(e.Types))
	for _, o := range e.Ops {
		out = append(out, o)
	}
	for _, t := range e.Types {
		out = append(out, t)
	}
	return out
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// unsupportedScan collects what a model needs that the engine lacks.
type unsupportedScan struct {
	opsets map[string]int64
	ops    map[string]*UnsupportedOpError
	order  []string
	types  []*UnsupportedTypeError
	seenT  map[string]bool
}

func newUnsupportedScan(opsets map[string]int64) *unsupportedScan {
	return &unsupportedScan{opsets: opsets, ops: map[string]*UnsupportedOpError{}, seenT: map[string]bool{}}
}

// within names the body of node n (op, name) nested in outer.
func within(outer string, n *onnx.NodeProto, i int) string {
	s := fmt.Sprintf("%s %q", n.GetOpType(), nodeName(n, i))
	if outer == "" {
		return s
	}
	return outer + " / " + s
}

func (u *unsupportedScan) typ(value, typ, where string) {
	key := where + "\x00" + value
	if u.seenT[key] {
		return
	}
	u.seenT[key] = true
	u.types = append(u.types, &UnsupportedTypeError{Value: value, Type: typ, Within: where})
}

// graph scans g's values and nodes, and the bodies of its nodes.
func (u *unsupportedScan) graph(g *onnx.GraphProto, where string) {
	for _, vs := range [][]*onnx.ValueInfoProto{g.GetInput(), g.GetOutput()} {
		for _, vi := range vs {
			if typ := unsupportedValueType(vi); typ != "" {
				u.typ(vi.GetName(), typ, where)
			}
		}
	}
	for _, tp := range g.GetInitializer() {
		if dt := DType(tp.GetDataType()); !dt.Supported() {
			u.typ(tp.GetName(), dt.String(), where)
		}
	}
	for _, st := range g.GetSparseInitializer() {
		u.typ(st.GetValues().GetName(), "sparse initializer", where)
	}
	for i, n := range g.GetNode() {
		d := normDomain(n.GetDomain())
		v, imported := u.opsets[d]
		if _, ok := lookupOp(d, n.GetOpType(), v); !imported || !ok {
			key := fmt.Sprintf("%s\x00%s\x00%s", where, d, n.GetOpType())
			if e, ok := u.ops[key]; ok {
				e.Nodes++
			} else {
				u.ops[key] = &UnsupportedOpError{Node: nodeName(n, i), Op: n.GetOpType(), Domain: d, Opset: v, Nodes: 1, Within: where}
				u.order = append(u.order, key)
			}
		}
		for _, a := range n.GetAttribute() {
			if sg := a.GetG(); sg != nil {
				u.graph(sg, within(where, n, i))
			}
			for _, sg := range a.GetGraphs() {
				u.graph(sg, within(where, n, i))
			}
		}
	}
}

// err is nil when nothing was found, else an *UnsupportedError with the
// operators in order of first appearance (main graph first).
func (u *unsupportedScan) err() *UnsupportedError {
	if len(u.order) == 0 && len(u.types) == 0 {
		return nil
	}
	e := &UnsupportedError{Types: u.types}
	keys := append([]string{}, u.order...)
	sort.SliceStable(keys, func(i, j int) bool {
		return u.ops[keys[i]].Within == "" && u.ops[keys[j]].Within != ""
	})
	for _, k := range keys {
		e.Ops = append(e.Ops, u.ops[k])
	}
	return e
}

// unsupportedValueType is the type of vi the engine cannot hold, or "".
// A value without a type is left to the loader (an error in the main
// graph, allowed in subgraphs).
func unsupportedValueType(vi *onnx.ValueInfoProto) string {
	tp := vi.GetType()
	switch {
	case tp.GetSequenceType() != nil:
		return "sequence"
	case tp.GetMapType() != nil:
		return "map"
	case tp.GetOptionalType() != nil:
		return "optional"
	case tp.GetSparseTensorType() != nil:
		return "sparse tensor"
	case tp.GetTensorType() != nil:
		if dt := DType(tp.GetTensorType().GetElemType()); dt != 0 && !dt.Supported() {
			return dt.String()
		}
	}
	return ""
}
