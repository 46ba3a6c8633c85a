package dataset

// KerasFilters are the characters Keras's text_to_word_sequence replaces
// with a space by default; tab and newline are replaced too.
const KerasFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

// tokLower maps each byte to the byte it becomes inside a word: only ASCII
// A–Z are lower-cased; bytes of multi-byte UTF-8 sequences are kept as they
// are, as when the Keras arrays were built. tokSep marks the bytes that
// separate words: space, the filter characters, tab and newline.
var tokLower, tokSep = func() (t [256]byte, sep [256]bool) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	sep[' '] = true
	for i := 0; i < len(KerasFilters); i++ {
		sep[KerasFilters[i]] = true
	}
	return t, sep
}()

// TextToWordSequence splits text into words the way Keras's
// text_to_word_sequence did when the IMDB arrays were built: ASCII letters
// are lower-cased byte by byte (other letters are kept as they are), each of
// KerasFilters becomes a space, the text is split on spaces and empty words
// are dropped. "<br />" therefore becomes the word "br".
func TextToWordSequence(text string) []string {
	var words []string
	buf := make([]byte, 0, 32)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if tokSep[c] {
			if len(buf) > 0 {
				words = append(words, string(buf))
				buf = buf[:0]
			}
			continue
		}
		buf = append(buf, tokLower[c])
	}
	if len(buf) > 0 {
		words = append(words, string(buf))
	}
	return words
}

// tokenizeRanks tokenizes b in place (b is overwritten) and appends the
// index rank of each word found in wt to dst; unknown words are dropped.
// It allocates nothing beyond growing dst.
func tokenizeRanks(dst []int32, b []byte, wt *wordTable) []int32 {
	start := 0
	for i, c := range b {
		if tokSep[c] {
			if i > start {
				if r := wt.rank(b[start:i]); r != 0 {
					dst = append(dst, r)
				}
			}
			start = i + 1
			continue
		}
		b[i] = tokLower[c]
	}
	if len(b) > start {
		if r := wt.rank(b[start:]); r != 0 {
			dst = append(dst, r)
		}
	}
	return dst
}
