package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
)

func writeTSV(t *testing.T, dir, name string, rows int, crlf bool) {
	t.Helper()
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	var b strings.Builder
	b.WriteString("label\tsentence" + eol)
	for i := range rows {
		if i%2 == 0 {
			b.WriteString("1\ta good film" + eol)
		} else {
			b.WriteString("0\tbad , dull plot" + eol)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func corpusConfig(t *testing.T, dir string) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte("name: tsv\ndata: {source: tsv, dir: " + dir + ", train: train.tsv, validation: dev.tsv, test: test.tsv," +
		" text_column: sentence, num_words: 20, maxlen: 6, oov_token: '<u>'}\nmodel:\n  embedding: {dim: 4}\n  layers:\n" +
		"    - {type: lstm, units: 3}\n    - {type: dense, units: 1, activation: sigmoid}\ntrain: {batch_size: 8, epochs: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A text source end to end through Run: the dev file is the validation
// set (every train row trains), the checkpoint carries the vocabulary
// fitted on train (the words in count order: "<u>" then a, good, film,
// bad, dull, plot — ties by first appearance), and metrics.json names the
// data.
func TestRunTextSource(t *testing.T) {
	dir := t.TempDir()
	writeTSV(t, dir, "train.tsv", 20, true)
	writeTSV(t, dir, "dev.tsv", 6, false)
	writeTSV(t, dir, "test.tsv", 10, false)
	out := filepath.Join(dir, "run")
	res, err := Run(context.Background(), corpusConfig(t, dir), RunOptions{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := model.LoadCheckpoint(filepath.Join(out, model.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := dataset.ParseVocabulary([]byte(ck.State[model.StateVocabulary]))
	if err != nil {
		t.Fatalf("checkpoint vocabulary: %v", err)
	}
	if got := strings.Join(v.Words, " "); got != "<u> a good film bad dull plot" || v.NumWords != 20 {
		t.Errorf("vocabulary %q, num_words %d", got, v.NumWords)
	}
	// Validation accuracy is a count of the 6 dev rows; with the 30%
	// validation split of 20 rows it would be a count of 6 too, so check
	// the number of rows trained instead: 20 rows in batches of 8 = 3 steps.
	if it := ck.State["optimizer.iterations"]; it != "3" {
		t.Errorf("optimizer iterations %s, want 3 (all 20 train rows, dev.tsv validating)", it)
	}
	m, err := model.ReadMetrics(filepath.Join(out, model.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Dataset != "train.tsv" || m.NumWords != 20 || m.MaxLen != 6 || m.N != 10 || m.Split != "test" || m != res.Test {
		t.Errorf("metrics %+v", m)
	}
}

// Bad data is a clear error and leaves no run folder.
func TestRunTextSourceErrors(t *testing.T) {
	dir := t.TempDir()
	writeTSV(t, dir, "train.tsv", 4, false)
	os.WriteFile(filepath.Join(dir, "dev.tsv"), []byte("label\tsentence\n1\tok\n7\n"), 0o644)
	writeTSV(t, dir, "test.tsv", 2, false)
	out := filepath.Join(dir, "run")
	_, err := Run(context.Background(), corpusConfig(t, dir), RunOptions{OutDir: out})
	if !errors.Is(err, dataset.ErrFormat) || !strings.Contains(err.Error(), "dev.tsv") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want ErrFormat naming dev.tsv line 3", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run folder left behind: %v", err)
	}
	// A label outside the sigmoid head's 0/1.
	os.WriteFile(filepath.Join(dir, "dev.tsv"), []byte("label\tsentence\n2\tok\n"), 0o644)
	if _, err := Run(context.Background(), corpusConfig(t, dir), RunOptions{OutDir: out}); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "validation split") || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("label 2: err = %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run folder left behind after a bad label: %v", err)
	}
}

// Every embedded run resolves, and the text-source ones name their splits.
func TestEmbeddedConfigsResolve(t *testing.T) {
	for _, name := range configs.Names() {
		cfg, err := configs.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := Resolve(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if strings.HasPrefix(name, "sst2") && (cfg.Data.Source != configs.SourceTSV || DatasetName(cfg) != "sst2") {
			t.Errorf("%s: source %q, dataset %q", name, cfg.Data.Source, DatasetName(cfg))
		}
	}
}
