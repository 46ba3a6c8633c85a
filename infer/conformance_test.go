package infer

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
)

// TestNodeConformance runs every ONNX backend node test in the shared data:
// a test whose model loads (all its ops registered, all its types
// supported) must pass; the rest are listed as unsupported.
func TestNodeConformance(t *testing.T) {
	dirs, err := NodeTests(testutil.DataDir(t, "onnx-node-tests"))
	if err != nil {
		t.Fatal(err)
	}
	var passed, failed int
	unsupported := map[string][]string{}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		err := RunNodeTest(dir)
		switch {
		case err == nil:
			passed++
		case errors.Is(err, ErrUnsupported):
			reason := err.Error()
			var ue *UnsupportedOpError
			var te *UnsupportedTypeError
			if errors.As(err, &ue) {
				reason = "op " + ue.Op
			} else if errors.As(err, &te) {
				reason = "type " + te.Type
			}
			unsupported[reason] = append(unsupported[reason], name)
		default:
			failed++
			t.Errorf("%s: %v", name, err)
		}
	}
	var reasons []string
	for r := range unsupported {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	n := 0
	for _, r := range reasons {
		n += len(unsupported[r])
		t.Logf("unsupported (%s): %s", r, strings.Join(unsupported[r], " "))
	}
	t.Logf("%d passed, %d failed, %d unsupported of %d", passed, failed, n, len(dirs))
}
