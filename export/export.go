package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// Graph interface names and defaults.
const (
	// InputName is the graph input: word ids [batch, sequence], int32 by
	// default (float32 with Options.InputDType "float32").
	InputName = "input_ids"
	// OutputName is the graph output: [batch, units] of the last Dense
	// layer ([batch, 1] for a sigmoid head, [batch, 2] for a softmax one).
	OutputName = "probability"
	// DefaultOpset is the ai.onnx opset written when Options.Opset is 0,
	// tf2onnx's default.
	DefaultOpset = 15
	// MinOpset and MaxOpset bound Options.Opset.
	MinOpset = 13
	MaxOpset = 21
	// DefaultTokenizer names the text-to-ids rule of dataset.TextToWordSequence.
	DefaultTokenizer = "keras_text_to_word_sequence/v1"
	// Producer is the producer_name of every export.
	Producer = "birnn"
)

// ErrOptions is wrapped by every error about Options.
var ErrOptions = errors.New("export: invalid options")

// Options tune an export. The zero value is valid: opset 15, int32 input,
// the Keras tokenizer, no test metrics, no word-index hash, version "dev".
type Options struct {
	// Opset is the ai.onnx opset, MinOpset..MaxOpset; 0 means DefaultOpset.
	Opset int
	// InputDType is "int32" (default) or "float32". A float32 input, as
	// Keras's own exports take, is Cast to int32 before the Gather.
	InputDType string
	// TestMetrics are written as JSON to birnn.test_metrics (e.g. "loss",
	// "accuracy"); omitted when empty.
	TestMetrics map[string]float64
	// Tokenizer is birnn.tokenizer; empty means DefaultTokenizer.
	Tokenizer string
	// WordIndexSHA256 is the hex SHA-256 of the word index file the model
	// was trained with; omitted when empty.
	WordIndexSHA256 string
	// Vocabulary is birnn.vocabulary, the JSON of the dataset.Vocabulary a
	// model trained on a text source tokenizes with; with it, Tokenizer
	// defaults to model.TokenizerKeras. Omitted when empty.
	Vocabulary string
	// Labels is birnn.labels, the JSON array of the class names by label
	// a model trained on named labels (a folder per class, a label
	// mapping) reports its classes with. Omitted when empty.
	Labels string
	// Version is birnn.version, the birnn release that wrote the file;
	// empty means "dev".
	Version string
}

func (o Options) resolve() (Options, error) {
	if o.Opset == 0 {
		o.Opset = DefaultOpset
	}
	if o.Opset < MinOpset || o.Opset > MaxOpset {
		return o, fmt.Errorf("%w: opset %d (want %d to %d)", ErrOptions, o.Opset, MinOpset, MaxOpset)
	}
	switch o.InputDType {
	case "":
		o.InputDType = "int32"
	case "int32", "float32":
	default:
		return o, fmt.Errorf("%w: input dtype %q (want int32 or float32)", ErrOptions, o.InputDType)
	}
	if o.Tokenizer == "" {
		o.Tokenizer = DefaultTokenizer
		if o.Vocabulary != "" {
			o.Tokenizer = model.TokenizerKeras
		}
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Labels != "" {
		var names []string
		if err := json.Unmarshal([]byte(o.Labels), &names); err != nil {
			return o, fmt.Errorf("%w: labels %q: want a JSON array of class names", ErrOptions, o.Labels)
		}
	}
	return o, nil
}

// Model builds the ONNX graph of m, with the structure tf2onnx gives the
// same Keras model:
//
//	input_ids [batch, sequence] (int32, or float32 → Cast)
//	→ Gather(embedding [num_words, dim])            [batch, seq, dim]
//	→ Transpose(1, 0, 2)                            [seq, batch, dim]
//	→ per recurrent layer: LSTM, GRU (linear_before_reset=1) or RNN
//	  (forward or bidirectional, zero initial state)
//	    return_sequences: Y [seq, dirs, batch, H] → [seq, batch, Out]
//	      (Squeeze; concat: Transpose(0, 2, 1, 3) + Reshape;
//	       sum/mul/ave: Slice + Squeeze per direction, Add/Mul (+ Mul 0.5))
//	    last step: Y_h [dirs, batch, H] → [batch, Out] (the forward
//	      direction's last state and the reverse direction's state after
//	      reading back to step 0, which is Keras's backward "last output")
//	  with mask_zero, sequence_lens = the count of non-zero ids per row
//	  (native nodes, never a Loop: padded steps leave the state unchanged
//	  and give zeros in Y, and every consumer of Y skips them)
//	→ global_max_pool / global_average_pool: ReduceMax / ReduceMean over
//	  time (masked: over the valid steps; see pool)
//	→ dropout layers: an Identity named <layer>/Dropout, the identity at
//	  inference, whose doc_string keeps the rate (so import recovers the layer)
//	→ per Dense layer: MatMul(W [in, units]) + Add(B [units]) → activation
//	→ probability [batch, units]
//
// Dims batch and sequence are symbolic ("batch", "sequence"). Weights are
// initializers named after the model's parameters. The metadata holds the
// data settings, the config as YAML and the Options (see the model.Meta* keys).
//
// Errors: a model whose config or weights are invalid (model.ErrSpec or a
// shape error), invalid Options (ErrOptions).
func Model(m *model.Model, opts Options) (*onnx.ModelProto, error) {
	if m == nil || m.Config == nil {
		return nil, errors.New("export: no model")
	}
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	layers, err := model.Layers(m.Config)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	b := &builder{consts: map[string]bool{}, opset: opts.Opset}
	if err := b.weights(m, layers); err != nil {
		return nil, err
	}

	// Input and embedding.
	ids := InputName
	inElem := onnx.TensorProto_INT32
	if opts.InputDType == "float32" {
		inElem = onnx.TensorProto_FLOAT
		b.node("Cast", "input_cast", []string{InputName}, []string{"input_ids_int32"},
			onnx.AttrInt("to", int64(onnx.TensorProto_INT32)))
		ids = "input_ids_int32"
	}
	b.ids = ids
	b.node("Gather", "embedding/Gather", []string{"embedding", ids}, []string{"embedding/output"}, onnx.AttrInt("axis", 0))
	b.node("Transpose", "embedding/Transpose", []string{"embedding/output"}, []string{"embedding/time_major"}, onnx.AttrInts("perm", 1, 0, 2))
	x := "embedding/time_major" // [seq, batch, width] while LSTMs run, then [batch, width]

	for _, l := range layers {
		switch {
		case l.Recurrent():
			x = b.recurrent(l, x)
		case l.Kind == model.KindDense:
			x = b.dense(l, x)
		case l.Kind == model.KindGlobalMaxPool || l.Kind == model.KindGlobalAveragePool:
			x = b.pool(l, x)
		case l.Kind == model.KindDropout || l.Kind == model.KindSpatialDropout:
			x = b.dropout(l, x)
		}
	}
	// The last node's output becomes the graph output.
	last := b.nodes[len(b.nodes)-1]
	last.Output[0] = OutputName

	units := int64(layers[len(layers)-1].Units)
	g := onnx.MakeGraph(graphName(m), b.nodes,
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo(InputName, inElem, onnx.DimParam("batch"), onnx.DimParam("sequence"))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo(OutputName, onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(units))},
		b.inits...)
	g.DocString = proto.String("birnn " + m.Config.Name + ": word ids [batch, sequence] → " + OutputName + " [batch, " + strconv.FormatInt(units, 10) + "]")
	mp := onnx.MakeModel(g, onnx.Opset("", int64(opts.Opset)))
	mp.ProducerName = proto.String(Producer)
	mp.ProducerVersion = proto.String(opts.Version)
	meta, err := metadata(m, opts)
	if err != nil {
		return nil, err
	}
	mp.MetadataProps = meta
	return mp, nil
}

func graphName(m *model.Model) string {
	if m.Config.Name != "" {
		return m.Config.Name
	}
	return "birnn"
}

func metadata(m *model.Model, opts Options) ([]*onnx.StringStringEntryProto, error) {
	d := m.Config.Data
	yml, err := m.Config.YAML()
	if err != nil {
		return nil, fmt.Errorf("export: config: %w", err)
	}
	kv := [][2]string{
		{model.MetaNumWords, strconv.Itoa(d.NumWords)},
		{model.MetaMaxLen, strconv.Itoa(d.MaxLen)},
		{model.MetaPadding, d.Padding},
		{model.MetaTruncating, d.Truncating},
		{model.MetaIndexFrom, strconv.Itoa(d.IndexFrom)},
		{model.MetaStartChar, strconv.Itoa(model.StartChar)},
		{model.MetaOOVChar, strconv.Itoa(model.OOVChar)},
		{model.MetaTokenizer, opts.Tokenizer},
	}
	if opts.WordIndexSHA256 != "" {
		kv = append(kv, [2]string{model.MetaWordIndexSHA256, opts.WordIndexSHA256})
	}
	if opts.Vocabulary != "" {
		kv = append(kv, [2]string{model.MetaVocabulary, opts.Vocabulary})
	}
	if opts.Labels != "" {
		kv = append(kv, [2]string{model.MetaLabels, opts.Labels})
	}
	kv = append(kv, [2]string{model.MetaConfig, string(yml)})
	if len(opts.TestMetrics) > 0 {
		js, err := json.Marshal(opts.TestMetrics) // keys sorted: stable bytes
		if err != nil {
			return nil, fmt.Errorf("%w: test metrics: %v", ErrOptions, err)
		}
		kv = append(kv, [2]string{model.MetaTestMetrics, string(js)})
	}
	kv = append(kv, [2]string{model.MetaVersion, opts.Version})
	out := make([]*onnx.StringStringEntryProto, len(kv))
	for i, p := range kv {
		out[i] = &onnx.StringStringEntryProto{Key: proto.String(p[0]), Value: proto.String(p[1])}
	}
	return out, nil
}

// builder accumulates nodes and initializers in topological order.
type builder struct {
	nodes  []*onnx.NodeProto
	inits  []*onnx.TensorProto
	consts map[string]bool
	opset  int
	ids    string // the int32 word ids [batch, seq]
	lens   string // sequence_lens [batch], built on first use (mask_zero)
	mask   string // [seq, batch, 1] bool, built on first use (mask_zero)
}

func (b *builder) node(op, name string, in, out []string, attrs ...*onnx.AttributeProto) {
	b.nodes = append(b.nodes, onnx.MakeNode(name, op, in, out, attrs...))
}

// weights adds every model parameter as an initializer of the same name.
func (b *builder) weights(m *model.Model, layers []model.LayerSpec) error {
	want := []string{"embedding"}
	var weighted []model.LayerSpec
	for _, l := range layers {
		if l.Recurrent() || l.Kind == model.KindDense {
			weighted = append(weighted, l)
		}
	}
	layers = weighted // dropout and pooling layers have no weights
	for _, l := range layers {
		want = append(want, l.Name+".W")
		if l.Recurrent() {
			want = append(want, l.Name+".R")
		}
		want = append(want, l.Name+".B")
	}
	for _, name := range want {
		p := m.Param(name)
		if p == nil {
			return fmt.Errorf("export: model has no weight %q", name)
		}
		dims := make([]int64, len(p.Shape))
		for i, d := range p.Shape {
			dims[i] = int64(d)
		}
		t, err := onnx.MakeTensor(p.Name, dims, p.Data)
		if err != nil {
			return fmt.Errorf("export: weight %s: %w", p.Name, err)
		}
		b.inits = append(b.inits, t)
	}
	// Shapes are checked against the architecture, so a hand-built model
	// cannot export a graph that fails at run time.
	for _, l := range layers {
		if l.Recurrent() {
			gh := model.Gates(l.Kind) * l.Units
			if err := wantShape(m, l.Name+".W", l.Dirs, gh, l.In); err != nil {
				return err
			}
			if err := wantShape(m, l.Name+".R", l.Dirs, gh, l.Units); err != nil {
				return err
			}
			if err := wantShape(m, l.Name+".B", l.Dirs, 2*gh); err != nil {
				return err
			}
		} else {
			if err := wantShape(m, l.Name+".W", l.In, l.Units); err != nil {
				return err
			}
			if err := wantShape(m, l.Name+".B", l.Units); err != nil {
				return err
			}
		}
	}
	return wantShape(m, "embedding", m.Config.Data.NumWords, m.Config.Model.Embedding.Dim)
}

func wantShape(m *model.Model, name string, shape ...int) error {
	p := m.Param(name)
	ok := len(p.Shape) == len(shape) && len(p.Data) == p.Size()
	for i := 0; ok && i < len(shape); i++ {
		ok = p.Shape[i] == shape[i]
	}
	if !ok {
		return fmt.Errorf("export: weight %s has shape %v (%d values), the architecture wants %v", name, p.Shape, len(p.Data), shape)
	}
	return nil
}

// ints adds (once) an int64 initializer named name.
func (b *builder) ints(name string, v ...int64) string {
	if !b.consts[name] {
		t, err := onnx.MakeTensor(name, []int64{int64(len(v))}, v)
		if err != nil {
			panic(err) // dims always match
		}
		b.inits = append(b.inits, t)
		b.consts[name] = true
	}
	return name
}

// scalar adds (once) a float32 scalar initializer named name.
func (b *builder) scalar(name string, v float32) string {
	if !b.consts[name] {
		t, err := onnx.MakeTensor(name, nil, []float32{v})
		if err != nil {
			panic(err)
		}
		b.inits = append(b.inits, t)
		b.consts[name] = true
	}
	return name
}

// onnxOps maps a recurrent layer kind to its ONNX operator.
var onnxOps = map[string]string{model.KindLSTM: "LSTM", model.KindGRU: "GRU", model.KindSimpleRNN: "RNN"}

// recurrent emits one LSTM, GRU (linear_before_reset=1, Keras's
// reset_after) or RNN node reading x [seq, batch, In] and returns the
// layer's output: [seq, batch, Out] with return_sequences, else [batch,
// Out].
func (b *builder) recurrent(l model.LayerSpec, x string) string {
	p := l.Name + "/"
	dir := "forward"
	if l.Dirs == 2 {
		dir = "bidirectional"
	}
	y, yh := "", ""
	if l.ReturnSequences {
		y = p + "Y"
	} else {
		yh = p + "Y_h"
	}
	op := onnxOps[l.Kind]
	attrs := []*onnx.AttributeProto{onnx.AttrString("direction", dir), onnx.AttrInt("hidden_size", int64(l.Units))}
	switch {
	case l.Kind == model.KindGRU:
		attrs = append(attrs, onnx.AttrInt("linear_before_reset", 1))
	case l.Kind == model.KindSimpleRNN && l.Activation == "relu":
		acts := make([]string, l.Dirs)
		for d := range acts {
			acts[d] = "Relu"
		}
		attrs = append(attrs, onnx.AttrStrings("activations", acts...))
	}
	// Inputs: X, W, R, B, sequence_lens, initial_h (, initial_c); the
	// omitted initial states are zero, as Keras's are.
	in := []string{x, l.Name + ".W", l.Name + ".R", l.Name + ".B"}
	if l.Masked {
		in = append(in, b.seqLens())
	}
	b.node(op, p+op, in, []string{y, yh}, attrs...)
	// Drop the trailing empty output name: a node lists outputs up to the
	// last one it produces.
	n := b.nodes[len(b.nodes)-1]
	if n.Output[len(n.Output)-1] == "" {
		n.Output = n.Output[:len(n.Output)-1]
	}

	if l.ReturnSequences {
		// Y [seq, dirs, batch, H]; the direction axis is 1.
		if l.Dirs == 1 {
			b.node("Squeeze", p+"Squeeze", []string{y, b.ints("const/axes_1", 1)}, []string{p + "output"})
			return p + "output"
		}
		if l.MergeMode == model.MergeConcat {
			b.node("Transpose", p+"Transpose", []string{y}, []string{p + "Y_t"}, onnx.AttrInts("perm", 0, 2, 1, 3))
			b.node("Reshape", p+"Reshape", []string{p + "Y_t", b.ints(fmt.Sprintf("const/shape_0_0_%d", 2*l.Units), 0, 0, int64(2*l.Units))}, []string{p + "output"})
			return p + "output"
		}
		return b.merge(l, y, 1)
	}
	// Y_h [dirs, batch, H]; the direction axis is 0.
	if l.Dirs == 1 {
		b.node("Squeeze", p+"Squeeze", []string{yh, b.ints("const/axes_0", 0)}, []string{p + "output"})
		return p + "output"
	}
	if l.MergeMode == model.MergeConcat {
		b.node("Transpose", p+"Transpose", []string{yh}, []string{p + "Y_h_t"}, onnx.AttrInts("perm", 1, 0, 2))
		b.node("Reshape", p+"Reshape", []string{p + "Y_h_t", b.ints(fmt.Sprintf("const/shape_0_%d", 2*l.Units), 0, int64(2*l.Units))}, []string{p + "output"})
		return p + "output"
	}
	return b.merge(l, yh, 0)
}

// merge splits v along the direction axis into forward and backward halves
// and combines them with Keras's sum, mul or ave.
func (b *builder) merge(l model.LayerSpec, v string, axis int64) string {
	p := l.Name + "/"
	ax := b.ints(fmt.Sprintf("const/axes_%d", axis), axis)
	for d, name := range []string{"forward", "backward"} {
		b.node("Slice", p+name+"/Slice", []string{v,
			b.ints(fmt.Sprintf("const/starts_%d", d), int64(d)),
			b.ints(fmt.Sprintf("const/ends_%d", d+1), int64(d+1)), ax},
			[]string{p + name + "/sliced"})
		b.node("Squeeze", p+name+"/Squeeze", []string{p + name + "/sliced", ax}, []string{p + name})
	}
	in := []string{p + "forward", p + "backward"}
	switch l.MergeMode {
	case model.MergeSum:
		b.node("Add", p+"merge/Add", in, []string{p + "output"})
	case model.MergeMul:
		b.node("Mul", p+"merge/Mul", in, []string{p + "output"})
	case model.MergeAve:
		b.node("Add", p+"merge/Add", in, []string{p + "sum"})
		b.node("Mul", p+"merge/Mul", []string{p + "sum", b.scalar("const/half", 0.5)}, []string{p + "output"})
	}
	return p + "output"
}

// dense emits MatMul + Add + activation on x [batch, In].
func (b *builder) dense(l model.LayerSpec, x string) string {
	p := l.Name + "/"
	b.node("MatMul", p+"MatMul", []string{x, l.Name + ".W"}, []string{p + "MatMul"})
	b.node("Add", p+"BiasAdd", []string{p + "MatMul", l.Name + ".B"}, []string{p + "BiasAdd"})
	out := p + "BiasAdd"
	act := map[string]string{"sigmoid": "Sigmoid", "relu": "Relu", "tanh": "Tanh", "softmax": "Softmax"}[l.Activation]
	if act != "" {
		var attrs []*onnx.AttributeProto
		if act == "Softmax" {
			attrs = append(attrs, onnx.AttrInt("axis", -1))
		}
		b.node(act, p+act, []string{out}, []string{p + act}, attrs...)
		out = p + act
	}
	return out
}
