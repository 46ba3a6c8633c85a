package crosscheck

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/birnn/birnn/dataset"
)

// repoRoot walks up from the package folder to the folder holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the package folder")
		}
		dir = up
	}
}

// dataDir returns the IMDB data folder ($BIRNN_DATA, else ../shared/data
// beside the repository). When it is missing the test is skipped, or fails
// when CI=true.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BIRNN_DATA")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared", "data")
	}
	if _, err := dataset.Locate(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("IMDB data needed under CI: %v", err)
		}
		t.Skipf("no IMDB data: %v", err)
	}
	return dir
}

// imdbTest is the test split (all words, Keras order) and the data files,
// loaded once per test binary.
var imdbTest struct {
	once  sync.Once
	split *dataset.Split
	files dataset.Files
	wi    dataset.WordIndex
	err   error
}

func loadTestSplit(t testing.TB) (*dataset.Split, dataset.Files, dataset.WordIndex) {
	t.Helper()
	dir := dataDir(t)
	imdbTest.once.Do(func() {
		if imdbTest.files, imdbTest.err = dataset.Locate(dir); imdbTest.err != nil {
			return
		}
		if imdbTest.wi, imdbTest.err = dataset.LoadWordIndex(imdbTest.files.WordIndex); imdbTest.err != nil {
			return
		}
		_, imdbTest.split, imdbTest.err = dataset.LoadData(dir, dataset.DefaultLoadOptions())
	})
	if imdbTest.err != nil {
		t.Fatal(imdbTest.err)
	}
	return imdbTest.split, imdbTest.files, imdbTest.wi
}
