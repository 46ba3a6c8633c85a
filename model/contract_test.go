package model

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestLabelRule pins birnn's one label rule: positive strictly above the
// threshold, so a score of exactly 0.5 is negative, as Keras's
// binary_accuracy counts it.
func TestLabelRule(t *testing.T) {
	for _, tc := range []struct {
		score, threshold float64
		want             string
	}{
		{0.5, 0.5, LabelNegative},
		{0.5000001, 0.5, LabelPositive},
		{0.4999999, 0.5, LabelNegative},
		{0, 0.5, LabelNegative},
		{1, 0.5, LabelPositive},
		{0.3, 0.3, LabelNegative},
		{0.31, 0.3, LabelPositive},
	} {
		if got := Label(tc.score, tc.threshold); got != tc.want {
			t.Errorf("Label(%v, %v) = %s, want %s", tc.score, tc.threshold, got, tc.want)
		}
	}
	// float32 scores as the engine returns them: 0.5 is exact in float32.
	if Positive(float64(float32(0.5)), DefaultThreshold) {
		t.Error("float32 0.5 labelled positive at the default threshold")
	}
}

func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, MetricsFile)
	want := Metrics{Loss: 0.3867, Accuracy: 0.8279, Split: "test", N: 25000}
	if err := WriteMetrics(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetrics(p)
	if err != nil || got != want {
		t.Fatalf("ReadMetrics = %+v, %v; want %+v", got, err, want)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("metrics.json mode %v (%v), want 0644", st.Mode().Perm(), err)
	}
	// A Keras export's metrics.json has no split.
	m, err := DecodeMetrics([]byte(`{"loss": 0.4, "accuracy": 0.8414, "n": 10}`), "keras")
	if err != nil || m.Accuracy != 0.8414 || m.N != 10 || m.Split != "" {
		t.Errorf("Keras metrics: %+v, %v", m, err)
	}
	if n := m.Numbers(); len(n) != 3 || n["loss"] != 0.4 || n["accuracy"] != 0.8414 || n["n"] != 10 {
		t.Errorf("Numbers() = %v", n)
	}
	if n := (Metrics{Loss: 1, Accuracy: 0.5}).Numbers(); len(n) != 2 {
		t.Errorf("Numbers() without n = %v, want loss and accuracy only", n)
	}
	for _, bad := range []string{`{`, `{"accuracy": 1.5}`, `{"accuracy": 0.5, "n": -1}`, `{"accuracy": "high"}`} {
		if _, err := DecodeMetrics([]byte(bad), "bad.json"); !errors.Is(err, ErrMetrics) {
			t.Errorf("%s: err = %v, want ErrMetrics", bad, err)
		}
	}
	if _, err := ReadMetrics(filepath.Join(dir, "none.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
}
