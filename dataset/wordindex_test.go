package dataset

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The shared word index is Keras's: 88,584 words, md5 as Keras checks,
// "the" ranked first.
func TestLoadWordIndexKeras(t *testing.T) {
	p := filepath.Join(imdbDir(t), WordIndexName)
	if err := VerifyMD5(p, WordIndexMD5); err != nil {
		t.Fatal(err)
	}
	if err := VerifySHA256(p, WordIndexSHA256); err != nil {
		t.Fatal(err)
	}
	wi, err := LoadWordIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(wi) != 88584 || wi["the"] != 1 || wi["and"] != 2 || wi["br"] != 7 {
		t.Errorf("%d words, the=%d and=%d br=%d", len(wi), wi["the"], wi["and"], wi["br"])
	}
}

func TestVerifyMD5Errors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.json")
	os.WriteFile(p, []byte(`{"the": 1}`), 0o644)
	if err := VerifyMD5(p, WordIndexMD5); !errors.Is(err, ErrChecksum) {
		t.Errorf("wrong file: %v", err)
	}
	if err := VerifyMD5(p+"x", WordIndexMD5); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadWordIndex(p + "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadWordIndex missing: %v", err)
	}
}

// Ids by hand from load_data's rules with this small index.
func TestEncode(t *testing.T) {
	wi := WordIndex{"the": 1, "film": 2, "was": 3, "great": 4, "br": 5}
	text := "The film was GREAT!<br />Unknown words vanish."
	for _, tc := range []struct {
		name string
		o    EncodeOptions
		want []int32
	}{
		{"defaults", DefaultEncodeOptions(), []int32{1, 4, 5, 6, 7, 8}},
		{"num_words 7", EncodeOptions{NumWords: 7, StartChar: 1, OOVChar: 2, IndexFrom: 3}, []int32{1, 4, 5, 6, 2, 2}},
		{"skip_top 5", EncodeOptions{SkipTop: 5, StartChar: 1, OOVChar: 2, IndexFrom: 3}, []int32{2, 2, 5, 6, 7, 8}},
		{"oov None", EncodeOptions{NumWords: 7, StartChar: 1, OOVChar: -1, IndexFrom: 3}, []int32{1, 4, 5, 6}},
		{"no start, index_from 0", EncodeOptions{StartChar: -1, OOVChar: 2}, []int32{1, 2, 3, 4, 5}},
	} {
		if got := wi.Encode(text, tc.o); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Encode = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	wi := WordIndex{"the": 1, "film": 2, "was": 3}
	got := wi.Decode([]int32{1, 4, 5, 2, 6, 0, 99, -7}, 3)
	want := []string{"?", "the", "film", "?", "was", "?", "?", "?"}
	if !slices.Equal(got, want) {
		t.Errorf("Decode = %q, want %q", got, want)
	}
	if got := strings.Join(wi.Inverse().Decode([]int32{1, 2, 3}, 0), " "); got != "the film was" {
		t.Errorf("index_from 0: %q", got)
	}
}

// Encode on the real index gives the ids Keras's x_train[0] starts with
// (the oracle's first row: 1 14 22 16 43 530 973 1622 1385 65 …) for the
// words that start that review (train/pos/576_10.txt).
func TestEncodeMatchesKeras(t *testing.T) {
	wi, err := LoadWordIndex(filepath.Join(imdbDir(t), WordIndexName))
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultEncodeOptions()
	o.NumWords = 4000
	got := wi.Encode("This film was just brilliant casting location scenery story", o)
	if want := []int32{1, 14, 22, 16, 43, 530, 973, 1622, 1385, 65}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// The one-pass parser must agree with encoding/json wherever it answers.
func TestParseFlatIndexAgreesWithJSON(t *testing.T) {
	cases := []string{
		`{}`, ` { "a" : 1 , "b":22 } `, `{"caf\u00e9": 3, "x\by": 4, "q\"uote": 5}`, `{"a": 1, "a": 2}`,
		`{"a": 1.5}`, `{"a": 1e3}`, `{"a": -1}`, `{"a": 01}`, `{"a": 1,}`, `{"a" 1}`, `{"a": 1} x`,
		`{"a": {"b": 1}}`, `{"a": 12345678901}`, `[1]`, `{"a": 1`, "{\"a\tb\": 1}",
	}
	if b, err := os.ReadFile(filepath.Join(imdbDir(t), WordIndexName)); err == nil {
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		got, ok := parseFlatIndex([]byte(c))
		var want WordIndex
		err := json.Unmarshal([]byte(c), &want)
		if !ok {
			continue // left to encoding/json
		}
		if err != nil {
			t.Errorf("%.60q: parsed, but encoding/json says %v", c, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%.60q: %d words, want %d", c, len(got), len(want))
		}
		for w, r := range want {
			if got[w] != r {
				t.Errorf("%.60q: %q = %d, want %d", c, w, got[w], r)
			}
		}
	}
	if _, ok := parseFlatIndex([]byte(`{"caf\u00e9": 3, "x\by": 4}`)); !ok {
		t.Error("escaped keys not handled by the fast path")
	}
}
