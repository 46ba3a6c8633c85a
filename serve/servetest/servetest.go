// Package servetest builds small sentiment models for testing and
// benchmarking the scoring service: ONNX graphs shaped like the study's
// tf2onnx exports (float ids → Cast → Gather → stacked bidirectional LSTMs →
// Dense → Sigmoid) with seeded random weights, a matching word index, and a
// plain float64 reference forward pass that shares no code with the
// inference engine, so served scores can be checked against it.
//
//	Params ─Model→ *onnx.ModelProto ─Write→ dir/model.onnx, dir/word_index.json
//	Params ─Reference(ids)→ P(positive)
//
// Started starts a server for a test and drains it at the end.
//
// What it does not do: build birnn models (internal/modeltest holds those
// fixtures).
package servetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/serve"
	"google.golang.org/protobuf/proto"
)

// Params are a model's sizes and weights, in ONNX layout.
type Params struct {
	Vocab, Emb, Hidden, MaxLen int
	// Emb is [Vocab, Emb]; per layer, W [2, 4*Hidden, in], R [2, 4*Hidden,
	// Hidden], B [2, 8*Hidden] (gates i, o, f, c; forward then reverse);
	// Dense [2*Hidden] and DenseB.
	Embedding []float32
	W, R, B   [][]float32
	Dense     []float32
	DenseB    float32
}

// Tiny is a model small enough to check by hand: vocabulary 40, embedding
// 4, one bidirectional LSTM of 3 units, 8 steps.
func Tiny(seed uint64) *Params { return NewParams(seed, 40, 4, 3, 1, 8) }

// DeepBiLSTM has the shape of the study's deep_bilstm run: vocabulary
// 4000, embedding 64, two bidirectional LSTMs of 64 units, 100 steps
// (420,993 weights).
func DeepBiLSTM(seed uint64) *Params { return NewParams(seed, 4000, 64, 64, 2, 100) }

// Slow is a model whose cost is all in its length: vocabulary 40,
// embedding 16, one bidirectional LSTM of 32 units over maxlen steps. The
// serve tests use it to keep requests in flight (queued or running) long
// enough to act on them; each row costs time proportional to maxlen.
func Slow(seed uint64, maxlen int) *Params { return NewParams(seed, 40, 16, 32, 1, maxlen) }

// NewParams draws weights uniformly from ±1/sqrt(fan-in) with a PCG seeded
// by seed.
func NewParams(seed uint64, vocab, emb, hidden, layers, maxlen int) *Params {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	uni := func(n int, scale float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32((2*rng.Float64() - 1) * scale)
		}
		return out
	}
	p := &Params{Vocab: vocab, Emb: emb, Hidden: hidden, MaxLen: maxlen}
	p.Embedding = uni(vocab*emb, 1)
	in := emb
	for range layers {
		s := 1 / math.Sqrt(float64(hidden))
		p.W = append(p.W, uni(2*4*hidden*in, s))
		p.R = append(p.R, uni(2*4*hidden*hidden, s))
		p.B = append(p.B, uni(2*8*hidden, s))
		in = 2 * hidden
	}
	p.Dense = uni(2*hidden, 2/math.Sqrt(float64(2*hidden)))
	p.DenseB = float32(rng.Float64() - 0.5)
	return p
}

// Layers is the number of bidirectional LSTM layers.
func (p *Params) Layers() int { return len(p.W) }

// Model builds the ONNX graph, with metadata_props birnn.num_words = Vocab
// and birnn.maxlen = MaxLen. The input "embedding_input" is float32
// [unk__batch, MaxLen]; the output "dense" is float32 [unk__batch, 1].
func (p *Params) Model() (*onnx.ModelProto, error) {
	h := int64(p.Hidden)
	var inits []*onnx.TensorProto
	add := func(name string, dims []int64, data any) error {
		var t *onnx.TensorProto
		var err error
		switch d := data.(type) {
		case []float32:
			t, err = onnx.MakeTensor(name, dims, d)
		case []int64:
			t, err = onnx.MakeTensor(name, dims, d)
		}
		if err != nil {
			return err
		}
		inits = append(inits, t)
		return nil
	}
	if err := add("embedding", []int64{int64(p.Vocab), int64(p.Emb)}, p.Embedding); err != nil {
		return nil, err
	}
	nodes := []*onnx.NodeProto{
		onnx.MakeNode("cast", "Cast", []string{"embedding_input"}, []string{"ids"}, onnx.AttrInt("to", int64(onnx.TensorProto_INT32))),
		onnx.MakeNode("gather", "Gather", []string{"embedding", "ids"}, []string{"emb"}, onnx.AttrInt("axis", 0)),
		onnx.MakeNode("to_time_major", "Transpose", []string{"emb"}, []string{"x0"}, onnx.AttrInts("perm", 1, 0, 2)),
	}
	if err := add("merge_shape", []int64{3}, []int64{0, 0, -1}); err != nil {
		return nil, err
	}
	x := "x0"
	in := int64(p.Emb)
	for l := range p.W {
		n := strconv.Itoa(l)
		if err := add("W"+n, []int64{2, 4 * h, in}, p.W[l]); err != nil {
			return nil, err
		}
		if err := add("R"+n, []int64{2, 4 * h, h}, p.R[l]); err != nil {
			return nil, err
		}
		if err := add("B"+n, []int64{2, 8 * h}, p.B[l]); err != nil {
			return nil, err
		}
		nodes = append(nodes, onnx.MakeNode("lstm"+n, "LSTM", []string{x, "W" + n, "R" + n, "B" + n},
			[]string{"Y" + n, "Yh" + n, ""}, onnx.AttrInt("hidden_size", h), onnx.AttrString("direction", "bidirectional")))
		if l < len(p.W)-1 {
			// [seq, 2, batch, H] → [seq, batch, 2, H] → [seq, batch, 2H]
			nodes = append(nodes,
				onnx.MakeNode("merge_t"+n, "Transpose", []string{"Y" + n}, []string{"Yt" + n}, onnx.AttrInts("perm", 0, 2, 1, 3)),
				onnx.MakeNode("merge"+n, "Reshape", []string{"Yt" + n, "merge_shape"}, []string{"x" + strconv.Itoa(l+1)}))
			x = "x" + strconv.Itoa(l+1)
			in = 2 * h
		}
	}
	last := strconv.Itoa(len(p.W) - 1)
	if err := add("flat_shape", []int64{2}, []int64{-1, 2 * h}); err != nil {
		return nil, err
	}
	if err := add("dense_w", []int64{2 * h, 1}, p.Dense); err != nil {
		return nil, err
	}
	if err := add("dense_b", []int64{1}, []float32{p.DenseB}); err != nil {
		return nil, err
	}
	nodes = append(nodes,
		onnx.MakeNode("last_t", "Transpose", []string{"Yh" + last}, []string{"last_bm"}, onnx.AttrInts("perm", 1, 0, 2)),
		onnx.MakeNode("flatten", "Reshape", []string{"last_bm", "flat_shape"}, []string{"features"}),
		onnx.MakeNode("dense_matmul", "MatMul", []string{"features", "dense_w"}, []string{"logit0"}),
		onnx.MakeNode("dense_add", "Add", []string{"logit0", "dense_b"}, []string{"logit"}),
		onnx.MakeNode("sigmoid", "Sigmoid", []string{"logit"}, []string{"dense"}),
	)
	g := onnx.MakeGraph("servetest", nodes,
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("embedding_input", onnx.TensorProto_FLOAT, onnx.DimParam("unk__batch"), onnx.DimValue(int64(p.MaxLen)))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("dense", onnx.TensorProto_FLOAT, onnx.DimParam("unk__batch"), onnx.DimValue(1))},
		inits...)
	m := onnx.MakeModel(g, onnx.Opset("", 15))
	m.ModelVersion = proto.Int64(1)
	for _, kv := range [][2]string{{"birnn.num_words", strconv.Itoa(p.Vocab)}, {"birnn.maxlen", strconv.Itoa(p.MaxLen)}} {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
	}
	return m, nil
}

// Words is the word index Write saves: word → rank (1-based), so a word's
// id is rank + 3. Ranks run past Vocab-3 so some words map to the
// out-of-vocabulary id 2.
func (p *Params) Words() map[string]int {
	wi := map[string]int{}
	for r := 1; r <= p.Vocab+5; r++ {
		wi[Word(r)] = r
	}
	return wi
}

// Word is the word of rank r in Words: "w" followed by r in base 26
// letters ("wb", "wc", …), lower case ASCII so Keras's tokenizer keeps it.
func Word(r int) string {
	var b []byte
	for n := r; n > 0; n /= 26 {
		b = append([]byte{byte('a' + n%26)}, b...)
	}
	return "w" + string(b)
}

// Write saves the model and the word index as dir/name.onnx and
// dir/word_index.json and returns their paths.
func (p *Params) Write(dir, name string) (model, wordIndex string, err error) {
	m, err := p.Model()
	if err != nil {
		return "", "", err
	}
	model = filepath.Join(dir, name+".onnx")
	if err := onnx.WriteModel(model, m); err != nil {
		return "", "", err
	}
	b, err := json.Marshal(p.Words())
	if err != nil {
		return "", "", err
	}
	wordIndex = filepath.Join(dir, "word_index.json")
	if err := os.WriteFile(wordIndex, b, 0o644); err != nil {
		return "", "", err
	}
	return model, wordIndex, nil
}

// WriteTemp is Write into a fresh temporary folder of tb, failing tb on
// an error; it returns the model's path and the word index read back.
func (p *Params) WriteTemp(tb testing.TB, name string) (model string, wi dataset.WordIndex) {
	tb.Helper()
	model, wiPath, err := p.Write(tb.TempDir(), name)
	if err == nil {
		wi, err = dataset.LoadWordIndex(wiPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return model, wi
}

// EncodeText maps space-separated words of Words to ids as Keras's
// load_data does (1 first, rank + 3, ids ≥ Vocab become 2). It handles
// only such plain texts: it is the test's independent encoder.
func (p *Params) EncodeText(text string) []int32 {
	wi := p.Words()
	ids := []int32{1}
	for _, w := range strings.Fields(text) {
		r, ok := wi[w]
		if !ok {
			continue
		}
		id := int32(r + 3)
		if int(id) >= p.Vocab {
			id = 2
		}
		ids = append(ids, id)
	}
	return ids
}

// Reference computes P(positive) of one review in float64, straight from
// the ONNX LSTM equations: ids ≥ Vocab become 2, the row is truncated to
// its last MaxLen ids and padded with 0 at the end, as the study does.
func (p *Params) Reference(ids []int32) (float64, error) {
	row := make([]int, p.MaxLen)
	if len(ids) > p.MaxLen {
		ids = ids[len(ids)-p.MaxLen:]
	}
	for i, v := range ids {
		if v < 0 {
			return 0, fmt.Errorf("servetest: negative id %d", v)
		}
		if int(v) >= p.Vocab {
			v = 2
		}
		row[i] = int(v)
	}
	T, H := p.MaxLen, p.Hidden
	x := make([][]float64, T)
	for t, id := range row {
		x[t] = make([]float64, p.Emb)
		for e := range x[t] {
			x[t][e] = float64(p.Embedding[id*p.Emb+e])
		}
	}
	var last []float64
	for l := range p.W {
		in := len(x[0])
		y := make([][]float64, T)
		for t := range y {
			y[t] = make([]float64, 2*H)
		}
		last = make([]float64, 2*H)
		for d := range 2 {
			w := p.W[l][d*4*H*in : (d+1)*4*H*in]
			r := p.R[l][d*4*H*H : (d+1)*4*H*H]
			b := p.B[l][d*8*H : (d+1)*8*H]
			h := make([]float64, H)
			c := make([]float64, H)
			for s := range T {
				t := s
				if d == 1 {
					t = T - 1 - s
				}
				z := make([]float64, 4*H)
				for g := range 4 * H {
					v := float64(b[g]) + float64(b[4*H+g])
					for k := range in {
						v += float64(w[g*in+k]) * x[t][k]
					}
					for k := range H {
						v += float64(r[g*H+k]) * h[k]
					}
					z[g] = v
				}
				for u := range H {
					i, o, f, cc := sigmoid(z[u]), sigmoid(z[H+u]), sigmoid(z[2*H+u]), math.Tanh(z[3*H+u])
					c[u] = f*c[u] + i*cc
					h[u] = o * math.Tanh(c[u])
				}
				copy(y[t][d*H:(d+1)*H], h)
			}
			copy(last[d*H:(d+1)*H], h)
		}
		x = y
	}
	v := float64(p.DenseB)
	for k, f := range last {
		v += float64(p.Dense[k]) * f
	}
	return sigmoid(v), nil
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// Started starts s (loads its model or repository) for a test, fatal on
// an error, and drains it when the test ends.
func Started(tb testing.TB, s *serve.Server, err error) *serve.Server {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Drain)
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}
