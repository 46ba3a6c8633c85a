package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData returns the shared data folder holding imdb/: $BIRNN_DATA, or
// ../shared/data from the module root. Without it the test is skipped, or
// fails when CI=true.
func sharedData(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("BIRNN_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			dir = ""
			break
		}
		dir = parent
	}
	if dir != "" {
		d := filepath.Join(dir, "..", "shared", "data")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("shared data not found: set BIRNN_DATA or provide ../shared/data")
	}
	tb.Skip("shared data not found: set BIRNN_DATA or provide ../shared/data")
	return ""
}

// imdbDir returns the folder holding the IMDB files inside the shared data.
func imdbDir(tb testing.TB) string {
	tb.Helper()
	d := sharedData(tb)
	if _, err := os.Stat(filepath.Join(d, "imdb")); err == nil {
		return filepath.Join(d, "imdb")
	}
	return d
}
