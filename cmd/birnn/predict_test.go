package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
)

// predictFixture writes a model whose score is sigmoid(0.01·Σids − 1) over
// 4 padded ids, and a small word index, so scores can be worked out by hand.
func predictFixture(t *testing.T) (model, wordIndex string) {
	t.Helper()
	dir := t.TempDir()
	w, _ := onnx.MakeTensor("W", []int64{4, 1}, []float32{0.01, 0.01, 0.01, 0.01})
	b, _ := onnx.MakeTensor("b", []int64{1}, []float32{-1})
	g := onnx.MakeGraph("linear",
		[]*onnx.NodeProto{
			onnx.MakeNode("mm", "MatMul", []string{"embedding_input", "W"}, []string{"z0"}),
			onnx.MakeNode("add", "Add", []string{"z0", "b"}, []string{"z"}),
			onnx.MakeNode("act", "Sigmoid", []string{"z"}, []string{"dense"}),
		},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("embedding_input", onnx.TensorProto_FLOAT, onnx.DimParam("unk__5"), onnx.DimValue(4))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("dense", onnx.TensorProto_FLOAT, onnx.DimParam("unk__5"), onnx.DimValue(1))},
		w, b)
	m := onnx.MakeModel(g, onnx.Opset("", 15))
	for k, v := range map[string]string{"birnn.num_words": "100", "birnn.maxlen": "4", "birnn.padding": "post"} {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)})
	}
	model = filepath.Join(dir, "linear.onnx")
	if err := onnx.WriteModel(model, m); err != nil {
		t.Fatal(err)
	}
	wordIndex = filepath.Join(dir, "imdb_word_index.json")
	if err := os.WriteFile(wordIndex, []byte(`{"great": 40, "movie": 10, "dull": 90, "the": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return model, wordIndex
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func decodePredictions(t *testing.T, out string) []prediction {
	t.Helper()
	var ps []prediction
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func checkPredictions(t *testing.T, out string, want []float64, labels []string) {
	t.Helper()
	ps := decodePredictions(t, out)
	if len(ps) != len(want) {
		t.Fatalf("%d predictions, want %d:\n%s", len(ps), len(want), out)
	}
	for i := range want {
		if math.Abs(float64(ps[i].Score)-want[i]) > 1e-6 || ps[i].Label != labels[i] {
			t.Errorf("prediction %d = %+v, want score %.7f label %s", i, ps[i], want[i], labels[i])
		}
	}
}

func TestPredictCommand(t *testing.T) {
	model, wi := predictFixture(t)
	// ids (start 1, rank+3, ≥100 → 2, post-padded/pre-truncated to 4):
	//   "great movie!"            → 1 43 13 0  Σ 57  → sigmoid(−0.43)
	//   "dull, dull... the movie" → dull=93; 1 93 93 4 13 → last 4: 93 93 4 13, Σ 203 → sigmoid(1.03)
	//   "unknown words"           → 1 0 0 0    Σ 1   → sigmoid(−0.99)
	want := []float64{sigmoid(-0.43), sigmoid(1.03), sigmoid(-0.99)}
	labels := []string{"negative", "positive", "negative"}

	out, errOut, code := runCLI(t, nil, nil, "predict", "--model", model, "--word-index", wi,
		"--text", "great movie!", "--text", "dull, dull... the movie", "--text", "unknown words", "--batch", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkPredictions(t, out, want, labels)

	// stdin, with the word index found in the data folder.
	out, errOut, code = runCLI(t, strings.NewReader("great movie!\ndull, dull... the movie\r\nunknown words\n"),
		[]string{"BIRNN_DATA=" + filepath.Dir(wi)}, "predict", "--model", model)
	if code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, errOut)
	}
	checkPredictions(t, out, want, labels)

	// --file with ids and a threshold.
	f := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(f, []byte("1 43 13\n7 93 93 4 13\n\n150\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, nil, nil, "predict", "--model", model, "--ids", "--file", f, "--threshold", "0.3")
	if code != 0 {
		t.Fatalf("ids: exit %d: %s", code, errOut)
	}
	checkPredictions(t, out, []float64{sigmoid(-0.43), sigmoid(1.03), sigmoid(-1), sigmoid(-0.98)},
		[]string{"positive", "positive", "negative", "negative"})
}

func TestPredictErrors(t *testing.T) {
	model, wi := predictFixture(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"predict", "--text", "x"}, 2, "--model is required"},
		{[]string{"predict", "--model", model, "--batch", "0", "--text", "x"}, 2, "--batch"},
		{[]string{"predict", "--model", model, "--threshold", "1.5", "--text", "x"}, 2, "--threshold"},
		{[]string{"predict", "--model", filepath.Join(t.TempDir(), "none.onnx"), "--text", "x"}, 1, "none.onnx"},
		{[]string{"predict", "--model", model, "--word-index", filepath.Join(t.TempDir(), "wi.json"), "--text", "x"}, 1, "word index"},
		{[]string{"predict", "--model", model, "--ids", "--text", "1 two 3"}, 1, `"two"`},
		{[]string{"predict", "--model", model, "--ids", "--text", "1 -4"}, 1, `"-4"`},
		{[]string{"predict", "--model", model, "--word-index", wi, "--file", filepath.Join(t.TempDir(), "no.txt")}, 1, "no.txt"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, nil, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("birnn %s: exit %d, stderr %q; want exit %d mentioning %s", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
}
