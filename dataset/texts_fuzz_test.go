package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadTexts feeds arbitrary bytes as an IMDB archive to the one archive
// walker (through ReadTexts): it must never panic, and a failure must be
// ErrCorrupt or ErrNotFound.
func FuzzReadTexts(f *testing.F) {
	dir := f.TempDir()
	writeTarGz(f, filepath.Join(dir, "seed.tar.gz"), fixture)
	seed, err := os.ReadFile(filepath.Join(dir, "seed.tar.gz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	p := filepath.Join(dir, "a.tar.gz") // one file per worker process, rewritten each time
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadTexts(p, []string{"test/neg/3_4.txt", "train/pos/0_9.txt"})
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("error %v is neither ErrCorrupt nor ErrNotFound", err)
		}
	})
}
