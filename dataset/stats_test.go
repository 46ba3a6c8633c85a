package dataset

import "testing"

// Values by hand (numpy.median averages the middle pair).
func TestSplitStats(t *testing.T) {
	s := &Split{X: [][]int32{{1, 2, 5}, {1, 9, 9, 9, 2}, {1}, {1, 2}}, Y: []int32{1, 0, 0, 1}}
	st := s.Stats(3, 2)
	want := Stats{Rows: 4, Pos: 2, Neg: 2,
		Lengths:   Lengths{Min: 1, Max: 5, Mean: 2.75, Median: 2.5},
		Kept:      Lengths{Min: 1, Max: 3, Mean: 2.25, Median: 2.5},
		Truncated: 1, Tokens: 11, OOV: 3}
	if st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	if got := LengthsOf([]int{4, 1, 3}); got != (Lengths{Min: 1, Max: 4, Mean: 8.0 / 3, Median: 3}) {
		t.Errorf("odd count: %+v", got)
	}
	if got := LengthsOf(nil); got != (Lengths{}) {
		t.Errorf("empty: %+v", got)
	}
}
