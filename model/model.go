package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/birnn/birnn/configs"
)

// ErrSpec is wrapped by every architecture error New and Validate return.
var ErrSpec = errors.New("model: invalid architecture")

// SpecError is an architecture error tied to one configuration key, such as
// model.layers[1].merge_mode.
type SpecError struct {
	Key string
	Msg string
}

func (e *SpecError) Error() string { return "model: " + e.Key + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrSpec) true.
func (e *SpecError) Unwrap() error { return ErrSpec }

func specErr(key, format string, args ...any) error {
	return &SpecError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// gatePerm maps ONNX gate blocks (i, o, f, c) to Keras gate blocks
// (i, f, c, o): ONNX block k holds Keras block gatePerm[k].
var gatePerm = [4]int{0, 3, 1, 2}

// Param is one named weight tensor, row-major float32.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Size is the number of elements the shape holds.
func (p *Param) Size() int { return shapeSize(p.Shape) }

// Clone returns a deep copy of p.
func (p *Param) Clone() *Param {
	return &Param{
		Name:  p.Name,
		Shape: append([]int(nil), p.Shape...),
		Data:  append([]float32(nil), p.Data...),
	}
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Model is an architecture (the resolved config) plus its weights, stored in
// ONNX layout so export is a copy.
type Model struct {
	Config *configs.Config
	Params []*Param
}

// Layer kinds of LayerSpec.Kind: the recurrent layers (Keras LSTM, GRU
// with reset_after=True, SimpleRNN) and Dense.
const (
	KindLSTM      = "lstm"
	KindGRU       = "gru"
	KindSimpleRNN = "simple_rnn"
	KindDense     = "dense"

	// Weightless layers (Keras Dropout, SpatialDropout1D,
	// GlobalMaxPooling1D, GlobalAveragePooling1D).
	KindDropout           = "dropout"
	KindSpatialDropout    = "spatial_dropout1d"
	KindGlobalMaxPool     = "global_max_pool"
	KindGlobalAveragePool = "global_average_pool"
)

// Gates is the number of gate blocks of a recurrent layer kind — 4 for an
// LSTM (ONNX order i, o, f, c), 3 for a GRU (z, r, h, the same order in
// Keras and ONNX), 1 for a SimpleRNN — and 0 for any other kind.
func Gates(kind string) int {
	switch kind {
	case KindLSTM:
		return 4
	case KindGRU:
		return 3
	case KindSimpleRNN:
		return 1
	}
	return 0
}

// IsRecurrent reports whether kind is an lstm, gru or simple_rnn layer.
func IsRecurrent(kind string) bool { return Gates(kind) > 0 }

// Merge modes of a bidirectional recurrent layer (Keras Bidirectional merge_mode).
const (
	MergeConcat = "concat"
	MergeSum    = "sum"
	MergeMul    = "mul"
	MergeAve    = "ave"
)

// LayerSpec is one layer of cfg.Model.Layers with its widths resolved.
type LayerSpec struct {
	Index           int     // position in cfg.Model.Layers
	Kind            string  // KindLSTM, KindGRU, KindSimpleRNN or KindDense
	Name            string  // weight prefix: <kind>_<i>, e.g. lstm_0, gru_1, dense_2
	In              int     // input width: embedding dim or previous Out
	Units           int     // H for a recurrent layer, units for a Dense layer
	Dirs            int     // 2 for a bidirectional layer, else 1
	MergeMode       string  // bidirectional only: concat (default), sum, mul, ave
	Out             int     // output width: 2H for concat, H for sum/mul/ave, units
	ReturnSequences bool    // output is [batch, seq, Out] rather than [batch, Out]
	Activation      string  // dense: sigmoid (default), linear, relu, tanh, softmax; simple_rnn: tanh (default), relu
	Rate            float64 // dropout layers: the rate; recurrent layers: dropout on their input
	// Masked: the layer's input is a sequence masked by the embedding
	// (mask_zero): padded steps leave a recurrent layer's state unchanged
	// and pools skip them.
	Masked bool
}

// Recurrent reports whether l is an lstm, gru or simple_rnn layer.
func (l LayerSpec) Recurrent() bool { return IsRecurrent(l.Kind) }

// Params is the Keras parameter count of the layer, per direction:
// 4·(in·H + H·H + H) for an LSTM and in·H + H·H + H for a SimpleRNN (one
// bias, although ONNX B also stores a zero Rb), 3·(in·H + H·H + 2H) for a
// GRU (reset_after keeps an input and a recurrent bias, ONNX Wb and Rb);
// in·units + units for a Dense layer.
func (l LayerSpec) Params() int {
	h, g := l.Units, Gates(l.Kind)
	switch l.Kind {
	case KindLSTM, KindSimpleRNN:
		return l.Dirs * g * (l.In*h + h*h + h)
	case KindGRU:
		return l.Dirs * g * (l.In*h + h*h + 2*h)
	case KindDense:
		return l.In*l.Units + l.Units
	}
	return 0
}

// TrainedRb reports whether the recurrent bias Rb of the layer's ONNX B is
// a weight of its own (a GRU with reset_after) rather than always zero.
func (l LayerSpec) TrainedRb() bool { return l.Kind == KindGRU }

var denseActivations = map[string]bool{"sigmoid": true, "linear": true, "relu": true, "tanh": true, "softmax": true}

// Layers validates cfg.Model and resolves the width of every layer.
//
// Errors (wrapping ErrSpec, as *SpecError naming the key): a nil config, no
// layers, a non-positive size, an unknown layer type, merge mode,
// activation or initializer, an LSTM after a Dense layer or after an LSTM
// that does not return sequences, a Dense layer after an LSTM that returns
// sequences, a last layer that returns sequences, recurrent_dropout outside
// [0, 1).
func Layers(cfg *configs.Config) ([]LayerSpec, error) {
	if cfg == nil {
		return nil, specErr("(config)", "no configuration")
	}
	if cfg.Data.NumWords <= 0 {
		return nil, specErr("data.num_words", "the embedding needs a vocabulary size > 0, got %d", cfg.Data.NumWords)
	}
	emb := cfg.Model.Embedding
	if emb.Dim <= 0 {
		return nil, specErr("model.embedding.dim", "want > 0, got %d", emb.Dim)
	}
	if err := checkInit("model.embedding.initializer", emb.Initializer, 2); err != nil {
		return nil, err
	}
	if len(cfg.Model.Layers) == 0 {
		return nil, specErr("model.layers", "no layers after the embedding")
	}
	specs := make([]LayerSpec, 0, len(cfg.Model.Layers))
	in, seq := emb.Dim, true // the embedding emits [batch, seq, dim]
	prev := "the embedding"
	if emb.MaskZero && cfg.Data.Padding == "pre" {
		return nil, specErr("model.embedding.mask_zero", "masking needs data.padding: post (the valid steps first, as ONNX sequence_lens counts them)")
	}
	for i, l := range cfg.Model.Layers {
		key := fmt.Sprintf("model.layers[%d]", i)
		if weightless[l.Type] {
			s, err := weightlessLayer(key, i, l, in, seq, prev)
			if err != nil {
				return nil, err
			}
			s.Masked = emb.MaskZero && seq
			specs = append(specs, s)
			seq = s.ReturnSequences
			prev = fmt.Sprintf("layer %d (%s)", i, l.Type)
			continue
		}
		if l.Units <= 0 {
			return nil, specErr(key+".units", "want > 0, got %d", l.Units)
		}
		if l.Rate != 0 {
			return nil, specErr(key+".rate", "only a dropout or spatial_dropout1d layer has a rate")
		}
		s := LayerSpec{Index: i, In: in, Units: l.Units, Dirs: 1, ReturnSequences: l.ReturnSequences, Masked: emb.MaskZero && seq}
		switch l.Type {
		case KindLSTM, KindGRU, KindSimpleRNN:
			if !seq {
				return nil, specErr(key+".type", "a%s %s needs a sequence, but %s returns one vector per review (set return_sequences: true on it)", article(l.Type), l.Type, prev)
			}
			s.Kind, s.Name = l.Type, fmt.Sprintf("%s_%d", l.Type, i)
			s.Out = l.Units
			mm := l.MergeMode
			if mm == "" {
				mm = MergeConcat
			}
			switch mm {
			case MergeConcat, MergeSum, MergeMul, MergeAve:
			default:
				return nil, specErr(key+".merge_mode", "unknown merge mode %q (want concat, sum, mul or ave)", l.MergeMode)
			}
			if l.Bidirectional {
				s.Dirs, s.MergeMode = 2, mm
				if mm == MergeConcat {
					s.Out = 2 * l.Units
				}
			}
			if !(l.RecurrentDropout >= 0 && l.RecurrentDropout < 1) {
				return nil, specErr(key+".recurrent_dropout", "want a rate in [0, 1), got %g", l.RecurrentDropout)
			}
			if !(l.Dropout >= 0 && l.Dropout < 1) {
				return nil, specErr(key+".dropout", "want a rate in [0, 1), got %g", l.Dropout)
			}
			s.Rate = l.Dropout
			switch {
			case l.Type == KindSimpleRNN:
				if l.Activation != "" && l.Activation != "tanh" && l.Activation != "relu" {
					return nil, specErr(key+".activation", "unknown simple_rnn activation %q (want tanh or relu)", l.Activation)
				}
				s.Activation = orDefault(l.Activation, "tanh")
			case l.Activation != "":
				return nil, specErr(key+".activation", "a%s %s's activations are fixed (tanh, recurrent sigmoid); remove the key", article(l.Type), l.Type)
			}
			if l.UnitForgetBias != nil && l.Type != KindLSTM {
				return nil, specErr(key+".unit_forget_bias", "only an lstm layer has a forget gate")
			}
			if err := checkInit(key+".kernel_initializer", l.KernelInitializer, 2); err != nil {
				return nil, err
			}
			if err := checkInit(key+".recurrent_initializer", l.RecurrentInitializer, 2); err != nil {
				return nil, err
			}
			if err := checkInit(key+".bias_initializer", l.BiasInitializer, 1); err != nil {
				return nil, err
			}
			prev = fmt.Sprintf("layer %d (%s)", i, l.Type)
		case KindDense:
			if seq {
				return nil, specErr(key+".type", "a dense layer needs one vector per review, but %s returns a sequence (set return_sequences: false on it)", prev)
			}
			if l.Bidirectional {
				return nil, specErr(key+".bidirectional", "only a recurrent layer (lstm, gru, simple_rnn) can be bidirectional")
			}
			if l.ReturnSequences {
				return nil, specErr(key+".return_sequences", "only a recurrent layer (lstm, gru, simple_rnn) returns sequences")
			}
			if l.RecurrentDropout != 0 {
				return nil, specErr(key+".recurrent_dropout", "only a recurrent layer (lstm, gru, simple_rnn) has recurrent dropout")
			}
			if l.Dropout != 0 {
				return nil, specErr(key+".dropout", "a dense layer has no input dropout; put a dropout layer before it")
			}
			switch {
			case l.MergeMode != "":
				return nil, specErr(key+".merge_mode", "only a bidirectional recurrent layer has a merge mode")
			case l.RecurrentInitializer != "":
				return nil, specErr(key+".recurrent_initializer", "only a recurrent layer (lstm, gru, simple_rnn) has a recurrent kernel")
			case l.UnitForgetBias != nil:
				return nil, specErr(key+".unit_forget_bias", "only an lstm layer has a forget gate")
			}
			act := l.Activation
			if act == "" {
				act = "sigmoid"
			}
			if !denseActivations[act] {
				return nil, specErr(key+".activation", "unknown activation %q (want sigmoid, linear, relu, tanh or softmax)", l.Activation)
			}
			if err := checkInit(key+".kernel_initializer", l.KernelInitializer, 2); err != nil {
				return nil, err
			}
			if err := checkInit(key+".bias_initializer", l.BiasInitializer, 1); err != nil {
				return nil, err
			}
			s.Kind, s.Name, s.Out, s.Activation = KindDense, fmt.Sprintf("dense_%d", i), l.Units, act
			prev = fmt.Sprintf("layer %d (dense)", i)
		case "":
			return nil, specErr(key+".type", "missing layer type (want %s)", layerTypes)
		default:
			return nil, specErr(key+".type", "unknown layer type %q (want %s)", l.Type, layerTypes)
		}
		specs = append(specs, s)
		in, seq = s.Out, s.ReturnSequences
	}
	if seq {
		return nil, specErr(fmt.Sprintf("model.layers[%d].return_sequences", len(specs)-1),
			"the last layer must return one vector per review, not a sequence")
	}
	if err := checkHead(specs[len(specs)-1]); err != nil {
		return nil, err
	}
	return specs, nil
}

const layerTypes = "lstm, gru, simple_rnn, dense, dropout, spatial_dropout1d, global_max_pool or global_average_pool"

var weightless = map[string]bool{KindDropout: true, KindSpatialDropout: true, KindGlobalMaxPool: true, KindGlobalAveragePool: true}

// weightlessLayer validates a dropout, spatial_dropout1d or pooling layer
// reading width in (a sequence when seq): dropout keeps its input's shape,
// spatial_dropout1d (one mask per review and channel, shared by every
// step) needs a sequence, and a pool reduces a sequence over time to one
// vector (mask-aware: padded steps are skipped).
func weightlessLayer(key string, i int, l configs.Layer, in int, seq bool, prev string) (LayerSpec, error) {
	s := LayerSpec{Index: i, Kind: l.Type, Name: fmt.Sprintf("%s_%d", l.Type, i), In: in, Out: in, Dirs: 1, ReturnSequences: seq}
	set := map[string]bool{
		"units": l.Units != 0, "bidirectional": l.Bidirectional, "merge_mode": l.MergeMode != "",
		"return_sequences": l.ReturnSequences, "recurrent_dropout": l.RecurrentDropout != 0, "dropout": l.Dropout != 0,
		"kernel_initializer": l.KernelInitializer != "", "recurrent_initializer": l.RecurrentInitializer != "",
		"bias_initializer": l.BiasInitializer != "", "unit_forget_bias": l.UnitForgetBias != nil, "activation": l.Activation != "",
	}
	for _, k := range []string{"units", "bidirectional", "merge_mode", "return_sequences", "recurrent_dropout", "dropout",
		"kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias", "activation"} {
		if set[k] {
			return s, specErr(key+"."+k, "a %s layer has no %s", l.Type, k)
		}
	}
	switch l.Type {
	case KindDropout, KindSpatialDropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return s, specErr(key+".rate", "want a rate in [0, 1), got %g", l.Rate)
		}
		s.Rate = l.Rate
		if l.Type == KindSpatialDropout && !seq {
			return s, specErr(key+".type", "spatial_dropout1d needs a sequence, but %s returns one vector per review", prev)
		}
	default:
		if l.Rate != 0 {
			return s, specErr(key+".rate", "a %s layer has no rate", l.Type)
		}
		if !seq {
			return s, specErr(key+".type", "%s pools a sequence over time, but %s returns one vector per review", l.Type, prev)
		}
		s.ReturnSequences = false
	}
	return s, nil
}

func article(kind string) string {
	if kind == KindLSTM {
		return "n"
	}
	return ""
}

// checkHead is the head rule: a model ends in Dense(1, sigmoid),
// P(positive), trained with binary cross-entropy, or Dense(k ≥ 2,
// softmax), one probability per class, trained with sparse categorical
// cross-entropy (labels 0..k−1). A two-class sentiment softmax is
// [P(negative), P(positive)]: scoring reads P(positive) as the last column.
func checkHead(l LayerSpec) error {
	key := fmt.Sprintf("model.layers[%d]", l.Index)
	switch {
	case l.Kind != KindDense:
		return specErr(key+".type", "the last layer must be dense (the classifier head)")
	case l.Activation == "sigmoid" && l.Units != 1:
		return specErr(key+".units", "a sigmoid head has 1 unit, P(positive); got %d", l.Units)
	case l.Activation == "softmax" && l.Units < 2:
		return specErr(key+".units", "a softmax head has one unit per class, at least 2; got %d", l.Units)
	case l.Activation != "sigmoid" && l.Activation != "softmax":
		return specErr(key+".activation", "the head must be sigmoid or softmax, got %q", l.Activation)
	}
	return nil
}

// Resolve fills, in cfg.Model, the defaults that depend on each layer's
// kind — the initializers Keras uses (embedding uniform; kernels
// glorot_uniform, recurrent kernels orthogonal, biases zeros),
// unit_forget_bias true (lstm), activation tanh (simple_rnn), merge_mode
// concat for a bidirectional recurrent layer, a
// dense layer's activation sigmoid — and validates the result (Layers).
// It is the one place the layer schema is checked: configs only decode
// layers, and New resolves a copy of its config.
func Resolve(cfg *configs.Config) error {
	if cfg == nil {
		return specErr("(config)", "no configuration")
	}
	m := &cfg.Model
	m.Embedding.Initializer = orDefault(m.Embedding.Initializer, defaultEmbeddingInit)
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Type {
		case KindLSTM, KindGRU, KindSimpleRNN:
			l.KernelInitializer = orDefault(l.KernelInitializer, defaultKernelInit)
			l.RecurrentInitializer = orDefault(l.RecurrentInitializer, defaultRecurrentInit)
			l.BiasInitializer = orDefault(l.BiasInitializer, defaultBiasInit)
			if l.UnitForgetBias == nil && l.Type == KindLSTM {
				t := true
				l.UnitForgetBias = &t
			}
			if l.Type == KindSimpleRNN {
				l.Activation = orDefault(l.Activation, "tanh")
			}
			if l.Bidirectional {
				l.MergeMode = orDefault(l.MergeMode, MergeConcat)
			}
		case KindDense:
			l.Activation = orDefault(l.Activation, "sigmoid")
			l.KernelInitializer = orDefault(l.KernelInitializer, defaultKernelInit)
			l.BiasInitializer = orDefault(l.BiasInitializer, defaultBiasInit)
		}
	}
	_, err := Layers(cfg)
	return err
}

// Validate reports whether cfg.Model describes a model New can build; see
// Layers for the errors.
func Validate(cfg *configs.Config) error {
	_, err := Layers(cfg)
	return err
}

// Layers returns the resolved layer specs of m. New and LoadCheckpoint
// return only valid models, but Config is a field anyone may change: an
// invalid architecture is the error of Layers(m.Config), never a panic.
func (m *Model) Layers() ([]LayerSpec, error) {
	if m == nil {
		return nil, specErr("(model)", "no model")
	}
	return Layers(m.Config)
}

// paramSpec is the name and ONNX shape of one weight tensor.
type paramSpec struct {
	name  string
	shape []int
}

// paramSpecs lists the weight tensors of a model in their fixed order:
// embedding, then per layer W, R, B (recurrent, ONNX shapes [dirs, g·H,
// in], [dirs, g·H, H], [dirs, 2g·H] with g = Gates(kind)) or W, B (dense).
func paramSpecs(cfg *configs.Config, layers []LayerSpec) []paramSpec {
	ps := []paramSpec{{"embedding", []int{cfg.Data.NumWords, cfg.Model.Embedding.Dim}}}
	for _, l := range layers {
		if l.Recurrent() {
			gh := Gates(l.Kind) * l.Units
			ps = append(ps,
				paramSpec{l.Name + ".W", []int{l.Dirs, gh, l.In}},
				paramSpec{l.Name + ".R", []int{l.Dirs, gh, l.Units}},
				paramSpec{l.Name + ".B", []int{l.Dirs, 2 * gh}})
		} else if l.Kind == KindDense {
			ps = append(ps,
				paramSpec{l.Name + ".W", []int{l.In, l.Units}},
				paramSpec{l.Name + ".B", []int{l.Units}})
		}
	}
	return ps
}

// New resolves a copy of cfg (see Resolve), allocates every weight tensor in
// ONNX layout and initialises it as Keras would.
//
// Randomness: one math/rand/v2 PCG generator seeded with
// (cfg.Train.Seed, cfg.Train.Seed) is drawn from in this fixed order, each
// tensor in its Keras shape and row-major order, so the same config gives
// the same bytes:
//
//  1. embedding [num_words, dim] (default uniform ±0.05);
//  2. per layer, in config order —
//     lstm: per direction (forward, then backward): kernel [in, 4H]
//     (default glorot_uniform), recurrent kernel [H, 4H] (default
//     orthogonal), then the bias: with unit_forget_bias (the default) as
//     Keras builds it, [H] for i, ones for f, [2H] for c and o; else [4H];
//     gru: per direction: kernel [in, 3H], recurrent kernel [H, 3H], bias
//     [2, 3H] (input then recurrent bias, Keras reset_after);
//     simple_rnn: per direction: kernel [in, H], recurrent kernel [H, H],
//     bias [H];
//     dense: kernel [in, units] (default glorot_uniform), bias [units].
//
// zeros and ones draw nothing; bias initializers default to zeros. A
// uniform value is (2u−1)·limit with u = Float64(); a normal one is
// NormFloat64()·σ, redrawn beyond ±2σ for the truncated initializers;
// orthogonal draws its [max, min] normal matrix row-major before the QR. The
// Keras tensors are then permuted to ONNX gate order (LSTM only; GRU and
// SimpleRNN gates are in the same order) and transposed into W, R and Wb
// (see KerasToONNXKernel); Rb stays zero except a GRU's recurrent bias.
//
// Errors: those of Resolve (wrapping ErrSpec).
func New(cfg *configs.Config) (*Model, error) {
	if cfg == nil {
		return nil, specErr("(config)", "no configuration")
	}
	m := &Model{Config: cloneConfig(cfg)}
	if err := Resolve(m.Config); err != nil {
		return nil, err
	}
	layers, err := Layers(m.Config)
	if err != nil {
		return nil, err
	}
	for _, ps := range paramSpecs(m.Config, layers) {
		m.Params = append(m.Params, &Param{Name: ps.name, Shape: ps.shape, Data: make([]float32, shapeSize(ps.shape))})
	}
	if err := initialize(m, layers); err != nil {
		return nil, err
	}
	return m, nil
}

// Param returns the weight tensor called name, or nil if there is none.
func (m *Model) Param(name string) *Param {
	for _, p := range m.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// NumParams is the Keras parameter count (trainable parameters): the ONNX
// Rb halves of LSTM and SimpleRNN biases, always zero, are not counted.
func (m *Model) NumParams() int {
	_, total := Summarize(m)
	return total
}

// Clone returns a deep copy of m: config and weights.
func (m *Model) Clone() *Model {
	c := &Model{Config: cloneConfig(m.Config), Params: make([]*Param, len(m.Params))}
	for i, p := range m.Params {
		c.Params[i] = p.Clone()
	}
	return c
}

func cloneConfig(cfg *configs.Config) *configs.Config {
	if cfg == nil {
		return nil
	}
	c := *cfg
	c.Model.Layers = append([]configs.Layer(nil), cfg.Model.Layers...)
	for i, l := range c.Model.Layers {
		if l.UnitForgetBias != nil {
			b := *l.UnitForgetBias
			c.Model.Layers[i].UnitForgetBias = &b
		}
	}
	if cfg.Train.Shuffle != nil {
		b := *cfg.Train.Shuffle
		c.Train.Shuffle = &b
	}
	return &c
}

// checkShapes reports whether params match the names, order and shapes the
// config calls for.
func checkShapes(cfg *configs.Config, params []*Param) error {
	layers, err := Layers(cfg)
	if err != nil {
		return err
	}
	want := paramSpecs(cfg, layers)
	if len(params) != len(want) {
		return fmt.Errorf("model: %d weight tensors, the architecture has %d", len(params), len(want))
	}
	for i, ps := range want {
		p := params[i]
		if p.Name != ps.name {
			return fmt.Errorf("model: weight %d is %q, the architecture wants %q", i, p.Name, ps.name)
		}
		if !slices.Equal(p.Shape, ps.shape) {
			return fmt.Errorf("model: %s has shape %v, the architecture wants %v", p.Name, p.Shape, ps.shape)
		}
		if len(p.Data) != shapeSize(p.Shape) {
			return fmt.Errorf("model: %s holds %d values for shape %v", p.Name, len(p.Data), p.Shape)
		}
	}
	return nil
}
