package infer

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// TestSentimentGraphsMatchORT runs generated tf2onnx-shaped sentiment
// models (embedding, recurrent stacks, dense sigmoid) in the engine and in
// ONNX Runtime and requires every output within 1e-5.
func TestSentimentGraphsMatchORT(t *testing.T) {
	ortInit(t)
	S, F := onnx.AttrStrings, onnx.AttrFloats
	cases := []struct {
		name      string
		spec      sentimentSpec
		batch     int
		seq       int
		shortLens bool
	}{
		{"study_deep_bilstm_b1", studyDeepBiLSTM(), 1, 100, false},
		{"study_deep_bilstm_b64", studyDeepBiLSTM(), 64, 100, false},
		{"deep_lstm_int32_lens_seq200", sentimentSpec{vocab: 500, emb: 16, inType: onnx.TensorProto_INT32, seed: 2,
			seqLens: true, layers: []layerSpec{{op: "LSTM", hidden: 12, seqOut: true}, {op: "LSTM", hidden: 10}}}, 5, 200, true},
		{"bigru_lstm_int64", sentimentSpec{vocab: 300, emb: 8, inType: onnx.TensorProto_INT64, seed: 3,
			layers: []layerSpec{{op: "GRU", bidi: true, hidden: 7, seqOut: true}, {op: "LSTM", bidi: true, hidden: 9}}}, 17, 37, false},
		{"bilstm_lens_batch33", sentimentSpec{vocab: 200, emb: 10, inType: onnx.TensorProto_INT32, seed: 4, seqLens: true,
			layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 8}}}, 33, 23, true},
		{"bilstm_layout1_lens", sentimentSpec{vocab: 200, emb: 10, inType: onnx.TensorProto_INT32, seed: 5, seqLens: true,
			layout1: true, layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 8, seqOut: true}, {op: "LSTM", bidi: true, hidden: 6}}}, 9, 30, true},
		{"lstm_activations_seq1", sentimentSpec{vocab: 100, emb: 6, inType: onnx.TensorProto_FLOAT, seed: 6,
			layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 5, attrs: []*onnx.AttributeProto{
				S("activations", "HardSigmoid", "Softsign", "Elu", "Sigmoid", "LeakyRelu", "Tanh"), F("activation_alpha", 0.3, 0.8, 0.05),
				F("activation_beta", 0.45)}}}}, 4, 1, false},
		{"gru_activations_clip", sentimentSpec{vocab: 100, emb: 6, inType: onnx.TensorProto_INT32, seed: 7, seqLens: true,
			layers: []layerSpec{{op: "GRU", bidi: true, hidden: 5, attrs: []*onnx.AttributeProto{
				S("activations", "Sigmoid", "Softsign", "HardSigmoid", "Tanh"), onnx.AttrFloat("clip", 2)}}}}, 6, 12, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.batch), uint64(c.seq)))
			ids := randomIDs(rng, c.batch, c.seq, c.spec.vocab)
			feeds := map[string]*Tensor{"input_ids": idsTensor(c.spec.inType, []int{c.batch, c.seq}, ids)}
			ortFeeds := []*Tensor{feeds["input_ids"]}
			if c.spec.seqLens {
				lens := make([]int32, c.batch)
				for i := range lens {
					lens[i] = int32(c.seq)
					if c.shortLens && i%3 != 0 {
						lens[i] = int32(1 + rng.IntN(c.seq))
					}
				}
				feeds["seq_lens"] = NewInt32([]int{c.batch}, lens)
				ortFeeds = append(ortFeeds, feeds["seq_lens"])
			}
			// ONNX Runtime has no layout=1 recurrent kernels: it runs the
			// layout-0 twin, whose weights are drawn identically.
			ortSpec := c.spec
			ortSpec.layout1 = false
			want, err := newORTSession(t, ortSpec.build(t), 1).run(ortFeeds)
			if err != nil {
				t.Fatalf("ONNX Runtime: %v", err)
			}
			sess, err := LoadModel(c.spec.build(t))
			if err != nil {
				t.Fatal(err)
			}
			got, err := sess.Run(context.Background(), feeds)
			if err != nil {
				t.Fatal(err)
			}
			rnnAllClose(t, "output_0", got["output_0"], want[0], 1e-5, 0)
		})
	}
}
