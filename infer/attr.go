package infer

import (
	"fmt"

	"github.com/birnn/birnn/onnx"
)

// attrSet reads a node's attributes with defaults. Lookups of a present
// attribute of the wrong type record an error, returned by Err, so builders
// can read everything and check once.
type attrSet struct {
	node string
	m    map[string]*onnx.AttributeProto
	err  error
}

// attrs indexes n's attributes by name.
func attrs(n *onnx.NodeProto) *attrSet {
	a := &attrSet{node: n.GetName(), m: make(map[string]*onnx.AttributeProto, len(n.GetAttribute()))}
	for _, at := range n.GetAttribute() {
		a.m[at.GetName()] = at
	}
	return a
}

// Has reports whether the attribute is present.
func (a *attrSet) Has(name string) bool { _, ok := a.m[name]; return ok }

func (a *attrSet) get(name string, want onnx.AttributeProto_AttributeType) *onnx.AttributeProto {
	at, ok := a.m[name]
	if !ok {
		return nil
	}
	// Old exporters leave type unset; accept those.
	if at.Type != nil && at.GetType() != want {
		if a.err == nil {
			a.err = fmt.Errorf("attribute %q is %s, want %s", name, at.GetType(), want)
		}
		return nil
	}
	return at
}

// Int returns the INT attribute name, or def when absent.
func (a *attrSet) Int(name string, def int64) int64 {
	if at := a.get(name, onnx.AttributeProto_INT); at != nil {
		return at.GetI()
	}
	return def
}

// Float returns the FLOAT attribute name, or def when absent.
func (a *attrSet) Float(name string, def float32) float32 {
	if at := a.get(name, onnx.AttributeProto_FLOAT); at != nil {
		return at.GetF()
	}
	return def
}

// String returns the STRING attribute name, or def when absent.
func (a *attrSet) String(name string, def string) string {
	if at := a.get(name, onnx.AttributeProto_STRING); at != nil {
		return string(at.GetS())
	}
	return def
}

// Ints returns the INTS attribute name, or nil when absent.
func (a *attrSet) Ints(name string) []int64 {
	if at := a.get(name, onnx.AttributeProto_INTS); at != nil {
		return append([]int64{}, at.GetInts()...)
	}
	return nil
}

// Floats returns the FLOATS attribute name, or nil when absent.
func (a *attrSet) Floats(name string) []float32 {
	if at := a.get(name, onnx.AttributeProto_FLOATS); at != nil {
		return append([]float32{}, at.GetFloats()...)
	}
	return nil
}

// Strings returns the STRINGS attribute name, or nil when absent.
func (a *attrSet) Strings(name string) []string {
	if at := a.get(name, onnx.AttributeProto_STRINGS); at != nil {
		out := make([]string, len(at.GetStrings()))
		for i, s := range at.GetStrings() {
			out[i] = string(s)
		}
		return out
	}
	return nil
}

// Tensor returns the TENSOR attribute name converted to a Tensor, or nil
// when absent; conversion errors are recorded.
func (a *attrSet) Tensor(name string) *Tensor {
	at := a.get(name, onnx.AttributeProto_TENSOR)
	if at == nil {
		return nil
	}
	t, err := FromProto(at.GetT())
	if err != nil {
		if a.err == nil {
			a.err = fmt.Errorf("attribute %q: %w", name, err)
		}
		return nil
	}
	return t
}

// Err is the first type error met by a lookup, or nil.
func (a *attrSet) Err() error { return a.err }
