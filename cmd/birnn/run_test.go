package main

import (
	"fmt"
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
	x, err := readTensor(filepath.Base(path), path)
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

// TestRunExternalData runs a model whose weights live in model.onnx.data
// beside it (the dynamo exporter's layout): the data is read from the
// model's folder, and a data file outside it is refused, named.
func TestRunExternalData(t *testing.T) {
	test := testutil.DataDir(t, "onnx-node-tests", "test_gemm_all_attributes")
	set := filepath.Join(test, "test_data_set_0")
	m, err := onnx.ReadModel(filepath.Join(test, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	// Feed b and c as initializers kept externally; a stays an input.
	g := m.GetGraph()
	for i, name := range []string{"b", "c"} {
		tp, err := onnx.ReadTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		tp.Name = &name
		g.Initializer = append(g.Initializer, tp)
	}
	g.Input = g.Input[:1]
	dir := t.TempDir()
	if err := onnx.MoveToExternalData(m, dir, "model.onnx.data", 0); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.onnx")
	if err := onnx.WriteModel(model, m); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, errOut, code := runCLI(t, nil, nil, "run", "--model", model, "--input", "a="+filepath.Join(set, "input_0.pb"), "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := readTensorT(t, filepath.Join(out, "y.pb"))
	if err := infer.Compare(got, readTensorT(t, filepath.Join(set, "output_0.pb")), conformance.Atol, conformance.Rtol); err != nil {
		t.Fatal(err)
	}

	for _, kv := range g.Initializer[0].ExternalData {
		if kv.GetKey() == "location" {
			loc := "../elsewhere/model.onnx.data"
			kv.Value = &loc
		}
	}
	if err := onnx.WriteModel(model, m); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, nil, nil, "run", "--model", model, "--input", "a="+filepath.Join(set, "input_0.pb"), "--out", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "../elsewhere/model.onnx.data") || !strings.Contains(errOut, "outside the model's folder") {
		t.Errorf("escaping data file: exit %d, stderr %q", code, errOut)
	}
}
