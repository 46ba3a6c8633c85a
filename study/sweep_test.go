package study

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

func sweepFixture(t *testing.T) (dir, base string) {
	t.Helper()
	dir = t.TempDir()
	rows := "label\ttext\n" + strings.Repeat("1\tgood fine film\n0\tbad dull plot\n", 20)
	for _, f := range []string{"train.tsv", "test.tsv"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(rows), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base = filepath.Join(dir, "base.yaml")
	os.WriteFile(base, []byte("name: tiny\ndata: {source: tsv, dir: "+dir+", train: train.tsv, test: test.tsv, num_words: 10, maxlen: 5}\n"+
		"model:\n  embedding: {dim: 4}\n  layers:\n    - {type: lstm, units: 3, bidirectional: true, return_sequences: true}\n"+
		"    - {type: lstm, units: 3}\n    - {type: dense, units: 1, activation: sigmoid}\ntrain: {batch_size: 8, epochs: 2}\n"), 0o644)
	return dir, base
}

func TestSweepExpandAndApply(t *testing.T) {
	_, base := sweepFixture(t)
	s, err := ParseSweep([]byte("base: " + base + "\ngrid:\n  - {key: train.optimizer.name, values: [adam, sgd]}\n" +
		"  - {key: 'model.layers[*].recurrent_dropout', values: [0, 0.2]}\nruns:\n  - {'model.layers[0].recurrent_initializer': identity}\n"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	want := "recurrent_initializer=identity name=adam,recurrent_dropout=0 name=adam,recurrent_dropout=0.2 name=sgd,recurrent_dropout=0 name=sgd,recurrent_dropout=0.2"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("runs %s\nwant %s", got, want)
	}
	cfg, err := configs.Load(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Apply(cfg, runs[4].Values)
	if err != nil {
		t.Fatal(err)
	}
	// [*] sets the recurrent layers only; sgd gets its own default rate
	// (0.01), not the base's adam one.
	if c.Model.Layers[0].RecurrentDropout != 0.2 || c.Model.Layers[1].RecurrentDropout != 0.2 || c.Model.Layers[2].RecurrentDropout != 0 {
		t.Errorf("recurrent_dropout per layer: %v %v %v", c.Model.Layers[0].RecurrentDropout, c.Model.Layers[1].RecurrentDropout, c.Model.Layers[2].RecurrentDropout)
	}
	if c.Train.Optimizer.Name != "sgd" || c.Train.Optimizer.LearningRate != 0.01 {
		t.Errorf("optimizer %+v", c.Train.Optimizer)
	}
	c, err = Apply(cfg, runs[0].Values)
	if err != nil || c.Model.Layers[0].RecurrentInitializer != "identity" || c.Model.Layers[1].RecurrentInitializer == "identity" {
		t.Errorf("layer 0 only: %v", err)
	}
	for _, bad := range []map[string]any{
		{"train.optimiser.name": "adam"},         // unknown key
		{"model.layers[7].units": 3},             // no such layer
		{"train.epochs": "many"},                 // wrong type
		{"train.optimizer.name": "lbfgs"},        // unknown optimizer
		{"model.layers[*].recurrent_dropout": 2}, // out of range
	} {
		if _, err := Apply(cfg, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	for _, bad := range []string{"grid: []", "base: x\n", "base: x\ngrid:\n  - {key: a}\n", "base: x\nnope: 1\n"} {
		if _, err := ParseSweep([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

var reportRow = regexp.MustCompile(`(?m)^\| (\d+) \| (\S+) \| \S+ \| \d+ \| ([0-9.]+) \|`)

// A sweep trains each run in its folder and reports them sorted by
// validation accuracy; a second call skips the finished runs; a run whose
// metrics are gone but whose checkpoint is complete resumes without
// training again; a folder of another configuration is refused.
func TestRunSweepSkipResumeReport(t *testing.T) {
	_, base := sweepFixture(t)
	s, err := ParseSweep([]byte("name: tiny sweep\nbase: " + base + "\nset: {train.seed: 3}\ngrid:\n  - {key: train.optimizer.name, values: [adam, sgd, rmsprop]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sweep")
	var log bytes.Buffer
	if err := RunSweep(context.Background(), s, SweepOptions{Out: out, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	rep, err := os.ReadFile(filepath.Join(out, SweepReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := reportRow.FindAllStringSubmatch(string(rep), -1)
	if len(rows) != 3 {
		t.Fatalf("report has %d rows:\n%s", len(rows), rep)
	}
	prev := 2.0
	for _, r := range rows {
		name, acc := r[2], r[3]
		v, _ := strconv.ParseFloat(acc, 64)
		h, err := model.ReadHistory(filepath.Join(out, name, model.HistoryFile))
		if err != nil {
			t.Fatal(err)
		}
		if got := strconv.FormatFloat(h.ValAccuracy[len(h.ValAccuracy)-1], 'f', 4, 64); got != acc {
			t.Errorf("%s: report says val acc %s, history %s", name, acc, got)
		}
		if v > prev {
			t.Errorf("report not sorted by validation accuracy:\n%s", rep)
		}
		prev = v
	}
	for _, f := range []string{"compare_val.png", "compare_train.png", "name=sgd/config.yaml", "name=sgd/curves.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(string(rep), "`train.seed=3`") || !strings.Contains(string(rep), "`train.optimizer.name`: adam, sgd, rmsprop") {
		t.Errorf("report does not state the grid:\n%s", rep)
	}

	// Skip: nothing is trained again.
	metrics := filepath.Join(out, "name=adam", model.MetricsFile)
	before, _ := os.ReadFile(metrics)
	st, _ := os.Stat(metrics)
	log.Reset()
	if err := RunSweep(context.Background(), s, SweepOptions{Out: out, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "done already") != 3 {
		t.Errorf("second run log:\n%s", log.String())
	}
	if st2, _ := os.Stat(metrics); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("a finished run's metrics were rewritten")
	}

	// Resume: the checkpoint holds both epochs, so only the test is redone.
	os.Remove(metrics)
	log.Reset()
	if err := RunSweep(context.Background(), s, SweepOptions{Out: out, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(metrics)
	if !bytes.Equal(before, after) {
		t.Errorf("resumed run's metrics differ:\n%s\nwas\n%s", after, before)
	}
	if h, _ := model.ReadHistory(filepath.Join(out, "name=adam", model.HistoryFile)); h.Epochs() != 2 {
		t.Errorf("resumed run has %d epochs, want 2", h.Epochs())
	}

	// Another configuration in a run's folder is refused.
	os.WriteFile(filepath.Join(out, "name=sgd", SweepConfigFile), []byte("name: other\n"), 0o644)
	if err := RunSweep(context.Background(), s, SweepOptions{Out: out}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("foreign config: err = %v", err)
	}
}

// The embedded exercise: 25 runs, one factor at a time, each valid on the
// deep BiLSTM.
func TestExercisesSweep(t *testing.T) {
	s := Exercises()
	runs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 25 || runs[0].Name != "base" {
		t.Fatalf("%d runs, first %q", len(runs), runs[0].Name)
	}
	base, err := configs.Load(s.Base)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if _, err := Apply(base, r.Values); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
}

// FuzzParseSweep: any bytes as a sweep file — never a panic; a sweep that
// parses expands to uniquely named runs, or says why not.
func FuzzParseSweep(f *testing.F) {
	f.Add([]byte("base: deep_bilstm\ngrid:\n  - {key: train.optimizer.name, values: [adam, sgd]}\n"))
	f.Add([]byte("base: x\nset: {train.epochs: 1}\nruns:\n  - {}\n  - {'model.layers[*].recurrent_dropout': 0.2}\n"))
	f.Add(exercisesYAML)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSweep(b)
		if err != nil {
			return
		}
		runs, err := s.Expand()
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range runs {
			if r.Name == "" || strings.ContainsAny(r.Name, "/\\") || seen[r.Name] {
				t.Fatalf("run name %q", r.Name)
			}
			seen[r.Name] = true
		}
	})
}
