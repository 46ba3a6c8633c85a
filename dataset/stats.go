package dataset

import "slices"

// Lengths summarises sequence lengths. Median is numpy's: the mean of the
// two middle values for an even count. All fields are 0 for no rows.
type Lengths struct {
	Min, Max     int
	Mean, Median float64
}

// LengthsOf summarises the lengths n.
func LengthsOf(n []int) Lengths {
	if len(n) == 0 {
		return Lengths{}
	}
	s := slices.Clone(n)
	slices.Sort(s)
	sum := 0
	for _, v := range s {
		sum += v
	}
	l := Lengths{Min: s[0], Max: s[len(s)-1], Mean: float64(sum) / float64(len(s))}
	if m := len(s) / 2; len(s)%2 == 1 {
		l.Median = float64(s[m])
	} else {
		l.Median = float64(s[m-1]+s[m]) / 2
	}
	return l
}

// Stats describes a split: rows per label, sequence lengths, and what
// padding to maxlen does to them.
type Stats struct {
	Rows, Pos, Neg int
	Lengths        Lengths // unpadded, start marker included
	Kept           Lengths // tokens left per row after truncating to maxlen
	Truncated      int     // rows longer than maxlen
	Tokens, OOV    int     // ids in all rows, and how many are oovChar
}

// Stats summarises s for padding to maxlen (0 = no truncation) with ids
// equal to oovChar counted as out-of-vocabulary.
func (s *Split) Stats(maxlen int, oovChar int32) Stats {
	st := Stats{Rows: s.Len()}
	lens := make([]int, len(s.X))
	kept := make([]int, len(s.X))
	for i, x := range s.X {
		if s.Y[i] == 1 {
			st.Pos++
		} else {
			st.Neg++
		}
		lens[i] = len(x)
		kept[i] = len(x)
		if maxlen > 0 && len(x) > maxlen {
			kept[i] = maxlen
			st.Truncated++
		}
		st.Tokens += len(x)
		for _, v := range x {
			if v == oovChar {
				st.OOV++
			}
		}
	}
	st.Lengths = LengthsOf(lens)
	st.Kept = LengthsOf(kept)
	return st
}
