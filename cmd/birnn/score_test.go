package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/bulk"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/internal/testutil"
)

// TestScoreCommandMatchesPredict runs birnn score (Prism) and birnn
// predict on the same file of test reviews: the same scores and labels,
// review by review, and the file's bad lines as dead letters.
func TestScoreCommandMatchesPredict(t *testing.T) {
	data := testutil.DataDir(t, "imdb")
	files, err := dataset.Locate(data)
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := dataset.LoadData(data, dataset.DefaultLoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	texts, err := dataset.ReadTexts(files.Reviews, test.Files[:300])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "reviews.txt")
	var b strings.Builder
	lineOf := []int{} // the file line of each review predict scores
	line := 0
	for i, tx := range texts {
		if i == 100 {
			b.WriteString(`{"id": 1, "text": "cut short` + "\n") // malformed JSON: a dead letter
			line++
		}
		b.WriteString(strings.ReplaceAll(tx, "\n", " ") + "\n")
		line++
		lineOf = append(lineOf, line)
	}
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(testutil.RepoRoot(t), "testdata", "keras", "deep_bilstm", "model.onnx")
	wi := filepath.Join(data, "imdb_word_index.json")

	// predict reads the same file minus the malformed line.
	predIn := filepath.Join(dir, "predict.txt")
	var p strings.Builder
	for _, tx := range texts {
		p.WriteString(strings.ReplaceAll(tx, "\n", " ") + "\n")
	}
	if err := os.WriteFile(predIn, []byte(p.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, nil, nil, "predict", "--model", model, "--word-index", wi, "--file", predIn)
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	preds := decodePredictions(t, stdout)

	out := filepath.Join(dir, "out", "scores")
	_, stderr, code = runCLI(t, nil, nil, "score", "--model", model, "--word-index", wi, "--input", input, "--output", out, "--shards", "2")
	if code != 0 {
		t.Fatalf("score: exit %d: %s", code, stderr)
	}
	got := map[string]bulk.Result{}
	for i := range 2 {
		f, err := os.Open(bulk.ShardName(out, i, 2))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r bulk.Result
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			var id string
			if err := json.Unmarshal(r.ID, &id); err != nil {
				t.Fatalf("id %s: %v", r.ID, err)
			}
			if _, dup := got[id]; dup {
				t.Errorf("id %s twice", id)
			}
			got[id] = r
		}
		f.Close()
	}
	if len(got) != len(preds) || len(preds) != len(texts) {
		t.Fatalf("score gave %d results, predict %d, for %d reviews", len(got), len(preds), len(texts))
	}
	for i, pr := range preds {
		r, ok := got[fmt.Sprintf("reviews.txt:%d", lineOf[i])]
		// Equal to float32 rounding: the engine's last bits depend on how
		// rows are batched, and bundles batch differently from predict.
		if !ok || pr.Score == nil || math.Abs(float64(r.Score)-float64(*pr.Score)) > 1e-6 || r.Label != pr.Label {
			t.Errorf("review %d: score %+v, predict %+v", i, r, pr)
		}
	}
	dead, err := os.ReadFile(out + "-deadletter-00000-of-00001.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var d bulk.DeadLetter
	if err := json.Unmarshal(dead, &d); err != nil || d.File != "reviews.txt" || d.Line != 101 || !strings.Contains(d.Reason, "malformed JSON") {
		t.Errorf("dead letters %q", dead)
	}

	for _, args := range [][]string{
		{"score", "--input", input, "--output", out},
		{"score", "--model", model, "--output", out},
		{"score", "--model", model, "--input", input, "--output", out, "--runner", "nope"},
		{"score", "--model", model, "--input", input, "--output", out, "--beam-opt", "novalue"},
	} {
		if _, stderr, code := runCLI(t, nil, nil, args...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
