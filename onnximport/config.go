package onnximport

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// importConfig is birnn.config when the metadata has it, else a
// configuration built over the defaults from what the graph holds.
func importConfig(mp *onnx.ModelProto, embShape []int, layers []configs.Layer, masked bool) (*configs.Config, error) {
	meta := map[string]string{}
	for _, kv := range mp.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if y, ok := meta[model.MetaConfig]; ok {
		cfg, err := configs.Parse([]byte(y))
		if err == nil {
			err = model.Resolve(cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("onnximport: metadata %s: %w", model.MetaConfig, err)
		}
		if err := sameArchitecture(cfg, embShape, layers); err != nil {
			return nil, err
		}
		if cfg.Model.Embedding.MaskZero != masked {
			return nil, fmt.Errorf("onnximport: metadata %s says model.embedding.mask_zero = %v, the graph's sequence_lens say %v", model.MetaConfig, cfg.Model.Embedding.MaskZero, masked)
		}
		return cfg, nil
	}
	cfg := configs.Defaults()
	cfg.Name = mp.GetGraph().GetName()
	if cfg.Name == "" || cfg.Name == "tf2onnx" { // tf2onnx's fixed graph name says nothing
		cfg.Name = "imported"
	}
	cfg.Description = "imported from ONNX"
	if p := mp.GetProducerName(); p != "" {
		cfg.Description += " (" + strings.TrimSpace(p+" "+mp.GetProducerVersion()) + ")"
	}
	cfg.Data.NumWords = embShape[0]
	cfg.Model.Embedding.Dim = embShape[1]
	cfg.Model.Layers = layers
	cfg.Model.Embedding.MaskZero = masked
	if ins := mp.GetGraph().GetInput(); len(ins) > 0 {
		dims := ins[0].GetType().GetTensorType().GetShape().GetDim()
		if len(dims) == 2 && dims[1].GetDimValue() > 0 {
			cfg.Data.MaxLen = int(dims[1].GetDimValue())
		}
	}
	ints := map[string]*int{model.MetaMaxLen: &cfg.Data.MaxLen, model.MetaIndexFrom: &cfg.Data.IndexFrom}
	for k, p := range ints {
		if v, ok := meta[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("onnximport: metadata %s = %q: not an integer", k, v)
			}
			*p = n
		}
	}
	if v, ok := meta[model.MetaPadding]; ok {
		cfg.Data.Padding = v
	}
	if v, ok := meta[model.MetaTruncating]; ok {
		cfg.Data.Truncating = v
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnximport: %w", err)
	}
	return cfg, nil
}

// sameArchitecture checks a metadata config against what the graph holds.
func sameArchitecture(cfg *configs.Config, embShape []int, layers []configs.Layer) error {
	bad := func(key string, meta, graph any) error {
		return fmt.Errorf("onnximport: metadata %s says %s = %v, the graph has %v", model.MetaConfig, key, meta, graph)
	}
	if cfg.Data.NumWords != embShape[0] {
		return bad("data.num_words", cfg.Data.NumWords, embShape[0])
	}
	if cfg.Model.Embedding.Dim != embShape[1] {
		return bad("model.embedding.dim", cfg.Model.Embedding.Dim, embShape[1])
	}
	if len(cfg.Model.Layers) != len(layers) {
		return bad("the number of layers", len(cfg.Model.Layers), len(layers))
	}
	for i, g := range layers {
		c := cfg.Model.Layers[i]
		key := fmt.Sprintf("model.layers[%d]", i)
		switch {
		case c.Type != g.Type:
			return bad(key+".type", c.Type, g.Type)
		case c.Units != g.Units:
			return bad(key+".units", c.Units, g.Units)
		case c.Bidirectional != g.Bidirectional:
			return bad(key+".bidirectional", c.Bidirectional, g.Bidirectional)
		case g.Bidirectional && c.MergeMode != g.MergeMode:
			return bad(key+".merge_mode", c.MergeMode, g.MergeMode)
		case c.ReturnSequences != g.ReturnSequences:
			return bad(key+".return_sequences", c.ReturnSequences, g.ReturnSequences)
		case (g.Type == model.KindDense || g.Type == model.KindSimpleRNN) && c.Activation != g.Activation:
			return bad(key+".activation", c.Activation, g.Activation)
		}
	}
	return nil
}
