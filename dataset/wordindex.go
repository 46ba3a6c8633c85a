package dataset

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// WordIndexMD5 is the md5 digest Keras checks for imdb_word_index.json.
const WordIndexMD5 = "bfafd718b763782e994055a2d397834f"

// WordIndex maps a word to its frequency rank (1 = most frequent), as in
// Keras's imdb_word_index.json or a Tokenizer's word_index.
type WordIndex map[string]int

// LoadWordIndex reads a Keras word index: one JSON object of word → rank.
// Ranks must be positive integers. It returns ErrNotFound when the file is
// missing and ErrFormat when it is not such an object.
func LoadWordIndex(path string) (WordIndex, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: word index %s", ErrNotFound, path)
		}
		return nil, fmt.Errorf("dataset: word index: %w", err)
	}
	wi, err := ParseWordIndex(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return wi, nil
}

// ParseWordIndex decodes a word index from its JSON text (see LoadWordIndex).
func ParseWordIndex(b []byte) (WordIndex, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: word index is not a JSON object", ErrFormat)
	}
	wi, ok := parseFlatIndex(b)
	if !ok {
		// Anything unusual goes through encoding/json, which also words
		// the error.
		wi = nil
		if err := json.Unmarshal(b, &wi); err != nil {
			return nil, fmt.Errorf("%w: word index: %v", ErrFormat, err)
		}
	}
	if len(wi) == 0 {
		return nil, fmt.Errorf("%w: word index is empty", ErrFormat)
	}
	for w, r := range wi {
		if r < 1 || r > 1<<30 {
			return nil, fmt.Errorf("%w: word index: rank %d of %q is not in [1, 2^30]", ErrFormat, r, w)
		}
	}
	return wi, nil
}

// parseFlatIndex decodes a JSON object of string keys and non-negative
// integer values in one pass, about three times faster than
// encoding/json; escaped keys are unquoted by encoding/json. ok is false
// for anything else (floats, nesting, syntax errors), left to the caller.
func parseFlatIndex(b []byte) (wi WordIndex, ok bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
	}
	ws()
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	wi = make(WordIndex, bytes.Count(b, []byte{':'}))
	// Keys are substrings of one copy of the text: one allocation, not
	// one per word.
	text := string(b)
	ws()
	if i < len(b) && b[i] == '}' {
		i++
		ws()
		return wi, i == len(b)
	}
	for {
		ws()
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		start := i
		i++
		escaped := false
		for i < len(b) && b[i] != '"' {
			if b[i] == '\\' {
				escaped = true
				i++
			} else if b[i] < 0x20 {
				return nil, false
			}
			i++
		}
		if i >= len(b) {
			return nil, false
		}
		i++
		var key string
		if escaped {
			if err := json.Unmarshal(b[start:i], &key); err != nil {
				return nil, false
			}
		} else {
			key = text[start+1 : i-1]
		}
		ws()
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i++
		ws()
		n, digits := 0, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && digits < 10 {
			n = n*10 + int(b[i]-'0')
			i++
			digits++
		}
		if digits == 0 || (digits > 1 && b[i-digits] == '0') || (i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || (b[i] >= '0' && b[i] <= '9'))) {
			return nil, false
		}
		wi[key] = n
		ws()
		if i >= len(b) {
			return nil, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '}' {
			return nil, false
		}
		i++
		ws()
		return wi, i == len(b)
	}
}

// VerifyMD5 checks that the file at path has the md5 digest want (hex), as
// Keras does for imdb_word_index.json (WordIndexMD5). A mismatch is
// ErrChecksum.
func VerifyMD5(path, want string) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("dataset: %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s: md5 %s, want %s", ErrChecksum, path, got, want)
	}
	return nil
}

// EncodeOptions are the id options of keras.datasets.imdb.load_data.
//
// NumWords keeps ids below NumWords (0 = no limit); SkipTop replaces ids
// below SkipTop; both become OOVChar. StartChar is put in front of every
// sequence and IndexFrom is added to every rank. A negative StartChar or
// OOVChar stands for Keras's None: no start marker, and out-of-range ids
// are dropped instead of replaced.
type EncodeOptions struct {
	NumWords, SkipTop, StartChar, OOVChar, IndexFrom int
}

// DefaultEncodeOptions returns Keras's defaults: no word limit, no skipped
// words, start 1, out-of-vocabulary 2, ranks shifted by 3.
func DefaultEncodeOptions() EncodeOptions {
	return EncodeOptions{NumWords: 0, SkipTop: 0, StartChar: 1, OOVChar: 2, IndexFrom: 3}
}

// Encode tokenizes text with TextToWordSequence, drops words not in the
// index, and applies load_data's id rules: rank + IndexFrom, StartChar in
// front, ids outside [SkipTop, NumWords) become OOVChar (or are dropped
// when OOVChar < 0). Note that, as in Keras, the start marker itself is
// subject to SkipTop.
func (wi WordIndex) Encode(text string, o EncodeOptions) []int32 {
	ranks := wi.ranks(text)
	seq := withStart(ranks, o.StartChar, o.IndexFrom)
	limit := o.NumWords
	if limit <= 0 {
		limit = maxInt
	}
	return mapOOV(seq, o.SkipTop, limit, o.OOVChar)
}

// ranks tokenizes text and maps its words to ranks, dropping unknown words.
func (wi WordIndex) ranks(text string) []int32 {
	var out []int32
	for _, w := range TextToWordSequence(text) {
		if r, ok := wi[w]; ok {
			out = append(out, int32(r))
		}
	}
	return out
}

const maxInt = int(^uint(0) >> 1)

// withStart builds [start] + (ranks + indexFrom) as load_data does; the
// result never aliases ranks. A negative start adds no marker.
func withStart(ranks []int32, start, indexFrom int) []int32 {
	return appendWithStart(make([]int32, 0, len(ranks)+1), ranks, start, indexFrom)
}

// appendWithStart appends [start] + (ranks + indexFrom) to dst.
func appendWithStart(dst, ranks []int32, start, indexFrom int) []int32 {
	if start >= 0 {
		dst = append(dst, int32(start))
	}
	off := int32(indexFrom)
	for _, r := range ranks {
		dst = append(dst, r+off)
	}
	return dst
}

// mapOOV applies `w if skip <= w < limit else oov` in place (or drops w
// when oov < 0) and returns the possibly shortened sequence.
func mapOOV(seq []int32, skip, limit, oov int) []int32 {
	if oov >= 0 {
		for i, w := range seq {
			if int(w) < skip || int(w) >= limit {
				seq[i] = int32(oov)
			}
		}
		return seq
	}
	out := seq[:0]
	for _, w := range seq {
		if int(w) >= skip && int(w) < limit {
			out = append(out, w)
		}
	}
	return out
}

// Unknown is the word Decode prints for an id with no word behind it:
// padding (0), the start and out-of-vocabulary markers (1, 2), and ids
// beyond the index. The study prints reviews the same way
// (reverse_word_index.get(i - 3, '?')).
const Unknown = "?"

// Inverse maps a rank to its word; index 0 is unused.
type Inverse []string

// Inverse returns the rank → word table of the index. When two words share
// a rank the one sorting last wins, so the result does not depend on map
// order.
func (wi WordIndex) Inverse() Inverse {
	maxRank := 0
	for _, r := range wi {
		maxRank = max(maxRank, r)
	}
	inv := make(Inverse, maxRank+1)
	for w, r := range wi {
		if r > 0 && (inv[r] == "" || w > inv[r]) {
			inv[r] = w
		}
	}
	return inv
}

// Decode turns ids back into words: id − indexFrom is looked up as a rank;
// ids without a word become Unknown ("?").
func (inv Inverse) Decode(ids []int32, indexFrom int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		r := int(id) - indexFrom
		if r >= 1 && r < len(inv) && inv[r] != "" {
			out[i] = inv[r]
		} else {
			out[i] = Unknown
		}
	}
	return out
}

// Decode turns ids back into words (see Inverse.Decode). It builds the
// inverse table on every call; keep an Inverse to decode many sequences.
func (wi WordIndex) Decode(ids []int32, indexFrom int) []string {
	return wi.Inverse().Decode(ids, indexFrom)
}
