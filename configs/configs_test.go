package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The study's settings (DESIGN.md §1), stated independently of the YAML files.
func TestStudyRuns(t *testing.T) {
	want := map[string]struct {
		bi, dropout bool
		lstms       int
		opt, recur  string
	}{
		"deep_lstm":                   {false, false, 2, "adam", "orthogonal"},
		"bilstm":                      {true, false, 1, "adam", "orthogonal"},
		"deep_bilstm":                 {true, false, 2, "adam", "orthogonal"},
		"deep_bilstm_rmsprop_dropout": {true, true, 2, "rmsprop", "glorot_uniform"},
		"deep_bilstm_adam_dropout":    {true, true, 2, "adam", "glorot_uniform"},
	}
	if len(Runs()) != len(want) {
		t.Fatalf("Runs() = %v", Runs())
	}
	for _, name := range Runs() {
		w, ok := want[name]
		if !ok {
			t.Fatalf("unexpected run %q", name)
		}
		c, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Name != name || c.Data.NumWords != 4000 || c.Data.MaxLen != 100 || c.Data.Padding != "post" ||
			c.Data.Truncating != "pre" || c.Data.Seed != 113 || c.Model.Embedding.Dim != 64 ||
			c.Train.BatchSize != 128 || c.Train.Epochs != 4 || c.Train.ValidationSplit != 0.3 {
			t.Errorf("%s: shared settings differ from the study: %+v", name, c)
		}
		if got := len(c.Model.Layers); got != w.lstms+1 {
			t.Fatalf("%s: %d layers, want %d", name, got, w.lstms+1)
		}
		for i, l := range c.Model.Layers[:w.lstms] {
			if l.Type != "lstm" || l.Units != 64 || l.Bidirectional != w.bi || l.RecurrentInitializer != w.recur ||
				l.KernelInitializer != "glorot_uniform" || !*l.UnitForgetBias || l.ReturnSequences != (i < w.lstms-1) {
				t.Errorf("%s: layer %d = %+v", name, i, l)
			}
			if (l.RecurrentDropout == 0.2) != w.dropout {
				t.Errorf("%s: layer %d recurrent_dropout %g", name, i, l.RecurrentDropout)
			}
		}
		head := c.Model.Layers[w.lstms]
		if head.Type != "dense" || head.Units != 1 || head.Activation != "sigmoid" {
			t.Errorf("%s: head %+v", name, head)
		}
		o := c.Train.Optimizer
		switch w.opt {
		case "adam":
			if o.Name != "adam" || o.LearningRate != 1e-3 || o.Beta1 != 0.9 || o.Beta2 != 0.999 || o.Epsilon != 1e-7 {
				t.Errorf("%s: optimizer %+v, want Keras Adam defaults", name, o)
			}
		case "rmsprop":
			if o.Name != "rmsprop" || o.LearningRate != 1e-3 || o.Rho != 0.9 || o.Epsilon != 1e-7 || o.Momentum != 0 {
				t.Errorf("%s: optimizer %+v, want Keras RMSprop defaults", name, o)
			}
		}
	}
}

func TestOverlayKeepsDefaults(t *testing.T) {
	c, err := Parse([]byte("data: {num_words: 10}\nmodel:\n  layers: [{type: lstm, units: 3}, {type: dense, units: 1}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Data.NumWords != 10 || c.Data.MaxLen != 100 || c.Data.Padding != "post" || c.Model.Embedding.Dim != 64 {
		t.Errorf("overlay lost defaults: %+v", c.Data)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, name := range Runs() {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: re-parsing its YAML: %v\n%s", name, err, b)
		}
		b2, _ := c2.YAML()
		if string(b) != string(b2) {
			t.Errorf("%s: YAML not stable:\n%s\n---\n%s", name, b, b2)
		}
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	layers := "model:\n  layers: [{type: lstm, units: 3}, {type: dense, units: 1}]\n"
	cases := []struct{ yaml, key string }{
		{"foo: 1\n" + layers, "foo"},
		{"data: {num_wrds: 3}\n" + layers, "data.num_wrds"},
		{"model:\n  layers: [{type: lstm, units: 3, unit: 2}, {type: dense, units: 1}]\n", "model.layers[0].unit"},
		{"data: {padding: middle}\n" + layers, "data.padding"},
		{"data: {maxlen: 0}\n" + layers, "data.maxlen"},
		{"train: {epochs: -1}\n" + layers, "train.epochs"},
		{"train: {optimizer: {name: lbfgs}}\n" + layers, "train.optimizer.name"},
		{"train: {validation_split: 1.5}\n" + layers, "train.validation_split"},
		{"model:\n  layers: [{type: lstm, units: 3, merge_mode: max}, {type: dense, units: 1}]\n", "model.layers[0].merge_mode"},
		{"model:\n  layers: [{type: lstm, units: 3, recurrent_dropout: 1}, {type: dense, units: 1}]\n", "model.layers[0].recurrent_dropout"},
		{"model:\n  layers: [{type: lstm, units: 3, kernel_initializer: magic}, {type: dense, units: 1}]\n", "model.layers[0].kernel_initializer"},
		{"model:\n  layers: [{type: gru, units: 3}, {type: dense, units: 1}]\n", "model.layers[0].type"},
		{"model:\n  layers: [{type: lstm, units: 3}, {type: lstm, units: 3}, {type: dense, units: 1}]\n", "model.layers[1].type"},
		{"model:\n  layers: [{type: lstm, units: 3, return_sequences: true}, {type: dense, units: 1}]\n", "model.layers[1].type"},
		{"model:\n  layers: [{type: lstm, units: 3}]\n", "model.layers[0]"},
		{"model:\n  layers: [{type: lstm, units: 3}, {type: dense, units: 4}]\n", "model.layers[1].units"},
		{"model:\n  layers: []\n", "model.layers"},
		{"data: [1, 2]\n" + layers, "data"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.yaml))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: got %v, want *Error for key %s", tc.yaml, err, tc.key)
			continue
		}
		if ce.Key != tc.key {
			t.Errorf("%q: error names key %q, want %q (%v)", tc.yaml, ce.Key, tc.key, err)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: not ErrInvalid", tc.yaml)
		}
	}
}

func TestMalformedYAML(t *testing.T) {
	for _, in := range []string{"data: {num_words: [\n", "data:\n\tnum_words: 3\n", "train: {epochs: many}\n"} {
		_, err := Parse([]byte(in))
		if err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: got %v, want an ErrInvalid error", in, err)
		}
	}
}

func TestLoadFileAndMissing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte("name: mine\nmodel:\n  layers: [{type: lstm, units: 8, bidirectional: true, merge_mode: sum}, {type: dense, units: 2, activation: softmax}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "mine" || c.Model.Layers[0].MergeMode != "sum" {
		t.Errorf("got %+v", c.Model.Layers[0])
	}
	if _, err := Load("no_such_run"); err == nil || !strings.Contains(err.Error(), "deep_lstm") {
		t.Errorf("missing run: %v (want the list of runs)", err)
	}
	if _, err := Load(filepath.Join(dir, "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEnvAndSetPrecedence(t *testing.T) {
	c, err := Load("bilstm")
	if err != nil {
		t.Fatal(err)
	}
	err = c.ApplyEnv([]string{"BIRNN_TRAIN_EPOCHS=7", "BIRNN_DATA_NUM_WORDS=5000", "BIRNN_DATA=/x", "BIRNN_ORT_DIR=/y", "HOME=/h"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Train.Epochs != 7 || c.Data.NumWords != 5000 || c.Data.Dir != "/x" {
		t.Errorf("env not applied: %+v %+v", c.Train, c.Data)
	}
	if err := c.Set("train.epochs", "2"); err != nil {
		t.Fatal(err)
	}
	if c.Train.Epochs != 2 {
		t.Errorf("flag did not win over env: %d", c.Train.Epochs)
	}
	if err := c.Set("train.optimizer.learning_rate", "0.01"); err != nil || c.Train.Optimizer.LearningRate != 0.01 {
		t.Errorf("nested set: %v %g", err, c.Train.Optimizer.LearningRate)
	}
	var ce *Error
	if err := c.Set("train.epochz", "2"); !errors.As(err, &ce) || ce.Key != "train.epochz" {
		t.Errorf("unknown key: %v", err)
	}
	if err := c.Set("train.epochs", "two"); !errors.As(err, &ce) || ce.Key != "train.epochs" {
		t.Errorf("bad value: %v", err)
	}
	if err := c.ApplyEnv([]string{"BIRNN_TRAIN_BATCH_SIZE=big"}); err == nil || !strings.Contains(err.Error(), "BIRNN_TRAIN_BATCH_SIZE") {
		t.Errorf("bad env value: %v", err)
	}
	if err := c.Set("train.epochs", "0"); err != nil {
		t.Fatal(err)
	}
	if err := c.Resolve(); !errors.As(err, &ce) || ce.Key != "train.epochs" {
		t.Errorf("Resolve after Set: %v", err)
	}
}
