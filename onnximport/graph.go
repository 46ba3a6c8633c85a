package onnximport

import (
	"github.com/birnn/birnn/onnx"
)

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
	return gr.zero(name, depth, map[string]bool{})
}

// zero is isZero remembering each value's answer, so that a graph with a
// cycle or a Concat fan-out does not take exponential time (a value on a
// cycle is not zero).
func (gr *graph) zero(name string, depth int, memo map[string]bool) bool {
	if z, ok := memo[name]; ok || depth > 32 {
		return z
	}
	memo[name] = false // while on the path
	z := gr.zeroValue(name, depth, memo)
	memo[name] = z
	return z
}

func (gr *graph) zeroValue(name string, depth int, seen map[string]bool) bool {
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
		return gr.zero(input(p, 0), depth+1, seen)
	case "Concat":
		for _, in := range p.GetInput() {
			if !gr.zero(in, depth+1, seen) {
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
