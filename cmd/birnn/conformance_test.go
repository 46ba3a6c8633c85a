package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

func TestConformanceCommand(t *testing.T) {
	tests := testutil.DataDir(t, "onnx-node-tests")
	// A folder holding tests and single test folders are both accepted.
	out, errOut, code := runCLI(t, nil, nil, "conformance",
		filepath.Join(tests, "test_add"), filepath.Join(tests, "test_split_to_sequence_1"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "PASS test_add\nUNSUPPORTED test_split_to_sequence_1: op SplitToSequence (opset 24)\n1 passed, 0 failed, 1 unsupported\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}

	out, _, code = runCLI(t, nil, nil, "conformance", tests)
	if code != 0 || !strings.HasSuffix(out, " 0 failed, 11 unsupported\n") {
		t.Errorf("whole suite: exit %d, last line %q", code, out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:])
	}
}

func TestConformanceCommandFailure(t *testing.T) {
	tests := testutil.DataDir(t, "onnx-node-tests")
	// A copy of test_add whose expected output is wrong must FAIL.
	dir := filepath.Join(t.TempDir(), "test_add_broken")
	testutil.CopyDir(t, filepath.Join(tests, "test_add"), dir)
	wrong, err := onnx.MakeTensor("sum", []int64{3, 4, 5}, make([]float32, 60))
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteTensor(filepath.Join(dir, "test_data_set_0", "output_0.pb"), wrong); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, nil, nil, "conformance", dir)
	if code == 0 || !strings.HasPrefix(out, "FAIL test_add_broken: ") || !strings.Contains(out, "0 passed, 1 failed, 0 unsupported") {
		t.Errorf("exit %d, output %q; want a FAIL line and a non-zero exit", code, out)
	}

	_, errOut, code := runCLI(t, nil, nil, "conformance", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "no ONNX backend tests") {
		t.Errorf("empty folder: exit %d, stderr %q", code, errOut)
	}
}
