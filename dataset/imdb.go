package dataset

import (
	"fmt"
)

// LoadOptions are the arguments of keras.datasets.imdb.load_data.
//
// NumWords keeps the ids below NumWords (0 = all: Keras then uses the
// largest id, which itself becomes OOVChar); SkipTop turns ids below it
// into OOVChar. MaxLen (0 = none) DROPS every sequence whose length,
// start marker included, is MaxLen or more, as Keras 2.x does. Seed seeds
// the shuffles (numpy RandomState, [0, 2^32−1]). StartChar, OOVChar and
// IndexFrom as in EncodeOptions; a negative StartChar or OOVChar is
// Keras's None.
type LoadOptions struct {
	NumWords, SkipTop, MaxLen int
	Seed                      int64
	StartChar, OOVChar        int
	IndexFrom                 int
}

// DefaultLoadOptions returns Keras's defaults: all words, no length
// filter, seed 113, start 1, out-of-vocabulary 2, ranks shifted by 3.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{Seed: 113, StartChar: 1, OOVChar: 2, IndexFrom: 3}
}

// Encode returns the id options of o.
func (o LoadOptions) Encode() EncodeOptions {
	return EncodeOptions{NumWords: o.NumWords, SkipTop: o.SkipTop, StartChar: o.StartChar, OOVChar: o.OOVChar, IndexFrom: o.IndexFrom}
}

func (o LoadOptions) validate() error {
	switch {
	case o.NumWords < 0:
		return fmt.Errorf("%w: num_words %d is negative", ErrOption, o.NumWords)
	case o.SkipTop < 0:
		return fmt.Errorf("%w: skip_top %d is negative", ErrOption, o.SkipTop)
	case o.MaxLen < 0:
		return fmt.Errorf("%w: maxlen %d is negative", ErrOption, o.MaxLen)
	case o.IndexFrom < 0:
		return fmt.Errorf("%w: index_from %d is negative", ErrOption, o.IndexFrom)
	case o.Seed < 0 || o.Seed > 1<<32-1:
		return fmt.Errorf("%w: seed %d is outside [0, 2^32-1]", ErrOption, o.Seed)
	}
	return nil
}

// Split is one side of a dataset: row i is the id sequence X[i] (unpadded,
// [rows][its length]) with label Y[i] ([rows], 1 positive, 0 negative),
// read from the review file Files[i] ([rows], "train/pos/576_10.txt").
// PadSequences(X, …) turns X into a [rows, maxlen] Matrix.
type Split struct {
	X     [][]int32
	Y     []int32
	Files []string
}

// Len returns the number of rows.
func (s *Split) Len() int { return len(s.Y) }

// LoadData loads IMDB from the data folder dir (see Locate) exactly as
// keras.datasets.imdb.load_data does from imdb.npz: the same ids, the
// same rows in the same order. Train is shuffled with
// RandomState(o.Seed) and test with the same generator continuing.
//
// Errors: ErrOption for bad options, ErrNotFound for missing inputs,
// ErrCorrupt or ErrFormat for unreadable ones, ErrEmpty when MaxLen
// leaves a split without rows.
func LoadData(dir string, o LoadOptions) (train, test *Split, err error) {
	if err := o.validate(); err != nil {
		return nil, nil, err
	}
	files, err := Locate(dir)
	if err != nil {
		return nil, nil, err
	}
	tr, te, err := readReviews(files.Reviews, func() (*wordTable, error) {
		wi, err := LoadWordIndex(files.WordIndex)
		if err != nil {
			return nil, err
		}
		return newWordTable(wi), nil
	})
	if err != nil {
		return nil, nil, err
	}
	return FromReviews(tr, te, o)
}

// FromReviews applies load_data to reviews in pre-shuffle order (as
// ReadReviews returns them): shuffle, start marker and index offset,
// MaxLen filter, NumWords/SkipTop/OOVChar. The reviews are not modified.
func FromReviews(trainRev, testRev []Review, o LoadOptions) (train, test *Split, err error) {
	if err := o.validate(); err != nil {
		return nil, nil, err
	}
	rng, err := NewRandomState(o.Seed)
	if err != nil {
		return nil, nil, err
	}
	build := func(rs []Review) *Split {
		perm := rng.Perm(len(rs))
		s := &Split{X: make([][]int32, 0, len(rs)), Y: make([]int32, 0, len(rs)), Files: make([]string, 0, len(rs))}
		// One backing array for all rows instead of an allocation each.
		total := 0
		for _, r := range rs {
			total += len(r.Ranks) + 1
		}
		arena := make([]int32, 0, total)
		for _, i := range perm {
			off := len(arena)
			arena = appendWithStart(arena, rs[i].Ranks, o.StartChar, o.IndexFrom)
			x := arena[off:len(arena):len(arena)]
			if o.MaxLen > 0 && len(x) >= o.MaxLen {
				arena = arena[:off]
				continue
			}
			s.X = append(s.X, x)
			s.Y = append(s.Y, rs[i].Label)
			s.Files = append(s.Files, rs[i].Name)
		}
		return s
	}
	train = build(trainRev)
	test = build(testRev)
	if o.MaxLen > 0 && (train.Len() == 0 || test.Len() == 0) {
		return nil, nil, fmt.Errorf("%w: after keeping sequences shorter than maxlen=%d no sequence was left; increase maxlen", ErrEmpty, o.MaxLen)
	}
	limit := o.NumWords
	if limit == 0 {
		// Keras: num_words = max(max(x) for x in xs); ids < num_words are
		// kept, so the largest id itself becomes oov_char.
		for _, s := range []*Split{train, test} {
			for _, x := range s.X {
				for _, w := range x {
					limit = max(limit, int(w))
				}
			}
		}
	}
	for _, s := range []*Split{train, test} {
		for i, x := range s.X {
			s.X[i] = mapOOV(x, o.SkipTop, limit, o.OOVChar)
		}
	}
	return train, test, nil
}
