package dataset

import "fmt"

// Matrix is a dense row-major int32 matrix [Rows, Cols]: element (i, j) is
// Data[i*Cols+j].
type Matrix struct {
	Rows, Cols int
	Data       []int32
}

// Row returns row i as a slice of Data (not a copy).
func (m Matrix) Row(i int) []int32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Padding and truncating modes of PadSequences.
const (
	Pre  = "pre"
	Post = "post"
)

// PadSequences lays sequences out as a [len(seqs), maxlen] matrix like
// Keras's pad_sequences with dtype int32.
//
// maxlen 0 means the longest sequence. Sequences longer than maxlen lose
// tokens at the start (truncating "pre", Keras's default: the last maxlen
// tokens are kept) or at the end ("post"). Shorter ones are filled with
// value before (padding "pre", the default) or after ("post"). An empty
// string selects "pre". Other modes or a negative maxlen are ErrOption.
func PadSequences(seqs [][]int32, maxlen int, padding, truncating string, value int32) (Matrix, error) {
	if padding == "" {
		padding = Pre
	}
	if truncating == "" {
		truncating = Pre
	}
	if padding != Pre && padding != Post {
		return Matrix{}, fmt.Errorf("%w: padding %q (want %q or %q)", ErrOption, padding, Pre, Post)
	}
	if truncating != Pre && truncating != Post {
		return Matrix{}, fmt.Errorf("%w: truncating %q (want %q or %q)", ErrOption, truncating, Pre, Post)
	}
	if maxlen < 0 {
		return Matrix{}, fmt.Errorf("%w: maxlen %d is negative", ErrOption, maxlen)
	}
	if maxlen == 0 {
		for _, s := range seqs {
			maxlen = max(maxlen, len(s))
		}
	}
	m := Matrix{Rows: len(seqs), Cols: maxlen, Data: make([]int32, len(seqs)*maxlen)}
	if value != 0 {
		for i := range m.Data {
			m.Data[i] = value
		}
	}
	for i, s := range seqs {
		if len(s) > maxlen {
			if truncating == Pre {
				s = s[len(s)-maxlen:]
			} else {
				s = s[:maxlen]
			}
		}
		row := m.Row(i)
		if padding == Post {
			copy(row, s)
		} else {
			copy(row[maxlen-len(s):], s)
		}
	}
	return m, nil
}
