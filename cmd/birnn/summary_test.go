package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummaryTotals checks the totals Keras printed in the study.
func TestSummaryTotals(t *testing.T) {
	for run, total := range map[string]string{
		"deep_lstm":                   "322,113",
		"bilstm":                      "322,177",
		"deep_bilstm":                 "420,993",
		"deep_bilstm_rmsprop_dropout": "420,993",
		"deep_bilstm_adam_dropout":    "420,993",
	} {
		out, errOut, code := runCLI(t, nil, nil, "summary", "--config", run)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", run, code, errOut)
		}
		for _, want := range []string{"Total params: " + total, "Trainable params: " + total, "Non-trainable params: 0", `Model: "` + run + `"`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", run, want, out)
			}
		}
	}
}

func TestSummaryFileAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "small.yaml")
	os.WriteFile(cfgPath, []byte("name: small\ndata: {num_words: 100}\nmodel:\n  embedding: {dim: 8}\n  layers:\n"+
		"    - {type: lstm, units: 4, bidirectional: true, merge_mode: sum}\n    - {type: dense, units: 1}\n"), 0o644)
	out, errOut, code := runCLI(t, nil, nil, "summary", cfgPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 100·8 + 2·4·(8·4 + 4·4 + 4) + 4·1 + 1 = 800 + 416 + 5 = 1,221.
	for _, want := range []string{"lstm_0 (Bidirectional)       (None, 4)                 416", "Total params: 1,221"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	ckpt := filepath.Join(dir, "c.ckpt")
	studyCheckpoint(t, "bilstm", ckpt, 0)
	out, errOut, code = runCLI(t, nil, nil, "summary", "--checkpoint", ckpt)
	if code != 0 || !strings.Contains(out, "Total params: 322,177") {
		t.Errorf("checkpoint: exit %d, %s%s", code, out, errOut)
	}
}

func TestSummaryErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("model:\n  layers:\n    - {type: dense, units: 4}\n    - {type: lstm, units: 4}\n"), 0o644)
	damaged := filepath.Join(dir, "damaged.ckpt")
	os.WriteFile(damaged, []byte("BIRNNCKP\x01\x00\x00\x00garbage"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"summary"}, 2, "needs --config"},
		{[]string{"summary", "--config", "bilstm", "--checkpoint", "x"}, 2, "exclude"},
		// A run configuration that does not resolve is a usage error (2),
		// as a bad flag is: settings are checked before any work.
		{[]string{"summary", "--config", "no_such_run"}, 2, "no_such_run"},
		{[]string{"summary", "--config", bad}, 2, "model.layers[0]"},
		{[]string{"summary", "--checkpoint", damaged}, 1, "truncated"},
	} {
		_, errOut, code := runCLI(t, nil, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

// TestSummaryGRUSimpleRNN checks the totals Keras 2.15's count_params()
// gives for a GRU stack (the example config) and a masked Bi-SimpleRNN
// with a 4-class softmax head (masking adds no weights).
func TestSummaryGRUSimpleRNN(t *testing.T) {
	dir := t.TempDir()
	rnn := filepath.Join(dir, "rnn.yaml")
	os.WriteFile(rnn, []byte("name: rnn4\nmodel:\n  layers:\n"+
		"    - {type: simple_rnn, units: 32, bidirectional: true}\n    - {type: dense, units: 4, activation: softmax}\n"), 0o644)
	for _, tc := range []struct {
		cfg   string
		wants []string
	}{
		{filepath.Join("..", "..", "configs", "gru_bigru_gru.yaml"), []string{
			"gru_0 (Bidirectional)        (None, None, 128)         49920",
			"gru_1 (GRU)                  (None, 64)                37248", "Total params: 343,233"}},
		{rnn, []string{"simple_rnn_0 (Bidirectional) (None, 64)                6208", "Total params: 262,468"}},
	} {
		out, errOut, code := runCLI(t, nil, nil, "summary", tc.cfg)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.cfg, code, errOut)
		}
		for _, want := range tc.wants {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.cfg, want, out)
			}
		}
	}
}
