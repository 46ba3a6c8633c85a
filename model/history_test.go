package model

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHistoryRoundTrip(t *testing.T) {
	var h History
	h.Append(0.5071, 0.7265, 0.41, 0.81, 39)
	h.Append(0.3156, 0.8702, 0.37, 0.84, 38)
	path := filepath.Join(t.TempDir(), "history.json")
	if err := h.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epochs() != 2 || !slices.Equal(got.Loss, h.Loss) || !slices.Equal(got.ValAccuracy, h.ValAccuracy) || !slices.Equal(got.Seconds, h.Seconds) {
		t.Errorf("got %+v", got)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"loss"`, `"accuracy"`, `"val_loss"`, `"val_accuracy"`, `"seconds"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("history.json lacks %s", key)
		}
	}
}

// TestHistoryFromKeras reads json.dump(history.history) as Keras writes it.
func TestHistoryFromKeras(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.json")
	keras := `{"loss": [0.4784, 0.3031], "accuracy": [0.7574, 0.8726], "val_loss": [0.37, 0.33], "val_accuracy": [0.84, 0.86]}`
	os.WriteFile(path, []byte(keras), 0o644)
	h, err := ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Accuracy[1] != 0.8726 || h.Seconds != nil {
		t.Errorf("%+v", h)
	}
}

func TestHistoryNoValidation(t *testing.T) {
	var h History
	h.Append(0.5, 0.7, math.NaN(), math.NaN(), -1)
	if h.ValLoss != nil || h.ValAccuracy != nil || h.Seconds != nil {
		t.Errorf("%+v", h)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
}

func TestHistoryErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, json, msg string
	}{
		{"not json", `loss: 1`, "not a history"},
		{"array", `[1, 2]`, "not a history"},
		{"short accuracy", `{"loss": [1, 2], "accuracy": [1]}`, "1 accuracy values for 2 loss"},
		{"short val_loss", `{"loss": [1, 2], "accuracy": [1, 2], "val_loss": [1], "val_accuracy": [1, 2]}`, "val_loss"},
		{"short seconds", `{"loss": [1, 2], "accuracy": [1, 2], "seconds": [3]}`, "seconds"},
		{"val half", `{"loss": [1], "accuracy": [1], "val_loss": [1]}`, "both"},
	} {
		path := filepath.Join(dir, "h.json")
		os.WriteFile(path, []byte(tc.json), 0o644)
		_, err := ReadHistory(path)
		if !errors.Is(err, ErrHistory) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrHistory mentioning %q", tc.name, err, tc.msg)
		}
	}
	if _, err := ReadHistory(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// TestHistoryNonFinite: a diverged epoch is saved (as null) and read back
// as NaN, and Python's json.dump tokens NaN / Infinity are accepted.
func TestHistoryNonFinite(t *testing.T) {
	dir := t.TempDir()
	h := History{Loss: []float64{0.5, math.NaN()}, Accuracy: []float64{0.7, 0.5}}
	path := filepath.Join(dir, "h.json")
	if err := h.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Loss[0] != 0.5 || !math.IsNaN(got.Loss[1]) {
		t.Errorf("loss %v", got.Loss)
	}
	py := `{"loss": [NaN, Infinity, -Infinity, 1e-07], "accuracy": [0.5, 0.5, 0.5, 0.5], "note NaN": "Infinity \"NaN\""}`
	os.WriteFile(path, []byte(py), 0o644)
	got, err = ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(got.Loss[0]) || !math.IsInf(got.Loss[1], 1) || !math.IsInf(got.Loss[2], -1) || got.Loss[3] != 1e-7 {
		t.Errorf("loss %v", got.Loss)
	}
	// A checkpoint of a diverged run saves too.
	c := testCheckpoint(t)
	c.History.Loss[1] = math.Inf(1)
	if err := SaveCheckpoint(filepath.Join(dir, "c"), c); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(filepath.Join(dir, "c"))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.History.Loss[1]) || back.History.Loss[0] != 0.5 {
		t.Errorf("checkpoint history loss %v", back.History.Loss)
	}
}
