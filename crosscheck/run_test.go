package crosscheck

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// writeFile writes text to dir/rel, creating folders.
func writeFile(t *testing.T, dir, rel, text string) string {
	testutil.WriteFile(t, dir, rel, text)
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// tinyData writes an unpacked IMDB folder with 4 training and 10 test
// reviews and a word index of three words.
func tinyData(t *testing.T) string {
	texts := []string{"A good movie.", "Bad, bad movie!", "good<br />good", "movie", "nothing known here"}
	return testutil.TinyIMDB(t, t.TempDir(), `{"good": 1, "bad": 2, "movie": 3}`, texts[:2], texts)
}

// constantModel returns a small birnn model whose output is sigmoid(bias)
// for every input: its Dense kernel is zero.
func constantModel(t *testing.T, bias float32) *model.Model {
	t.Helper()
	cfg, err := configs.Parse([]byte("name: tiny\ndata: {num_words: 10, maxlen: 8}\nmodel:\n  embedding: {dim: 2}\n  layers:\n" +
		"    - {type: lstm, units: 2}\n    - {type: dense, units: 1, activation: sigmoid}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Param("dense_1.W"), m.Param("dense_1.B")
	if w == nil || b == nil {
		t.Fatal("model has no dense_1.W / dense_1.B")
	}
	clear(w.Data)
	b.Data[0] = bias
	return m
}

func writeONNX(t *testing.T, m *model.Model, path string) {
	t.Helper()
	mp, err := export.Model(m, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteModel(path, mp); err != nil {
		t.Fatal(err)
	}
}

// fabricated lays out a Keras folder and a runs folder:
//
//	pos: Keras export (model.onnx = the +5 model, predictions 0.99,
//	     labels 1101001110, accuracy 0.7); run with model.onnx of the
//	     +5 model (every label 1), accuracy 0.5
//	neg: Keras metrics and the same labels, no model; run with a
//	     checkpoint of the −5 model (every label 0), accuracy 0.25
//	keras_only: Keras metrics only; go_only: a run's metrics only
func fabricated(t *testing.T) (keras, runs string) {
	root := t.TempDir()
	keras, runs = filepath.Join(root, "keras"), filepath.Join(root, "runs")
	pos, neg := constantModel(t, 5), constantModel(t, -5)

	writeONNX(t, pos, filepath.Join(keras, "pos", model.ModelFile))
	writeFile(t, keras, "pos/predictions.json", `{"rows": [0, 1], "x": [[1, 4, 5, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0, 0]], "outputs": [[0.99], [0.995]]}`)
	writeFile(t, keras, "pos/metrics.json", `{"loss": 0.5, "accuracy": 0.7, "n": 10}`)
	writeFile(t, keras, "pos/test_labels.txt", "1101001110\n")
	writeONNX(t, pos, filepath.Join(runs, "pos", model.ModelFile))
	writeFile(t, runs, "pos/metrics.json", `{"loss": 0.7, "accuracy": 0.5, "split": "test", "n": 10}`)

	writeFile(t, keras, "neg/metrics.json", `{"loss": 0.5, "accuracy": 0.6, "n": 10}`)
	writeFile(t, keras, "neg/test_labels.txt", "1101001110")
	if err := os.MkdirAll(filepath.Join(runs, "neg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := model.SaveCheckpoint(filepath.Join(runs, "neg", model.CheckpointFile), &model.Checkpoint{Model: neg}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, runs, "neg/metrics.json", `{"loss": 0.7, "accuracy": 0.25, "split": "test", "n": 10}`)

	writeFile(t, keras, "keras_only/metrics.json", `{"loss": 0.5, "accuracy": 0.8, "n": 10}`)
	writeFile(t, runs, "go_only/metrics.json", `{"loss": 0.5, "accuracy": 0.9, "split": "test", "n": 10}`)
	return keras, runs
}

var fabricatedNames = []string{"pos", "neg", "keras_only", "go_only"}

// TestRunFabricated checks Run's figures against values worked out by
// hand: the +5 model labels all 10 test reviews positive, and
// 1101001110 holds 6 ones, so it agrees on 6 of 10; the −5 model on the
// 4 zeros. Its max difference is sigmoid(5) − 0.99 = 0.0033071490757.
func TestRunFabricated(t *testing.T) {
	keras, runs := fabricated(t)
	rep, err := Run(context.Background(), Options{Keras: keras, Runs: runs, Data: tinyData(t), Names: fabricatedNames})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rep.Rows))
	}
	nan := math.NaN()
	want := []struct {
		name              string
		kAcc, gAcc        float64
		agree, n          int
		maxDiff           float64
		diffRows          int
		missing           []string
		goModelSuffix     string
		agreementFraction float64
	}{
		{"pos", 0.7, 0.5, 6, 10, 0.0033071490757153, 2, nil, filepath.Join("pos", model.ModelFile), 0.6},
		{"neg", 0.6, 0.25, 4, 10, nan, 0, []string{filepath.Join(keras, "neg", model.ModelFile)}, filepath.Join("neg", model.CheckpointFile), 0.4},
		{"keras_only", 0.8, nan, 0, 0, nan, 0, []string{filepath.Join(keras, "keras_only", model.ModelFile), filepath.Join(keras, "keras_only", TestLabelsFile), filepath.Join(runs, "keras_only")}, "", nan},
		{"go_only", nan, 0.9, 0, 0, nan, 0, []string{filepath.Join(keras, "go_only"), filepath.Join(runs, "go_only", model.ModelFile) + " or " + model.CheckpointFile}, "", nan},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for i, w := range want {
		r := rep.Rows[i]
		if r.Name != w.name {
			t.Fatalf("row %d is %q, want %q", i, r.Name, w.name)
		}
		if !same(r.KerasAccuracy, w.kAcc) || !same(r.GoAccuracy, w.gAcc) {
			t.Errorf("%s: accuracies Keras %v, birnn %v; want %v, %v", w.name, r.KerasAccuracy, r.GoAccuracy, w.kAcc, w.gAcc)
		}
		if r.Agree != w.agree || r.N != w.n || !same(r.Agreement(), w.agreementFraction) {
			t.Errorf("%s: agreement %d/%d = %v, want %d/%d = %v", w.name, r.Agree, r.N, r.Agreement(), w.agree, w.n, w.agreementFraction)
		}
		if r.DiffRows != w.diffRows || math.IsNaN(w.maxDiff) != math.IsNaN(r.MaxDiff) || math.Abs(r.MaxDiff-w.maxDiff) > 1e-6 {
			t.Errorf("%s: max diff %v over %d rows, want %v over %d", w.name, r.MaxDiff, r.DiffRows, w.maxDiff, w.diffRows)
		}
		if strings.Join(r.Missing, "|") != strings.Join(w.missing, "|") {
			t.Errorf("%s: missing %q, want %q", w.name, r.Missing, w.missing)
		}
		if !strings.HasSuffix(r.GoModel, w.goModelSuffix) || (w.goModelSuffix == "") != (r.GoModel == "") {
			t.Errorf("%s: Go model %q, want …%s", w.name, r.GoModel, w.goModelSuffix)
		}
	}
	// Both constant models label half of the 5 pos + 5 neg test reviews
	// right; only neg's metrics.json (0.25) contradicts that.
	for i, want := range []float64{0.5, 0.5, nan, nan} {
		if r := rep.Rows[i]; !same(r.GoLabelAccuracy, want) || r.Inconsistent() != (i == 1) {
			t.Errorf("%s: accuracy of the Go labels %v (inconsistent %v), want %v", r.Name, r.GoLabelAccuracy, r.Inconsistent(), want)
		}
	}

	md := rep.Markdown()
	for _, s := range []string{
		"| pos | 0.7000 | 0.5000 | -0.2000 | 60.00 % (6 / 10) | 0.0033 (2 rows) |",
		"| neg | 0.6000 | 0.2500 | -0.3500 | 40.00 % (4 / 10) | – |",
		"| keras_only | 0.8000 | – | – | – | – |",
		"| go_only | – | 0.9000 | – | – | – |",
		"- go_only: " + filepath.Join(keras, "go_only"),
		"Inconsistent:\n\n- neg: the labels of " + filepath.Join(runs, "neg", model.CheckpointFile) + " give accuracy 0.5000, its metrics.json says 0.2500\n",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"60.00 % (6 / 10)", "40.00 % (4 / 10)", "missing:", "keras_only: ", "inconsistent:\n  neg: "} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, b.String())
		}
	}
}

// TestRunMalformed checks that a malformed file is an error naming it.
func TestRunMalformed(t *testing.T) {
	data := tinyData(t)
	for _, c := range []struct {
		name, rel, text string
	}{
		{"labels byte", "pos/test_labels.txt", "1201001110"},
		{"labels length", "pos/test_labels.txt", "110100111"},
		{"labels empty", "pos/test_labels.txt", "\n"},
		{"metrics", "pos/metrics.json", `{"accuracy": "high"}`},
		{"metrics range", "pos/metrics.json", `{"accuracy": 1.5}`},
		{"predictions", "pos/predictions.json", `{"x": [[1, 2]], "outputs": []}`},
		{"predictions ragged", "pos/predictions.json", `{"x": [[1, 2], [1]], "outputs": [[0.5], [0.5]]}`},
		{"predictions width", "pos/predictions.json", `{"x": [[1, 2]], "outputs": [[0.5, 0.2, 0.3]]}`},
		{"model", "pos/model.onnx", "not a model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			keras, runs := fabricated(t)
			p := writeFile(t, keras, c.rel, c.text)
			_, err := Run(context.Background(), Options{Keras: keras, Runs: runs, Data: data, Names: fabricatedNames})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %s", err, p)
			}
		})
	}
	t.Run("go metrics", func(t *testing.T) {
		keras, runs := fabricated(t)
		p := writeFile(t, runs, "neg/metrics.json", "{")
		_, err := Run(context.Background(), Options{Keras: keras, Runs: runs, Data: data, Names: fabricatedNames})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v does not name %s", err, p)
		}
	})
	t.Run("no data", func(t *testing.T) {
		keras, runs := fabricated(t)
		_, err := Run(context.Background(), Options{Keras: keras, Runs: runs, Data: t.TempDir(), Names: fabricatedNames})
		if err == nil || !strings.Contains(err.Error(), "imdb_word_index.json") {
			t.Errorf("error %v, want one naming the missing word index", err)
		}
	})
}

// TestRunNothing checks that absent folders on both sides are listed as
// missing, not errors, and that no data is read then.
func TestRunNothing(t *testing.T) {
	dir := t.TempDir()
	rep, err := Run(context.Background(), Options{Keras: filepath.Join(dir, "k"), Runs: filepath.Join(dir, "r"), Data: filepath.Join(dir, "none")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != len(configs.Runs()) {
		t.Fatalf("%d rows, want the %d study runs", len(rep.Rows), len(configs.Runs()))
	}
	for _, r := range rep.Rows {
		if len(r.Missing) != 2 || r.N != 0 || !math.IsNaN(r.KerasAccuracy) {
			t.Errorf("%s: %+v, want both sides missing", r.Name, r)
		}
	}
}

func TestReadLabels(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text string
		want []int8
		ok   bool
	}{
		{"0110\n", []int8{0, 1, 1, 0}, true},
		{"1\r\n", []int8{1}, true},
		{"01 0", nil, false},
		{"", nil, false},
	} {
		p := writeFile(t, dir, "l.txt", c.text)
		got, err := ReadLabels(p)
		if c.ok != (err == nil) || c.ok && len(got) != len(c.want) {
			t.Errorf("%q: %v, %v", c.text, got, err)
			continue
		}
		if !c.ok && !errors.Is(err, ErrFormat) {
			t.Errorf("%q: error %v does not match ErrFormat", c.text, err)
		}
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.text, got, c.want)
				break
			}
		}
	}
}

func TestAgreementAndLabels(t *testing.T) {
	got := Labels([]float32{0.2, 0.5, 0.5000001, 0.9, 0})
	want := []int8{0, 0, 1, 1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Labels = %v, want %v (p > 0.5, as Keras)", got, want)
		}
	}
	if n := Agreement([]int8{1, 0, 1, 1}, []int8{1, 1, 1, 0}); n != 2 {
		t.Errorf("Agreement = %d, want 2", n)
	}
}

func TestTrainable(t *testing.T) {
	layer := func(class string, cfg map[string]any) Layer { return Layer{Class: class, Name: "l", Config: cfg} }
	for _, c := range []struct {
		layers []Layer
		ok     bool
	}{
		{[]Layer{layer("Embedding", nil), layer("LSTM", map[string]any{"activation": "tanh", "recurrent_activation": "sigmoid"}), layer("Dense", nil)}, true},
		{[]Layer{layer("Bidirectional", map[string]any{"layer": map[string]any{"class": "LSTM"}}), layer("Dense", nil)}, true},
		{[]Layer{layer("Embedding", map[string]any{"mask_zero": true})}, false},
		{[]Layer{layer("LSTM", map[string]any{"recurrent_activation": "hard_sigmoid"})}, false},
		{[]Layer{layer("Bidirectional", map[string]any{"layer": map[string]any{"class": "GRU"}}), layer("GlobalAveragePooling1D", nil)}, true},
		{[]Layer{layer("GRU", nil), layer("GlobalMaxPooling1D", nil)}, true},
		{[]Layer{layer("GRU", map[string]any{"reset_after": false})}, false},
		{[]Layer{layer("Bidirectional", map[string]any{"layer": map[string]any{"class": "SimpleRNN"}})}, false},
		{[]Layer{layer("SimpleRNN", nil)}, false},
	} {
		in := &Info{Layers: c.layers}
		if ok, why := in.Trainable(); ok != c.ok || ok != (why == "") {
			t.Errorf("%v: Trainable = %v, %q; want %v", c.layers, ok, why, c.ok)
		}
	}
}

func TestRowCells(t *testing.T) {
	r := Row{Name: "deep_lstm", KerasAccuracy: 0.8385, GoAccuracy: 0.5605, GoN: 2000, GoLabelAccuracy: 0.55,
		Agree: 13785, N: 25000, MaxDiff: 1.7e-6, DiffRows: 2000}
	want := []string{"deep_lstm", "0.8385", "0.5605 (2,000 reviews)", "-0.2780", "55.14 % (13,785 / 25,000)", "1.7e-06 (2,000 rows)"}
	if got := r.cells(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("cells = %q, want %q", got, want)
	}
	if r.Inconsistent() {
		t.Error("metrics on 2,000 reviews cannot contradict labels on 25,000")
	}
	r.GoN = 25000
	if !r.Inconsistent() {
		t.Error("accuracy 0.55 from the labels against 0.5605 in metrics.json on the same 25,000 reviews is inconsistent")
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 25000: "25,000", 1234567: "1,234,567", -4000: "-4,000"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}
