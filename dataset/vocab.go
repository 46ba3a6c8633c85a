package dataset

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Vocabulary is a fitted keras.preprocessing.text.Tokenizer: the words in
// rank order and the texts_to_sequences options. It is what a model
// trained on a text source carries (as JSON, see Marshal) so that scoring
// tokenizes exactly as training did.
//
// Keras's rules, which Encode follows:
//
//   - fit_on_texts counts the words of every text (see Words), sorts them
//     by descending count with a stable sort (ties keep the order in which
//     the words first appeared), puts oov_token first when it is set and
//     numbers the list from 1: word_index = dict(zip(list, 1…)). A word
//     listed twice (the oov token also found in the texts) keeps its later
//     index, as the dict keeps the last value.
//   - texts_to_sequences keeps index i when i < num_words (all when
//     num_words is None); a word it drops — unknown, or i ≥ num_words —
//     becomes word_index[oov_token] when oov_token is set.
//
// Id 0 is never given to a word: it is the padding id.
type Vocabulary struct {
	// Words is the ranked list: Words[i] has index i+1 (OOVToken first
	// when set). Only the first NumWords−1 entries are kept when NumWords
	// is set, as no other index is ever emitted.
	Words []string `json:"words"`
	// NumWords is Tokenizer's num_words (0 for None): ids stay below it.
	NumWords int `json:"num_words"`
	// OOVToken is Tokenizer's oov_token; "" for None.
	OOVToken string `json:"oov_token,omitempty"`

	index map[string]int32
	oov   int32
}

// KerasWords splits text into words as Keras's text_to_word_sequence with
// lower=True: text lower-cased (Unicode), each of KerasFilters replaced by
// a space, split on spaces, empty words dropped. It differs from
// TextToWordSequence, which keeps the byte-wise ASCII lower-casing the
// IMDB arrays were built with, only on non-ASCII capitals.
func KerasWords(text string) []string {
	return TextToWordSequence(strings.ToLower(text))
}

// FitVocabulary fits a Tokenizer(num_words=numWords, oov_token=oov) on
// texts (numWords 0 = None, oov "" = None).
func FitVocabulary(texts []string, numWords int, oov string) (*Vocabulary, error) {
	if numWords < 0 {
		return nil, fmt.Errorf("%w: num_words %d is negative", ErrOption, numWords)
	}
	counts := map[string]int{}
	var order []string
	for _, t := range texts {
		for _, w := range KerasWords(t) {
			if counts[w] == 0 {
				order = append(order, w)
			}
			counts[w]++
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return counts[b] - counts[a] })
	words := order
	if oov != "" {
		words = append([]string{oov}, order...)
	}
	if numWords > 0 && len(words) > numWords-1 {
		words = words[:max(numWords-1, 0)]
	}
	v := &Vocabulary{Words: slices.Clip(words), NumWords: numWords, OOVToken: oov}
	v.build()
	return v, nil
}

func (v *Vocabulary) build() {
	v.index = make(map[string]int32, len(v.Words))
	for i, w := range v.Words {
		v.index[w] = int32(i + 1) // the dict keeps the last index of a repeated word
	}
	v.oov = 0
	if v.OOVToken != "" {
		v.oov = v.index[v.OOVToken]
	}
}

// Size is the embedding's input_dim the ids need: NumWords when set, else
// the largest index + 1.
func (v *Vocabulary) Size() int {
	if v.NumWords > 0 {
		return v.NumWords
	}
	return len(v.Words) + 1
}

// Encode is texts_to_sequences for one text.
func (v *Vocabulary) Encode(text string) []int32 {
	if v.index == nil {
		v.build()
	}
	words := KerasWords(text)
	ids := make([]int32, 0, len(words))
	for _, w := range words {
		i, ok := v.index[w]
		if ok && (v.NumWords == 0 || int(i) < v.NumWords) {
			ids = append(ids, i)
		} else if v.oov > 0 {
			ids = append(ids, v.oov)
		}
	}
	return ids
}

// Marshal returns the vocabulary as JSON ({"words": […], "num_words": N,
// "oov_token": …}).
func (v *Vocabulary) Marshal() ([]byte, error) { return json.Marshal(v) }

// ParseVocabulary reads JSON written by Marshal. Errors (ErrFormat):
// malformed JSON, an empty or repeated-but-not-the-oov word, a word list
// longer than num_words allows, an oov token missing from the list.
func ParseVocabulary(b []byte) (*Vocabulary, error) {
	var v Vocabulary
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: vocabulary: %v", ErrFormat, err)
	}
	switch {
	case v.NumWords < 0:
		return nil, fmt.Errorf("%w: vocabulary: num_words %d is negative", ErrFormat, v.NumWords)
	case v.NumWords > 0 && len(v.Words) > v.NumWords-1:
		return nil, fmt.Errorf("%w: vocabulary: %d words for num_words %d (at most %d)", ErrFormat, len(v.Words), v.NumWords, v.NumWords-1)
	case v.OOVToken != "" && (len(v.Words) == 0 || v.Words[0] != v.OOVToken):
		return nil, fmt.Errorf("%w: vocabulary: oov_token %q is not the first word", ErrFormat, v.OOVToken)
	}
	seen := make(map[string]bool, len(v.Words))
	for i, w := range v.Words {
		if w == "" {
			return nil, fmt.Errorf("%w: vocabulary: word %d is empty", ErrFormat, i+1)
		}
		if seen[w] && w != v.OOVToken {
			return nil, fmt.Errorf("%w: vocabulary: word %q listed twice", ErrFormat, w)
		}
		seen[w] = true
	}
	v.build()
	return &v, nil
}
