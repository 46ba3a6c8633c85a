package infer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// rnnCase is one recurrent node compared against ONNX Runtime.
type rnnCase struct {
	name   string
	op     string // LSTM, GRU, RNN
	opset  int64
	dir    string
	layout int64
	seq    int
	batch  int
	in     int
	hidden int

	bias, peep bool
	lens       []int32 // sequence_lens, or nil
	h0, c0     bool
	shared     bool // one graph input serves as initial_h and initial_c
	double     bool
	attrs      []*onnx.AttributeProto
	outputs    [3]bool // which of Y, Y_h, Y_c the node names
}

func randSlice[T float32 | float64](rng *rand.Rand, n int, scale float64) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T((rng.Float64()*2 - 1) * scale)
	}
	return s
}

// rnnCaseModel builds the single-node model of c and its graph inputs.
func rnnCaseModel[T float32 | float64](t testing.TB, c rnnCase) (*onnx.ModelProto, []*Tensor) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(len(c.name)), 7))
	gates := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
	dirs := 1
	if c.dir == "bidirectional" {
		dirs = 2
	}
	H, G := c.hidden, gates*c.hidden
	elem := onnx.TensorProto_FLOAT
	if c.double {
		elem = onnx.TensorProto_DOUBLE
	}
	mk := func(name string, dims []int64, data []T) *onnx.TensorProto {
		tp, err := onnx.MakeTensor(name, dims, data)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	inits := []*onnx.TensorProto{
		mk("W", []int64{int64(dirs), int64(G), int64(c.in)}, randSlice[T](rng, dirs*G*c.in, 0.6)),
		mk("R", []int64{int64(dirs), int64(G), int64(H)}, randSlice[T](rng, dirs*G*H, 0.6)),
	}
	nodeIn := []string{"X", "W", "R", "", "", "", "", ""}
	if c.bias {
		inits = append(inits, mk("B", []int64{int64(dirs), int64(2 * G)}, randSlice[T](rng, dirs*2*G, 0.5)))
		nodeIn[3] = "B"
	}
	if c.peep {
		inits = append(inits, mk("P", []int64{int64(dirs), int64(3 * H)}, randSlice[T](rng, dirs*3*H, 0.5)))
		nodeIn[7] = "P"
	}
	xShape := []int{c.seq, c.batch, c.in}
	stShape := []int{dirs, c.batch, H}
	if c.layout == 1 {
		xShape = []int{c.batch, c.seq, c.in}
		stShape = []int{c.batch, dirs, H}
	}
	dims := func(s []int) []onnx.Dim {
		d := make([]onnx.Dim, len(s))
		for i, v := range s {
			d[i] = onnx.DimValue(int64(v))
		}
		return d
	}
	gIn := []*onnx.ValueInfoProto{onnx.MakeValueInfo("X", elem, dims(xShape)...)}
	feeds := []*Tensor{New(xShape, randSlice[T](rng, rnnProd(xShape), 1.5))}
	if c.lens != nil {
		nodeIn[4] = "seq_lens"
		gIn = append(gIn, onnx.MakeValueInfo("seq_lens", onnx.TensorProto_INT32, onnx.DimValue(int64(c.batch))))
		feeds = append(feeds, New([]int{c.batch}, c.lens))
	}
	if c.h0 || c.shared {
		nodeIn[5] = "h0"
		gIn = append(gIn, onnx.MakeValueInfo("h0", elem, dims(stShape)...))
		feeds = append(feeds, New(stShape, randSlice[T](rng, rnnProd(stShape), 0.8)))
	}
	if c.shared {
		nodeIn[6] = "h0"
	} else if c.c0 {
		nodeIn[6] = "c0"
		gIn = append(gIn, onnx.MakeValueInfo("c0", elem, dims(stShape)...))
		feeds = append(feeds, New(stShape, randSlice[T](rng, rnnProd(stShape), 0.8)))
	}
	maxIn := 6
	if c.op == "LSTM" {
		maxIn = 8
	}
	nodeIn = nodeIn[:maxIn]
	for len(nodeIn) > 3 && nodeIn[len(nodeIn)-1] == "" {
		nodeIn = nodeIn[:len(nodeIn)-1]
	}
	outNames := []string{"Y", "Y_h", "Y_c"}
	nOut := 2
	if c.op == "LSTM" {
		nOut = 3
	}
	var nodeOut []string
	var gOut []*onnx.ValueInfoProto
	for i := 0; i < nOut; i++ {
		if c.outputs[i] {
			nodeOut = append(nodeOut, outNames[i])
			gOut = append(gOut, onnx.MakeValueInfo(outNames[i], elem))
		} else {
			nodeOut = append(nodeOut, "")
		}
	}
	for len(nodeOut) > 0 && nodeOut[len(nodeOut)-1] == "" {
		nodeOut = nodeOut[:len(nodeOut)-1]
	}
	attrs := append([]*onnx.AttributeProto{
		onnx.AttrInt("hidden_size", int64(H)),
		onnx.AttrString("direction", c.dir),
	}, c.attrs...)
	if c.layout != 0 {
		attrs = append(attrs, onnx.AttrInt("layout", c.layout))
	}
	node := onnx.MakeNode("rnn", c.op, nodeIn, nodeOut, attrs...)
	g := onnx.MakeGraph(c.name, []*onnx.NodeProto{node}, gIn, gOut, inits...)
	return onnx.MakeModel(g, onnx.Opset("", c.opset)), feeds
}

func rnnCases() []rnnCase {
	all3 := [3]bool{true, true, true}
	S, F := onnx.AttrStrings, onnx.AttrFloats
	return []rnnCase{
		{name: "lstm_forward", op: "LSTM", opset: 7, dir: "forward", seq: 5, batch: 3, in: 4, hidden: 6, outputs: all3},
		{name: "lstm_reverse_bias_states", op: "LSTM", opset: 14, dir: "reverse", seq: 6, batch: 2, in: 3, hidden: 5,
			bias: true, h0: true, c0: true, outputs: all3},
		{name: "lstm_bidi_lens_shared_state", op: "LSTM", opset: 14, dir: "bidirectional", seq: 7, batch: 4, in: 3,
			hidden: 5, bias: true, shared: true, lens: []int32{7, 3, 1, 5}, outputs: all3},
		{name: "lstm_reverse_lens", op: "LSTM", opset: 14, dir: "reverse", seq: 6, batch: 3, in: 2, hidden: 4,
			bias: true, h0: true, c0: true, lens: []int32{2, 6, 4}, outputs: all3},
		{name: "lstm_layout1_bidi_lens", op: "LSTM", opset: 14, layout: 1, dir: "bidirectional", seq: 5, batch: 3,
			in: 4, hidden: 3, bias: true, h0: true, c0: true, lens: []int32{5, 2, 4}, outputs: all3},
		{name: "lstm_peephole_clip_input_forget", op: "LSTM", opset: 14, dir: "bidirectional", seq: 5, batch: 2,
			in: 3, hidden: 4, bias: true, peep: true, h0: true, c0: true, lens: []int32{5, 3}, outputs: all3,
			attrs: []*onnx.AttributeProto{onnx.AttrFloat("clip", 0.7), onnx.AttrInt("input_forget", 1)}},
		{name: "lstm_peephole", op: "LSTM", opset: 22, dir: "forward", seq: 4, batch: 2, in: 3, hidden: 4,
			bias: true, peep: true, c0: true, outputs: all3},
		{name: "lstm_acts_params", op: "LSTM", opset: 14, dir: "bidirectional", seq: 4, batch: 2, in: 3, hidden: 4,
			bias: true, outputs: all3, attrs: []*onnx.AttributeProto{
				S("activations", "HardSigmoid", "LeakyRelu", "ScaledTanh", "Affine", "ThresholdedRelu", "Elu"),
				F("activation_alpha", 0.3, 0.05, 0.8, 0.6, 0.2, 0.9),
				F("activation_beta", 0.4, 1.2, -0.1)}},
		{name: "lstm_acts_defaults", op: "LSTM", opset: 14, dir: "bidirectional", seq: 4, batch: 2, in: 3, hidden: 4,
			bias: true, outputs: all3, attrs: []*onnx.AttributeProto{
				S("activations", "HardSigmoid", "LeakyRelu", "Elu", "Sigmoid", "Softsign", "Softplus")}},
		{name: "lstm_acts_relu", op: "LSTM", opset: 14, dir: "forward", seq: 4, batch: 2, in: 3,
			hidden: 4, bias: true, outputs: all3,
			attrs: []*onnx.AttributeProto{S("activations", "Sigmoid", "Relu", "Tanh")}},
		{name: "lstm_zero_len", op: "LSTM", opset: 14, dir: "bidirectional", seq: 4, batch: 3, in: 3, hidden: 4,
			bias: true, h0: true, c0: true, lens: []int32{0, 4, 2}, outputs: all3},
		{name: "gru_zero_len", op: "GRU", opset: 14, dir: "bidirectional", seq: 4, batch: 3, in: 3, hidden: 4,
			bias: true, h0: true, lens: []int32{0, 4, 2}, outputs: all3},
		{name: "rnn_zero_len", op: "RNN", opset: 14, dir: "bidirectional", seq: 4, batch: 3, in: 3, hidden: 4,
			bias: true, h0: true, lens: []int32{0, 4, 2}, outputs: all3},
		{name: "lstm_only_y_h", op: "LSTM", opset: 14, dir: "bidirectional", seq: 5, batch: 2, in: 3, hidden: 4,
			bias: true, lens: []int32{3, 5}, outputs: [3]bool{false, true, false}},
		{name: "lstm_double", op: "LSTM", opset: 14, dir: "bidirectional", seq: 4, batch: 2, in: 3, hidden: 4,
			bias: true, h0: true, c0: true, double: true, outputs: all3},

		{name: "gru_forward_lbr0", op: "GRU", opset: 7, dir: "forward", seq: 5, batch: 3, in: 4, hidden: 5,
			bias: true, outputs: all3},
		{name: "gru_bidi_lbr1_lens", op: "GRU", opset: 14, dir: "bidirectional", seq: 6, batch: 3, in: 4, hidden: 5,
			bias: true, h0: true, lens: []int32{6, 2, 4}, outputs: all3,
			attrs: []*onnx.AttributeProto{onnx.AttrInt("linear_before_reset", 1)}},
		{name: "gru_reverse_lbr0_lens", op: "GRU", opset: 14, dir: "reverse", seq: 6, batch: 3, in: 2, hidden: 3,
			bias: true, h0: true, lens: []int32{1, 6, 3}, outputs: all3},
		{name: "gru_layout1_clip_acts", op: "GRU", opset: 14, layout: 1, dir: "bidirectional", seq: 4, batch: 2,
			in: 3, hidden: 4, bias: true, h0: true, outputs: all3, attrs: []*onnx.AttributeProto{
				onnx.AttrFloat("clip", 0.5), S("activations", "HardSigmoid", "Softsign", "Sigmoid", "Relu"),
				F("activation_alpha", 0.25), F("activation_beta", 0.45)}},
		{name: "gru_no_bias_lbr1", op: "GRU", opset: 22, dir: "forward", seq: 4, batch: 2, in: 3, hidden: 4,
			outputs: all3, attrs: []*onnx.AttributeProto{onnx.AttrInt("linear_before_reset", 1)}},

		{name: "rnn_forward", op: "RNN", opset: 7, dir: "forward", seq: 5, batch: 3, in: 4, hidden: 5,
			bias: true, outputs: all3},
		{name: "rnn_bidi_lens_h0", op: "RNN", opset: 14, dir: "bidirectional", seq: 6, batch: 3, in: 4, hidden: 5,
			bias: true, h0: true, lens: []int32{6, 2, 4}, outputs: all3},
		{name: "rnn_layout1_reverse_clip_relu", op: "RNN", opset: 14, layout: 1, dir: "reverse", seq: 4, batch: 3,
			in: 3, hidden: 4, bias: true, h0: true, lens: []int32{4, 1, 3}, outputs: all3, attrs: []*onnx.AttributeProto{
				onnx.AttrFloat("clip", 0.6), S("activations", "Relu")}},
		{name: "rnn_elu", op: "RNN", opset: 14, dir: "bidirectional", seq: 3, batch: 2, in: 3, hidden: 4,
			bias: true, outputs: all3, attrs: []*onnx.AttributeProto{S("activations", "Elu", "Softplus"),
				F("activation_alpha", 0.7)}},
	}
}

// TestRecurrentMatchesORT compares LSTM, GRU and RNN nodes over directions,
// layouts, sequence_lens, states, peepholes, clip and activations against
// ONNX Runtime.
func TestRecurrentMatchesORT(t *testing.T) {
	ortInit(t)
	compareRNNCases(t)
}

// compareRNNCases runs every rnnCases case as a subtest of t against ONNX
// Runtime, in the element type of the case.
func compareRNNCases(t *testing.T) {
	for _, c := range rnnCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.double {
				compareRNNCase[float64](t, c)
			} else {
				compareRNNCase[float32](t, c)
			}
		})
	}
}

// compareRNNCase runs c in the engine and in ONNX Runtime. ONNX Runtime
// implements neither layout=1 nor double LSTMs, so for those it runs the
// layout-0 float32 twin of the node on transposed, converted inputs and the
// test transposes its outputs back.
func compareRNNCase[T float32 | float64](t *testing.T, c rnnCase) {
	m, feeds := rnnCaseModel[T](t, c)
	twin := c
	twin.layout, twin.double = 0, false
	if c.layout == 1 {
		twin.opset = max(c.opset, 14)
	}
	mORT, _ := rnnCaseModel[float32](t, twin)
	ortFeeds := make([]*Tensor, len(feeds))
	for i, f := range feeds {
		ortFeeds[i] = f
		if d, ok := f.Data.([]float64); ok {
			ortFeeds[i] = New(f.Shape, convertSlice[float64, float32](d))
		}
		if c.layout == 1 && len(f.Shape) == 3 {
			s := ortFeeds[i].Shape
			ortFeeds[i] = New([]int{s[1], s[0], s[2]}, rnnSwap01(ortFeeds[i].Float32s(), s[0], s[1], s[2]))
		}
	}
	want, err := newORTSession(t, mORT, 1).run(ortFeeds)
	if err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	if c.layout == 1 {
		for i, w := range want {
			d := w.Float32s()
			if len(w.Shape) == 4 { // Y [seq, dirs, batch, H] → [batch, seq, dirs, H]
				seq, dirs, batch, H := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
				want[i] = New([]int{batch, seq, dirs, H}, rnnSwap01(d, seq*dirs, batch, H))
			} else { // [dirs, batch, H] → [batch, dirs, H]
				want[i] = New([]int{w.Shape[1], w.Shape[0], w.Shape[2]}, rnnSwap01(d, w.Shape[0], w.Shape[1], w.Shape[2]))
			}
		}
	}
	got, err := runSingleNode(m, feeds)
	if err != nil {
		t.Fatal(err)
	}
	node := m.GetGraph().GetNode()[0]
	for i, gv := range m.GetGraph().GetOutput() {
		j := indexOf(node.GetOutput(), gv.GetName())
		if j < 0 || j >= len(got) || got[j] == nil {
			t.Fatalf("output %s not produced", gv.GetName())
		}
		rnnAllClose(t, fmt.Sprintf("%s %s", c.op, gv.GetName()), got[j], want[i], 1e-5, 0)
	}
}
