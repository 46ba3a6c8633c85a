package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Folder is the format of a folder per class, the layout of Keras's
// text_dataset_from_directory: <split>/<class>/**.txt.
const Folder = "folder"

// Splits is what a Source with data of its own gives: train and test, a
// validation split when the source has one (SST-2's dev set), and the
// vocabulary the ids were made with when the source built one. Classes
// names the labels when the source has names for them (Classes[k] is
// label k's; "" where a label has none): a folder per class, or a label
// mapping; nil for integer labels and IMDB.
type Splits struct {
	Train, Validation, Test *Split
	Vocabulary              *Vocabulary
	Classes                 []string
}

// ClassNames turns a label mapping (name → label) into names by label:
// out[k] is the name of label k ("" for a label no name maps to; of
// several names of one label, the first in sorted order). Nil for an
// empty mapping or one with a negative label.
func ClassNames(labels map[string]int32) []string {
	n := 0
	for _, l := range labels {
		if l < 0 {
			return nil
		}
		n = max(n, int(l)+1)
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if l := labels[name]; out[l] == "" {
			out[l] = name
		}
	}
	return out
}

// SplitSource is a Source that may have a validation split and a
// vocabulary of its own (Corpus).
type SplitSource interface {
	Source
	LoadSplits(ctx context.Context, o LoadOptions) (*Splits, error)
}

// Corpus is a labelled text dataset of the user's: a file per split (TSV,
// CSV or JSON lines, read by ReadLabeledText) or a folder per split with a
// folder per class (ReadClassFolders). Its vocabulary is fitted on the
// training split only, as keras Tokenizer.fit_on_texts (FitVocabulary with
// LoadOptions.NumWords and OOVToken); every split is then
// texts_to_sequences of it, so the ids are Tokenizer indices (no start
// marker, no index offset: LoadOptions.StartChar, IndexFrom and SkipTop do
// not apply).
//
// The training rows are shuffled with RandomState(LoadOptions.Seed), as
// load_data shuffles IMDB, so that a validation_split taken from their end
// is not one class; validation and test rows keep the file's order.
// LoadOptions.MaxLen > 0 drops rows of MaxLen ids or more, as for IMDB.
type Corpus struct {
	Format string // TSV, CSV, JSONL or Folder; "" = from each file's extension
	// Train, Validation and Test are the splits' files (folders for
	// Folder); Validation may be "".
	Train, Validation, Test string
	Text                    TextOptions // columns and label mapping (files)
	OOVToken                string      // Tokenizer's oov_token; "" = None
}

// Load implements Source (the validation split, if any, is dropped).
func (c Corpus) Load(ctx context.Context, o LoadOptions) (train, test *Split, err error) {
	s, err := c.LoadSplits(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return s.Train, s.Test, nil
}

// LoadSplits reads every split, fits the vocabulary on the training texts
// and encodes them. Errors name the file and wrap ErrNotFound, ErrFormat
// (with the line), ErrEmpty (a split without rows) or ErrOption.
func (c Corpus) LoadSplits(ctx context.Context, o LoadOptions) (*Splits, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if c.Train == "" || c.Test == "" {
		return nil, fmt.Errorf("%w: a text dataset needs a train and a test split", ErrOption)
	}
	read := func(path string, classes []string) ([]TextRecord, []string, error) {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if c.Format == Folder {
			return ReadClassFolders(path, classes, c.Text.Labels)
		}
		to := c.Text
		to.Format = c.Format
		recs, err := ReadLabeledText(path, to)
		return recs, nil, err
	}
	trainRecs, classes, err := read(c.Train, nil)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(trainRecs))
	for i, r := range trainRecs {
		texts[i] = r.Text
	}
	v, err := FitVocabulary(texts, o.NumWords, c.OOVToken)
	if err != nil {
		return nil, err
	}
	rng, err := NewRandomState(o.Seed)
	if err != nil {
		return nil, err
	}
	encode := func(path string, recs []TextRecord, perm []int) (*Split, error) {
		s := &Split{}
		base := filepath.Base(path)
		for k := range recs {
			r := recs[k]
			if perm != nil {
				r = recs[perm[k]]
			}
			x := v.Encode(r.Text)
			if o.MaxLen > 0 && len(x) >= o.MaxLen {
				continue
			}
			name := base + ":" + strconv.Itoa(r.Line)
			if r.Name != "" {
				name = r.Name
			}
			s.X, s.Y, s.Files = append(s.X, x), append(s.Y, r.Label), append(s.Files, name)
		}
		if s.Len() == 0 {
			return nil, fmt.Errorf("%w: %s: no row is shorter than maxlen=%d", ErrEmpty, path, o.MaxLen)
		}
		return s, nil
	}
	out := &Splits{Vocabulary: v, Classes: ClassNames(c.Text.Labels)}
	if out.Classes == nil && c.Format == Folder {
		out.Classes = classes
	}
	if out.Train, err = encode(c.Train, trainRecs, rng.Perm(len(trainRecs))); err != nil {
		return nil, err
	}
	for _, sp := range []struct {
		path string
		dst  **Split
	}{{c.Validation, &out.Validation}, {c.Test, &out.Test}} {
		if sp.path == "" {
			continue
		}
		recs, _, err := read(sp.path, classes)
		if err != nil {
			return nil, err
		}
		if *sp.dst, err = encode(sp.path, recs, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadClassFolders reads a folder per class as Keras's
// text_dataset_from_directory(labels="inferred") does: the class names are
// root's subfolders sorted by name, a class's label is its position in
// that order (or labels[name] when labels is given), and its texts are the
// .txt files anywhere below its folder, in path order. classes, when not
// nil, are the training split's classes: a folder outside them is an
// error, so the labels of every split agree. Records are named by their
// path under root (Line 0).
//
// Errors: root missing (ErrNotFound); no class folder, an unknown class
// (ErrFormat); no .txt file at all (ErrEmpty).
func ReadClassFolders(root string, classes []string, labels map[string]int32) ([]TextRecord, []string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, root)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() {
			found = append(found, e.Name())
		}
	}
	if len(found) == 0 {
		return nil, nil, fmt.Errorf("%w: %s has no class folders (want %s/<class>/*.txt)", ErrFormat, root, root)
	}
	if classes == nil {
		classes = found
	}
	var recs []TextRecord
	for _, cls := range found {
		lab := int32(slices.Index(classes, cls))
		if lab < 0 {
			return nil, nil, fmt.Errorf("%w: %s: class folder %q is not a training class (%s)", ErrFormat, root, cls, strings.Join(classes, ", "))
		}
		if labels != nil {
			l, ok := labels[cls]
			if !ok {
				return nil, nil, fmt.Errorf("%w: %s: class folder %q has no label in the mapping", ErrFormat, root, cls)
			}
			lab = l
		}
		err := filepath.WalkDir(filepath.Join(root, cls), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".txt") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			recs = append(recs, TextRecord{Text: string(b), Label: lab, Name: filepath.ToSlash(rel)})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("dataset: %s: %w", root, err)
		}
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("%w: %s holds no .txt files", ErrEmpty, root)
	}
	return recs, classes, nil
}
