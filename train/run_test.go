package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
)

// memSource is a Source held in memory: a dataset that is not IMDB.
type memSource struct {
	train, test *dataset.Split
	got         dataset.LoadOptions
}

func (s *memSource) Load(_ context.Context, o dataset.LoadOptions) (*dataset.Split, *dataset.Split, error) {
	s.got = o
	return s.train, s.test, nil
}

// rows is a toy task: a row is positive when it holds the id 7.
func rows(n int) *dataset.Split {
	s := &dataset.Split{}
	for i := range n {
		x := []int32{1, int32(3 + i%5), int32(4 + i%3)}
		y := int32(0)
		if i%2 == 0 {
			x = append(x, 7)
			y = 1
		}
		s.X, s.Y = append(s.X, x), append(s.Y, y)
	}
	return s
}

func runConfig(t *testing.T) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte("name: mem\ndata: {num_words: 10, maxlen: 6, skip_top: 1}\nmodel:\n  embedding: {dim: 4}\n  layers:\n" +
		"    - {type: lstm, units: 3}\n    - {type: dense, units: 1, activation: sigmoid}\ntrain: {batch_size: 8, epochs: 1, validation_split: 0.25}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRunTakesAnySource trains through Run on a source that is not IMDB:
// the source receives the config's encoding, the rows are padded to
// data.maxlen, and the run folder gets its checkpoint, history and metrics.
func TestRunTakesAnySource(t *testing.T) {
	src := &memSource{train: rows(32), test: rows(12)}
	out := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), runConfig(t), RunOptions{Data: src, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if src.got.NumWords != 10 || src.got.SkipTop != 1 || src.got.Seed != 113 || src.got.IndexFrom != 3 {
		t.Errorf("source asked for %+v, want the config's num_words 10, skip_top 1, seed 113, index_from 3", src.got)
	}
	if res.Test.N != 12 || res.Test.Split != "test" || res.History.Epochs() != 1 {
		t.Errorf("result: test %+v, %d epochs", res.Test, res.History.Epochs())
	}
	for _, f := range []string{model.CheckpointFile, model.HistoryFile, model.MetricsFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	m, err := model.ReadMetrics(filepath.Join(out, model.MetricsFile))
	if err != nil || m != res.Test {
		t.Errorf("metrics.json %+v (%v), Run returned %+v", m, err, res.Test)
	}
}

// TestRunMissingDataLeavesNoFolder: a data folder without IMDB is an
// error naming what is missing, and no empty run folder is left behind.
func TestRunMissingDataLeavesNoFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "runs", "mem")
	_, err := Run(context.Background(), runConfig(t), RunOptions{Data: dataset.IMDB{Dir: t.TempDir()}, OutDir: out})
	if !errors.Is(err, dataset.ErrNotFound) {
		t.Fatalf("err = %v, want dataset.ErrNotFound", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run folder %s exists after a failed load (%v)", out, err)
	}
	if _, err := os.Stat(filepath.Dir(out)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("parent %s created after a failed load", filepath.Dir(out))
	}
	if _, err := Run(context.Background(), runConfig(t), RunOptions{OutDir: out}); err == nil {
		t.Error("Run without a data source succeeded")
	}
}
