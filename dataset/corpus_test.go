package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func splitString(s *Split) string {
	var b strings.Builder
	for i := range s.Y {
		fmt.Fprintf(&b, "%s %d %v\n", s.Files[i], s.Y[i], s.X[i])
	}
	return b.String()
}

// SST-2's layout: TSV with a header, CRLF in train, the text column named
// "sentence" in train and "content" in dev/test. Worked out by hand:
// train words counted good 3, film 2, bad 2, plot 1, a 1, dull 1 (ties by
// first appearance: film before bad; plot, a, dull), so with oov_token
// "<OOV>" the indices are <OOV> 1, good 2, film 3, bad 4, plot 5, a 6,
// dull 7; num_words 6 keeps indices below 6 and sends a and dull to 1. numpy 1.26.4: RandomState(113).permutation(4) is [3 2 0 1].
func TestCorpusTSV(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"train.tsv": "label\tsentence\r\n1\tGood film , good\r\n0\tbad plot\r\n1\ta good film\r\n0\tdull , bad\r\n",
		"dev.tsv":   "label\tcontent\n1\tgood unseen\n",
		"test.tsv":  "label\tcontent\n0\tbad film\n1\tplot\n",
	})
	c := Corpus{Format: TSV, Train: filepath.Join(dir, "train.tsv"), Validation: filepath.Join(dir, "dev.tsv"),
		Test: filepath.Join(dir, "test.tsv"), Text: TextOptions{TextColumn: "sentence|content"}, OOVToken: "<OOV>"}
	o := DefaultLoadOptions()
	o.NumWords = 6
	s, err := c.LoadSplits(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Vocabulary.Words, " "); got != "<OOV> good film bad plot" {
		t.Errorf("vocabulary %q", got)
	}
	wantTrain := "train.tsv:5 0 [1 4]\ntrain.tsv:4 1 [1 2 3]\ntrain.tsv:2 1 [2 3 2]\ntrain.tsv:3 0 [4 5]\n"
	if got := splitString(s.Train); got != wantTrain {
		t.Errorf("train:\n%swant:\n%s", got, wantTrain)
	}
	if got, want := splitString(s.Validation), "dev.tsv:2 1 [2 1]\n"; got != want {
		t.Errorf("validation %q, want %q", got, want)
	}
	if got, want := splitString(s.Test), "test.tsv:2 0 [4 3]\ntest.tsv:3 1 [5]\n"; got != want {
		t.Errorf("test %q, want %q", got, want)
	}
}

func TestCorpusFolderAndJSONL(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"train/neg/a.txt":     "Bad, bad.",
		"train/pos/b.txt":     "good",
		"train/pos/sub/c.txt": "good bad",
		"train/pos/skip.md":   "not a text file",
		"test/pos/d.txt":      "good",
		"test/neg/e.txt":      "awful",
		"x/train.jsonl":       "{\"text\": \"fine\", \"label\": \"pos\"}\n{\"text\": \"meh\", \"label\": \"neg\"}\n",
		"x/test.jsonl":        "{\"text\": \"fine meh\", \"label\": \"pos\"}\n",
	})
	c := Corpus{Format: Folder, Train: filepath.Join(dir, "train"), Test: filepath.Join(dir, "test")}
	o := DefaultLoadOptions()
	s, err := c.LoadSplits(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// bad 3, good 2: bad 1, good 2; classes neg 0, pos 1. RandomState(113)
	// permutation(3) is [2 0 1].
	if got, want := splitString(s.Train), "pos/sub/c.txt 1 [2 1]\nneg/a.txt 0 [1 1]\npos/b.txt 1 [2]\n"; got != want {
		t.Errorf("train:\n%swant:\n%s", got, want)
	}
	if got, want := splitString(s.Test), "neg/e.txt 0 []\npos/d.txt 1 [2]\n"; got != want {
		t.Errorf("test:\n%swant:\n%s", got, want)
	}
	if !slices.Equal(s.Classes, []string{"neg", "pos"}) {
		t.Errorf("folder classes %q, want the sorted class folders", s.Classes)
	}
	labels, _ := ParseLabelMap("pos=1,neg=0")
	j := Corpus{Train: filepath.Join(dir, "x/train.jsonl"), Test: filepath.Join(dir, "x/test.jsonl"), Text: TextOptions{Labels: labels}}
	s, err = j.LoadSplits(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := splitString(s.Test), "test.jsonl:1 1 [1 2]\n"; got != want {
		t.Errorf("jsonl test %q, want %q", got, want)
	}
	if !slices.Equal(s.Classes, []string{"neg", "pos"}) {
		t.Errorf("mapped classes %q, want neg, pos", s.Classes)
	}
}

// TestClassNames: a label mapping's names by label, the first sorted name
// of a label with several, "" for a label without one; nil for no mapping
// or a negative label.
func TestClassNames(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]int32
		want   []string
	}{
		{map[string]int32{"positive": 1, "negative": 0}, []string{"negative", "positive"}},
		{map[string]int32{"pos": 1, "good": 1, "neg": 0}, []string{"neg", "good"}},
		{map[string]int32{"a": 0, "c": 2}, []string{"a", "", "c"}},
		{map[string]int32{"a": -1}, nil},
		{nil, nil},
	} {
		if got := ClassNames(tc.labels); !slices.Equal(got, tc.want) {
			t.Errorf("ClassNames(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

func TestCorpusErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ok.tsv":          "label\ttext\n1\tgood\n",
		"badrow.tsv":      "label\ttext\n1\tgood\n0\n",
		"nolabel.tsv":     "label\ttext\n1\tgood\n\tbad\n",
		"nocol.tsv":       "sentiment\ttext\n1\tgood\n",
		"empty.tsv":       "label\ttext\n",
		"f/train/a/x.txt": "x",
		"f/test/b/y.txt":  "y",
		"f/none/.keep":    "",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tc := range []struct {
		name string
		c    Corpus
		want error
		msg  string
	}{
		{"malformed row", Corpus{Train: p("badrow.tsv"), Test: p("ok.tsv")}, ErrFormat, "badrow.tsv: dataset: malformed input: line 3 has 1 columns"},
		{"missing label", Corpus{Train: p("ok.tsv"), Test: p("nolabel.tsv")}, ErrFormat, `line 3: label "" is not an integer`},
		{"missing label column", Corpus{Train: p("nocol.tsv"), Test: p("ok.tsv")}, ErrFormat, `no column "text" or "label"`},
		{"empty split", Corpus{Train: p("ok.tsv"), Test: p("empty.tsv")}, ErrEmpty, "empty.tsv holds no records"},
		{"missing file", Corpus{Train: p("ok.tsv"), Test: p("nope.tsv")}, ErrNotFound, "nope.tsv"},
		{"no test", Corpus{Train: p("ok.tsv")}, ErrOption, "train and a test"},
		{"unknown class", Corpus{Format: Folder, Train: p("f/train"), Test: p("f/test")}, ErrFormat, `class folder "b" is not a training class (a)`},
		{"no class folders", Corpus{Format: Folder, Train: p("f/none"), Test: p("f/test")}, ErrFormat, "no class folders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.LoadSplits(context.Background(), DefaultLoadOptions())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

// FuzzReadLabeledText feeds arbitrary bytes to the TSV, CSV and JSON-lines
// readers: never a panic; a failure is ErrFormat or ErrEmpty; every record
// has a line inside the input.
func FuzzReadLabeledText(f *testing.F) {
	f.Add([]byte("label\tsentence\r\n1\tgood film\r\n0\tbad\r\n"), uint8(0))
	f.Add([]byte("text,label\n\"a, b\",1\n"), uint8(1))
	f.Add([]byte("{\"text\": \"x\", \"label\": 1}\n"), uint8(2))
	dir := f.TempDir()
	formats := []string{TSV, CSV, JSONL}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		format := formats[int(which)%len(formats)]
		p := filepath.Join(dir, "in."+format)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadLabeledText(p, TextOptions{TextColumn: "sentence|text"})
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v is neither ErrFormat nor ErrEmpty", err)
			}
			return
		}
		lines := strings.Count(string(b), "\n") + 1
		for _, r := range recs {
			if r.Line < 1 || r.Line > lines {
				t.Fatalf("record line %d outside 1…%d", r.Line, lines)
			}
		}
	})
}

// FuzzReadClassFolders builds a class folder tree from fuzzed names and
// contents: never a panic; a failure is ErrFormat or ErrEmpty; labels lie
// within the classes found.
func FuzzReadClassFolders(f *testing.F) {
	f.Add("pos", "neg", []byte("good"), []byte("bad"))
	f.Add("a", "a", []byte(""), []byte("x"))
	f.Fuzz(func(t *testing.T, c1, c2 string, b1, b2 []byte) {
		root := t.TempDir()
		for i, c := range []string{c1, c2} {
			if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "/\\\x00") || len(c) > 100 {
				return
			}
			if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
				return
			}
			os.WriteFile(filepath.Join(root, c, fmt.Sprint(i)+".txt"), [][]byte{b1, b2}[i], 0o644)
		}
		recs, classes, err := ReadClassFolders(root, nil, nil)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v", err)
			}
			return
		}
		for _, r := range recs {
			if r.Label < 0 || int(r.Label) >= len(classes) {
				t.Fatalf("label %d of %d classes", r.Label, len(classes))
			}
		}
	})
}
