package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainEvaluateReproduceUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train"}, "--config"},
		{[]string{"train", "--config", "deep_lstm", "--epochs", "0"}, "--epochs"},
		{[]string{"evaluate"}, "--checkpoint"},
		{[]string{"evaluate", "--checkpoint", "x.ckpt", "--split", "dev"}, "--split"},
		{[]string{"reproduce", "--runs", "deep_lstm,nope"}, "unknown run"},
	} {
		_, stderr, code := runCLI(t, nil, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("birnn %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	_, stderr, code := runCLI(t, nil, nil, "evaluate", "--checkpoint", filepath.Join(t.TempDir(), "missing.ckpt"))
	if code != 1 || !strings.Contains(stderr, "missing.ckpt") {
		t.Errorf("evaluate with a missing checkpoint: exit %d, %q", code, stderr)
	}
	_, stderr, code = runCLI(t, nil, nil, "train", "--config", "no_such_run")
	if code == 0 || !strings.Contains(stderr, "no_such_run") {
		t.Errorf("train with an unknown config: exit %d, %q", code, stderr)
	}
}

// TestTrainEvaluateCommands trains a tiny model on 200 IMDB reviews, then
// evaluates its checkpoint, through the binary.
func TestTrainEvaluateCommands(t *testing.T) {
	data := imdbData(t)
	if testing.Short() {
		t.Skip("loads IMDB; skipped with -short")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(cfg, []byte(`name: tiny
model:
  embedding: {dim: 8}
  layers:
    - {type: lstm, units: 4, bidirectional: true}
    - {type: dense, units: 1, activation: sigmoid}
train: {epochs: 1}
`), 0o644)
	out := filepath.Join(dir, "run")
	stdout, stderr, code := runCLI(t, nil, nil, "train", "--config", cfg, "--limit", "200", "--out", out, "--data", data)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "test loss") || !strings.Contains(stderr, "Epoch 1/1\n2/2 [====") {
		t.Errorf("train output:\n%s\n%s", stdout, stderr)
	}
	for _, f := range []string{"checkpoint.ckpt", "history.json", "metrics.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	mj := filepath.Join(dir, "m.json")
	stdout, stderr, code = runCLI(t, nil, nil, "evaluate", "--checkpoint", filepath.Join(out, "checkpoint.ckpt"),
		"--split", "test", "--limit", "200", "--out", mj, "--data", data)
	if code != 0 || !strings.Contains(stdout, "test: loss ") {
		t.Fatalf("evaluate: exit %d\n%s%s", code, stdout, stderr)
	}
	var got, want map[string]any
	b, _ := os.ReadFile(mj)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(out, "metrics.json"))
	json.Unmarshal(b, &want)
	if got["split"] != "test" || got["n"] != float64(200) || got["loss"] != want["loss"] || got["accuracy"] != want["accuracy"] {
		t.Errorf("evaluate metrics %v, train's %v", got, want)
	}
}
