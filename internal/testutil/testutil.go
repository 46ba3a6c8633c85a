// Package testutil holds helpers shared by birnn's tests: locating the
// shared data folder and ONNX Runtime, comparing floating-point slices with
// tolerances, and writing fabricated data folders (TinyIMDB). It imports no
// birnn package, so any test may use it; fixtures built from birnn models
// live in internal/modeltest.
package testutil

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Missing ends a test whose external input (the shared data, ONNX
// Runtime, a tool) is absent: it is skipped, or fails when CI=true, where
// the CI script provides everything.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// DataDir returns the shared data folder: $BIRNN_DATA, else ../shared/data
// relative to the repository root (found by walking up from the working
// directory to go.mod), joined with sub. When it does not exist the test
// is skipped, or fails when CI=true.
func DataDir(t testing.TB, sub ...string) string {
	t.Helper()
	base := os.Getenv("BIRNN_DATA")
	if base == "" {
		if root := repoRoot(); root != "" {
			base = filepath.Join(root, "..", "shared", "data")
		}
	}
	dir := filepath.Join(append([]string{base}, sub...)...)
	if base == "" {
		dir = ""
	}
	if _, err := os.Stat(dir); dir == "" || err != nil {
		Missing(t, "test data %q not found (set BIRNN_DATA or provide ../shared/data)", dir)
	}
	return dir
}

// RepoRoot returns the repository root, the folder holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root := repoRoot()
	if root == "" {
		t.Fatal("no go.mod above the working directory")
	}
	return root
}

// ORTLibrary returns ONNX Runtime's shared library: $ONNXRUNTIME_LIB, else
// the cache folder scripts/ort/fetch.sh fills ($BIRNN_ORT_DIR, default
// ~/.cache/birnn/onnxruntime/1.30.0). Missing: skip, or fail when CI=true.
func ORTLibrary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	dir := os.Getenv("BIRNN_ORT_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "birnn", "onnxruntime", "1.30.0")
	}
	p := filepath.Join(dir, "libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		Missing(t, "ONNX Runtime not found: run scripts/ort/fetch.sh or set ONNXRUNTIME_LIB")
	}
	return p
}

// KerasExports returns the model.onnx of every Keras/tf2onnx export
// committed under testdata/keras. They are part of the repository, so
// finding none fails the test.
func KerasExports(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(RepoRoot(t), "testdata", "keras", "*", "model.onnx"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Keras exports in testdata/keras (they are committed; %v)", err)
	}
	return paths
}

func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// AllClose fails t unless got and want have the same length and every
// element satisfies |got−want| ≤ atol + rtol·|want| (NaN matches NaN).
// It reports up to five mismatches.
func AllClose[T ~float32 | ~float64](t testing.TB, got, want []T, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("length %d, want %d", len(got), len(want))
		return
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("element %d: got %v, want %v (|diff| %.3g > %.3g)", i, g, w, math.Abs(g-w), atol+rtol*math.Abs(w))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d elements differ", bad, len(want))
	}
}

// WriteFile writes text to dir/rel (rel with slashes), creating folders.
func WriteFile(t testing.TB, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TinyIMDB writes a fabricated IMDB data folder in dir: the word index
// wordIndex (JSON) and an unpacked aclImdb/ tree holding each of train and
// test as both a positive and a negative review, <i>_7.txt for the i-th
// text. It returns dir.
func TinyIMDB(t testing.TB, dir, wordIndex string, train, test []string) string {
	t.Helper()
	WriteFile(t, dir, "imdb_word_index.json", wordIndex)
	for split, texts := range map[string][]string{"train": train, "test": test} {
		for i, text := range texts {
			for _, lab := range []string{"pos", "neg"} {
				WriteFile(t, dir, "aclImdb/"+split+"/"+lab+"/"+strconv.Itoa(i)+"_7.txt", text)
			}
		}
	}
	return dir
}

// CopyDir copies the files and folders below src to dst (created), for
// tests that alter a copy of a test folder.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
