package infer

import (
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// layerSpec is one recurrent layer of a generated sentiment model.
type layerSpec struct {
	op     string // LSTM or GRU
	bidi   bool
	hidden int
	seqOut bool // return_sequences: feed Y to the next layer
	attrs  []*onnx.AttributeProto
}

// sentimentSpec describes a tf2onnx-shaped sentiment classifier:
//
//	ids [unk__0, seq] ─Cast?→ Gather(embedding) → Transpose → (Bi)LSTM/GRU …
//	  → Slice/Squeeze/Concat → MatMul + Add → Sigmoid → output_0 [unk__0, 1]
//
// The zero initial state is built from the input's shape with Shape, Slice,
// Concat and ConstantOfShape and given as both initial_h and initial_c.
type sentimentSpec struct {
	vocab, emb int
	seq        int // 0 = symbolic
	inType     onnx.TensorProto_DataType
	layers     []layerSpec
	layout1    bool // recurrent nodes use layout=1 (no Transpose)
	seqLens    bool // a graph input "seq_lens" [batch] feeds every recurrent node
	seed       uint64
	opset      int64
	props      map[string]string // metadata_props
}

// studyDeepBiLSTM is the study's deep BiLSTM: embedding 4000×64, two
// bidirectional LSTM(64) layers (the first returning sequences), Dense(1).
func studyDeepBiLSTM() sentimentSpec {
	return sentimentSpec{vocab: 4000, emb: 64, seq: 100, inType: onnx.TensorProto_FLOAT, seed: 1,
		layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 64, seqOut: true}, {op: "LSTM", bidi: true, hidden: 64}}}
}

type graphBuilder struct {
	t     testing.TB
	nodes []*onnx.NodeProto
	inits []*onnx.TensorProto
	n     int
}

func (g *graphBuilder) name(prefix string) string {
	g.n++
	return prefix + "_" + string(rune('a'+g.n%26)) + itoa(g.n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func (g *graphBuilder) node(op string, in []string, attrs ...*onnx.AttributeProto) string {
	out := g.name(op)
	g.nodes = append(g.nodes, onnx.MakeNode(out+"_node", op, in, []string{out}, attrs...))
	return out
}

func (g *graphBuilder) nodeN(op string, in []string, nOut int, attrs ...*onnx.AttributeProto) []string {
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = g.name(op + "_out")
	}
	g.nodes = append(g.nodes, onnx.MakeNode(outs[0]+"_node", op, in, outs, attrs...))
	return outs
}

func addInit[T onnx.Element](g *graphBuilder, prefix string, dims []int64, data []T) string {
	name := g.name(prefix)
	tp, err := onnx.MakeTensor(name, dims, data)
	if err != nil {
		g.t.Fatal(err)
	}
	g.inits = append(g.inits, tp)
	return name
}

// build returns the model; the graph input is "input_ids" (plus
// "seq_lens" when asked), the output "output_0".
func (s sentimentSpec) build(t testing.TB) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.seed, 11))
	g := &graphBuilder{t: t}
	i64 := func(v ...int64) string { return addInit(g, "const", []int64{int64(len(v))}, v) }

	seqDim := onnx.DimParam("unk__1")
	if s.seq > 0 {
		seqDim = onnx.DimValue(int64(s.seq))
	}
	inputs := []*onnx.ValueInfoProto{onnx.MakeValueInfo("input_ids", s.inType, onnx.DimParam("unk__0"), seqDim)}
	ids := "input_ids"
	if s.inType != onnx.TensorProto_INT32 {
		ids = g.node("Cast", []string{ids}, onnx.AttrInt("to", int64(onnx.TensorProto_INT32)))
	}
	emb := addInit(g, "embedding", []int64{int64(s.vocab), int64(s.emb)}, randSlice[float32](rng, s.vocab*s.emb, 0.05))
	x := g.node("Gather", []string{emb, ids}, onnx.AttrInt("axis", 0)) // [batch, seq, emb]
	if !s.layout1 {
		x = g.node("Transpose", []string{x}, onnx.AttrInts("perm", 1, 0, 2)) // [seq, batch, emb]
	}
	lens := ""
	if s.seqLens {
		lens = "seq_lens"
		inputs = append(inputs, onnx.MakeValueInfo("seq_lens", onnx.TensorProto_INT32, onnx.DimParam("unk__0")))
	}
	in := s.emb
	var feat string
	for li, l := range s.layers {
		dirs, dir := 1, "forward"
		if l.bidi {
			dirs, dir = 2, "bidirectional"
		}
		gates := map[string]int{"LSTM": 4, "GRU": 3}[l.op]
		H, G := l.hidden, gates*l.hidden
		scale := 1 / float64(H)
		W := addInit(g, "W", []int64{int64(dirs), int64(G), int64(in)}, randSlice[float32](rng, dirs*G*in, 2*scale+0.1))
		R := addInit(g, "R", []int64{int64(dirs), int64(G), int64(H)}, randSlice[float32](rng, dirs*G*H, 2*scale+0.1))
		B := addInit(g, "B", []int64{int64(dirs), int64(2 * G)}, randSlice[float32](rng, dirs*2*G, 0.3))

		// Zero state [dirs, batch, H] ([batch, dirs, H] for layout 1) from
		// the batch size read off the input at run time.
		shape := g.node("Shape", []string{x})
		batchAxis := int64(1)
		if s.layout1 {
			batchAxis = 0
		}
		batch := g.node("Slice", []string{shape, i64(batchAxis), i64(batchAxis + 1), i64(0)})
		var stShape string
		if s.layout1 {
			stShape = g.node("Concat", []string{batch, i64(int64(dirs)), i64(int64(H))}, onnx.AttrInt("axis", 0))
		} else {
			stShape = g.node("Concat", []string{i64(int64(dirs)), batch, i64(int64(H))}, onnx.AttrInt("axis", 0))
		}
		zt, err := onnx.MakeTensor("value", []int64{1}, []float32{0})
		if err != nil {
			t.Fatal(err)
		}
		zero := g.node("ConstantOfShape", []string{stShape}, onnx.AttrTensor("value", zt))

		attrs := append([]*onnx.AttributeProto{onnx.AttrInt("hidden_size", int64(H)), onnx.AttrString("direction", dir)}, l.attrs...)
		if s.layout1 {
			attrs = append(attrs, onnx.AttrInt("layout", 1))
		}
		nodeIn := []string{x, W, R, B, lens, zero}
		nOut := 2
		if l.op == "LSTM" {
			nodeIn = append(nodeIn, zero)
			nOut = 3
		} else if l.op == "GRU" {
			attrs = append(attrs, onnx.AttrInt("linear_before_reset", 1))
		}
		outs := g.nodeN(l.op, nodeIn, nOut, attrs...)
		y, yh := outs[0], outs[1]
		dirAxis, yDirAxis := int64(0), int64(1) // in Y_h and in Y
		if s.layout1 {
			dirAxis, yDirAxis = 1, 2
		}
		// Split directions off (Slice + Squeeze) and concatenate them on the
		// feature axis, as tf2onnx does for a Bidirectional merge.
		split := func(v string, axis, catAxis int64) string {
			var parts []string
			for d := range int64(dirs) {
				p := g.node("Slice", []string{v, i64(d), i64(d + 1), i64(axis)})
				parts = append(parts, g.node("Squeeze", []string{p, i64(axis)}))
			}
			if len(parts) == 1 {
				return parts[0]
			}
			return g.node("Concat", parts, onnx.AttrInt("axis", catAxis))
		}
		if l.seqOut && li < len(s.layers)-1 {
			x = split(y, yDirAxis, 2) // [seq, batch, dirs*H] (layout 1: [batch, seq, dirs*H])
		} else {
			feat = split(yh, dirAxis, 1) // [batch, dirs*H]
		}
		in = dirs * H
	}
	Wd := addInit(g, "dense_W", []int64{int64(in), 1}, randSlice[float32](rng, in, 0.5))
	Bd := addInit(g, "dense_b", []int64{1}, randSlice[float32](rng, 1, 0.2))
	mm := g.node("MatMul", []string{feat, Wd})
	add := g.node("Add", []string{mm, Bd})
	g.nodes = append(g.nodes, onnx.MakeNode("output_sigmoid", "Sigmoid", []string{add}, []string{"output_0"}))

	out := []*onnx.ValueInfoProto{onnx.MakeValueInfo("output_0", onnx.TensorProto_FLOAT, onnx.DimParam("unk__0"), onnx.DimValue(1))}
	opset := s.opset
	if opset == 0 {
		opset = 15
	}
	m := onnx.MakeModel(onnx.MakeGraph("sentiment", g.nodes, inputs, out, g.inits...), onnx.Opset("", opset))
	for k, v := range s.props {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: &k, Value: &v})
	}
	return m
}

// randomIDs draws a batch of padded id rows in [0, vocab).
func randomIDs(rng *rand.Rand, batch, seq, vocab int) []int32 {
	ids := make([]int32, batch*seq)
	for i := range ids {
		ids[i] = int32(rng.IntN(vocab))
	}
	return ids
}

// idsTensor converts ids to the model's input element type.
func idsTensor(dt onnx.TensorProto_DataType, shape []int, ids []int32) *Tensor {
	switch dt {
	case onnx.TensorProto_FLOAT:
		return New(shape, convertSlice[int32, float32](ids))
	case onnx.TensorProto_INT64:
		return New(shape, convertSlice[int32, int64](ids))
	}
	return New(shape, append([]int32{}, ids...))
}
