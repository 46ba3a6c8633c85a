package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
)

// SourceOf is the dataset cfg.Data names: dataset.IMDB in data.dir, or a
// dataset.Corpus of the data.train / validation / test files (or class
// folders), paths under data.dir unless absolute.
func SourceOf(cfg *configs.Config) (dataset.Source, error) {
	d := cfg.Data
	if d.Source == "" || d.Source == configs.SourceIMDB {
		return dataset.IMDB{Dir: d.Dir}, nil
	}
	path := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(d.Dir, p)
	}
	c := dataset.Corpus{
		Format: d.Source, Train: path(d.Train), Validation: path(d.Validation), Test: path(d.Test),
		Text:     dataset.TextOptions{TextColumn: d.TextColumn, LabelColumn: d.LabelColumn},
		OOVToken: d.OOVToken,
	}
	if d.Source == configs.SourceFolder {
		c.Format = dataset.Folder
	}
	if d.Labels != "" {
		m, err := dataset.ParseLabelMap(d.Labels)
		if err != nil {
			return nil, &configs.Error{Key: "data.labels", Msg: err.Error()}
		}
		c.Text.Labels = m
	}
	return c, nil
}

// Splits are the padded splits of a source. Validation is empty (Len 0)
// unless the source has a validation split of its own, which then
// replaces train.validation_split; Vocabulary is the one a text source
// fitted (nil for IMDB, whose word index is Keras's); Classes the label
// names the source has (dataset.Splits.Classes), else nil.
type Splits struct {
	Train, Validation, Test Data
	Vocabulary              *dataset.Vocabulary
	Classes                 []string
}

// LoadSplits loads src under cfg.Data: the ids the source gives, then
// pad_sequences(maxlen, padding, truncating). cfg.Data.Limit > 0 keeps the
// first Limit rows of each split.
func LoadSplits(ctx context.Context, src dataset.Source, cfg *configs.Config) (*Splits, error) {
	if src == nil {
		return nil, errors.New("train: no data source")
	}
	dc := &cfg.Data
	o := dataset.DefaultLoadOptions()
	o.NumWords, o.SkipTop, o.Seed, o.IndexFrom = dc.NumWords, dc.SkipTop, dc.Seed, dc.IndexFrom
	var raw *dataset.Splits
	if ss, ok := src.(dataset.SplitSource); ok {
		var err error
		if raw, err = ss.LoadSplits(ctx, o); err != nil {
			return nil, err
		}
	} else {
		tr, te, err := src.Load(ctx, o)
		if err != nil {
			return nil, err
		}
		raw = &dataset.Splits{Train: tr, Test: te}
	}
	pad := func(s *dataset.Split) (Data, error) {
		if s == nil {
			return Data{}, nil
		}
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
	out := &Splits{Vocabulary: raw.Vocabulary, Classes: raw.Classes}
	var err error
	if out.Train, err = pad(raw.Train); err != nil {
		return nil, err
	}
	if out.Validation, err = pad(raw.Validation); err != nil {
		return nil, err
	}
	if out.Test, err = pad(raw.Test); err != nil {
		return nil, err
	}
	return out, nil
}

// sourceState is the checkpoint State entries that carry a text source's
// vocabulary (model.StateVocabulary) and label names (model.StateLabels),
// or nil for IMDB.
func sourceState(sp *Splits) (map[string]string, error) {
	st := map[string]string{}
	if sp.Vocabulary != nil {
		b, err := sp.Vocabulary.Marshal()
		if err != nil {
			return nil, fmt.Errorf("train: vocabulary: %w", err)
		}
		st[model.StateVocabulary] = string(b)
	}
	if sp.Classes != nil {
		b, err := json.Marshal(sp.Classes)
		if err != nil {
			return nil, fmt.Errorf("train: label names: %w", err)
		}
		st[model.StateLabels] = string(b)
	}
	if len(st) == 0 {
		return nil, nil
	}
	return st, nil
}

// DatasetName is what metrics and reports call cfg's data: data.name,
// else "imdb", else the training split's path.
func DatasetName(cfg *configs.Config) string {
	d := cfg.Data
	switch {
	case d.Name != "":
		return d.Name
	case d.Source == "" || d.Source == configs.SourceIMDB:
		return configs.SourceIMDB
	}
	return d.Train
}

// MetricsOf is the metrics.json of loss and accuracy on n rows of split,
// naming the data (dataset, num_words, maxlen).
func MetricsOf(cfg *configs.Config, split string, n int, loss, acc float64) model.Metrics {
	return model.Metrics{Loss: loss, Accuracy: acc, Split: split, N: n,
		Dataset: DatasetName(cfg), NumWords: cfg.Data.NumWords, MaxLen: cfg.Data.MaxLen}
}
