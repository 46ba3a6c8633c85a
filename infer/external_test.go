package infer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// externalModel writes mlpModel with its weights in model.onnx.data beside
// model.onnx in a new folder, plus a Loop whose body initializer and a
// Constant's value are external too; it returns the model's path.
func externalModel(t testing.TB) (path string, inline *onnx.ModelProto) {
	t.Helper()
	build := func() *onnx.ModelProto {
		m := mlpModel(t)
		k, err := onnx.MakeTensor("k", []int64{1}, []float32{2})
		if err != nil {
			t.Fatal(err)
		}
		scale, err := onnx.MakeTensor("scale", []int64{1}, []float32{0.5})
		if err != nil {
			t.Fatal(err)
		}
		body := onnx.MakeGraph("body", []*onnx.NodeProto{
			onnx.MakeNode("m", "Mul", []string{"v", "k"}, []string{"v2"}),
			onnx.MakeNode("c", "Identity", []string{"cond"}, []string{"cond2"}),
		}, []*onnx.ValueInfoProto{vi("i", onnx.TensorProto_INT64), vi("cond", onnx.TensorProto_BOOL), vi("v", onnx.TensorProto_FLOAT)},
			[]*onnx.ValueInfoProto{vi("cond2", onnx.TensorProto_BOOL), vi("v2", onnx.TensorProto_FLOAT)}, k)
		g := m.Graph
		g.Node = append(g.Node,
			onnx.MakeNode("three", "Constant", nil, []string{"M"}, onnx.AttrTensor("value", tensorProto(t, "M", NewInt64(nil, []int64{3})))),
			onnx.MakeNode("half", "Constant", nil, []string{"s"}, onnx.AttrTensor("value", scale)),
			onnx.MakeNode("loop", "Loop", []string{"M", "", "y"}, []string{"y8"}, onnx.AttrGraph("body", body)),
			onnx.MakeNode("sc", "Mul", []string{"y8", "s"}, []string{"zz"}))
		g.Output = append(g.Output, vi("zz", onnx.TensorProto_FLOAT))
		return m
	}
	inline = build()
	m := build()
	dir := t.TempDir()
	if err := onnx.MoveToExternalData(m, dir, "model.onnx.data", 0); err != nil {
		t.Fatal(err)
	}
	// The Constant's value too: attributes may be external.
	for _, n := range m.Graph.Node {
		if n.GetName() == "half" {
			n.Attribute[0].T.RawData = nil
			n.Attribute[0].T.DataLocation = onnx.TensorProto_EXTERNAL.Enum()
			n.Attribute[0].T.ExternalData = []*onnx.StringStringEntryProto{
				{Key: proto.String("location"), Value: proto.String("const.bin")}}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "const.bin"), onnx.EncodeRaw([]float32{0.5}), 0o644); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "model.onnx")
	if err := onnx.WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	return path, inline
}

// A model keeping its weights (main graph, Loop body, Constant value) in
// files beside it loads from its path and computes what the same model
// with inline weights computes; given as bytes without its folder it is
// refused, naming the location.
func TestLoadExternalData(t *testing.T) {
	path, inline := externalModel(t)
	x := f32([]int{2, 2}, 1, 2, -3, 0.5)
	want, err := mustLoad(t, inline).Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"y", "zz"} {
		checkTensor(t, name, got[name], want[name])
	}
	// zz = y·2³·0.5, by hand.
	y := got["y"].Float32s()
	checkTensor(t, "zz by hand", got["zz"], f32([]int{2, 1}, y[0]*4, y[1]*4))

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadBytes(b)
	var xe *onnx.ExternalDataError
	if !errors.As(err, &xe) || !errors.Is(err, onnx.ErrNoModelFolder) || xe.Location == "" {
		t.Errorf("without its folder: %v", err)
	}
	if _, err := LoadBytesFrom(b, filepath.Dir(path)); err != nil {
		t.Errorf("with its folder: %v", err)
	}
}

// A model file must never make the engine read outside its folder:
// absolute locations, "..", and symbolic links out are refused with an
// error naming the location.
func TestLoadExternalDataStaysInFolder(t *testing.T) {
	path, _ := externalModel(t)
	dir := filepath.Dir(path)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.bin")
	data, err := os.ReadFile(filepath.Join(dir, "model.onnx.data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.DecodeModel(must(os.ReadFile(path)))
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{secret, rel, "link.bin", "linkdir/secret.bin", "./../" + filepath.Base(outside) + "/secret.bin"} {
		c := proto.Clone(m).(*onnx.ModelProto)
		for _, kv := range c.Graph.Initializer[0].ExternalData {
			if kv.GetKey() == "location" {
				kv.Value = proto.String(loc)
			}
		}
		p := filepath.Join(dir, "escape.onnx")
		if err := onnx.WriteModel(p, c); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if !errors.Is(err, onnx.ErrExternalLocation) || !strings.Contains(err.Error(), loc) {
			t.Errorf("location %q: %v, want a refusal naming it", loc, err)
		}
		info, err := Describe(p)
		if err != nil || !errors.Is(info.LoadErr, onnx.ErrExternalLocation) {
			t.Errorf("location %q: Describe: %v, %v", loc, err, info.LoadErr)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func mustLoad(t *testing.T, m *onnx.ModelProto) *Session {
	t.Helper()
	s, err := LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Describe reports what a model holds whether or not it runs: inputs and
// outputs (strings and sequences included), operators of bodies, external
// files, parameters, and everything the engine lacks.
func TestDescribe(t *testing.T) {
	path, _ := externalModel(t)
	info, err := Describe(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.LoadErr != nil || info.Unsupported != nil {
		t.Errorf("a runnable model: %v, %v", info.LoadErr, info.Unsupported)
	}
	if info.Ops["Mul"] != 2 || info.Ops["Loop"] != 1 || info.MainNodes != 7 || info.Subgraphs != 1 {
		t.Errorf("ops %v, main %d, bodies %d", info.Ops, info.MainNodes, info.Subgraphs)
	}
	if info.Params != 2+1+1 || len(info.Inputs) != 1 || info.Inputs[0].String() != "x FLOAT[batch 2]" {
		t.Errorf("params %d, inputs %v", info.Params, info.Inputs)
	}
	if strings.Join(info.ExternalData, ",") != "model.onnx.data,const.bin" {
		t.Errorf("external data %v", info.ExternalData)
	}

	m := mlpModel(t)
	m.Graph.Input = append(m.Graph.Input, onnx.MakeValueInfo("words", onnx.TensorProto_STRING, onnx.DimParam("n")),
		&onnx.ValueInfoProto{Name: proto.String("seq"), Type: &onnx.TypeProto{Value: &onnx.TypeProto_SequenceType{SequenceType: &onnx.TypeProto_Sequence{}}}})
	body := onnx.MakeGraph("b", []*onnx.NodeProto{onnx.MakeNode("n1", "StringNormalizer", []string{"words"}, []string{"w2"})}, nil, nil)
	m.Graph.Node = append(m.Graph.Node, onnx.MakeNode("branch", "If", []string{"c"}, nil, onnx.AttrGraph("then_branch", body), onnx.AttrGraph("else_branch", body)))
	info, err = DescribeModel(m, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{info.Inputs[1].String(), info.Inputs[2].String()}; got[0] != "words STRING[n]" || got[1] != "seq sequence" {
		t.Errorf("inputs %v", got)
	}
	u := info.Unsupported
	// Both branches are inside If "branch": one entry, two nodes.
	if u == nil || len(u.Ops) != 1 || u.Ops[0].Within != `If "branch"` || u.Ops[0].Op != "StringNormalizer" || u.Ops[0].Nodes != 2 ||
		len(u.Types) != 2 || !errors.Is(info.LoadErr, ErrUnsupported) {
		t.Fatalf("unsupported %+v, load error %v", u, info.LoadErr)
	}
	if info.Ops["StringNormalizer"] != 2 {
		t.Errorf("ops %v", info.Ops)
	}

	broken := mlpModel(t)
	broken.Graph.Node[0].Input[0] = "nowhere"
	info, err = DescribeModel(broken, "")
	if err != nil || info.Unsupported != nil || !errors.Is(info.LoadErr, ErrInvalidModel) {
		t.Errorf("a broken graph: %v, %v, %v", err, info.Unsupported, info.LoadErr)
	}
	if _, err := Describe(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("a missing file was described")
	}
}
