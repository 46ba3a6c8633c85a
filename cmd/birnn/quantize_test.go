package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/infer"
)

// TestQuantizeCommand quantizes the Keras deep_bilstm export and loads the
// result; a model without an LSTM is an error naming the reason.
func TestQuantizeCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "q.onnx")
	stdout, stderr, code := runCLI(t, nil, nil, "quantize", filepath.Join("..", "..", "testdata", "keras", "deep_bilstm", "model.onnx"), out)
	if code != 0 || !strings.Contains(stdout, "2 LSTM node(s) quantized") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	s, err := infer.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.OpHistogram()["com.microsoft/DynamicQuantizeLSTM"] != 2 {
		t.Errorf("ops %v", s.OpHistogram())
	}
	_, stderr, code = runCLI(t, nil, nil, "quantize", filepath.Join("..", "..", "testdata", "keras", "gru", "model.onnx"), out)
	if code == 0 || !strings.Contains(stderr, "no LSTM") {
		t.Fatalf("GRU model: exit %d, stderr %q", code, stderr)
	}
}
