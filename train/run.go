package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
)

// Load loads the train and test splits of src under cfg.Data as the study
// did with IMDB: load_data(num_words, skip_top, seed, index_from) with no
// length filter, then pad_sequences(maxlen, padding, truncating).
// cfg.Data.Limit > 0 keeps the first Limit rows of each split.
func Load(ctx context.Context, src dataset.Source, cfg *configs.Config) (trainD, testD Data, err error) {
	if src == nil {
		return Data{}, Data{}, errors.New("train: no data source")
	}
	dc := cfg.Data
	o := dataset.DefaultLoadOptions()
	o.NumWords, o.SkipTop, o.Seed, o.IndexFrom = dc.NumWords, dc.SkipTop, dc.Seed, dc.IndexFrom
	tr, te, err := src.Load(ctx, o)
	if err != nil {
		return Data{}, Data{}, err
	}
	pad := func(s *dataset.Split) (Data, error) {
		x, y := s.X, s.Y
		if dc.Limit > 0 && dc.Limit < len(y) {
			x, y = x[:dc.Limit], y[:dc.Limit]
		}
		m, err := dataset.PadSequences(x, dc.MaxLen, dc.Padding, dc.Truncating, 0)
		if err != nil {
			return Data{}, err
		}
		return Data{X: m, Y: y}, nil
	}
	if trainD, err = pad(tr); err != nil {
		return Data{}, Data{}, err
	}
	if testD, err = pad(te); err != nil {
		return Data{}, Data{}, err
	}
	return trainD, testD, nil
}

// RunOptions control Run.
type RunOptions struct {
	Data     dataset.Source // the rows to train and test on, e.g. dataset.IMDB{Dir: …}
	OutDir   string         // run folder: checkpoint, history and metrics
	Resume   bool           // continue from OutDir's checkpoint
	Epochs   int            // 0 = cfg.Train.Epochs
	Progress io.Writer
	Live     bool
}

// Result is what Run produced.
type Result struct {
	Model   *model.Model
	History *model.History
	Test    model.Metrics
}

// Run is one complete training run of cfg: load o.Data, build the model,
// Fit with a checkpoint and history in o.OutDir, evaluate on the test split
// and write metrics.json there. The run folder is created only once the
// data and the model are ready, so a missing dataset leaves nothing behind.
// cfg is resolved in place first (Resolve).
func Run(ctx context.Context, cfg *configs.Config, o RunOptions) (*Result, error) {
	if err := Resolve(cfg); err != nil {
		return nil, err
	}
	if o.OutDir == "" {
		return nil, errors.New("train: no output folder")
	}
	trainD, testD, err := Load(ctx, o.Data, cfg)
	if err != nil {
		return nil, err
	}
	m, err := model.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	h, err := Fit(ctx, m, trainD, FitOptions{
		Epochs:     o.Epochs,
		Checkpoint: filepath.Join(o.OutDir, model.CheckpointFile),
		History:    filepath.Join(o.OutDir, model.HistoryFile),
		Resume:     o.Resume,
		Progress:   o.Progress,
		Live:       o.Live,
	})
	if err != nil {
		return &Result{Model: m, History: h}, err
	}
	loss, acc, err := Evaluate(ctx, m, testD, cfg.Train.BatchSize)
	if err != nil {
		return &Result{Model: m, History: h}, err
	}
	met := model.Metrics{Loss: loss, Accuracy: acc, Split: "test", N: testD.Len()}
	if err := model.WriteMetrics(filepath.Join(o.OutDir, model.MetricsFile), met); err != nil {
		return nil, err
	}
	return &Result{Model: m, History: h, Test: met}, nil
}
