package dataset

import (
	"encoding/binary"
	"math/bits"
)

// wordTable is a read-only open-addressing hash table from word bytes to
// rank, built from a WordIndex for the hot tokenizing loop. Words of up to
// 8 bytes (most words) are compared as one uint64 held in the slot, so a
// lookup touches one cache line; longer words are compared against a flat
// byte arena. It is several times faster than a map[string]int lookup,
// whose keys are scattered on the heap.
type wordTable struct {
	slots []wordSlot
	mask  uint64
	shift uint // 64 − log2(len(slots)): slots are indexed by the hash's top bits
	long  []byte
}

type wordSlot struct {
	key  uint64 // the word's first 8 bytes, little-endian, zero-padded
	off  uint32 // for words longer than 8 bytes: start in long
	n    uint32 // length in bytes; 0 marks an empty slot
	rank int32
}

const hashMul = 0x9E3779B97F4A7C15

func newWordTable(wi WordIndex) *wordTable {
	lg := bits.Len(uint(len(wi))*2 - 1)
	size := 1 << lg
	t := &wordTable{slots: make([]wordSlot, size), mask: uint64(size - 1), shift: uint(64 - lg)}
	for w, r := range wi {
		if len(w) == 0 || len(w) > 1<<20 {
			continue // a word the tokenizer can never produce
		}
		b := []byte(w)
		s := wordSlot{key: load8(b), n: uint32(len(b)), rank: int32(r)}
		if len(b) > 8 {
			s.off = uint32(len(t.long))
			t.long = append(t.long, b...)
		}
		i := wordHash(b, s.key) >> t.shift
		for t.slots[i].n != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
	return t
}

// load8 returns the first (up to) 8 bytes of b as a little-endian uint64,
// zero-padded.
func load8(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.LittleEndian.Uint64(b)
	}
	var k uint64
	for i := len(b) - 1; i >= 0; i-- {
		k = k<<8 | uint64(b[i])
	}
	return k
}

// wordHash mixes the word into its high bits (Fibonacci hashing).
func wordHash(b []byte, k uint64) uint64 {
	h := k ^ uint64(len(b))<<56
	for i := 8; i < len(b); i += 8 {
		h = bits.RotateLeft64(h*hashMul, 31) ^ load8(b[i:])
	}
	return h * hashMul
}

// lenMask[n] keeps the first n bytes of a little-endian uint64.
var lenMask = func() (m [9]uint64) {
	for n := range m {
		m[n] = 1<<(8*uint(n)) - 1
	}
	m[8] = ^uint64(0)
	return m
}()

// rank returns the rank of word b, or 0 when it is not in the table. When
// b's capacity allows, its first 8 bytes are read in one load and masked.
func (t *wordTable) rank(b []byte) int32 {
	var k uint64
	if cap(b) >= 8 {
		k = binary.LittleEndian.Uint64(b[:8]) & lenMask[min(len(b), 8)]
	} else {
		k = load8(b)
	}
	n := uint32(len(b))
	i := wordHash(b, k) >> t.shift
	for {
		s := &t.slots[i]
		if s.n == 0 {
			return 0
		}
		if s.key == k && s.n == n && (n <= 8 || string(t.long[s.off:s.off+n]) == string(b)) {
			return s.rank
		}
		i = (i + 1) & t.mask
	}
}
