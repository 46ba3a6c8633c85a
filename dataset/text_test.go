package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Keras Tokenizer ranks, by hand: counts a 2, c 2, b 1, d 1; ties keep
// first appearance (b before d, a before c).
func TestBuildWordIndex(t *testing.T) {
	wi := BuildWordIndex([]string{"B a", "a C.", "c d"})
	want := WordIndex{"a": 1, "c": 2, "b": 3, "d": 4}
	if fmt.Sprint(wi) != fmt.Sprint(want) {
		t.Errorf("BuildWordIndex = %v, want %v", wi, want)
	}
}

func TestParseLabelMap(t *testing.T) {
	m, err := ParseLabelMap("positive=1, negative = 0")
	if err != nil || len(m) != 2 || m["positive"] != 1 || m["negative"] != 0 {
		t.Errorf("got %v, %v", m, err)
	}
	for _, bad := range []string{"", "positive", "positive=yes", "=1", "a=1,a=0"} {
		if _, err := ParseLabelMap(bad); !errors.Is(err, ErrOption) {
			t.Errorf("%q: err = %v, want ErrOption", bad, err)
		}
	}
}

// The fixture's six rows, worked out by hand. numpy 1.26.4:
// RandomState(113) shuffles arange(6) to [1 0 3 2 4 5], so rows 1–4 train
// and rows 5–6 test; a fresh RandomState(113) shuffles arange(4) to
// [3 2 0 1] and then arange(2) to [1 0]. Train words ranked: great 1,
// plot 2, bad 3, movie 4, cast 5, terrible 6, a 7, twist 8, acting 9;
// ids are rank + 3 after a 1, and num_words 10 turns 10 and up into 2.
func TestLoadTextFixtures(t *testing.T) {
	labels, _ := ParseLabelMap("positive=1,negative=0")
	to := TextOptions{TextColumn: "review", LabelColumn: "sentiment", Labels: labels}
	o := DefaultLoadOptions()
	o.NumWords = 10
	for _, tc := range []struct {
		file      string
		firstLine int // line of the first record
	}{{"reviews.csv", 2}, {"reviews.tsv", 2}, {"reviews.jsonl", 1}} {
		t.Run(tc.file, func(t *testing.T) {
			train, test, wi, err := LoadText(filepath.Join("testdata", tc.file), to, o, 1.0/3)
			if err != nil {
				t.Fatal(err)
			}
			if wi["great"] != 1 || wi["plot"] != 2 || wi["acting"] != 9 || len(wi) != 9 {
				t.Errorf("word index %v", wi)
			}
			name := func(row int) string { return fmt.Sprintf("%s:%d", tc.file, tc.firstLine+row-1) }
			wantTrain := fmt.Sprintf("%s 0 [1 6 6 2]\n%s 1 [1 2 4 5 2]\n%s 1 [1 4 7 4 8]\n%s 0 [1 9 5]\n", name(4), name(3), name(1), name(2))
			wantTest := fmt.Sprintf("%s 0 [1 6]\n%s 1 [1 8 4]\n", name(6), name(5))
			if got := formatSplit(train); got != wantTrain {
				t.Errorf("train:\n%swant:\n%s", got, wantTrain)
			}
			if got := formatSplit(test); got != wantTest {
				t.Errorf("test:\n%swant:\n%s", got, wantTest)
			}
		})
	}
}

func TestReadLabeledTextJSONLabels(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.ndjson")
	os.WriteFile(p, []byte("{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\", \"label\": \"0\"}\n"), 0o644)
	recs, err := ReadLabeledText(p, TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0] != (TextRecord{"a", 1, 1}) || recs[1] != (TextRecord{"b", 0, 3}) {
		t.Errorf("records %+v", recs)
	}
	q := filepath.Join(t.TempDir(), "y.jsonl")
	os.WriteFile(q, []byte("{\"text\": \"a\", \"label\": true}\n{\"text\": \"b\", \"label\": false}\n"), 0o644)
	recs, err = ReadLabeledText(q, TextOptions{Labels: map[string]int32{"true": 1, "false": 0}})
	if err != nil || len(recs) != 2 || recs[0].Label != 1 || recs[1].Label != 0 {
		t.Errorf("boolean labels: %+v, %v", recs, err)
	}
}

func TestReadLabeledTextErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	labels := map[string]int32{"pos": 1, "neg": 0}
	for _, tc := range []struct {
		name string
		path string
		o    TextOptions
		want error
		msg  string
	}{
		{"missing file", filepath.Join(dir, "nope.csv"), TextOptions{}, ErrNotFound, "nope.csv"},
		{"unknown extension", write("a.txt", "x"), TextOptions{}, ErrOption, "extension"},
		{"unknown format", write("b.csv", "text,label\n"), TextOptions{Format: "xml"}, ErrOption, "xml"},
		{"no such column", write("c.csv", "review,label\nx,1\n"), TextOptions{}, ErrFormat, "columns: review, label"},
		{"short row", write("d.csv", "label,text\n1\n"), TextOptions{}, ErrFormat, "line 2"},
		{"bad quoting", write("e.csv", "text,label\n\"x,1\n"), TextOptions{}, ErrFormat, "quote"},
		{"non-integer label", write("f.csv", "text,label\nx,positive\n"), TextOptions{}, ErrFormat, "positive=1,negative=0"},
		{"unmapped label", write("g.tsv", "text\tlabel\nx\tmeh\n"), TextOptions{Labels: labels}, ErrFormat, `"meh" is not one of neg, pos`},
		{"empty", write("h.csv", ""), TextOptions{}, ErrEmpty, "no records"},
		{"header only", write("i.csv", "text,label\n"), TextOptions{}, ErrEmpty, "no records"},
		{"malformed json", write("j.jsonl", "{\"text\": \"x\", \"label\": 1\n"), TextOptions{}, ErrFormat, "line 1"},
		{"json missing key", write("k.jsonl", "{\"text\": \"x\"}\n"), TextOptions{}, ErrFormat, `"label"`},
		{"json text not string", write("l.jsonl", "{\"text\": 3, \"label\": 1}\n"), TextOptions{}, ErrFormat, "not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLabeledText(tc.path, tc.o)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	if _, _, _, err := LoadText(filepath.Join("testdata", "reviews.csv"), TextOptions{}, DefaultLoadOptions(), 1); !errors.Is(err, ErrOption) {
		t.Errorf("test fraction 1: %v", err)
	}
	one := write("one.csv", "text,label\nx,1\n")
	if _, _, _, err := LoadText(one, TextOptions{}, DefaultLoadOptions(), 0.5); !errors.Is(err, ErrEmpty) {
		t.Errorf("one record: %v", err)
	}
}
