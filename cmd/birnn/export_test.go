package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// TestExportImportCLI exports a checkpoint, imports the file back and
// exports again: the two ONNX files must be identical, metadata included.
func TestExportImportCLI(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "run", "checkpoint.ckpt")
	studyCheckpoint(t, "deep_bilstm", ck, 4)
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

// TestImportPredictExternalData: a Keras export whose weights were moved
// into model.onnx.data beside it (the dynamo exporter's layout) imports to
// the same checkpoint and predicts the same scores as the file with its
// weights inline; a data location outside the model's folder is refused by
// import and predict alike, named, and import writes no checkpoint.
func TestImportPredictExternalData(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "keras", "deep_lstm", "model.onnx")
	m, err := onnx.ReadModel(src)
	if err != nil {
		t.Fatalf("the committed Keras export: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "ext")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.MoveToExternalData(m, dir, "model.onnx.data", 1024); err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(dir, "model.onnx")
	if err := onnx.WriteModel(ext, m); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(ext); err != nil || st.Size() > 64<<10 {
		t.Fatalf("model.onnx with external data: %v, size %v (the weights were not moved)", err, st)
	}

	inline := filepath.Join(t.TempDir(), "inline.ckpt")
	outside := filepath.Join(t.TempDir(), "external.ckpt")
	for _, c := range [][2]string{{src, inline}, {ext, outside}} {
		if _, errOut, code := runCLI(t, nil, nil, "import", "--model", c[0], "--out", c[1]); code != 0 {
			t.Fatalf("import %s: exit %d: %s", c[0], code, errOut)
		}
	}
	if !bytes.Equal(mustRead(t, inline), mustRead(t, outside)) {
		t.Error("the checkpoint imported from external data differs from the inline import")
	}

	reviews := []string{"1 14 22 16 43 530 973", "1 194 1153 194 8255 78 228 5 6 1463 4369"}
	predict := func(modelPath string) (string, string, int) {
		args := []string{"predict", "--model", modelPath, "--ids"}
		for _, r := range reviews {
			args = append(args, "--text", r)
		}
		return runCLI(t, nil, nil, args...)
	}
	want, errOut, code := predict(src)
	if code != 0 {
		t.Fatalf("predict inline: exit %d: %s", code, errOut)
	}
	got, errOut, code := predict(ext)
	if code != 0 || got != want {
		t.Errorf("predict with external data: exit %d, %q (stderr %q); inline gave %q", code, got, errOut, want)
	}

	// Point the first external tensor at a file outside the folder, which
	// exists: it must not be read.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "stolen.data"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := onnx.DecodeModel(mustRead(t, ext))
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, init := range raw.GetGraph().GetInitializer() {
		for _, kv := range init.GetExternalData() {
			if kv.GetKey() == "location" && !moved {
				loc := "../stolen.data"
				kv.Value = &loc
				moved = true
			}
		}
	}
	if !moved {
		t.Fatal("no initializer is stored externally")
	}
	if err := onnx.WriteModel(ext, raw); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.ckpt")
	_, errOut, code = runCLI(t, nil, nil, "import", "--model", ext, "--out", bad)
	if code != 1 || !strings.Contains(errOut, "../stolen.data") || !strings.Contains(errOut, "outside the model's folder") {
		t.Errorf("import of an escaping data file: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a refused import wrote a checkpoint")
	}
	_, errOut, code = predict(ext)
	if code != 1 || !strings.Contains(errOut, "../stolen.data") || !strings.Contains(errOut, "outside the model's folder") {
		t.Errorf("predict of an escaping data file: exit %d, stderr %q", code, errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
