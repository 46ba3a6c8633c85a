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

// Load loads the train and test splits of src under cfg.Data (see
// LoadSplits), as the study did with IMDB: load_data(num_words, skip_top,
// seed, index_from) with no length filter, then pad_sequences(maxlen,
// padding, truncating).
func Load(ctx context.Context, src dataset.Source, cfg *configs.Config) (trainD, testD Data, err error) {
	s, err := LoadSplits(ctx, src, cfg)
	if err != nil {
		return Data{}, Data{}, err
	}
	return s.Train, s.Test, nil
}

// RunOptions control Run.
type RunOptions struct {
	Data     dataset.Source // the rows to train and test on; nil = SourceOf(cfg)
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
	src := o.Data
	if src == nil {
		var err error
		if src, err = SourceOf(cfg); err != nil {
			return nil, err
		}
	}
	sp, err := LoadSplits(ctx, src, cfg)
	if err != nil {
		return nil, err
	}
	trainD, testD := sp.Train, sp.Test
	state, err := sourceState(sp)
	if err != nil {
		return nil, err
	}
	var val *Data
	if sp.Validation.Len() > 0 {
		val = &sp.Validation
	}
	m, err := model.New(cfg)
	if err != nil {
		return nil, err
	}
	// Ids and labels are checked before the folder is made, so bad data
	// (a label the head cannot take) leaves nothing behind.
	r, err := newRunner(m, 0)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		d    Data
	}{{"train", trainD}, {"validation", sp.Validation}, {"test", testD}} {
		if s.d.Len() == 0 && s.name == "validation" {
			continue
		}
		if err := s.d.check(r.vocab, r.classes); err != nil {
			return nil, fmt.Errorf("%s split: %w", s.name, err)
		}
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
		Validation: val,
		State:      state,
	})
	if err != nil {
		return &Result{Model: m, History: h}, err
	}
	loss, acc, err := Evaluate(ctx, m, testD, cfg.Train.BatchSize)
	if err != nil {
		return &Result{Model: m, History: h}, err
	}
	met := MetricsOf(cfg, "test", testD.Len(), loss, acc)
	if err := model.WriteMetrics(filepath.Join(o.OutDir, model.MetricsFile), met); err != nil {
		return nil, err
	}
	return &Result{Model: m, History: h, Test: met}, nil
}
