package dataset

import "fmt"

// RandomState is numpy's legacy MT19937 generator, np.random.RandomState,
// with just what Keras's shuffles use: integer seeding (init_genrand) and
// the legacy shuffle built on masked rejection sampling.
type RandomState struct {
	mt  [624]uint32
	pos int
}

// NewRandomState seeds the generator as np.random.RandomState(seed) does
// for an integer seed in [0, 2^32−1]; other seeds are ErrOption, as numpy
// raises ValueError for them.
func NewRandomState(seed int64) (*RandomState, error) {
	if seed < 0 || seed > 1<<32-1 {
		return nil, fmt.Errorf("%w: seed %d is outside [0, 2^32-1]", ErrOption, seed)
	}
	r := &RandomState{}
	r.mt[0] = uint32(seed)
	for i := 1; i < len(r.mt); i++ {
		p := r.mt[i-1]
		r.mt[i] = 1812433253*(p^(p>>30)) + uint32(i)
	}
	r.pos = len(r.mt)
	return r, nil
}

func (r *RandomState) generate() {
	const (
		n, m    = 624, 397
		upper   = 0x80000000
		lower   = 0x7fffffff
		matrixA = 0x9908b0df
	)
	mt := &r.mt
	for i := 0; i < n; i++ {
		y := mt[i]&upper | mt[(i+1)%n]&lower
		v := mt[(i+m)%n] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		mt[i] = v
	}
	r.pos = 0
}

// Uint32 returns the next 32-bit output.
func (r *RandomState) Uint32() uint32 {
	if r.pos >= len(r.mt) {
		r.generate()
	}
	y := r.mt[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two outputs joined, high word first, as numpy's
// mt19937_next64.
func (r *RandomState) Uint64() uint64 {
	hi := uint64(r.Uint32())
	return hi<<32 | uint64(r.Uint32())
}

// Interval returns a uniform integer in [0, max] by numpy's
// random_interval: draws masked to the smallest all-ones mask ≥ max,
// rejected while above max; 32-bit draws when max fits in 32 bits.
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	mask |= mask >> 32
	if max <= 0xffffffff {
		for {
			if v := uint64(r.Uint32()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		if v := r.Uint64() & mask; v <= max {
			return v
		}
	}
}

// Shuffle permutes n items in place as RandomState.shuffle does on a 1-D
// array: for i from n−1 down to 1, swap i with Interval(i).
func (r *RandomState) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := int(r.Interval(uint64(i)))
		swap(i, j)
	}
}

// Perm returns np.arange(n) shuffled by Shuffle.
func (r *RandomState) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}
