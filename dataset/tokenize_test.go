package dataset

import (
	"slices"
	"testing"
)

// Expected words follow Keras's text_to_word_sequence rules as used for
// the IMDB arrays, written out by hand.
func TestTextToWordSequence(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"This film was just BRILLIANT.<br /><br />Casting", []string{"this", "film", "was", "just", "brilliant", "br", "br", "casting"}},
		{"don't stop", []string{"don't", "stop"}}, // the apostrophe is not a filter
		{"a-b_c/d\\e|f~g", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"tab\there\nnew\rline", []string{"tab", "here", "new\rline"}}, // \r is not a separator
		{"Café ÉCOLE naïve", []string{"café", "École", "naïve"}},       // only ASCII letters are lowered
		{"!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~", nil},
		{"x1 2Y", []string{"x1", "2y"}},
	} {
		if got := TextToWordSequence(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("TextToWordSequence(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// tokenizeRanks (the archive path) must agree with TextToWordSequence plus
// map lookups (the Encode path).
func TestTokenizeRanksAgreesWithWords(t *testing.T) {
	wi := WordIndex{"the": 1, "film": 2, "br": 3, "don't": 4, "école": 5, "École": 6, "extraordinarily": 7}
	wt := newWordTable(wi)
	for _, text := range []string{
		"The film<br />DON'T", "école École ÉCOLE", "extraordinarily EXTRAORDINARILY extraordinarilyy",
		"", "the", "  the  ", "unknown words only",
	} {
		var want []int32
		for _, w := range TextToWordSequence(text) {
			if r, ok := wi[w]; ok {
				want = append(want, int32(r))
			}
		}
		if got := tokenizeRanks(nil, []byte(text), wt); !slices.Equal(got, want) {
			t.Errorf("%q: tokenizeRanks = %v, want %v", text, got, want)
		}
	}
}
