package model

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
)

// layerCfg is the study's data and embedding settings with the given layers.
func layerCfg(t *testing.T, layers ...configs.Layer) *configs.Config {
	t.Helper()
	cfg := loadRun(t, "bilstm")
	cfg.Model.Layers = layers
	return cfg
}

// TestGRUSimpleRNNCountsMatchKeras checks Summarize against the per-layer
// counts Keras 2.15's count_params() prints for the same models
// (scripts/keras: Sequential of Embedding(4000, 64) and these layers).
func TestGRUSimpleRNNCountsMatchKeras(t *testing.T) {
	tests := []struct {
		name   string
		layers []configs.Layer
		kinds  []string
		keras  []int // Keras's per-layer counts, embedding first
		total  int
	}{
		{"bigru_gru", []configs.Layer{
			{Type: "gru", Units: 64, Bidirectional: true, ReturnSequences: true},
			{Type: "gru", Units: 64},
			{Type: "dense", Units: 1},
		}, []string{"Embedding", "Bidirectional", "GRU", "Dense"}, []int{256000, 49920, 37248, 65}, 343233},
		{"bisimplernn_softmax4", []configs.Layer{
			{Type: "simple_rnn", Units: 32, Bidirectional: true},
			{Type: "dense", Units: 4, Activation: "softmax"},
		}, []string{"Embedding", "Bidirectional", "Dense"}, []int{256000, 6208, 260}, 262468},
		{"sum_rnn_gru_relu_softmax3", []configs.Layer{
			{Type: "simple_rnn", Units: 32, Bidirectional: true, MergeMode: "sum", ReturnSequences: true},
			{Type: "gru", Units: 16},
			{Type: "dense", Units: 8, Activation: "relu"},
			{Type: "dense", Units: 3, Activation: "softmax"},
		}, []string{"Embedding", "Bidirectional", "GRU", "Dense", "Dense"}, []int{256000, 6208, 2400, 136, 27}, 264771},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(layerCfg(t, tc.layers...))
			if err != nil {
				t.Fatal(err)
			}
			rows, total := Summarize(m)
			if total != tc.total || m.NumParams() != tc.total {
				t.Errorf("total %d (NumParams %d), Keras has %d", total, m.NumParams(), tc.total)
			}
			if len(rows) != len(tc.keras) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.keras))
			}
			for i, r := range rows {
				if r.Params != tc.keras[i] || r.Kind != tc.kinds[i] {
					t.Errorf("row %d: %s %d params, Keras has %s %d", i, r.Kind, r.Params, tc.kinds[i], tc.keras[i])
				}
			}
			var sb strings.Builder
			if err := WriteSummary(&sb, m); err != nil {
				t.Fatal(err)
			}
			if want := "Total params: " + commas(tc.total); !strings.Contains(sb.String(), want) {
				t.Errorf("summary lacks %q:\n%s", want, sb.String())
			}
		})
	}
}

// TestGRUSimpleRNNShapesAndInit checks the ONNX weight shapes and the Keras
// initialisation of GRU and SimpleRNN layers: W = kernelᵀ with the kernel
// glorot-uniform, R orthogonal (RRᵀ = I per direction), B zeros (a GRU
// keeps both halves, Wb and Rb).
func TestGRUSimpleRNNShapesAndInit(t *testing.T) {
	m, err := New(layerCfg(t,
		configs.Layer{Type: "gru", Units: 8, Bidirectional: true, ReturnSequences: true},
		configs.Layer{Type: "simple_rnn", Units: 6},
		configs.Layer{Type: "dense", Units: 1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		shape []int
	}{
		{"gru_0.W", []int{2, 24, 64}}, {"gru_0.R", []int{2, 24, 8}}, {"gru_0.B", []int{2, 48}},
		{"simple_rnn_1.W", []int{1, 6, 16}}, {"simple_rnn_1.R", []int{1, 6, 6}}, {"simple_rnn_1.B", []int{1, 12}},
	} {
		p := m.Param(c.name)
		if p == nil {
			t.Fatalf("no weight %s", c.name)
		}
		if !slices.Equal(p.Shape, c.shape) {
			t.Errorf("%s shape %v, want %v", c.name, p.Shape, c.shape)
		}
	}
	// glorot_uniform limit of the GRU kernel [64, 24]: √(6/88).
	lim := 0.2611164839335468
	for _, v := range m.Param("gru_0.W").Data {
		if v == 0 || float64(v) > lim || float64(v) < -lim {
			t.Fatalf("gru kernel value %v outside ±%v (or exactly 0)", v, lim)
		}
	}
	for _, v := range m.Param("gru_0.B").Data {
		if v != 0 {
			t.Fatalf("gru bias %v, want zeros", v)
		}
	}
	// Recurrent kernel [H, gH] orthogonal with H < gH: its rows are
	// orthonormal, so R (its transpose, [gH, H]) has orthonormal columns.
	for _, c := range []struct {
		name string
		g, h int
		dirs int
	}{{"gru_0.R", 3, 8, 2}, {"simple_rnn_1.R", 1, 6, 1}} {
		r := m.Param(c.name).Data
		gh := c.g * c.h
		for d := range c.dirs {
			rd := r[d*gh*c.h : (d+1)*gh*c.h]
			for a := range c.h {
				for b := range c.h {
					var s float64
					for k := range gh {
						s += float64(rd[k*c.h+a]) * float64(rd[k*c.h+b])
					}
					want := 0.0
					if a == b {
						want = 1
					}
					if e := s - want; e > 1e-5 || e < -1e-5 {
						t.Fatalf("%s dir %d: column %d·%d = %v, want %v", c.name, d, a, b, s, want)
					}
				}
			}
		}
	}
}

// TestWeightlessLayers checks the schema of dropout, spatial_dropout1d
// and the pools: no weights, Keras's class names and shapes in the
// summary, and a clear error for each misuse.
func TestWeightlessLayers(t *testing.T) {
	cfg := layerCfg(t,
		configs.Layer{Type: "spatial_dropout1d", Rate: 0.2},
		configs.Layer{Type: "gru", Units: 4, ReturnSequences: true, Dropout: 0.1},
		configs.Layer{Type: "global_max_pool"},
		configs.Layer{Type: "dropout", Rate: 0.5},
		configs.Layer{Type: "dense", Units: 3, Activation: "softmax"})
	cfg.Model.Embedding.MaskZero = true
	cfg.Data.Padding = "post"
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows, total := Summarize(m)
	// Keras: Embedding 4000·64, GRU 3·(64·4 + 4·4 + 2·4), Dense 4·3 + 3.
	if want := 256000 + 840 + 15; total != want {
		t.Errorf("total %d, want %d", total, want)
	}
	kinds := []string{"Embedding", "SpatialDropout1D", "GRU", "GlobalMaxPooling1D", "Dropout", "Dense"}
	shapes := [][]int{{-1, -1, 64}, {-1, -1, 64}, {-1, -1, 4}, {-1, 4}, {-1, 4}, {-1, 3}}
	for i, r := range rows {
		if r.Kind != kinds[i] || !slices.Equal(r.OutputShape, shapes[i]) {
			t.Errorf("row %d: %s %v, want %s %v", i, r.Kind, r.OutputShape, kinds[i], shapes[i])
		}
	}
	layers, _ := m.Layers()
	if !layers[1].Masked || layers[4].Masked || layers[1].Rate != 0.1 || layers[0].Rate != 0.2 {
		t.Errorf("masked/rate flags wrong: %+v", layers)
	}
	if len(m.Params) != 6 { // embedding, gru W R B, dense W B
		t.Errorf("%d weight tensors, want 6", len(m.Params))
	}

	bad := []struct {
		name   string
		edit   func(c *configs.Config)
		key    string
		substr string
	}{
		{"mask with pre padding", func(c *configs.Config) { c.Data.Padding = "pre" }, "model.embedding.mask_zero", "post"},
		{"pool of a vector", func(c *configs.Config) { c.Model.Layers[1].ReturnSequences = false }, "model.layers[2].type", "pools a sequence"},
		{"dropout rate 1", func(c *configs.Config) { c.Model.Layers[3].Rate = 1 }, "model.layers[3].rate", "[0, 1)"},
		{"units on dropout", func(c *configs.Config) { c.Model.Layers[3].Units = 4 }, "model.layers[3].units", "no units"},
		{"rate on a pool", func(c *configs.Config) { c.Model.Layers[2].Rate = 0.1 }, "model.layers[2].rate", "no rate"},
		{"rate on dense", func(c *configs.Config) { c.Model.Layers[4].Rate = 0.1 }, "model.layers[4].rate", "dropout"},
		{"dropout key on dense", func(c *configs.Config) { c.Model.Layers[4].Dropout = 0.1 }, "model.layers[4].dropout", "dropout layer"},
		{"recurrent input dropout 1", func(c *configs.Config) { c.Model.Layers[1].Dropout = 1 }, "model.layers[1].dropout", "[0, 1)"},
		{"spatial dropout of a vector", func(c *configs.Config) { c.Model.Layers[3].Type = "spatial_dropout1d" }, "model.layers[3].type", "needs a sequence"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := cloneConfig(cfg)
			tc.edit(c)
			_, err := New(c)
			var se *SpecError
			if !errors.As(err, &se) || se.Key != tc.key || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want a SpecError on %s mentioning %q", err, tc.key, tc.substr)
			}
		})
	}
}
