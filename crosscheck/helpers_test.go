package crosscheck

import (
	"sync"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/internal/testutil"
)

// dataDir returns the IMDB data folder (testutil.DataDir) after checking
// it holds the dataset; skipped without it, fatal when CI=true.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := testutil.DataDir(t)
	if _, err := dataset.Locate(dir); err != nil {
		testutil.Missing(t, "no IMDB data: %v", err)
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
