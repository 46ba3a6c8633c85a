package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The study's settings, stated independently of the YAML files: what each
// run file decodes to (the layers' resolved defaults are model's, tested
// there; the optimizer's are train's).
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
			recur := l.RecurrentInitializer
			if recur == "" {
				recur = "orthogonal" // Keras's default, which the file leaves to model
			}
			if l.Type != "lstm" || l.Units != 64 || l.Bidirectional != w.bi || recur != w.recur ||
				l.ReturnSequences != (i < w.lstms-1) {
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
		if o := c.Train.Optimizer; o.Name != w.opt {
			t.Errorf("%s: optimizer %+v, want %s", name, o, w.opt)
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
	cases := []struct {
		yaml, key string
		line      int
	}{
		// Decoding: unknown keys and ill-typed values, with their line.
		{"foo: 1\n" + layers, "foo", 1},
		{layers + "data: {num_wrds: 3}\n", "data.num_wrds", 3},
		{"model:\n  layers:\n    - {type: lstm, units: 3}\n    - {type: dense, unit: 2}\n", "model.layers[1].unit", 4},
		{"train:\n  epochs: many\n", "train.epochs", 2},
		{"train: {batch_size: 8, epochs: many}\n", "train.epochs", 1},
		{"data: {num_words: [1]}\n", "data.num_words", 1},
		{"data: [1, 2]\n" + layers, "data", 1},
		{"train:\n  optimizer: {name: adam, learning_rate: fast}\n", "train.optimizer.learning_rate", 2},
		{"model:\n  layers: {type: lstm}\n", "model.layers", 2},
		{"train: {epochs: 1}\ntrain: {epochs: 2}\n", "(document)", 2},
		// Validate: values out of range, no line once decoded.
		{"data: {padding: middle}\n" + layers, "data.padding", 0},
		{"data: {maxlen: 0}\n" + layers, "data.maxlen", 0},
		{"train: {epochs: -1}\n" + layers, "train.epochs", 0},
		{"train: {validation_split: 1.5}\n" + layers, "train.validation_split", 0},
	}
	for _, tc := range cases {
		c, err := Parse([]byte(tc.yaml))
		if err == nil {
			err = c.Validate()
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: got %v, want *Error for key %s", tc.yaml, err, tc.key)
			continue
		}
		if ce.Key != tc.key || ce.Line != tc.line {
			t.Errorf("%q: error names key %q line %d, want %q line %d (%v)", tc.yaml, ce.Key, ce.Line, tc.key, tc.line, err)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: not ErrInvalid", tc.yaml)
		}
	}
	// Layers are decoded, not judged: model.Resolve owns their schema.
	if _, err := Parse([]byte("model:\n  layers: [{type: gru, units: -3, merge_mode: max}]\n")); err != nil {
		t.Errorf("layer values judged by configs: %v", err)
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
