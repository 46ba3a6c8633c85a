package infer

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/birnn/birnn/onnx"
)

// ModelInfo describes a model as it is written, whether or not the engine
// can run it.
type ModelInfo struct {
	Metadata
	Inputs  []ValueInfo // graph inputs without an initializer as default
	Outputs []ValueInfo
	// Ops counts nodes per operator ("domain/Op" outside ai.onnx), the
	// bodies of Loop, Scan and If included.
	Ops map[string]int
	// MainNodes counts the nodes of the main graph alone.
	MainNodes int
	// Subgraphs counts the bodies of Loop, Scan and If nodes (nested ones
	// included).
	Subgraphs int
	// Params is the element count of the floating-point initializers
	// (FLOAT, DOUBLE, FLOAT16, BFLOAT16), subgraphs included.
	Params int64
	// ExternalData lists the files beside the model its tensors live in.
	ExternalData []string
	// Unsupported lists every operator and type the engine lacks; nil
	// when there are none.
	Unsupported *UnsupportedError
	// LoadErr is why the engine cannot load the model (Unsupported, or
	// any other load error: a broken graph, unreadable external data); nil
	// when it loads.
	LoadErr error
}

// Describe reads the model at path (its external data from path's folder)
// and describes it; see DescribeModel. Errors: the file cannot be read or
// is not an ONNX model.
func Describe(path string) (*ModelInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	m, err := onnx.DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return DescribeModel(m, filepath.Dir(path))
}

// DescribeModel describes m, whose external data files, if any, are in
// dir, and tries to load it to report whether the engine can run it.
// Errors: m has no graph.
func DescribeModel(m *onnx.ModelProto, dir string) (*ModelInfo, error) {
	g := m.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("%w: no graph", ErrInvalidModel)
	}
	meta, metaErr := metadataOf(m)
	info := &ModelInfo{Metadata: meta, Ops: map[string]int{}}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			info.Inputs = append(info.Inputs, describeValue(vi))
		}
	}
	for _, vi := range g.GetOutput() {
		info.Outputs = append(info.Outputs, describeValue(vi))
	}
	info.count(g)
	info.MainNodes = len(g.GetNode())
	info.ExternalData, _ = onnx.ExternalFiles(m)
	scan := newUnsupportedScan(meta.Opsets)
	scan.graph(g, "")
	info.Unsupported = scan.err()
	switch {
	case metaErr != nil:
		info.LoadErr = metaErr
	case info.Unsupported != nil:
		info.LoadErr = info.Unsupported
	default:
		if _, err := LoadModelFrom(m, dir); err != nil {
			info.LoadErr = err
		}
	}
	return info, nil
}

func (info *ModelInfo) count(g *onnx.GraphProto) {
	for _, t := range g.GetInitializer() {
		switch DType(t.GetDataType()) {
		case Float, Double, Float16, BFloat16:
			n := int64(1)
			for _, d := range t.GetDims() {
				n *= d
			}
			info.Params += n
		}
	}
	for _, n := range g.GetNode() {
		info.Ops[opLabel(n)]++
		for _, a := range n.GetAttribute() {
			if sg := a.GetG(); sg != nil {
				info.Subgraphs++
				info.count(sg)
			}
			for _, sg := range a.GetGraphs() {
				info.Subgraphs++
				info.count(sg)
			}
		}
	}
}

// describeValue is valueInfo that keeps what the engine cannot compute
// with: the element type (STRING, …) or the kind (sequence, …).
func describeValue(vi *onnx.ValueInfoProto) ValueInfo {
	info := ValueInfo{Name: vi.GetName()}
	if tt := vi.GetType().GetTensorType(); tt != nil {
		info.DType, info.Dims = DType(tt.GetElemType()), dimsOf(tt)
		return info
	}
	info.Kind = unsupportedValueType(vi)
	return info
}
