package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
)

func writeTestFile(t *testing.T, path, text string) {
	testutil.WriteFile(t, filepath.Dir(path), filepath.Base(path), text)
}

// TestCrosscheckMissing: with nothing on either side every study run is
// listed as missing and the command succeeds.
func TestCrosscheckMissing(t *testing.T) {
	dir := t.TempDir()
	k, r := filepath.Join(dir, "keras"), filepath.Join(dir, "runs")
	out, errOut, code := runCLI(t, nil, nil, "crosscheck", "--keras", k, "--runs", r, "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, run := range configs.Runs() {
		if !strings.Contains(out, run+": "+filepath.Join(k, run)+", "+filepath.Join(r, run)) {
			t.Errorf("output does not list %s as missing on both sides:\n%s", run, out)
		}
	}
	out, errOut, code = runCLI(t, nil, nil, "crosscheck", "--keras", k, "--runs", r, "--data", dir, "--markdown", "--only", "bilstm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "| run | test acc (Keras) | test acc (birnn) |") || !strings.Contains(out, "| bilstm | – | – | – | – | – |") {
		t.Errorf("markdown output:\n%s", out)
	}
}

func TestCrosscheckErrors(t *testing.T) {
	dir := t.TempDir()
	k, r := filepath.Join(dir, "keras"), filepath.Join(dir, "runs")
	if _, errOut, code := runCLI(t, nil, nil, "crosscheck", "--only", "nope", "--keras", k, "--runs", r); code != 2 || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("unknown run: exit %d, %s", code, errOut)
	}
	bad := filepath.Join(k, "deep_lstm", "metrics.json")
	writeTestFile(t, bad, "{")
	if _, errOut, code := runCLI(t, nil, nil, "crosscheck", "--keras", k, "--runs", r, "--data", dir); code != 1 || !strings.Contains(errOut, bad) {
		t.Errorf("malformed metrics.json: exit %d, stderr %q does not name %s", code, errOut, bad)
	}
}

// TestCrosscheckAgreement runs the command end to end on a fabricated
// data folder of 10 test reviews: a birnn checkpoint whose Dense kernel
// is zero and bias −5 labels every review 0, and Keras's labels
// 1101001110 hold 4 zeros, so the two agree on 4 of 10.
func TestCrosscheckAgreement(t *testing.T) {
	dir := t.TempDir()
	data, k, r := filepath.Join(dir, "data"), filepath.Join(dir, "keras"), filepath.Join(dir, "runs")
	texts := []string{"A good movie.", "Bad, bad movie!", "good<br />good", "movie", "nothing known"}
	testutil.TinyIMDB(t, data, `{"good": 1, "bad": 2, "movie": 3}`, texts, texts)
	cfg, err := configs.Parse([]byte("name: tiny\ndata: {num_words: 10, maxlen: 8}\nmodel:\n  embedding: {dim: 2}\n  layers:\n" +
		"    - {type: lstm, units: 2, bidirectional: true}\n    - {type: dense, units: 1, activation: sigmoid}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clear(m.Param("dense_1.W").Data)
	m.Param("dense_1.B").Data[0] = -5
	if err := os.MkdirAll(filepath.Join(r, "bilstm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := model.SaveCheckpoint(filepath.Join(r, "bilstm", "checkpoint.ckpt"), &model.Checkpoint{Model: m}); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(r, "bilstm", "metrics.json"), `{"loss": 0.7, "accuracy": 0.5, "split": "test", "n": 10}`)
	writeTestFile(t, filepath.Join(k, "bilstm", "metrics.json"), `{"loss": 0.4, "accuracy": 0.8414, "n": 10}`)
	writeTestFile(t, filepath.Join(k, "bilstm", "test_labels.txt"), "1101001110\n")
	out, errOut, code := runCLI(t, nil, nil, "crosscheck", "--keras", k, "--runs", r, "--data", data, "--only", "bilstm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"0.8414", "0.5000", "-0.3414", "40.00 % (4 / 10)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
