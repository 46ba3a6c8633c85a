package dataset

import (
	"encoding/binary"
	"math/bits"
)

// wordTable is a read-only hash table from word bytes to rank, built from
// a WordIndex for the hot tokenizing loop; it is several times faster than
// a map[string]int, whose keys are scattered on the heap.
//
// Words of up to 8 bytes (most words) are compared as one uint64 held in
// the slot, so a hit touches one cache line; longer words are compared
// against a flat byte arena. Word frequencies are Zipfian, so the words of
// rank ≤ hotRanks (≈97% of IMDB's tokens) get a small table of their own
// that stays in the L2 cache; the rest sit in a second table probed only
// when the first misses.
type wordTable struct {
	hot, cold slotTable
	long      []byte
	// rare holds words the slot layout cannot describe (longer than
	// maxSlotWord bytes, or past maxLongArena bytes of long words).
	rare map[string]int32
}

// slotTable is open addressing with linear probing, at most half full,
// indexed by the top bits of the hash.
type slotTable struct {
	slots []wordSlot
	mask  uint64
	shift uint // 64 − log2(len(slots))
}

type wordSlot struct {
	key  uint64 // the word's first 8 bytes, little-endian, zero-padded
	meta uint32 // length | start in long << 12; 0 marks an empty slot
	rank int32
}

const (
	hashMul      = 0x9E3779B97F4A7C15
	maxSlotWord  = 1<<12 - 1
	maxLongArena = 1 << 20
	hotRanks     = 1 << 14
)

func newSlotTable(n int) slotTable {
	lg := bits.Len(uint(max(n, 1))*2 - 1)
	return slotTable{slots: make([]wordSlot, 1<<lg), mask: 1<<lg - 1, shift: uint(64 - lg)}
}

func (t *slotTable) insert(s wordSlot, h uint64) {
	i := h >> t.shift
	for t.slots[i].meta != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = s
}

func newWordTable(wi WordIndex) *wordTable {
	nHot := 0
	for _, r := range wi {
		if r <= hotRanks {
			nHot++
		}
	}
	t := &wordTable{hot: newSlotTable(nHot), cold: newSlotTable(len(wi) - nHot)}
	for w, r := range wi {
		b := []byte(w)
		if len(b) == 0 {
			continue // a word the tokenizer can never produce
		}
		var off int
		if len(b) > 8 {
			off = len(t.long)
		}
		if len(b) > maxSlotWord || off+len(b) > maxLongArena {
			if t.rare == nil {
				t.rare = map[string]int32{}
			}
			t.rare[w] = int32(r)
			continue
		}
		if len(b) > 8 {
			t.long = append(t.long, b...)
		}
		s := wordSlot{key: load8(b), meta: uint32(len(b)) | uint32(off)<<12, rank: int32(r)}
		h := wordHash(b, s.key)
		if r <= hotRanks {
			t.hot.insert(s, h)
		} else {
			t.cold.insert(s, h)
		}
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
	if len(b) > maxSlotWord {
		return t.rare[string(b)]
	}
	var k uint64
	if cap(b) >= 8 {
		k = binary.LittleEndian.Uint64(b[:8]) & lenMask[min(len(b), 8)]
	} else {
		k = load8(b)
	}
	h := wordHash(b, k)
	if r := t.find(&t.hot, b, k, h); r != 0 {
		return r
	}
	if r := t.find(&t.cold, b, k, h); r != 0 {
		return r
	}
	if t.rare != nil {
		return t.rare[string(b)]
	}
	return 0
}

func (t *wordTable) find(st *slotTable, b []byte, k, h uint64) int32 {
	n := uint32(len(b))
	i := h >> st.shift
	for {
		s := &st.slots[i]
		if s.meta == 0 {
			return 0
		}
		if s.key == k && s.meta&maxSlotWord == n {
			if n <= 8 {
				return s.rank
			}
			off := s.meta >> 12
			if string(t.long[off:off+n]) == string(b) {
				return s.rank
			}
		}
		i = (i + 1) & st.mask
	}
}
