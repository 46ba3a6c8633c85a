package dataset

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWordTableMatchesMap checks the tokenizer's hash table against the
// plain map for every index word, for near misses and for words absent.
func TestWordTableMatchesMap(t *testing.T) {
	wi, err := LoadWordIndex(filepath.Join(imdbDir(t), WordIndexName))
	if err != nil {
		t.Fatal(err)
	}
	wt := newWordTable(wi)
	maxProbe := 0
	for w, r := range wi {
		if got := wt.rank([]byte(w)); int(got) != r {
			t.Fatalf("rank(%q) = %d, want %d", w, got, r)
		}
		for _, miss := range []string{w + "q", w + "'", "x" + w} {
			if _, ok := wi[miss]; !ok {
				if got := wt.rank([]byte(miss)); got != 0 {
					t.Fatalf("rank(%q) = %d, want 0 (absent)", miss, got)
				}
			}
		}
		b := []byte(w)
		st := &wt.cold
		if r <= hotRanks {
			st = &wt.hot
		}
		i := wordHash(b, load8(b)) >> st.shift
		n := 0
		for st.slots[i].rank != int32(r) || st.slots[i].meta&maxSlotWord != uint32(len(b)) {
			i = (i + 1) & st.mask
			n++
		}
		maxProbe = max(maxProbe, n)
	}
	t.Logf("%d words, %d+%d slots, longest probe %d", len(wi), len(wt.hot.slots), len(wt.cold.slots), maxProbe)
}

// Words the slot layout cannot hold go to the fallback map.
func TestWordTableRareWords(t *testing.T) {
	huge := strings.Repeat("x", maxSlotWord+5)
	wi := WordIndex{"short": 1, "quitelongword": 2, huge: 3}
	wt := newWordTable(wi)
	for w, r := range wi {
		if got := wt.rank([]byte(w)); int(got) != r {
			t.Errorf("rank(len %d) = %d, want %d", len(w), got, r)
		}
	}
	if got := wt.rank([]byte(huge + "y")); got != 0 {
		t.Errorf("absent long word: %d", got)
	}
}
