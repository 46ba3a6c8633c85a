package score_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/score"
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

// exported is a birnn model with random weights, exported as ONNX with
// input ids [batch, sequence] of dtype (int32, float32, or int64: the
// float32 export's Cast read from an int64 input instead).
func exported(t testing.TB, layers string, numWords int, seed uint64, dtype string) (*model.Model, *onnx.ModelProto) {
	t.Helper()
	cfg, err := configs.Parse([]byte(fmt.Sprintf("name: tiny\ndata: {num_words: %d}\nmodel:\n  embedding: {dim: 8}\n  layers:\n%s", numWords, layers)))
	if err != nil {
		t.Fatal(err)
	}
	m := modeltest.RandomModel(t, cfg, seed)
	in := dtype
	if dtype == "int64" {
		in = "float32"
	}
	mp := modeltest.ExportProto(t, m, export.Options{InputDType: in})
	if dtype == "int64" {
		mp.Graph.Input[0].Type.GetTensorType().ElemType = proto.Int32(int32(onnx.TensorProto_INT64))
	}
	return m, mp
}

const bilstm = "    - {type: lstm, units: 6, bidirectional: true, return_sequences: true}\n" +
	"    - {type: lstm, units: 5, bidirectional: true}\n    - {type: dense, units: 1, activation: sigmoid}\n"

func newScorer(t testing.TB, mp *onnx.ModelProto, wi dataset.WordIndex, opts score.Options) *score.Scorer {
	t.Helper()
	s, err := score.New(load(t, mp), wi, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func load(t testing.TB, mp *onnx.ModelProto) *infer.Session {
	t.Helper()
	sess, err := infer.LoadModel(mp)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// The Keras-style ids of testReviews under num_words 4000 and index_from 3,
// written out by hand: 1 starts a row, rank+3 otherwise, ≥4000 → 2.
func TestEncode(t *testing.T) {
	_, mp := exported(t, bilstm, 4000, 9, "int32")
	s := newScorer(t, mp, testWordIndex, score.Options{})
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

// TestScoreMatchesORT scores reviews through the Scorer and compares with
// ONNX Runtime fed the same rows padded by hand (post padding, pre
// truncation, maxlen 100), for float32, int32 and int64 model inputs.
func TestScoreMatchesORT(t *testing.T) {
	for _, dt := range []string{"float32", "int32", "int64"} {
		t.Run(dt, func(t *testing.T) {
			_, mp := exported(t, bilstm, 4000, 10, dt)
			s := newScorer(t, mp, testWordIndex, score.Options{BatchSize: 2})
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
			b, err := proto.Marshal(mp)
			if err != nil {
				t.Fatal(err)
			}
			want := modeltest.ORTScores(t, b, export.InputName, export.OutputName, dt, rows, len(testReviews), 100)
			if len(got) != len(testReviews) || len(want) != len(got) {
				t.Fatalf("%d scores for %d reviews (ORT %d)", len(got), len(testReviews), len(want))
			}
			for i := range got {
				if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
					t.Errorf("review %d: scorer %v, ORT %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestSoftmax reads column 1 of a [batch, 2] output: the model here is
// Softmax(Cast(ids)·W) with W chosen so that P(positive) is
// 1/(1+e^(s0−s1)) for hand-computed logits.
func TestSoftmax(t *testing.T) {
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
	s, err := score.New(load(t, onnx.MakeModel(g, onnx.Opset("", 15))), nil, score.Options{Padding: "pre"})
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

// TestOptions checks the order explicit option > metadata > input dim >
// default, and the errors for bad metadata and mismatched models.
func TestOptions(t *testing.T) {
	fresh := func(edit func(mp *onnx.ModelProto)) *infer.Session {
		t.Helper()
		_, mp := exported(t, "    - {type: lstm, units: 3}\n    - {type: dense, units: 1}\n", 50, 11, "int32")
		mp.MetadataProps = nil
		if edit != nil {
			edit(mp)
		}
		return load(t, mp)
	}
	meta := func(kv map[string]string) func(mp *onnx.ModelProto) {
		return func(mp *onnx.ModelProto) {
			for k, v := range kv {
				mp.MetadataProps = append(mp.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)})
			}
		}
	}
	s, err := score.New(fresh(nil), nil, score.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := score.Options{NumWords: 4000, MaxLen: 100, Padding: "post", Truncating: "pre", IndexFrom: 3,
		BatchSize: 64, Input: "input_ids", Output: "probability"}
	if s.Options() != want {
		t.Errorf("defaults %+v, want %+v", s.Options(), want)
	}

	s, err = score.New(fresh(meta(map[string]string{model.MetaNumWords: "50", model.MetaMaxLen: "20", model.MetaPadding: "pre",
		model.MetaTruncating: "post", model.MetaIndexFrom: "2"})), nil, score.Options{MaxLen: 30})
	if err != nil {
		t.Fatal(err)
	}
	want = score.Options{NumWords: 50, MaxLen: 30, Padding: "pre", Truncating: "post", IndexFrom: 2,
		BatchSize: 64, Input: "input_ids", Output: "probability"}
	if s.Options() != want {
		t.Errorf("metadata %+v, want %+v", s.Options(), want)
	}

	if _, err := score.New(fresh(meta(map[string]string{model.MetaMaxLen: "many"})), nil, score.Options{}); err == nil || !strings.Contains(err.Error(), model.MetaMaxLen) {
		t.Errorf("bad metadata: err = %v", err)
	}
	fixed := func(mp *onnx.ModelProto) {
		mp.Graph.Input[0] = onnx.MakeValueInfo(export.InputName, onnx.TensorProto_INT32, onnx.DimParam("batch"), onnx.DimValue(100))
	}
	if _, err := score.New(fresh(fixed), nil, score.Options{MaxLen: 80}); !errors.Is(err, score.ErrNotClassifier) {
		t.Errorf("maxlen against a fixed dim: err = %v, want ErrNotClassifier", err)
	}
	if _, err := score.New(fresh(nil), nil, score.Options{Padding: "middle"}); err == nil {
		t.Error("padding \"middle\" accepted")
	}
	if _, err := score.New(fresh(nil), nil, score.Options{Input: "nope"}); !errors.Is(err, score.ErrNotClassifier) || !strings.Contains(err.Error(), "input_ids") {
		t.Errorf("unknown input: err = %v, want ErrNotClassifier listing input_ids", err)
	}
	if _, err := score.New(fresh(nil), nil, score.Options{Output: "nope"}); !errors.Is(err, score.ErrNotClassifier) || !strings.Contains(err.Error(), "probability") {
		t.Errorf("unknown output: err = %v, want ErrNotClassifier listing probability", err)
	}
	two := func(mp *onnx.ModelProto) {
		mp.Graph.Input = append(mp.Graph.Input, onnx.MakeValueInfo("seq_lens", onnx.TensorProto_INT32, onnx.DimParam("batch")))
	}
	_, err = score.New(fresh(two), nil, score.Options{})
	var ce *score.InputChoiceError
	if !errors.As(err, &ce) || fmt.Sprint(ce.Inputs) != "[input_ids seq_lens]" || !errors.Is(err, score.ErrNotClassifier) {
		t.Errorf("two inputs: err = %v, want an InputChoiceError listing [input_ids seq_lens]", err)
	}
	if _, err := score.New(fresh(two), nil, score.Options{Input: "input_ids"}); !errors.Is(err, score.ErrNotClassifier) || !strings.Contains(err.Error(), "seq_lens") {
		t.Errorf("two inputs, ids named: err = %v, want one naming the input it cannot fill", err)
	}
}

// TestConcurrent scores from several goroutines at once; every result must
// equal the sequential one.
func TestConcurrent(t *testing.T) {
	_, mp := exported(t, "    - {type: lstm, units: 4, bidirectional: true}\n    - {type: dense, units: 1}\n", 4000, 12, "float32")
	s := newScorer(t, mp, testWordIndex, score.Options{BatchSize: 3})
	want, err := s.Score(context.Background(), testReviews)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			got, err := s.Score(context.Background(), testReviews)
			if err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
				err = fmt.Errorf("got %v, want %v", got, want)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A model trained on a text source carries its Tokenizer vocabulary
// (birnn.vocabulary): the Scorer encodes with it — ids by hand: <u> 1,
// great 2, film 3, bad 4; unknown words and ids ≥ num_words 4 become 1 —
// whatever word index it is given, also without one.
func TestEncodeWithModelVocabulary(t *testing.T) {
	m, _ := exported(t, bilstm, 5, 11, "int32")
	v, err := dataset.ParseVocabulary([]byte(`{"words":["<u>","great","film","bad"],"num_words":5,"oov_token":"<u>"}`))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := v.Marshal()
	mp := modeltest.ExportProto(t, m, export.Options{Vocabulary: string(js)})
	var tok string
	for _, kv := range mp.GetMetadataProps() {
		if kv.GetKey() == model.MetaTokenizer {
			tok = kv.GetValue()
		}
	}
	if tok != model.TokenizerKeras {
		t.Errorf("birnn.tokenizer %q, want %q", tok, model.TokenizerKeras)
	}
	for _, wi := range []dataset.WordIndex{nil, testWordIndex} {
		s := newScorer(t, mp, wi, score.Options{})
		got, err := s.Encode("Great FILM, the bad... Plot!")
		if err != nil {
			t.Fatal(err)
		}
		if want := "[2 3 1 4 1]"; fmt.Sprint(got) != want {
			t.Errorf("Encode = %v, want %s", got, want)
		}
	}
	o, err := export.OptionsOf(mp)
	if err != nil || o.Vocabulary != string(js) {
		t.Errorf("OptionsOf vocabulary %q, %v", o.Vocabulary, err)
	}
	bad := modeltest.ExportProto(t, m, export.Options{Vocabulary: `{"words":[""]}`})
	if _, err := score.New(load(t, bad), nil, score.Options{}); err == nil || !strings.Contains(err.Error(), model.MetaVocabulary) {
		t.Errorf("malformed vocabulary: err = %v", err)
	}
}
