package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
)

func TestInspectCommand(t *testing.T) {
	w, err := onnx.MakeTensor("W", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	g := onnx.MakeGraph("tiny",
		[]*onnx.NodeProto{
			onnx.MakeNode("mm", "MatMul", []string{"x", "W"}, []string{"h"}),
			onnx.MakeNode("act", "Sigmoid", []string{"h"}, []string{"y"}),
		},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(3))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(2))},
		w)
	m := onnx.MakeModel(g, onnx.Opset("", 15))
	m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String("run"), Value: proto.String("bilstm")},
		&onnx.StringStringEntryProto{Key: proto.String("birnn.config"), Value: proto.String("name: bilstm\ndata:\n  maxlen: 100\n")})
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := onnx.WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, nil, nil, "inspect", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"producer:   birnn", "ir version: 8", "opsets:     ai.onnx 15",
		"  x FLOAT[batch 3]", "  y FLOAT[batch 2]", "operators (2 nodes):", "MatMul", "Sigmoid",
		"parameters: 6", "  run: bilstm", "  birnn.config: |\n    name: bilstm\n    data:\n      maxlen: 100\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every line under metadata: is indented, the config's lines included.
	_, meta, _ := strings.Cut(out, "metadata:\n")
	for _, line := range strings.Split(strings.TrimSuffix(meta, "\n"), "\n") {
		if !strings.HasPrefix(line, "  ") {
			t.Errorf("metadata line %q is not indented under metadata:", line)
		}
	}
	if strings.Contains(out, "cannot run") {
		t.Errorf("a runnable model is said not to run:\n%s", out)
	}

	// A model the engine cannot run is still described, and what it
	// lacks is listed: every operator once, with its count, first node
	// and the Loop holding it.
	body := onnx.MakeGraph("body", []*onnx.NodeProto{
		onnx.MakeNode("inner1", "Mystery", []string{"h"}, []string{"q1"}),
		onnx.MakeNode("inner2", "Mystery", []string{"q1"}, []string{"q2"}),
	}, nil, nil)
	g.Node = append(g.Node, onnx.MakeNode("loop0", "Loop", []string{"", ""}, []string{"z"}, onnx.AttrGraph("body", body)),
		onnx.MakeNode("top", "FancyOp", []string{"y"}, []string{"f"}))
	bad := filepath.Join(t.TempDir(), "loop.onnx")
	if err := onnx.WriteModel(bad, m); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, nil, nil, "inspect", bad)
	if code != 0 {
		t.Fatalf("unrunnable model: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"operators (6 nodes, 2 in 1 Loop/Scan/If bodies):", "Mystery", "parameters: 6",
		"cannot run:\n  operator FancyOp (ai.onnx opset 15): 1 node(s), first \"top\"\n" +
			"  operator Mystery (ai.onnx opset 15): 2 node(s), first \"inner1\", inside Loop \"loop0\"\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	garbage := filepath.Join(t.TempDir(), "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runCLI(t, nil, nil, "inspect", garbage); code != 1 || !strings.Contains(errOut, "onnx") {
		t.Errorf("garbage: exit %d, stderr %q", code, errOut)
	}
}
