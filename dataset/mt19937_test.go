package dataset

import (
	"slices"
	"testing"
)

// The expected values below were computed with numpy 1.26.4, not with this
// package:
//
//	np.random.RandomState(113).randint(0, 2**32, size=5, dtype=np.uint64)
//	np.random.RandomState(5489).randint(0, 2**32, size=3, dtype=np.uint64)
//	np.random.RandomState(4294967295).randint(0, 2**32, size=3, dtype=np.uint64)
//
// randint over the full 32-bit range returns the raw generator outputs.
func TestRandomStateUint32MatchesNumpy(t *testing.T) {
	for _, tc := range []struct {
		seed int64
		want []uint32
	}{
		{113, []uint32{3659249829, 529109724, 317413538, 548173386, 3843702636}},
		{5489, []uint32{3499211612, 581869302, 3890346734}},
		{4294967295, []uint32{419326371, 479346978, 3918654476}},
	} {
		r, err := NewRandomState(tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range tc.want {
			if got := r.Uint32(); got != w {
				t.Fatalf("seed %d: output %d = %d, want %d (numpy)", tc.seed, i, got, w)
			}
		}
	}
}

// numpy 1.26.4: np.random.RandomState(113).randint(0, 2**40+1, size=4,
// dtype=np.uint64), which uses the same masked 64-bit rejection as
// random_interval.
func TestRandomStateInterval64MatchesNumpy(t *testing.T) {
	r, _ := NewRandomState(113)
	want := []uint64{709198713564, 696332875338, 645287314199, 1088366229744}
	for i, w := range want {
		if got := r.Interval(1 << 40); got != w {
			t.Fatalf("draw %d = %d, want %d (numpy)", i, got, w)
		}
	}
}

// Permutations from numpy 1.26.4 RandomState.shuffle on np.arange(n), the
// second shuffle continuing the same generator as keras load_data does:
//
//	r = np.random.RandomState(113); a = np.arange(10); r.shuffle(a)
//	b = np.arange(7); r.shuffle(b)
//	r = np.random.RandomState(113); c = np.arange(25000); r.shuffle(c)
//	d = np.arange(25000); r.shuffle(d)
func TestShuffleMatchesNumpy(t *testing.T) {
	r, _ := NewRandomState(113)
	if got, want := r.Perm(10), []int{9, 3, 6, 1, 0, 7, 4, 8, 2, 5}; !slices.Equal(got, want) {
		t.Errorf("Perm(10) = %v, want %v", got, want)
	}
	if got, want := r.Perm(7), []int{5, 1, 0, 3, 6, 4, 2}; !slices.Equal(got, want) {
		t.Errorf("second Perm(7) = %v, want %v", got, want)
	}
	r, _ = NewRandomState(113)
	c := r.Perm(25000)
	d := r.Perm(25000)
	for _, tc := range []struct {
		name       string
		got        []int
		head, tail []int
	}{
		{"train", c, []int{7798, 13226, 18078, 793, 17499, 23003, 574, 19638}, []int{16236, 22690, 4828, 14501}},
		{"test", d, []int{22748, 4083, 8015, 13688, 5310, 4466, 736, 22654}, []int{2321, 23183, 20869, 16517}},
	} {
		if !slices.Equal(tc.got[:8], tc.head) || !slices.Equal(tc.got[len(tc.got)-4:], tc.tail) {
			t.Errorf("%s: Perm(25000) starts %v, ends %v; want %v … %v", tc.name, tc.got[:8], tc.got[len(tc.got)-4:], tc.head, tc.tail)
		}
	}
	r, _ = NewRandomState(0)
	if got, want := r.Perm(100)[:10], []int{26, 86, 2, 55, 75, 93, 16, 73, 54, 95}; !slices.Equal(got, want) {
		t.Errorf("seed 0: Perm(100)[:10] = %v, want %v", got, want)
	}
}

func TestRandomStateRejectsBadSeeds(t *testing.T) {
	for _, s := range []int64{-1, 1 << 32} {
		if _, err := NewRandomState(s); err == nil {
			t.Errorf("seed %d: no error", s)
		}
	}
}
