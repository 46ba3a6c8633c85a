package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

func TestReadLabeledTextJSONLabels(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.ndjson")
	os.WriteFile(p, []byte("{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\", \"label\": \"0\"}\n"), 0o644)
	recs, err := ReadLabeledText(p, TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0] != (TextRecord{Text: "a", Label: 1, Line: 1}) || recs[1] != (TextRecord{Text: "b", Label: 0, Line: 3}) {
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
}
