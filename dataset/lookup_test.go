package dataset

import (
	"path/filepath"
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
		i := wordHash(b, load8(b)) >> wt.shift
		n := 0
		for wt.slots[i].rank != int32(r) || wt.slots[i].n != uint32(len(b)) {
			i = (i + 1) & wt.mask
			n++
		}
		maxProbe = max(maxProbe, n)
	}
	t.Logf("%d words, %d slots, longest probe %d", len(wi), len(wt.slots), maxProbe)
}
