package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeHistory(t *testing.T, dir, run, json string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, run, "history.json")
	if err := os.WriteFile(path, []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const historyJSON = `{"loss": [0.48, 0.30, 0.26, 0.22], "accuracy": [0.76, 0.87, 0.90, 0.92],
 "val_loss": [0.37, 0.34, 0.34, 0.37], "val_accuracy": [0.84, 0.86, 0.86, 0.85]}`

func checkPNG(t *testing.T, path string) {
	t.Helper()
	img, err := png.Decode(openFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 900 {
		t.Errorf("%s is %v", path, b)
	}
}

func TestPlotHistory(t *testing.T) {
	dir := t.TempDir()
	h := writeHistory(t, dir, "deep_bilstm", historyJSON)
	out, errOut, code := runCLI(t, nil, nil, "plot", "--history", h)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := filepath.Join(dir, "deep_bilstm", "curves.png")
	if strings.TrimSpace(out) != want {
		t.Errorf("printed %q, want %q", out, want)
	}
	checkPNG(t, want)

	other := filepath.Join(dir, "x.png")
	if _, errOut, code := runCLI(t, nil, nil, "plot", "--history", h, "--out", other, "--title", "Deep BiLSTM"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkPNG(t, other)
}

func TestPlotCompare(t *testing.T) {
	dir := t.TempDir()
	var hs []string
	for _, run := range []string{"deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"} {
		hs = append(hs, writeHistory(t, dir, run, historyJSON))
	}
	out := filepath.Join(dir, "cmp.png")
	_, errOut, code := runCLI(t, nil, nil, "plot", "--compare", strings.Join(hs, ","),
		"--labels", "Adam simple,RMSProp dropout 0.2,Adam dropout 0.2", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkPNG(t, out)
	_, errOut, code = runCLI(t, nil, nil, "plot", "--compare", strings.Join(hs, ","), "--metric", "train", "--out", out)
	if code != 0 {
		t.Fatalf("train metric: exit %d: %s", code, errOut)
	}
	checkPNG(t, out)
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeHistory(t, dir, "a", historyJSON)
	empty := writeHistory(t, dir, "empty", `{"loss": [], "accuracy": []}`)
	short := writeHistory(t, dir, "short", `{"loss": [1, 2], "accuracy": [0.5]}`)
	out := filepath.Join(dir, "o.png")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plot"}, 2, "needs --history"},
		{[]string{"plot", "--history", good, "--compare", good}, 2, "exclude"},
		{[]string{"plot", "--compare", good + "," + good, "--labels", "one", "--out", out}, 2, "1 labels for 2"},
		{[]string{"plot", "--history", good, "--labels", "x"}, 2, "--compare"},
		{[]string{"plot", "--history", filepath.Join(dir, "missing.json")}, 1, "missing.json"},
		{[]string{"plot", "--history", empty, "--out", out}, 1, "empty"},
		{[]string{"plot", "--history", short, "--out", out}, 1, "1 accuracy values for 2 loss"},
		{[]string{"plot", "--compare", good + "," + short, "--out", out}, 1, "short"},
		{[]string{"plot", "--compare", good, "--metric", "f1", "--out", out}, 1, "f1"},
	} {
		_, errOut, code := runCLI(t, nil, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed plot left a file")
	}
}
