package dataset

import (
	"errors"
	"slices"
	"testing"
)

// Cases follow the documented behaviour of keras pad_sequences, worked out
// by hand.
func TestPadSequences(t *testing.T) {
	seqs := [][]int32{{1, 2, 3}, {4, 5}, {6}, {}}
	for _, tc := range []struct {
		name       string
		maxlen     int
		pad, trunc string
		value      int32
		rows, cols int
		want       []int32
	}{
		{"defaults longest", 0, "", "", 0, 4, 3, []int32{1, 2, 3, 0, 4, 5, 0, 0, 6, 0, 0, 0}},
		{"post pad", 0, Post, Pre, 0, 4, 3, []int32{1, 2, 3, 4, 5, 0, 6, 0, 0, 0, 0, 0}},
		{"pre truncate keeps last", 2, Pre, Pre, 0, 4, 2, []int32{2, 3, 4, 5, 0, 6, 0, 0}},
		{"post truncate keeps first", 2, Post, Post, 0, 4, 2, []int32{1, 2, 4, 5, 6, 0, 0, 0}},
		{"study: post pad, pre truncate", 2, Post, Pre, 0, 4, 2, []int32{2, 3, 4, 5, 6, 0, 0, 0}},
		{"value", 4, Pre, Pre, -1, 4, 4, []int32{-1, 1, 2, 3, -1, -1, 4, 5, -1, -1, -1, 6, -1, -1, -1, -1}},
	} {
		m, err := PadSequences(seqs, tc.maxlen, tc.pad, tc.trunc, tc.value)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.Rows != tc.rows || m.Cols != tc.cols || !slices.Equal(m.Data, tc.want) {
			t.Errorf("%s: got [%d,%d] %v, want [%d,%d] %v", tc.name, m.Rows, m.Cols, m.Data, tc.rows, tc.cols, tc.want)
		}
	}
	m, err := PadSequences(nil, 0, Pre, Pre, 0)
	if err != nil || m.Rows != 0 || m.Cols != 0 {
		t.Errorf("no sequences: %+v, %v", m, err)
	}
	// The input must not be modified.
	if !slices.Equal(seqs[0], []int32{1, 2, 3}) {
		t.Errorf("input changed: %v", seqs[0])
	}
}

func TestPadSequencesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		maxlen     int
		pad, trunc string
	}{{-1, Pre, Pre}, {3, "middle", Pre}, {3, Pre, "both"}} {
		if _, err := PadSequences([][]int32{{1}}, tc.maxlen, tc.pad, tc.trunc, 0); !errors.Is(err, ErrOption) {
			t.Errorf("%+v: err = %v, want ErrOption", tc, err)
		}
	}
}
