package bulk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/bulk"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/score"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		format, line, id, text, reason string
	}{
		{"auto", `{"id": 7, "text": "a fine film"}`, `7`, "a fine film", ""},
		{"auto", `{"id":"r-1","text":"x","extra":true}`, `"r-1"`, "x", ""},
		{"auto", `{"text":"no id"}`, `"f.jsonl:3"`, "no id", ""},
		{"auto", `  just words {not json}`, `"f.jsonl:3"`, "  just words {not json}", ""},
		{"text", `{"id":1,"text":"kept as text"}`, `"f.jsonl:3"`, `{"id":1,"text":"kept as text"}`, ""},
		{"auto", `{"id": 1, "text": "a"`, "", "", "malformed JSON: unexpected EOF"},
		{"auto", `{"id": 1, "text": "a"} {}`, "", "", "more than one value"},
		{"jsonl", `plain`, "", "", "malformed JSON"},
		{"auto", `{"id": {"a": 1}, "text": "a"}`, "", "", `"id" is neither a string nor a number`},
		{"auto", `{"id": 1, "text": 5}`, "", "", "malformed JSON"},
		{"auto", `{"id": 1}`, "", "", `no "text" string`},
		{"auto", `{"id": 1, "text": "  "}`, "", "", "blank review"},
		{"auto", `   `, "", "", "blank review"},
	}
	for _, c := range cases {
		rec, reason := bulk.ParseLine(c.format, "f.jsonl", 3, c.line)
		if c.reason != "" {
			if !strings.Contains(reason, c.reason) {
				t.Errorf("%s %q: reason %q, want %q", c.format, c.line, reason, c.reason)
			}
			continue
		}
		if reason != "" || rec.ID != c.id || rec.Text != c.text || rec.Line != 3 || rec.File != "f.jsonl" {
			t.Errorf("%s %q: %+v %q, want id %s text %q", c.format, c.line, rec, reason, c.id, c.text)
		}
	}
}

// testTexts returns the first n IMDB test reviews (all when n is 0), in
// Keras's order, and their labels.
func testTexts(tb testing.TB, n int) ([]string, []int32) {
	tb.Helper()
	data := testutil.DataDir(tb, "imdb")
	files, err := dataset.Locate(data)
	if err != nil {
		tb.Fatal(err)
	}
	_, test, err := dataset.LoadData(data, dataset.DefaultLoadOptions())
	if err != nil {
		tb.Fatal(err)
	}
	if n == 0 {
		n = len(test.Files)
	}
	texts, err := dataset.ReadTexts(files.Reviews, test.Files[:n])
	if err != nil {
		tb.Fatal(err)
	}
	return texts, test.Y[:n]
}

// predictScorer is the scorer birnn predict builds: the model, the word
// index, batches of score.DefaultBatchSize.
func predictScorer(tb testing.TB, modelPath, wordIndex string) *score.Scorer {
	tb.Helper()
	sess, err := infer.Load(modelPath)
	if err != nil {
		tb.Fatal(err)
	}
	wi, err := dataset.LoadWordIndex(wordIndex)
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := score.New(sess, wi, score.Options{BatchSize: score.DefaultBatchSize})
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

// imdbTest writes the IMDB test reviews as JSON lines {"id": i, "text"}
// to dir/reviews-N.jsonl in two files, with bad lines injected into the
// second, and returns the texts, labels and the bad lines' positions.
func imdbTest(t *testing.T, dir string) (texts []string, labels []int32, bad map[string]string) {
	t.Helper()
	texts, labels = testTexts(t, 0)
	bad = map[string]string{}
	half := len(texts) / 2
	for k, part := range [][]string{texts[:half], texts[half:]} {
		name := fmt.Sprintf("reviews-%d.jsonl", k)
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		line := 0
		for i, tx := range part {
			if k == 1 && i%5000 == 17 {
				for _, b := range []string{`{"id": "broken", "text": "unterminated`, `{"id": 99999, "text": ""}`, `{"id": [1], "text": "an array id"}`} {
					fmt.Fprintln(w, b)
					line++
					bad[fmt.Sprintf("%s:%d", name, line)] = b
				}
			}
			b, _ := json.Marshal(map[string]any{"id": k*half + i, "text": tx})
			fmt.Fprintln(w, string(b))
			line++
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return texts, labels, bad
}

func readJSONL[T any](t *testing.T, pattern string) []T {
	t.Helper()
	names, _ := filepath.Glob(pattern)
	if len(names) == 0 {
		t.Fatalf("no files %s", pattern)
	}
	var out []T
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var v T
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: %q: %v", name, sc.Text(), err)
			}
			out = append(out, v)
		}
		f.Close()
	}
	return out
}

// TestScoreIMDBTestSplitOnPrism scores the 25,000 IMDB test reviews with
// Keras's deep_bilstm export on Prism: every id comes out exactly once,
// with the score the scorer of birnn predict gives it; the injected bad
// lines come out as dead letters with their line numbers; and the labels'
// accuracy is Keras's own test accuracy for this model.
func TestScoreIMDBTestSplitOnPrism(t *testing.T) {
	if testing.Short() {
		t.Skip("scores 25,000 reviews")
	}
	dir := t.TempDir()
	texts, labels, bad := imdbTest(t, dir)
	root := testutil.RepoRoot(t)
	modelPath := filepath.Join(root, "testdata", "keras", "deep_bilstm", "model.onnx")
	wordIndex := filepath.Join(testutil.DataDir(t, "imdb"), "imdb_word_index.json")
	out := filepath.Join(dir, "out", "scores")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	err := bulk.Run(context.Background(), bulk.Options{Model: modelPath, WordIndex: wordIndex,
		Input: filepath.Join(dir, "reviews-*.jsonl"), Output: out, Shards: 3}, bulk.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := os.Stat(bulk.ShardName(out, i, 3)); err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}
	results := readJSONL[struct {
		ID    *int    `json:"id"`
		Score float32 `json:"score"`
		Label string  `json:"label"`
	}](t, out+"-0000*-of-00003.jsonl")
	got := make([]float32, len(texts))
	seen := make([]int, len(texts))
	for _, r := range results {
		if r.ID == nil || *r.ID < 0 || *r.ID >= len(texts) {
			t.Fatalf("result with id %v", r.ID)
		}
		seen[*r.ID]++
		got[*r.ID] = r.Score
		if want := map[bool]string{true: "positive", false: "negative"}[r.Score > 0.5]; r.Label != want {
			t.Errorf("id %d: label %q for %v", *r.ID, r.Label, r.Score)
		}
	}
	if len(results) != len(texts) {
		t.Errorf("%d results for %d reviews", len(results), len(texts))
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("id %d appears %d times", i, n)
		}
	}

	sc := predictScorer(t, modelPath, wordIndex)
	want, err := sc.Score(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	// The engine's last bits depend on how rows are batched (the bundles
	// batch differently from predict's runs of 64), so scores agree to
	// float32 rounding, not always bit for bit.
	differ, correct, maxDiff := 0, 0, 0.0
	for i := range texts {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		maxDiff = max(maxDiff, d)
		if d != 0 {
			differ++
		}
		if d > 1e-6 {
			t.Errorf("id %d: pipeline %v, predict's scorer %v", i, got[i], want[i])
		}
		if (got[i] > 0.5) == (labels[i] == 1) {
			correct++
		}
	}
	t.Logf("%d of %d scores bit-identical to predict's scorer; largest difference %.3g", len(texts)-differ, len(texts), maxDiff)
	// Keras's own accuracy of this model on the test split (metrics.json).
	if acc := float64(correct) / float64(len(texts)); acc < 0.8331 || acc > 0.8352 {
		t.Errorf("accuracy %.4f, Keras's is 0.8342", acc)
	}

	dead := readJSONL[bulk.DeadLetter](t, out+"-deadletter-00000-of-00001.jsonl")
	if len(dead) != len(bad) {
		t.Errorf("%d dead letters, want %d: %+v", len(dead), len(bad), dead)
	}
	for _, d := range dead {
		key := fmt.Sprintf("%s:%d", d.File, d.Line)
		if bad[key] != d.Text || d.Reason == "" {
			t.Errorf("dead letter %+v: want the line %q at %s", d, bad[key], key)
		}
	}
}
