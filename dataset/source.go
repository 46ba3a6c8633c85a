package dataset

import "context"

// Source is a labelled text dataset turned into word ids: its train and
// test splits, in a fixed order, encoded under o. Trainers take a Source,
// so any dataset that can give (ids, label) rows plugs in: IMDB today; a
// TSV/CSV/JSONL file or a folder per class implements the same method with
// its own tokenizer and vocabulary.
type Source interface {
	// Load returns the train and test splits. Errors name the source and
	// wrap this package's sentinels (ErrNotFound for missing data).
	Load(ctx context.Context, o LoadOptions) (train, test *Split, err error)
}

// IMDB is the Source of the Stanford IMDB reviews and Keras's word index in
// the data folder Dir (see Locate), loaded as keras.datasets.imdb.load_data
// loads them (LoadData).
type IMDB struct {
	Dir string
}

// Load implements Source with LoadData. It checks ctx before the work, which
// is a second or two of streaming the archive.
func (s IMDB) Load(ctx context.Context, o LoadOptions) (train, test *Split, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return LoadData(s.Dir, o)
}
