// Package testutil holds helpers shared by birnn's tests: locating the
// shared data folder and comparing floating-point slices with tolerances.
package testutil

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

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
		if os.Getenv("CI") == "true" {
			t.Fatalf("test data %q not found (set BIRNN_DATA)", dir)
		}
		t.Skipf("test data %q not found (set BIRNN_DATA)", dir)
	}
	return dir
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
