package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
)

func writeCorpus(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("label\tsentence\r\n")
	for i := range 40 {
		if i%2 == 0 {
			b.WriteString("1\ta good fine film\r\n")
		} else {
			b.WriteString("0\tbad dull plot\r\n")
		}
	}
	for _, f := range []string{"train.tsv", "dev.tsv", "test.tsv"} {
		os.WriteFile(filepath.Join(dir, f), []byte(b.String()), 0o644)
	}
	cfg := filepath.Join(dir, "tsv.yaml")
	os.WriteFile(cfg, []byte(`name: tsv
data: {source: tsv, train: train.tsv, validation: dev.tsv, test: test.tsv, text_column: sentence, num_words: 12, maxlen: 6, oov_token: "<u>", padding: pre}
model:
  embedding: {dim: 4}
  layers:
    - {type: lstm, units: 3, bidirectional: true}
    - {type: dense, units: 1, activation: sigmoid}
train: {epochs: 1, batch_size: 8}
`), 0o644)
	return cfg
}

// A text dataset through the CLI: train, evaluate on its own dev split,
// export, then predict and import from the ONNX file alone — no word index
// anywhere: the vocabulary travels in the model.
func TestTextDatasetCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeCorpus(t, dir)
	run := filepath.Join(dir, "run")
	if _, stderr, code := runCLI(t, nil, nil, "train", "--config", cfg, "--data", dir, "--out", run); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	met := filepath.Join(dir, "val.json")
	stdout, stderr, code := runCLI(t, nil, nil, "evaluate", "--checkpoint", filepath.Join(run, model.CheckpointFile), "--split", "val", "--data", dir, "--out", met)
	if code != 0 || !strings.Contains(stdout, "(40 reviews)") {
		t.Fatalf("evaluate: exit %d\n%s%s", code, stdout, stderr)
	}
	m, err := model.ReadMetrics(met)
	if err != nil || m.Dataset != "train.tsv" || m.NumWords != 12 || m.MaxLen != 6 || m.Split != "val" || m.N != 40 {
		t.Errorf("val metrics %+v, %v", m, err)
	}
	onnxPath := filepath.Join(dir, "m.onnx")
	if _, stderr, code := runCLI(t, nil, nil, "export", "--checkpoint", filepath.Join(run, model.CheckpointFile), "--out", onnxPath, "--data", t.TempDir()); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, nil, nil, "predict", "--model", onnxPath, "--text", "a good fine film", "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("predict without a word index: exit %d\n%s", code, stderr)
	}
	var p struct{ Score float64 }
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &p); err != nil {
		t.Fatalf("predict output %q: %v", stdout, err)
	}
	// The same text as ids of the training vocabulary scores the same.
	ck, err := model.LoadCheckpoint(filepath.Join(run, model.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := dataset.ParseVocabulary([]byte(ck.State[model.StateVocabulary]))
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Trim(strings.ReplaceAll(strings.Trim(jsonInts(v.Encode("a good fine film")), "[]"), ",", " "), " ")
	stdout2, stderr, code := runCLI(t, strings.NewReader(ids+"\n"), nil, "predict", "--model", onnxPath, "--ids")
	if code != 0 || strings.TrimSpace(stdout2) != strings.TrimSpace(stdout) {
		t.Errorf("predict --ids %q: %s (%s), text gave %s", ids, stdout2, stderr, stdout)
	}
	imported := filepath.Join(dir, "imported.ckpt")
	if _, stderr, code := runCLI(t, nil, nil, "import", "--model", onnxPath, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	ick, err := model.LoadCheckpoint(imported)
	if err != nil || ick.State[model.StateVocabulary] != ck.State[model.StateVocabulary] {
		t.Errorf("imported checkpoint's vocabulary differs (%v)", err)
	}
}

func jsonInts(v []int32) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// birnn sweep: a two-run grid on the text dataset, then again (skipped),
// and a malformed sweep file is a usage error.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := writeCorpus(t, dir)
	sw := filepath.Join(dir, "s.yaml")
	os.WriteFile(sw, []byte("base: "+cfg+"\ngrid:\n  - {key: train.optimizer.name, values: [adam, nadam]}\n"), 0o644)
	out := filepath.Join(dir, "out")
	stdout, stderr, code := runCLI(t, nil, nil, "sweep", sw, "--out", out, "--data", dir, "--set", "train.batch_size=16")
	if code != 0 || !strings.Contains(stdout, "report.md") {
		t.Fatalf("sweep: exit %d\n%s%s", code, stdout, stderr)
	}
	rep, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(rep), "name=nadam") || !strings.Contains(string(rep), "`train.batch_size=16`") {
		t.Errorf("report:\n%s", rep)
	}
	_, stderr, code = runCLI(t, nil, nil, "sweep", sw, "--out", out, "--data", dir, "--set", "train.batch_size=16")
	if code != 0 || strings.Count(stderr, "done already") != 2 {
		t.Errorf("second sweep: exit %d\n%s", code, stderr)
	}
	os.WriteFile(sw, []byte("base: "+cfg+"\ngird: []\n"), 0o644)
	if _, stderr, code := runCLI(t, nil, nil, "sweep", sw); code != 2 || !strings.Contains(stderr, "gird") {
		t.Errorf("malformed sweep: exit %d, %s", code, stderr)
	}
}

// A 3-class folder-per-class dataset through the CLI: the trained model
// records the class folders' names, predict reports the argmax class under
// its name with every class's probability (in class order), and import
// carries the names into the checkpoint.
func TestMultiClassFolderCommands(t *testing.T) {
	dir := t.TempDir()
	classes := map[string]string{"apple": "red crisp apple sweet", "banana": "long yellow banana soft", "cherry": "small dark cherry stone"}
	for _, split := range []string{"train", "test"} {
		for cls, text := range classes {
			d := filepath.Join(dir, split, cls)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range 16 {
				os.WriteFile(filepath.Join(d, fmt.Sprintf("%02d.txt", i)), []byte(text), 0o644)
			}
		}
	}
	cfg := filepath.Join(dir, "fruit.yaml")
	os.WriteFile(cfg, []byte(`name: fruit
data: {source: folder, train: train, test: test, num_words: 20, maxlen: 6, padding: post}
model:
  embedding: {dim: 8, mask_zero: true}
  layers:
    - {type: lstm, units: 8, bidirectional: true}
    - {type: dense, units: 3, activation: softmax}
train: {epochs: 12, batch_size: 16, validation_split: 0, optimizer: {name: adam, learning_rate: 0.05}}
`), 0o644)
	run := filepath.Join(dir, "run")
	if _, stderr, code := runCLI(t, nil, nil, "train", "--config", cfg, "--data", dir, "--out", run); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	onnxPath := filepath.Join(dir, "m.onnx")
	if _, stderr, code := runCLI(t, nil, nil, "export", "--checkpoint", filepath.Join(run, model.CheckpointFile), "--out", onnxPath, "--data", t.TempDir()); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, nil, nil, "predict", "--model", onnxPath, "--data", t.TempDir(),
		"--text", "a sweet red apple", "--text", "yellow banana", "--text", "dark cherry")
	if code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("predict printed %d lines, want 3:\n%s", len(lines), stdout)
	}
	for i, want := range []string{"apple", "banana", "cherry"} {
		ps := decodePredictions(t, lines[i])
		p := ps[0]
		if p.Label != want || p.Class == nil || *p.Class != i || p.Score != nil {
			t.Errorf("line %d = %s, want label %q, class %d and no score", i, lines[i], want, i)
		}
		var sum float64
		for _, v := range p.Probabilities {
			sum += v
		}
		if len(p.Probabilities) != 3 || math.Abs(sum-1) > 1e-5 || p.Probabilities[want] < 0.5 {
			t.Errorf("line %d: probabilities %v, want the 3 classes summing to 1 with %s the largest", i, p.Probabilities, want)
		}
		// Class order: apple, banana, cherry.
		_, probs, _ := strings.Cut(lines[i], `"probabilities"`)
		if a, b, c := strings.Index(probs, `"apple"`), strings.Index(probs, `"banana"`), strings.Index(probs, `"cherry"`); !(a >= 0 && a < b && b < c) {
			t.Errorf("line %d: probabilities not in class order: %s", i, lines[i])
		}
	}
	imported := filepath.Join(dir, "imported.ckpt")
	if _, stderr, code := runCLI(t, nil, nil, "import", "--model", onnxPath, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	ick, err := model.LoadCheckpoint(imported)
	if err != nil || ick.State[model.StateLabels] != `["apple","banana","cherry"]` {
		t.Errorf("imported checkpoint's labels %q (%v)", ick.State[model.StateLabels], err)
	}
}
