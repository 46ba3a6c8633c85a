package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
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

// predLine is one line of predict's output as a client reads it.
type predLine struct {
	Score         *float32           `json:"score"`
	Label         string             `json:"label"`
	Class         *int               `json:"class"`
	Probabilities map[string]float64 `json:"probabilities"`
}

func decodePredictions(t *testing.T, out string) []predLine {
	t.Helper()
	var ps []predLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p predLine
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
		if ps[i].Score == nil || math.Abs(float64(*ps[i].Score)-want[i]) > 1e-6 || ps[i].Label != labels[i] || ps[i].Class != nil {
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

	// --file with ids and a threshold; blank lines are not reviews: they
	// are skipped (not scored as an empty row) and counted on stderr.
	f := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(f, []byte("1 43 13\n7 93 93 4 13\n\n  \n150\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, nil, nil, "predict", "--model", model, "--ids", "--file", f, "--threshold", "0.3")
	if code != 0 {
		t.Fatalf("ids: exit %d: %s", code, errOut)
	}
	checkPredictions(t, out, []float64{sigmoid(-0.43), sigmoid(1.03), sigmoid(-0.98)},
		[]string{"positive", "positive", "negative"})
	if !strings.Contains(errOut, "skipped 2 blank lines") {
		t.Errorf("stderr %q does not report the 2 skipped blank lines", errOut)
	}
}

// TestPredictThresholdTie: a score of exactly the threshold is negative
// (model.Positive: score > threshold), as serve and crosscheck label it.
// Ids 1 and 99 sum to 100, so the fixture scores sigmoid(0) = 0.5 exactly;
// then a review is scored once and --threshold set to that very score.
func TestPredictThresholdTie(t *testing.T) {
	model, _ := predictFixture(t)
	out, errOut, code := runCLI(t, nil, nil, "predict", "--model", model, "--ids", "--text", "1 99")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if ps := decodePredictions(t, out); len(ps) != 1 || ps[0].Score == nil || *ps[0].Score != 0.5 || ps[0].Label != "negative" {
		t.Errorf("score of exactly 0.5: %+v, want labelled negative at the default threshold", ps)
	}
	out, errOut, code = runCLI(t, nil, nil, "predict", "--model", model, "--ids", "--text", "1 49")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	score := *decodePredictions(t, out)[0].Score
	for _, tc := range []struct {
		threshold float64
		label     string
	}{{float64(score), "negative"}, {math.Nextafter(float64(score), 0), "positive"}} {
		out, errOut, code := runCLI(t, nil, nil, "predict", "--model", model, "--ids", "--text", "1 49",
			"--threshold", strconv.FormatFloat(tc.threshold, 'g', -1, 64))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if ps := decodePredictions(t, out); len(ps) != 1 || ps[0].Score == nil || *ps[0].Score != score || ps[0].Label != tc.label {
			t.Errorf("threshold %v: %+v; want score %v labelled %s", tc.threshold, ps, score, tc.label)
		}
	}
}
