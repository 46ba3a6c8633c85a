package model

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
)

func loadRun(t *testing.T, name string) *configs.Config {
	t.Helper()
	cfg, err := configs.Load(name)
	if err != nil {
		t.Fatalf("configs.Load(%q): %v", name, err)
	}
	return cfg
}

func newRun(t *testing.T, name string) *Model {
	t.Helper()
	m, err := New(loadRun(t, name))
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	return m
}

// lstmParams is the Keras count of one LSTM direction, by hand.
func lstmParams(in, h int) int { return 4 * (in*h + h*h + h) }

// TestTotalsMatchKeras checks the totals printed by Keras's model.summary()
// in the study against Summarize, layer by layer and in total.
func TestTotalsMatchKeras(t *testing.T) {
	const words, dim, h = 4000, 64, 64
	tests := []struct {
		run    string
		layers []int // Keras's per-layer Param # from the study (embedding first)
		total  int
	}{
		{"deep_lstm", []int{256000, 33024, 33024, 65}, 322113},
		{"bilstm", []int{256000, 66048, 129}, 322177},
		{"deep_bilstm", []int{256000, 66048, 98816, 129}, 420993},
		{"deep_bilstm_rmsprop_dropout", []int{256000, 66048, 98816, 129}, 420993},
		{"deep_bilstm_adam_dropout", []int{256000, 66048, 98816, 129}, 420993},
	}
	// The same figures from the formulas, so a wrong table above shows up too.
	if got := lstmParams(dim, h); got != 33024 {
		t.Fatalf("hand LSTM(64→64) = %d, want 33024", got)
	}
	if got := 2 * lstmParams(dim, h); got != 66048 {
		t.Fatalf("hand Bi-LSTM(64→64) = %d", got)
	}
	if got := 2 * lstmParams(2*h, h); got != 98816 {
		t.Fatalf("hand Bi-LSTM(128→64) = %d", got)
	}
	if words*dim != 256000 || 2*h*1+1 != 129 || h+1 != 65 {
		t.Fatal("hand embedding/dense counts")
	}
	for _, tc := range tests {
		t.Run(tc.run, func(t *testing.T) {
			m := newRun(t, tc.run)
			rows, total := Summarize(m)
			if total != tc.total {
				t.Errorf("total = %d, want %d", total, tc.total)
			}
			if m.NumParams() != tc.total {
				t.Errorf("NumParams = %d, want %d", m.NumParams(), tc.total)
			}
			if len(rows) != len(tc.layers) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.layers))
			}
			for i, r := range rows {
				if r.Params != tc.layers[i] {
					t.Errorf("row %d (%s): %d params, want %d", i, r.Name, r.Params, tc.layers[i])
				}
			}
			// Stored floats: Keras count plus the zero Rb halves (4H per direction).
			stored, rb := 0, 0
			for _, p := range m.Params {
				stored += len(p.Data)
			}
			layers, err := m.Layers()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range layers {
				if l.Kind == KindLSTM {
					rb += l.Dirs * 4 * l.Units
				}
			}
			if stored != tc.total+rb {
				t.Errorf("stored %d floats, want %d + %d Rb", stored, tc.total, rb)
			}
		})
	}
}

func TestNamesAndShapes(t *testing.T) {
	type ps struct {
		name  string
		shape []int
	}
	tests := []struct {
		run  string
		want []ps
	}{
		{"deep_lstm", []ps{
			{"embedding", []int{4000, 64}},
			{"lstm_0.W", []int{1, 256, 64}}, {"lstm_0.R", []int{1, 256, 64}}, {"lstm_0.B", []int{1, 512}},
			{"lstm_1.W", []int{1, 256, 64}}, {"lstm_1.R", []int{1, 256, 64}}, {"lstm_1.B", []int{1, 512}},
			{"dense_2.W", []int{64, 1}}, {"dense_2.B", []int{1}},
		}},
		{"bilstm", []ps{
			{"embedding", []int{4000, 64}},
			{"lstm_0.W", []int{2, 256, 64}}, {"lstm_0.R", []int{2, 256, 64}}, {"lstm_0.B", []int{2, 512}},
			{"dense_1.W", []int{128, 1}}, {"dense_1.B", []int{1}},
		}},
		{"deep_bilstm", []ps{
			{"embedding", []int{4000, 64}},
			{"lstm_0.W", []int{2, 256, 64}}, {"lstm_0.R", []int{2, 256, 64}}, {"lstm_0.B", []int{2, 512}},
			{"lstm_1.W", []int{2, 256, 128}}, {"lstm_1.R", []int{2, 256, 64}}, {"lstm_1.B", []int{2, 512}},
			{"dense_2.W", []int{128, 1}}, {"dense_2.B", []int{1}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.run, func(t *testing.T) {
			m := newRun(t, tc.run)
			if len(m.Params) != len(tc.want) {
				t.Fatalf("%d params, want %d", len(m.Params), len(tc.want))
			}
			for i, w := range tc.want {
				p := m.Params[i]
				if p.Name != w.name || !slices.Equal(p.Shape, w.shape) {
					t.Errorf("param %d = %s %v, want %s %v", i, p.Name, p.Shape, w.name, w.shape)
				}
				if len(p.Data) != shapeSize(w.shape) {
					t.Errorf("%s holds %d values", p.Name, len(p.Data))
				}
				if m.Param(w.name) != p {
					t.Errorf("Param(%q) did not find it", w.name)
				}
			}
			if m.Param("nope") != nil {
				t.Error("Param of a missing name is not nil")
			}
		})
	}
}

func TestMergeModesAndWidths(t *testing.T) {
	for _, tc := range []struct {
		mode string
		out  int
	}{{"", 128}, {"concat", 128}, {"sum", 64}, {"mul", 64}, {"ave", 64}} {
		cfg := loadRun(t, "deep_bilstm")
		cfg.Model.Layers[0].MergeMode = tc.mode
		m, err := New(cfg)
		if err != nil {
			t.Fatalf("merge %q: %v", tc.mode, err)
		}
		l, err := m.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if l[0].Out != tc.out || l[1].In != tc.out {
			t.Errorf("merge %q: layer 0 out %d, layer 1 in %d, want %d", tc.mode, l[0].Out, l[1].In, tc.out)
		}
		if got := m.Param("lstm_1.W").Shape; got[2] != tc.out {
			t.Errorf("merge %q: lstm_1.W %v", tc.mode, got)
		}
		// Layer 1: 2·4·(in·64 + 64·64 + 64); dense 128+1; embedding 256000.
		want := 256000 + 66048 + 2*lstmParams(tc.out, 64) + 129
		if n := m.NumParams(); n != want {
			t.Errorf("merge %q: %d params, want %d", tc.mode, n, want)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	tr := true
	tests := []struct {
		name   string
		edit   func(c *configs.Config)
		key    string // must appear in the error
		detail string
	}{
		{"no layers", func(c *configs.Config) { c.Model.Layers = nil }, "model.layers", "no layers"},
		{"dense before lstm", func(c *configs.Config) {
			c.Model.Layers = []configs.Layer{{Type: "dense", Units: 8}, {Type: "lstm", Units: 4}, {Type: "dense", Units: 1}}
		}, "model.layers[0].type", "returns a sequence"},
		{"lstm after dense", func(c *configs.Config) {
			c.Model.Layers = []configs.Layer{{Type: "lstm", Units: 4}, {Type: "dense", Units: 8}, {Type: "lstm", Units: 4}}
		}, "model.layers[2].type", "layer 1 (dense)"},
		{"lstm after non-sequence lstm", func(c *configs.Config) { c.Model.Layers[0].ReturnSequences = false },
			"model.layers[1].type", "layer 0 (lstm)"},
		{"last returns sequences", func(c *configs.Config) {
			c.Model.Layers = c.Model.Layers[:1]
		}, "model.layers[0].return_sequences", "last layer"},
		{"unknown merge", func(c *configs.Config) { c.Model.Layers[1].MergeMode = "max" }, "model.layers[1].merge_mode", `"max"`},
		{"unknown kernel init", func(c *configs.Config) { c.Model.Layers[0].KernelInitializer = "xavier" }, "model.layers[0].kernel_initializer", `"xavier"`},
		{"unknown recurrent init", func(c *configs.Config) { c.Model.Layers[1].RecurrentInitializer = "eye" }, "model.layers[1].recurrent_initializer", `"eye"`},
		{"orthogonal bias", func(c *configs.Config) { c.Model.Layers[2].BiasInitializer = "orthogonal" }, "model.layers[2].bias_initializer", "vector"},
		{"unknown embedding init", func(c *configs.Config) { c.Model.Embedding.Initializer = "random" }, "model.embedding.initializer", `"random"`},
		{"unknown type", func(c *configs.Config) { c.Model.Layers[1].Type = "conv1d" }, "model.layers[1].type", `"conv1d"`},
		{"missing type", func(c *configs.Config) { c.Model.Layers[1].Type = "" }, "model.layers[1].type", "missing"},
		{"zero units", func(c *configs.Config) { c.Model.Layers[2].Units = 0 }, "model.layers[2].units", "> 0"},
		{"zero dim", func(c *configs.Config) { c.Model.Embedding.Dim = 0 }, "model.embedding.dim", "> 0"},
		{"zero words", func(c *configs.Config) { c.Data.NumWords = 0 }, "data.num_words", "vocabulary"},
		{"bidirectional dense", func(c *configs.Config) { c.Model.Layers[2].Bidirectional = tr }, "model.layers[2].bidirectional", "lstm"},
		{"dropout 1", func(c *configs.Config) { c.Model.Layers[0].RecurrentDropout = 1 }, "model.layers[0].recurrent_dropout", "[0, 1)"},
		{"unknown activation", func(c *configs.Config) { c.Model.Layers[2].Activation = "gelu" }, "model.layers[2].activation", `"gelu"`},
		// The head rule: Dense(1, sigmoid) or Dense(2, softmax).
		{"softmax of 1", func(c *configs.Config) { c.Model.Layers[2].Activation = "softmax" }, "model.layers[2].units", "at least 2"},
		{"gru forget bias", func(c *configs.Config) { c.Model.Layers[0].Type = "gru"; c.Model.Layers[0].UnitForgetBias = &tr }, "model.layers[0].unit_forget_bias", "lstm"},
		{"gru activation", func(c *configs.Config) { c.Model.Layers[0].Type = "gru"; c.Model.Layers[0].Activation = "relu" }, "model.layers[0].activation", "fixed"},
		{"simple_rnn activation", func(c *configs.Config) {
			c.Model.Layers[0].Type = "simple_rnn"
			c.Model.Layers[0].Activation = "sigmoid"
		}, "model.layers[0].activation", "tanh or relu"},
		{"gru after last step", func(c *configs.Config) { c.Model.Layers[1].Type = "gru"; c.Model.Layers[0].ReturnSequences = false }, "model.layers[1].type", "return_sequences"},
		{"sigmoid of 2", func(c *configs.Config) { c.Model.Layers[2].Units = 2 }, "model.layers[2].units", "1 unit"},
		{"relu head", func(c *configs.Config) { c.Model.Layers[2].Activation = "relu" }, "model.layers[2].activation", "sigmoid or softmax"},
		{"lstm head", func(c *configs.Config) { c.Model.Layers = c.Model.Layers[:2] }, "model.layers[1].type", "dense"},
		// Keys that belong to the other kind of layer.
		{"lstm activation", func(c *configs.Config) { c.Model.Layers[0].Activation = "relu" }, "model.layers[0].activation", "fixed"},
		{"dense merge mode", func(c *configs.Config) { c.Model.Layers[2].MergeMode = "sum" }, "model.layers[2].merge_mode", "bidirectional"},
		{"dense recurrent init", func(c *configs.Config) { c.Model.Layers[2].RecurrentInitializer = "orthogonal" }, "model.layers[2].recurrent_initializer", "lstm"},
		{"dense forget bias", func(c *configs.Config) { c.Model.Layers[2].UnitForgetBias = &tr }, "model.layers[2].unit_forget_bias", "lstm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadRun(t, "deep_bilstm")
			tc.edit(cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted an invalid architecture")
			}
			if !errors.Is(err, ErrSpec) {
				t.Errorf("error %v does not wrap ErrSpec", err)
			}
			var se *SpecError
			if !errors.As(err, &se) || se.Key != tc.key {
				t.Errorf("error %v: want key %s", err, tc.key)
			}
			if !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q does not mention %q", err, tc.detail)
			}
		})
	}
	if _, err := New(nil); !errors.Is(err, ErrSpec) {
		t.Errorf("New(nil) = %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	m := newRun(t, "bilstm")
	c := m.Clone()
	c.Params[1].Data[0] += 1
	c.Params[1].Shape[0] = 99
	c.Config.Model.Layers[0].Units = 7
	c.Config.Name = "other"
	if m.Params[1].Data[0] == c.Params[1].Data[0] || m.Params[1].Shape[0] == 99 {
		t.Error("Clone shares weights")
	}
	if m.Config.Model.Layers[0].Units != 64 || m.Config.Name != "bilstm" {
		t.Error("Clone shares the config")
	}
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := loadRun(t, "bilstm")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model.Layers[0].Units = 3
	if m.Config.Model.Layers[0].Units != 64 {
		t.Error("model follows later edits of the caller's config")
	}
}

// TestModelLayersDoesNotPanic: a model whose config was made invalid after
// New reports the architecture error instead of panicking.
func TestModelLayersDoesNotPanic(t *testing.T) {
	m, err := New(loadRun(t, "bilstm"))
	if err != nil {
		t.Fatal(err)
	}
	m.Config.Model.Layers[0].Type = "conv1d"
	if _, err := m.Layers(); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "model.layers[0].type") {
		t.Errorf("Layers() on an invalid config: %v, want an ErrSpec naming model.layers[0].type", err)
	}
	if _, err := (*Model)(nil).Layers(); !errors.Is(err, ErrSpec) {
		t.Errorf("nil model: %v", err)
	}
}

// TestResolveStudyRuns: the layer defaults model fills are Keras's, so
// the study's runs resolve to its architecture.
func TestResolveStudyRuns(t *testing.T) {
	for _, name := range configs.Runs() {
		cfg := loadRun(t, name)
		if err := Resolve(cfg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.Model.Embedding.Initializer != "uniform" {
			t.Errorf("%s: embedding initializer %q", name, cfg.Model.Embedding.Initializer)
		}
		glorot := strings.Contains(name, "dropout") // those runs set recurrent_initializer glorot_uniform
		for i, l := range cfg.Model.Layers {
			switch l.Type {
			case KindLSTM:
				recur := "orthogonal"
				if glorot {
					recur = "glorot_uniform"
				}
				if l.KernelInitializer != "glorot_uniform" || l.RecurrentInitializer != recur || l.BiasInitializer != "zeros" ||
					l.UnitForgetBias == nil || !*l.UnitForgetBias || (l.Bidirectional && l.MergeMode != MergeConcat) {
					t.Errorf("%s: layer %d resolved to %+v", name, i, l)
				}
			case KindDense:
				if l.Activation != "sigmoid" || l.KernelInitializer != "glorot_uniform" || l.BiasInitializer != "zeros" {
					t.Errorf("%s: head resolved to %+v", name, l)
				}
			}
		}
	}
	// A softmax head of two units is a valid head.
	cfg := loadRun(t, "bilstm")
	cfg.Model.Layers[1].Units, cfg.Model.Layers[1].Activation = 2, "softmax"
	if err := Resolve(cfg); err != nil {
		t.Errorf("Dense(2, softmax) head: %v", err)
	}
	if err := Resolve(nil); !errors.Is(err, ErrSpec) {
		t.Errorf("Resolve(nil) = %v", err)
	}
}
