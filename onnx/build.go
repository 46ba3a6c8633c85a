package onnx

import "google.golang.org/protobuf/proto"

// Dim is one dimension of a value's shape: a fixed size, or, when Param is
// not empty, a symbolic size named Param (dim_param, e.g. "batch").
type Dim struct {
	Value int64
	Param string
}

// DimValue is a fixed dimension of size v.
func DimValue(v int64) Dim { return Dim{Value: v} }

// DimParam is a symbolic dimension named name.
func DimParam(name string) Dim { return Dim{Param: name} }

// MakeValueInfo describes a tensor value named name with element type elem
// and the given dims (none for a scalar).
func MakeValueInfo(name string, elem TensorProto_DataType, dims ...Dim) *ValueInfoProto {
	shape := &TensorShapeProto{Dim: make([]*TensorShapeProto_Dimension, len(dims))}
	for i, d := range dims {
		if d.Param != "" {
			shape.Dim[i] = &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimParam{DimParam: d.Param}}
		} else {
			shape.Dim[i] = &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimValue{DimValue: d.Value}}
		}
	}
	return &ValueInfoProto{
		Name: proto.String(name),
		Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)),
			Shape:    shape,
		}}},
	}
}

// MakeNode builds a node of operator op (default domain) named name. An
// empty input or output name marks an omitted optional one.
func MakeNode(name, op string, inputs, outputs []string, attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{
		Name:      proto.String(name),
		OpType:    proto.String(op),
		Input:     append([]string{}, inputs...),
		Output:    append([]string{}, outputs...),
		Attribute: attrs,
	}
}

// AttrInt is an INT attribute.
func AttrInt(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// AttrFloat is a FLOAT attribute.
func AttrFloat(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// AttrString is a STRING attribute.
func AttrString(name, v string) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_STRING.Enum(), S: []byte(v)}
}

// AttrInts is an INTS attribute.
func AttrInts(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INTS.Enum(), Ints: append([]int64{}, v...)}
}

// AttrFloats is a FLOATS attribute.
func AttrFloats(name string, v ...float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOATS.Enum(), Floats: append([]float32{}, v...)}
}

// AttrStrings is a STRINGS attribute.
func AttrStrings(name string, v ...string) *AttributeProto {
	a := &AttributeProto{Name: proto.String(name), Type: AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

// AttrTensor is a TENSOR attribute (the value of Constant, ConstantOfShape).
func AttrTensor(name string, t *TensorProto) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_TENSOR.Enum(), T: t}
}

// AttrGraph is a GRAPH attribute (the body of Loop, Scan, If).
func AttrGraph(name string, g *GraphProto) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_GRAPH.Enum(), G: g}
}

// MakeGraph assembles a graph. Nodes should be in topological order, as
// ONNX requires.
func MakeGraph(name string, nodes []*NodeProto, inputs, outputs []*ValueInfoProto, initializers ...*TensorProto) *GraphProto {
	return &GraphProto{
		Name:        proto.String(name),
		Node:        nodes,
		Input:       inputs,
		Output:      outputs,
		Initializer: initializers,
	}
}

// Opset is an operator set import: domain "" (ai.onnx) at version v.
func Opset(domain string, v int64) *OperatorSetIdProto {
	return &OperatorSetIdProto{Domain: proto.String(domain), Version: proto.Int64(v)}
}

// MakeModel wraps g in a model importing opsets (default: ai.onnx 15, the
// tf2onnx default) with producer "birnn" and the IR version that ONNX pairs
// with the highest ai.onnx opset imported.
func MakeModel(g *GraphProto, opsets ...*OperatorSetIdProto) *ModelProto {
	if len(opsets) == 0 {
		opsets = []*OperatorSetIdProto{Opset("", 15)}
	}
	var v int64
	for _, o := range opsets {
		if (o.GetDomain() == "" || o.GetDomain() == "ai.onnx") && o.GetVersion() > v {
			v = o.GetVersion()
		}
	}
	return &ModelProto{
		IrVersion:    proto.Int64(IRVersionFor(v)),
		OpsetImport:  opsets,
		ProducerName: proto.String("birnn"),
		Graph:        g,
	}
}

// IRVersionFor is the IR version released together with ai.onnx opset v
// (the table in onnx/helper.py), and 3 for very old opsets.
func IRVersionFor(opset int64) int64 {
	switch {
	case opset >= 23:
		return 11
	case opset >= 21:
		return 10
	case opset >= 19:
		return 9
	case opset >= 15:
		return 8
	case opset >= 13:
		return 7
	case opset >= 12:
		return 7
	case opset >= 11:
		return 6
	case opset >= 10:
		return 5
	case opset >= 9:
		return 4
	}
	return 3
}
