package infer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/onnx"
)

// testWordIndex is a tiny Keras-style word index (rank 1 = most frequent).
var testWordIndex = dataset.WordIndex{
	"the": 1, "and": 2, "a": 3, "of": 4, "movie": 17, "film": 19, "great": 84, "bad": 75,
	"boring": 356, "wonderful": 384, "plot": 111, "acting": 113, "rare": 3990, "obscure": 5000,
}

var testReviews = []string{
	"A wonderful film, and the acting... great!",
	"The plot was BORING<br />bad bad bad",
	"",
	"obscure rare movie",
	strings.Repeat("the movie and the plot of a film ", 20), // longer than maxlen
}

// keras-style ids of testReviews under num_words 4000 and index_from 3,
// written out by hand: 1 starts a row, rank+3 otherwise, ≥4000 → 2.
func TestScorerEncode(t *testing.T) {
	sess, err := LoadModel(sentimentSpec{vocab: 4000, emb: 4, seq: 100, inType: onnx.TensorProto_FLOAT, seed: 9,
		layers: []layerSpec{{op: "LSTM", hidden: 3}}}.build(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewScorer(sess, testWordIndex, ScorerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{
		{1, 6, 387, 22, 5, 4, 116, 87},
		{1, 4, 114, 359, 78, 78, 78},
		{1},
		{1, 2, 3993, 20},
	}
	for i, w := range want {
		got, err := s.Encode(testReviews[i])
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("Encode(%q) = %v, want %v", testReviews[i], got, w)
		}
	}
}

// TestScorerMatchesORT scores reviews through the Scorer and compares with
// ONNX Runtime fed the same rows padded by hand (post padding, pre
// truncation, maxlen 100), for float32, int32 and int64 model inputs.
func TestScorerMatchesORT(t *testing.T) {
	ortInit(t)
	for _, dt := range []onnx.TensorProto_DataType{onnx.TensorProto_FLOAT, onnx.TensorProto_INT32, onnx.TensorProto_INT64} {
		t.Run(dt.String(), func(t *testing.T) {
			spec := sentimentSpec{vocab: 4000, emb: 8, seq: 100, inType: dt, seed: 10,
				layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 6, seqOut: true}, {op: "LSTM", bidi: true, hidden: 5}}}
			m := spec.build(t)
			sess, err := LoadModel(m)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewScorer(sess, testWordIndex, ScorerOptions{BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Score(context.Background(), testReviews)
			if err != nil {
				t.Fatal(err)
			}
			rows := make([]int32, 0, len(testReviews)*100)
			for _, r := range testReviews {
				ids := testWordIndex.Encode(r, dataset.EncodeOptions{NumWords: 4000, StartChar: 1, OOVChar: 2, IndexFrom: 3})
				row := make([]int32, 100)
				if len(ids) > 100 {
					ids = ids[len(ids)-100:]
				}
				copy(row, ids)
				rows = append(rows, row...)
			}
			want, err := newORTSession(t, m, 1).run([]*Tensor{idsTensor(dt, []int{len(testReviews), 100}, rows)})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(testReviews) {
				t.Fatalf("%d scores for %d reviews", len(got), len(testReviews))
			}
			rnnAllClose(t, "scores", NewFloat32([]int{len(got), 1}, got), want[0], 1e-5, 0)
		})
	}
}

// TestScorerSoftmax reads column 1 of a [batch, 2] output: the model here
// is Softmax(Cast(ids)·W) with W chosen so that P(positive) is
// 1/(1+e^(s0−s1)) for hand-computed logits.
func TestScorerSoftmax(t *testing.T) {
	// logits: column 0 = 0, column 1 = 0.1·(sum of ids).
	w := make([]float32, 4*2)
	for i := range 4 {
		w[i*2+1] = 0.1
	}
	wt, _ := onnx.MakeTensor("W", []int64{4, 2}, w)
	g := onnx.MakeGraph("softmax", []*onnx.NodeProto{
		onnx.MakeNode("cast", "Cast", []string{"ids"}, []string{"f"}, onnx.AttrInt("to", int64(onnx.TensorProto_FLOAT))),
		onnx.MakeNode("mm", "MatMul", []string{"f", "W"}, []string{"logits"}),
		onnx.MakeNode("sm", "Softmax", []string{"logits"}, []string{"probs"}, onnx.AttrInt("axis", 1)),
	}, []*onnx.ValueInfoProto{onnx.MakeValueInfo("ids", onnx.TensorProto_INT64, onnx.DimParam("N"), onnx.DimValue(4))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("probs", onnx.TensorProto_FLOAT, onnx.DimParam("N"), onnx.DimValue(2))}, wt)
	sess, err := LoadModel(onnx.MakeModel(g, onnx.Opset("", 15)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewScorer(sess, nil, ScorerOptions{Padding: "pre"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Options().MaxLen != 4 {
		t.Fatalf("maxlen %d, want the input's fixed 4", s.Options().MaxLen)
	}
	// Row 2 is truncated to its last 4 ids; 4001 ≥ num_words becomes 2.
	got, err := s.ScoreIDs(context.Background(), [][]int32{{1, 2}, {}, {9, 9, 1, 1, 3, 4}, {4001}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.57444252, 0.5, 0.71094950, 0.54983399} // sigmoid(0.3), sigmoid(0), sigmoid(0.9), sigmoid(0.2)
	for i := range want {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("score %d = %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := s.Score(context.Background(), []string{"x"}); err == nil {
		t.Error("Score without a word index succeeded")
	}
	if _, err := s.ScoreIDs(context.Background(), [][]int32{{-1}}); err == nil {
		t.Error("negative id accepted")
	}
}

// TestScorerOptions checks the order explicit option > metadata > input
// dim > default, and the errors for bad metadata and mismatched models.
func TestScorerOptions(t *testing.T) {
	base := sentimentSpec{vocab: 50, emb: 4, inType: onnx.TensorProto_INT32, seed: 11,
		layers: []layerSpec{{op: "GRU", hidden: 3}}}
	load := func(spec sentimentSpec) *Session {
		t.Helper()
		sess, err := LoadModel(spec.build(t))
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	s, err := NewScorer(load(base), nil, ScorerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := ScorerOptions{NumWords: 4000, MaxLen: 100, Padding: "post", Truncating: "pre", IndexFrom: 3,
		BatchSize: 64, Input: "input_ids", Output: "output_0"}
	if s.Options() != want {
		t.Errorf("defaults %+v, want %+v", s.Options(), want)
	}

	meta := base
	meta.props = map[string]string{MetaNumWords: "50", MetaMaxLen: "20", MetaPadding: "pre",
		MetaTruncating: "post", MetaIndexFrom: "2"}
	s, err = NewScorer(load(meta), nil, ScorerOptions{MaxLen: 30})
	if err != nil {
		t.Fatal(err)
	}
	want = ScorerOptions{NumWords: 50, MaxLen: 30, Padding: "pre", Truncating: "post", IndexFrom: 2,
		BatchSize: 64, Input: "input_ids", Output: "output_0"}
	if s.Options() != want {
		t.Errorf("metadata %+v, want %+v", s.Options(), want)
	}

	bad := base
	bad.props = map[string]string{MetaMaxLen: "many"}
	if _, err := NewScorer(load(bad), nil, ScorerOptions{}); err == nil || !strings.Contains(err.Error(), MetaMaxLen) {
		t.Errorf("bad metadata: err = %v", err)
	}
	fixed := base
	fixed.seq = 100
	if _, err := NewScorer(load(fixed), nil, ScorerOptions{MaxLen: 80}); !errors.Is(err, ErrScorer) {
		t.Errorf("maxlen against a fixed dim: err = %v, want ErrScorer", err)
	}
	if _, err := NewScorer(load(base), nil, ScorerOptions{Padding: "middle"}); err == nil {
		t.Error("padding \"middle\" accepted")
	}
	if _, err := NewScorer(load(base), nil, ScorerOptions{Input: "nope"}); !errors.Is(err, ErrScorer) {
		t.Errorf("unknown input: err = %v", err)
	}
	lens := base
	lens.seqLens = true
	if _, err := NewScorer(load(lens), nil, ScorerOptions{}); !errors.Is(err, ErrScorer) {
		t.Errorf("two inputs: err = %v", err)
	}
}

// TestScorerConcurrent scores from several goroutines at once; every
// result must equal the sequential one.
func TestScorerConcurrent(t *testing.T) {
	sess, err := LoadModel(sentimentSpec{vocab: 4000, emb: 8, seq: 100, inType: onnx.TensorProto_FLOAT, seed: 12,
		layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 4}}}.build(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewScorer(sess, testWordIndex, ScorerOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Score(context.Background(), testReviews)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Score(context.Background(), testReviews)
			if err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
				err = fmt.Errorf("got %v, want %v", got, want)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
