package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/model"
)

// TestReproduceReport builds report.md from fabricated finished runs: rows
// beside the study's values, "not run" for the rest, and the comparison
// figure once the three deep-BiLSTM runs are present.
func TestReproduceReport(t *testing.T) {
	out := t.TempDir()
	h := &model.History{Loss: []float64{0.5, 0.3}, Accuracy: []float64{0.7, 0.9},
		ValLoss: []float64{0.4, 0.35}, ValAccuracy: []float64{0.8, 0.85}, Seconds: []float64{30, 50}}
	for _, run := range []string{"deep_lstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout"} {
		dir := filepath.Join(out, run)
		os.MkdirAll(dir, 0o755)
		if err := h.Write(filepath.Join(dir, model.HistoryFile)); err != nil {
			t.Fatal(err)
		}
		if err := model.WriteMetrics(filepath.Join(dir, model.MetricsFile), model.Metrics{Loss: 0.36, Accuracy: 0.8448, Split: "test", N: 25000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeReport(out, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "report.md"))
	r := string(b)
	for _, want := range []string{
		"| deep_lstm | 2 | 0.8448 | 0.8348 | +1.00 pt | 0.3600 | 0.3869 | 40 | 39 |",
		"| bilstm | – | not run | 0.8414 |",
		"| deep_bilstm_adam_dropout | – | not run |",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "compare.png") {
		t.Error("comparison figure linked with only two of the three deep-BiLSTM runs")
	}
	dir := filepath.Join(out, "deep_bilstm_adam_dropout")
	os.MkdirAll(dir, 0o755)
	h.Write(filepath.Join(dir, model.HistoryFile))
	model.WriteMetrics(filepath.Join(dir, model.MetricsFile), model.Metrics{Loss: 0.4, Accuracy: 0.83, Split: "test", N: 25000})
	if err := writeReport(out, nil); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(b), "![comparison of the deep-BiLSTM runs](compare.png)") {
		t.Errorf("no comparison figure:\n%s", b)
	}
	if fi, err := os.Stat(filepath.Join(out, "compare.png")); err != nil || fi.Size() == 0 {
		t.Errorf("compare.png: %v", err)
	}
}
