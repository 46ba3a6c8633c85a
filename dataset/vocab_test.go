package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
)

// The golden is Keras 2.15's Tokenizer on the same texts
// (scripts/keras/tokenizer_golden.py): word_index and texts_to_sequences
// for each num_words / oov_token setting.
func TestVocabularyKerasGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/tokenizer_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Fit, Encode []string
		Cases       []struct {
			NumWords  int              `json:"num_words"`
			OOVToken  string           `json:"oov_token"`
			WordIndex map[string]int32 `json:"word_index"`
			Sequences [][]int32        `json:"sequences"`
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("golden has no cases")
	}
	for _, c := range g.Cases {
		t.Run(fmt.Sprintf("num_words=%d,oov=%q", c.NumWords, c.OOVToken), func(t *testing.T) {
			v, err := FitVocabulary(g.Fit, c.NumWords, c.OOVToken)
			if err != nil {
				t.Fatal(err)
			}
			// Every kept word has Keras's index.
			for i, w := range v.Words {
				if c.WordIndex[w] != int32(i+1) {
					t.Errorf("word %q: index %d, Keras %d", w, i+1, c.WordIndex[w])
				}
			}
			if c.NumWords == 0 && len(v.Words) != len(c.WordIndex) {
				t.Errorf("%d words, Keras %d", len(v.Words), len(c.WordIndex))
			}
			// A round trip through JSON encodes the same.
			js, err := v.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseVocabulary(js)
			if err != nil {
				t.Fatal(err)
			}
			for i, text := range g.Encode {
				want := c.Sequences[i]
				for _, vv := range []*Vocabulary{v, back} {
					if got := vv.Encode(text); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
						t.Errorf("Encode(%q) = %v, Keras %v", text, got, want)
					}
				}
			}
		})
	}
}

func TestVocabularySize(t *testing.T) {
	v, _ := FitVocabulary([]string{"a b c"}, 0, "")
	if v.Size() != 4 {
		t.Errorf("Size = %d, want 4 (three words + padding)", v.Size())
	}
	v, _ = FitVocabulary([]string{"a b c"}, 10, "")
	if v.Size() != 10 {
		t.Errorf("Size = %d, want num_words 10", v.Size())
	}
	if _, err := FitVocabulary(nil, -1, ""); !errors.Is(err, ErrOption) {
		t.Errorf("num_words -1: %v", err)
	}
}

func TestParseVocabularyErrors(t *testing.T) {
	for _, bad := range []string{
		`{`, `{"words":["a",""]}`, `{"words":["a","a"]}`, `{"words":["a","b","c"],"num_words":3}`,
		`{"words":["a"],"oov_token":"<u>"}`, `{"words":[],"num_words":-2}`,
	} {
		if _, err := ParseVocabulary([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", bad, err)
		}
	}
}

func FuzzParseVocabulary(f *testing.F) {
	f.Add([]byte(`{"words":["<OOV>","the","a"],"num_words":4,"oov_token":"<OOV>"}`), "The a b")
	f.Add([]byte(`{"words":["x"]}`), "x x y")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		v, err := ParseVocabulary(b)
		if err != nil {
			return
		}
		for _, id := range v.Encode(text) {
			if id <= 0 || int(id) >= v.Size() {
				t.Fatalf("id %d outside [1, %d)", id, v.Size())
			}
		}
	})
}
