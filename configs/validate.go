package configs

import "strings"

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errf(key, "unknown value %q (want %s)", v, strings.Join(allowed, " or "))
}

// Validate checks the data section and the scalar settings of the train
// section; every error is an *Error naming the key. The layers are checked
// by model.Resolve and the optimizer by package train, which own them.
func (c *Config) Validate() error {
	d := &c.Data
	switch {
	case d.NumWords < 0:
		return errf("data.num_words", "must be ≥ 0 (0 keeps every word), got %d", d.NumWords)
	case d.SkipTop < 0:
		return errf("data.skip_top", "must be ≥ 0, got %d", d.SkipTop)
	case d.MaxLen <= 0:
		return errf("data.maxlen", "must be > 0, got %d", d.MaxLen)
	case d.IndexFrom < 0:
		return errf("data.index_from", "must be ≥ 0, got %d", d.IndexFrom)
	case d.Limit < 0:
		return errf("data.limit", "must be ≥ 0 (0 = all rows), got %d", d.Limit)
	case d.Dir == "":
		return errf("data.dir", "must not be empty")
	}
	if err := oneOf("data.source", d.Source, SourceIMDB, SourceTSV, SourceCSV, SourceJSONL, SourceFolder); err != nil {
		return err
	}
	if d.Source != SourceIMDB {
		switch {
		case d.Train == "":
			return errf("data.train", "data.source %s needs the training split's path", d.Source)
		case d.Test == "":
			return errf("data.test", "data.source %s needs the test split's path", d.Source)
		case d.Source != SourceFolder && (d.TextColumn == "" || d.LabelColumn == ""):
			return errf("data.text_column", "the text and label columns must be named")
		}
	}
	if err := oneOf("data.padding", d.Padding, "pre", "post"); err != nil {
		return err
	}
	if err := oneOf("data.truncating", d.Truncating, "pre", "post"); err != nil {
		return err
	}
	t := &c.Train
	switch {
	case t.BatchSize <= 0:
		return errf("train.batch_size", "must be > 0, got %d", t.BatchSize)
	case t.Epochs <= 0:
		return errf("train.epochs", "must be > 0, got %d", t.Epochs)
	case t.ValidationSplit < 0 || t.ValidationSplit >= 1:
		return errf("train.validation_split", "must be in [0, 1), got %g", t.ValidationSplit)
	}
	return nil
}
