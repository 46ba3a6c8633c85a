package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
)

// TestUsageErrorsExit2: what the README promises, exit status 2 for a
// usage error — unknown commands and flags, bad flag values, missing or
// extra arguments — and 1 for a failure.
func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nosuch"},
		{"data", "nosuch"},
		{"config", "nosuch"},
		{"config", "show", "bilstm", "--nosuch"},
		{"predict", "--batch", "abc", "--model", "x.onnx"},
		{"inspect"},
		{"inspect", "a.onnx", "b.onnx"},
		{"train", "--epochs"},
		{"data", "info", "-Z"},
	} {
		_, errOut, code := runCLI(t, nil, nil, args...)
		if code != 2 || !strings.HasPrefix(errOut, "birnn: ") {
			t.Errorf("birnn %s: exit %d, stderr %q; want exit 2", strings.Join(args, " "), code, errOut)
		}
	}
	if _, _, code := runCLI(t, nil, nil, "inspect", filepath.Join(t.TempDir(), "none.onnx")); code != 1 {
		t.Errorf("a missing model: exit %d, want 1 (a failure, not a usage error)", code)
	}
	if out, _, code := runCLI(t, nil, nil, "data"); code != 0 || !strings.Contains(out, "fetch") {
		t.Errorf("birnn data: exit %d, want 0 and the help listing its commands:\n%s", code, out)
	}
}

// TestRunConfigOrder checks file < BIRNN_* < flags for run configuration
// keys, the data folder's order (--data > BIRNN_DATA_DIR > BIRNN_DATA >
// data.dir of the file), and errors that name the key and the source.
func TestRunConfigOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.yaml")
	writeTestFile(t, file, "name: mine\ndata: {dir: /from/file, maxlen: 80}\nmodel:\n  layers:\n    - {type: lstm, units: 3}\n"+
		"    - {type: dense, units: 1}\ntrain:\n  epochs: 5\n  optimizer: {name: sgd}\n")
	show := func(env []string, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, nil, env, append([]string{"config", "show", file}, args...)...)
		if code != 0 {
			t.Fatalf("config show %v (env %v): exit %d: %s", args, env, code, errOut)
		}
		return out
	}
	has := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
	has(show(nil), "epochs: 5", "dir: /from/file", "maxlen: 80", "learning_rate: 0.01") // sgd's Keras default
	has(show([]string{"BIRNN_TRAIN_EPOCHS=6", "BIRNN_TRAIN_OPTIMIZER_LEARNING_RATE=0.5"}), "epochs: 6", "learning_rate: 0.5")
	has(show([]string{"BIRNN_TRAIN_EPOCHS=6"}, "--set", "train.epochs=7"), "epochs: 7")
	// BIRNN_DATA, the older name of BIRNN_DATA_DIR, must not hide the
	// other data.* keys.
	has(show([]string{"BIRNN_DATA=/from/old", "BIRNN_DATA_MAXLEN=50"}), "dir: /from/old", "maxlen: 50")
	has(show([]string{"BIRNN_DATA=/from/old", "BIRNN_DATA_DIR=/from/env"}), "dir: /from/env")
	has(show([]string{"BIRNN_DATA_DIR=/from/env"}, "--data", "/from/flag"), "dir: /from/flag")

	bad := filepath.Join(dir, "bad.yaml")
	writeTestFile(t, bad, "model:\n  layers: [{type: lstm, units: 3}, {type: dense, units: 1}]\ntrain:\n  epoch: 3\n")
	for _, tc := range []struct {
		args []string
		env  []string
		want []string
	}{
		{[]string{bad}, nil, []string{"train.epoch: unknown key (line 4)"}},
		{[]string{file}, []string{"BIRNN_TRAIN_EPOCHS=two"}, []string{"train.epochs", "BIRNN_TRAIN_EPOCHS=two"}},
		{[]string{file, "--set", "train.epochs=0"}, nil, []string{"--set train.epochs=0", "train.epochs: must be > 0"}},
		{[]string{file, "--set", "train.epochz=3"}, nil, []string{"train.epochz: unknown key"}},
		{[]string{file}, []string{"BIRNN_DATA_PADDING=middle"}, []string{"BIRNN_DATA_PADDING=middle", "data.padding"}},
	} {
		_, errOut, code := runCLI(t, nil, tc.env, append([]string{"config", "show"}, tc.args...)...)
		if code != 2 {
			t.Errorf("config show %v (env %v): exit %d, want 2: %s", tc.args, tc.env, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("config show %v (env %v): stderr %q lacks %q", tc.args, tc.env, errOut, w)
			}
		}
	}
	// train's --epochs is train.epochs: a bad value names the flag.
	if _, errOut, code := runCLI(t, nil, nil, "train", "--config", file, "--epochs", "0"); code != 2 || !strings.Contains(errOut, "--epochs 0") {
		t.Errorf("train --epochs 0: exit %d, %q", code, errOut)
	}
}

// TestCommandSettingsOrder: a command's own flags read BIRNN_<COMMAND>_<FLAG>
// when not given, and a flag wins over the variable.
func TestCommandSettingsOrder(t *testing.T) {
	model, wi := predictFixture(t)
	// sigmoid(0.01·57 − 1) = 0.394 for "great movie!".
	cases := []struct {
		env   []string
		args  []string
		label string
	}{
		{nil, nil, "negative"},
		{[]string{"BIRNN_PREDICT_THRESHOLD=0.2"}, nil, "positive"},
		{[]string{"BIRNN_PREDICT_THRESHOLD=0.2"}, []string{"--threshold", "0.9"}, "negative"},
	}
	for _, tc := range cases {
		env := append([]string{"BIRNN_PREDICT_MODEL=" + model, "BIRNN_PREDICT_WORD_INDEX=" + wi}, tc.env...)
		out, errOut, code := runCLI(t, nil, env, append([]string{"predict", "--text", "great movie!"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("env %v args %v: exit %d: %s", tc.env, tc.args, code, errOut)
		}
		if ps := decodePredictions(t, out); len(ps) != 1 || ps[0].Label != tc.label {
			t.Errorf("env %v args %v: %+v, want %s", tc.env, tc.args, ps, tc.label)
		}
	}
	_, errOut, code := runCLI(t, nil, []string{"BIRNN_PREDICT_BATCH=abc"}, "predict", "--model", model, "--word-index", wi, "--text", "x")
	if code != 2 || !strings.Contains(errOut, "BIRNN_PREDICT_BATCH=abc") || !strings.Contains(errOut, "--batch") {
		t.Errorf("bad BIRNN_PREDICT_BATCH: exit %d, %q", code, errOut)
	}
}

// TestTrainMissingData: without the dataset, train names what is missing
// and how to fetch it, and leaves no empty run folder behind.
func TestTrainMissingData(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "runs", "deep_lstm")
	_, errOut, code := runCLI(t, nil, nil, "train", "--config", "deep_lstm", "--data", filepath.Join(dir, "empty"), "--out", out)
	if code != 1 || !strings.Contains(errOut, "birnn data fetch") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming `birnn data fetch`", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("train left %s behind (%v)", filepath.Join(dir, "runs"), err)
	}
}

// TestPredictTwoInputs: a model with two inputs is refused with an error
// that names its inputs and the --input flag; naming the ids input leads
// to the input the scorer cannot fill.
func TestPredictTwoInputs(t *testing.T) {
	model, wi := predictFixture(t)
	mp, err := onnx.ReadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	mp.Graph.Input = append(mp.Graph.Input, onnx.MakeValueInfo("lengths", onnx.TensorProto_INT32, onnx.DimParam("unk__5")))
	mp.DocString = proto.String("two inputs")
	two := filepath.Join(t.TempDir(), "two.onnx")
	if err := onnx.WriteModel(two, mp); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{nil, 2, []string{"--input NAME", "embedding_input, lengths"}},
		{[]string{"--input", "nope"}, 1, []string{`"nope"`, "embedding_input, lengths"}},
		{[]string{"--input", "embedding_input"}, 1, []string{"lengths"}},
	} {
		_, errOut, code := runCLI(t, nil, nil, append([]string{"predict", "--model", two, "--word-index", wi, "--text", "x"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, w)
			}
		}
		if strings.Contains(errOut, "Options.Input") {
			t.Errorf("%v: the error names a Go field: %s", tc.args, errOut)
		}
	}
}
