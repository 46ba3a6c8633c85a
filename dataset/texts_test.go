package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadTexts reads raw review texts by name from an archive and from an
// unpacked folder, with the same walker as the loader: repeats come back
// in order, anything not a labelled review is refused or reported missing.
func TestReadTexts(t *testing.T) {
	names := []string{"test/neg/3_4.txt", "train/pos/0_9.txt", "test/neg/3_4.txt"}
	want := []string{"bad BAD film", "A great film.<br />Great!", "bad BAD film"}
	for _, src := range []string{ArchiveName, FolderName} {
		t.Run(src, func(t *testing.T) {
			reviews := filepath.Join(fixtureDir(t, src), src)
			got, err := ReadTexts(reviews, names)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("ReadTexts = %q, want %q", got, want)
			}
			// train/unsup holds reviews without a label: not a review path.
			for _, bad := range []string{"../etc/passwd.txt", "/abs/0_1.txt", "test/pos/0_7", "test/pos/../../x.txt", "train/unsup/0_0.txt"} {
				if _, err := ReadTexts(reviews, []string{bad}); !errors.Is(err, ErrOption) {
					t.Errorf("%q: err = %v, want ErrOption", bad, err)
				}
			}
			for _, missing := range []string{"test/pos/9_1.txt"} {
				if _, err := ReadTexts(reviews, []string{missing}); !errors.Is(err, ErrNotFound) {
					t.Errorf("%q: err = %v, want ErrNotFound", missing, err)
				}
			}
		})
	}
	// A truncated archive is ErrCorrupt once the walk reaches the damage.
	dir := fixtureDir(t, ArchiveName)
	p := filepath.Join(dir, ArchiveName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTexts(p, []string{"test/pos/9_1.txt"}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated archive: err = %v, want ErrCorrupt", err)
	}
	if _, err := ReadTexts(filepath.Join(dir, "none.tar.gz"), names); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing archive: err = %v, want ErrNotFound", err)
	}
}
