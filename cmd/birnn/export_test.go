package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// TestExportImportCLI exports a checkpoint, imports the file back and
// exports again: the two ONNX files must be identical, metadata included.
func TestExportImportCLI(t *testing.T) {
	dir := t.TempDir()
	cfg, err := configs.Load("deep_bilstm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "run", "checkpoint.ckpt")
	if err := os.MkdirAll(filepath.Dir(ck), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := model.SaveCheckpoint(ck, &model.Checkpoint{Model: m, Epoch: 4}); err != nil {
		t.Fatal(err)
	}
	// metrics.json beside the checkpoint, as birnn train writes it.
	if err := os.WriteFile(filepath.Join(dir, "run", "metrics.json"), []byte(`{"loss":0.3867,"accuracy":0.8279,"split":"test","n":25000}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wi := filepath.Join(dir, "imdb_word_index.json")
	if err := os.WriteFile(wi, []byte(`{"the":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"BIRNN_DATA=" + dir}
	first, second := filepath.Join(dir, "a.onnx"), filepath.Join(dir, "b.onnx")
	imported := filepath.Join(dir, "imported.ckpt")

	out, errOut, code := runCLI(t, nil, env, "export", "--checkpoint", ck, "--out", first, "--input-dtype", "float32", "--opset", "17")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "wrote "+first) || !strings.Contains(out, "420993 parameters") {
		t.Errorf("export output: %q", out)
	}
	mp, err := onnx.ReadModel(first)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, kv := range mp.MetadataProps {
		meta[kv.GetKey()] = kv.GetValue()
	}
	// sha256 of `{"the":1}`, computed independently with sha256sum.
	if got, want := meta[model.MetaWordIndexSHA256], "b9c0e28f5a62438343884cdb86db99aba8f747e4d6f04e0e8bddec1be06708e1"; got != want {
		t.Errorf("word index sha %q, want %q", got, want)
	}
	if got := meta[model.MetaTestMetrics]; got != `{"accuracy":0.8279,"loss":0.3867,"n":25000}` {
		t.Errorf("test metrics %q", got)
	}

	out, errOut, code = runCLI(t, nil, env, "import", "--model", first, "--out", imported)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "420,993") {
		t.Errorf("import summary lacks the parameter count:\n%s", out)
	}
	// A different data folder: the hash must now come from the checkpoint.
	env2 := []string{"BIRNN_DATA=" + t.TempDir()}
	if _, errOut, code = runCLI(t, nil, env2, "export", "--checkpoint", imported, "--out", second, "--input-dtype", "float32", "--opset", "17"); code != 0 {
		t.Fatalf("second export: exit %d: %s", code, errOut)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("export → import → export changed the file (%d → %d bytes)", len(a), len(b))
	}
}

func TestExportImportCLIErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "--out", "x.onnx"}, 2, "--checkpoint"},
		{[]string{"export", "--checkpoint", "x.ckpt"}, 2, "--out"},
		{[]string{"export", "--checkpoint", "x.ckpt", "--out", "x.onnx", "--opset", "9"}, 2, "--opset 9"},
		{[]string{"export", "--checkpoint", "x.ckpt", "--out", "x.onnx", "--input-dtype", "int8"}, 2, "int8"},
		{[]string{"export", "--checkpoint", filepath.Join(dir, "missing.ckpt"), "--out", "x.onnx"}, 1, "missing.ckpt"},
		{[]string{"import", "--out", "x.ckpt"}, 2, "--model"},
		{[]string{"import", "--model", "x.onnx"}, 2, "--out"},
		{[]string{"import", "--model", filepath.Join(dir, "missing.onnx"), "--out", filepath.Join(dir, "x.ckpt")}, 1, "missing.onnx"},
	}
	for _, tc := range cases {
		_, errOut, code := runCLI(t, nil, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("birnn %s: exit %d %q, want exit %d mentioning %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.msg)
		}
	}
	// A graph with no birnn equivalent: the error names the node.
	bad := filepath.Join(dir, "loop.onnx")
	g := onnx.MakeGraph("g", []*onnx.NodeProto{onnx.MakeNode("my_loop", "Loop", []string{"x"}, []string{"y"})},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimValue(1))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimValue(1))})
	if err := onnx.WriteModel(bad, onnx.MakeModel(g)); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, nil, nil, "import", "--model", bad, "--out", filepath.Join(dir, "x.ckpt"), "--name", "loop")
	if code != 1 || !strings.Contains(errOut, `"my_loop" (Loop)`) {
		t.Errorf("import of a Loop graph: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.ckpt")); err == nil {
		t.Error("a failed import wrote a checkpoint")
	}
}

// TestImportKerasCLI imports a Keras/tf2onnx export under a chosen name.
func TestImportKerasCLI(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "keras", "deep_lstm", "model.onnx")
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("the committed Keras export is missing: %v", err)
	}
	ck := filepath.Join(t.TempDir(), "keras.ckpt")
	out, errOut, code := runCLI(t, nil, nil, "import", "--model", src, "--out", ck, "--name", "keras_deep_lstm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Total params: 322,113") {
		t.Errorf("summary lacks the study's 322,113 parameters:\n%s", out)
	}
	c, err := model.LoadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Config.Name != "keras_deep_lstm" || c.Model.Config.Data.NumWords != 4000 || c.Model.Config.Data.MaxLen != 100 {
		t.Errorf("config name %q num_words %d maxlen %d", c.Model.Config.Name, c.Model.Config.Data.NumWords, c.Model.Config.Data.MaxLen)
	}
}
