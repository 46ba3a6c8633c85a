package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/infer/conformance"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

func readTensorT(t *testing.T, path string) *infer.Tensor {
	t.Helper()
	tp, err := onnx.ReadTensor(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := infer.FromProto(tp)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestRunCommand runs a conformance model through `birnn run` and checks
// the written output against the test's expected output.
func TestRunCommand(t *testing.T) {
	test := testutil.DataDir(t, "onnx-node-tests", "test_gemm_all_attributes")
	set := filepath.Join(test, "test_data_set_0")
	out := t.TempDir()
	_, errOut, code := runCLI(t, nil, nil, "run", "--model", filepath.Join(test, "model.onnx"),
		"--input", "a="+filepath.Join(set, "input_0.pb"),
		"--input", "b="+filepath.Join(set, "input_1.pb"),
		"--input", filepath.Join(set, "input_2.pb"), // unnamed: the next input, c
		"--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := readTensorT(t, filepath.Join(out, "y.pb"))
	want := readTensorT(t, filepath.Join(set, "output_0.pb"))
	if err := infer.Compare(got, want, conformance.Atol, conformance.Rtol); err != nil {
		t.Fatal(err)
	}
}

func TestRunCommandErrors(t *testing.T) {
	test := testutil.DataDir(t, "onnx-node-tests", "test_add")
	set := filepath.Join(test, "test_data_set_0")
	model := filepath.Join(test, "model.onnx")
	in0, in1 := filepath.Join(set, "input_0.pb"), filepath.Join(set, "input_1.pb")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--out", t.TempDir()}, 2, "--model"},
		{[]string{"run", "--model", model}, 2, "--out"},
		{[]string{"run", "--model", model, "--input", "x=" + in0, "--out", t.TempDir()}, 1, `missing input "y"`},
		{[]string{"run", "--model", model, "--input", "x=" + in0, "--input", "y=" + in1, "--input", "z=" + in1, "--out", t.TempDir()}, 1, `unknown input "z"`},
		{[]string{"run", "--model", model, "--input", "x=" + in0, "--input", "x=" + in1, "--out", t.TempDir()}, 2, "given twice"},
		{[]string{"run", "--model", model, "--input", "x=/nonexistent.pb", "--out", t.TempDir()}, 1, "nonexistent"},
		{[]string{"run", "--model", in0, "--out", t.TempDir()}, 1, "onnx"},
	}
	for _, tc := range cases {
		_, errOut, code := runCLI(t, nil, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("birnn %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
