// Package modeltest holds fixtures and references shared by the tests of
// the packages that turn birnn models into ONNX and back (export,
// onnximport, score): architectures beyond the study's five, models with
// random weights, an independent float64 forward pass, the trainer's
// forward pass, and ONNX Runtime as the reference engine. It is imported
// by tests only.
package modeltest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/train"
)

// Arch is one architecture under test.
type Arch struct {
	Name string
	Cfg  *configs.Config
}

// smallYAML are architectures beyond the study's five, at sizes small
// enough to run every case quickly: every merge mode with and without
// sequences, and every Dense head.
var smallYAML = map[string]string{
	"bi_sum_seq": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true, merge_mode: sum, return_sequences: true}
    - {type: lstm, units: 4, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 1}`,
	"bi_mul_seq": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true, merge_mode: mul, return_sequences: true}
    - {type: lstm, units: 4, bidirectional: true, merge_mode: mul}
    - {type: dense, units: 1}`,
	"bi_ave_seq": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true, merge_mode: ave, return_sequences: true}
    - {type: lstm, units: 4, bidirectional: true, merge_mode: ave}
    - {type: dense, units: 1}`,
	"mixed_softmax": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, return_sequences: true}
    - {type: lstm, units: 3, bidirectional: true, return_sequences: true}
    - {type: lstm, units: 4, bidirectional: true}
    - {type: dense, units: 2, activation: softmax}`,
	"dense_heads": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true, merge_mode: ave}
    - {type: dense, units: 7, activation: relu}
    - {type: dense, units: 5, activation: tanh}
    - {type: dense, units: 3, activation: linear}
    - {type: dense, units: 1, activation: sigmoid}`,
	"gru_stack": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: gru, units: 5, bidirectional: true, return_sequences: true}
    - {type: gru, units: 4}
    - {type: dense, units: 1}`,
	"rnn_softmax4": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: simple_rnn, units: 5, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 4, activation: softmax}`,
	"mixed_recurrent": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: simple_rnn, units: 4, activation: relu, return_sequences: true}
    - {type: gru, units: 3, bidirectional: true, merge_mode: mul, return_sequences: true}
    - {type: lstm, units: 3, bidirectional: true, merge_mode: ave, return_sequences: true}
    - {type: gru, units: 4, bidirectional: true, merge_mode: ave}
    - {type: dense, units: 5, activation: tanh}
    - {type: dense, units: 3, activation: softmax}`,
	"masked_gru_avgpool": `
data: {num_words: 50, padding: post}
model:
  embedding: {dim: 6, mask_zero: true}
  layers:
    - {type: gru, units: 5, bidirectional: true, merge_mode: sum, return_sequences: true, dropout: 0.2}
    - {type: dropout, rate: 0.3}
    - {type: global_average_pool}
    - {type: dense, units: 4, activation: relu}
    - {type: dense, units: 1}`,
	"masked_rnn_gru_maxpool": `
data: {num_words: 50, padding: post}
model:
  embedding: {dim: 6, mask_zero: true}
  layers:
    - {type: spatial_dropout1d, rate: 0.2}
    - {type: simple_rnn, units: 4, activation: relu, return_sequences: true}
    - {type: gru, units: 3, bidirectional: true, return_sequences: true}
    - {type: global_max_pool}
    - {type: dense, units: 3, activation: softmax}`,
	"masked_birnn_softmax": `
data: {num_words: 50, padding: post}
model:
  embedding: {dim: 6, mask_zero: true}
  layers:
    - {type: simple_rnn, units: 5, bidirectional: true, recurrent_dropout: 0.2}
    - {type: dense, units: 2, activation: softmax}`,
	"masked_bilstm_lstm": `
data: {num_words: 50, padding: post}
model:
  embedding: {dim: 6, mask_zero: true}
  layers:
    - {type: lstm, units: 5, bidirectional: true, return_sequences: true, recurrent_dropout: 0.2}
    - {type: lstm, units: 4}
    - {type: dense, units: 1}`,
	"masked_lstm16_avgpool": `
data: {num_words: 50, padding: post}
model:
  embedding: {dim: 16, mask_zero: true}
  layers:
    - {type: lstm, units: 16, bidirectional: true, merge_mode: sum, return_sequences: true}
    - {type: global_average_pool}
    - {type: dense, units: 3, activation: softmax}`,
	"lstm_maxpool": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true, merge_mode: ave, return_sequences: true}
    - {type: global_max_pool}
    - {type: dense, units: 1}`,
	"bilstm_softmax": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true}
    - {type: dense, units: 2, activation: softmax}`,
}

// Architectures returns the study's five runs (full size) and the small
// architectures, sorted by name within each group.
func Architectures(t testing.TB) []Arch {
	var out []Arch
	for _, r := range configs.Runs() {
		c, err := configs.Load(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Arch{r, c})
	}
	for _, name := range []string{"bi_sum_seq", "bi_mul_seq", "bi_ave_seq", "mixed_softmax", "dense_heads", "bilstm_softmax", "gru_stack", "rnn_softmax4", "mixed_recurrent",
		"masked_gru_avgpool", "masked_rnn_gru_maxpool", "masked_birnn_softmax", "masked_bilstm_lstm", "masked_lstm16_avgpool", "lstm_maxpool"} {
		c, err := configs.Parse([]byte(smallYAML[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Name = name
		out = append(out, Arch{name, c})
	}
	return out
}

// RandomModel builds cfg's model and perturbs every weight (except the
// always-zero Rb halves) so that no value is left at its initial constant.
func RandomModel(t testing.TB, cfg *configs.Config, seed uint64) *model.Model {
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	layers, err := m.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		for _, suffix := range []string{".W", ".R", ".B"} {
			p := m.Param(l.Name + suffix)
			if p == nil {
				continue
			}
			n := len(p.Data)
			if l.Recurrent() && !l.TrainedRb() && suffix == ".B" {
				n = 0 // Wb halves only: [dirs, 2gH] = [Wb, Rb] per direction
				g := model.Gates(l.Kind) * l.Units
				for d := range l.Dirs {
					for k := range g {
						p.Data[d*2*g+k] += float32(rng.Float64()*0.4 - 0.2)
					}
				}
			}
			for i := range n {
				p.Data[i] += float32(rng.Float64()*0.2 - 0.1)
			}
		}
	}
	emb := m.Param("embedding")
	for i := range emb.Data {
		emb.Data[i] += float32(rng.Float64()*0.2 - 0.1)
	}
	return m
}

// PostPad rewrites ids [batch, seq] as post-padded reviews for a
// mask_zero model (whose padding must be post): inner zeros become 1 and
// row b ends with (3b) mod seq padding zeros. Other models' ids are left
// as they are.
func PostPad(m *model.Model, ids []int32, batch, seq int) []int32 {
	if !m.Config.Model.Embedding.MaskZero {
		return ids
	}
	for b := range batch {
		row := ids[b*seq : (b+1)*seq]
		pad := (3 * b) % seq
		for t := range row {
			switch {
			case t >= seq-pad:
				row[t] = 0
			case row[t] == 0:
				row[t] = 1
			}
		}
	}
	return ids
}

// RandomIDs returns [batch, seq] ids in [0, numWords), some of them the
// padding id 0.
func RandomIDs(rng *rand.Rand, batch, seq, numWords int) []int32 {
	ids := make([]int32, batch*seq)
	for i := range ids {
		if rng.IntN(5) > 0 {
			ids[i] = int32(rng.IntN(numWords))
		}
	}
	return ids
}

// MaxAbsDiff is max |got − want| over want's elements.
func MaxAbsDiff(got []float32, want []float64) float64 {
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// TrainerProbs recovers the trainer's forward pass row by row from
// train.Evaluate: one row with label y has loss −log p_y (binary
// cross-entropy for a sigmoid head, categorical for softmax), so
// p_y = exp(−loss). Labels 1 give p(positive) (the sigmoid output or the
// softmax's second column).
func TrainerProbs(t *testing.T, m *model.Model, ids []int32, batch, seq int) []float64 {
	t.Helper()
	out := make([]float64, batch)
	for b := range batch {
		d := train.Data{X: dataset.Matrix{Rows: 1, Cols: seq, Data: ids[b*seq : (b+1)*seq]}, Y: []int32{1}}
		loss, _, err := train.Evaluate(context.Background(), m, d, 1)
		if err != nil {
			t.Fatalf("train.Evaluate: %v", err)
		}
		out[b] = math.Exp(-loss)
	}
	return out
}

var (
	ortOnce sync.Once
	ortErr  error
)

// NeedORT initialises ONNX Runtime once; without the library the test is
// skipped, or fails under CI=true.
func NeedORT(t testing.TB) {
	t.Helper()
	lib := testutil.ORTLibrary(t)
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Fatalf("ONNX Runtime: %v", ortErr)
	}
}

// ORTRun scores ids [batch, seq] of a birnn export (input "input_ids",
// output "probability") with ONNX Runtime on one thread; floatInput feeds
// them as float32, as a Keras-style export takes them.
func ORTRun(t testing.TB, onnxBytes []byte, ids []int32, batch, seq int, floatInput bool) []float32 {
	t.Helper()
	dtype := "int32"
	if floatInput {
		dtype = "float32"
	}
	return ORTScores(t, onnxBytes, "input_ids", "probability", dtype, ids, batch, seq)
}

// ORTScores runs ONNX Runtime on one thread on the model onnxBytes, feeding
// ids [batch, seq] to input as dtype ("int32", "int64" or "float32"), and
// returns output as float32s.
func ORTScores(t testing.TB, onnxBytes []byte, input, output, dtype string, ids []int32, batch, seq int) []float32 {
	t.Helper()
	NeedORT(t)
	so, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(onnxBytes, []string{input}, []string{output}, so)
	if err != nil {
		t.Fatalf("ONNX Runtime load: %v", err)
	}
	defer s.Destroy()
	var in ort.Value
	shape := ort.NewShape(int64(batch), int64(seq))
	switch dtype {
	case "float32":
		in, err = ort.NewTensor(shape, convert[float32](ids))
	case "int64":
		in, err = ort.NewTensor(shape, convert[int64](ids))
	case "int32":
		in, err = ort.NewTensor(shape, ids)
	default:
		t.Fatalf("ORTScores: dtype %q", dtype)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	out := []ort.Value{nil}
	if err := s.Run([]ort.Value{in}, out); err != nil {
		t.Fatalf("ONNX Runtime run: %v", err)
	}
	defer out[0].Destroy()
	ot, ok := out[0].(*ort.Tensor[float32])
	if !ok {
		t.Fatalf("ONNX Runtime output is %T, want float32 tensor", out[0])
	}
	return append([]float32(nil), ot.GetData()...)
}

func convert[D float32 | int64](ids []int32) []D {
	out := make([]D, len(ids))
	for i, v := range ids {
		out[i] = D(v)
	}
	return out
}

// RefForward is an independent forward pass of m in float64, written from
// the ONNX LSTM equations and Keras's layer semantics with plain loops, as
// the reference the exports are checked against. ids is [batch, seq]
// row-major; the result is [batch, units of the last layer].
func RefForward(m *model.Model, ids []int32, batch, seq int) []float64 {
	emb := m.Param("embedding")
	dim := emb.Shape[1]
	// xs[b][t] is the input vector of step t of review b.
	xs := make([][][]float64, batch)
	for b := range batch {
		xs[b] = make([][]float64, seq)
		for t := range seq {
			id := int(ids[b*seq+t])
			v := make([]float64, dim)
			for k := range dim {
				v[k] = float64(emb.Data[id*dim+k])
			}
			xs[b][t] = v
		}
	}
	var vec [][]float64 // [batch][width] once the sequence is reduced
	layers, err := m.Layers()
	if err != nil {
		panic(err) // test models come from New
	}
	valid := refMask(m, ids, batch, seq)
	for _, l := range layers {
		switch l.Kind {
		case model.KindDropout, model.KindSpatialDropout:
			continue // the identity at inference
		case model.KindGlobalMaxPool, model.KindGlobalAveragePool:
			vec = refPool(l, xs, valid)
			continue
		}
		if l.Recurrent() {
			outs := make([][][][]float64, l.Dirs) // [dir][batch][t][H]
			lasts := make([][][]float64, l.Dirs)  // [dir][batch][H]
			for d := range l.Dirs {
				outs[d], lasts[d] = refDirection(m, l, d, xs, valid)
			}
			merge := func(parts [][]float64) []float64 {
				if l.Dirs == 1 {
					return parts[0]
				}
				f, r := parts[0], parts[1]
				out := make([]float64, 0, 2*len(f))
				switch l.MergeMode {
				case model.MergeConcat:
					out = append(append(out, f...), r...)
				case model.MergeSum:
					for j := range f {
						out = append(out, f[j]+r[j])
					}
				case model.MergeMul:
					for j := range f {
						out = append(out, f[j]*r[j])
					}
				case model.MergeAve:
					for j := range f {
						out = append(out, (f[j]+r[j])/2)
					}
				}
				return out
			}
			if l.ReturnSequences {
				next := make([][][]float64, batch)
				for b := range batch {
					next[b] = make([][]float64, seq)
					for t := range seq {
						parts := make([][]float64, l.Dirs)
						for d := range l.Dirs {
							parts[d] = outs[d][b][t]
						}
						next[b][t] = merge(parts)
					}
				}
				xs = next
			} else {
				vec = make([][]float64, batch)
				for b := range batch {
					parts := make([][]float64, l.Dirs)
					for d := range l.Dirs {
						parts[d] = lasts[d][b]
					}
					vec[b] = merge(parts)
				}
			}
			continue
		}
		w, bias := m.Param(l.Name+".W"), m.Param(l.Name+".B")
		for b := range batch {
			out := make([]float64, l.Units)
			for u := range l.Units {
				s := float64(bias.Data[u])
				for k := range l.In {
					s += vec[b][k] * float64(w.Data[k*l.Units+u])
				}
				out[u] = s
			}
			switch l.Activation {
			case "sigmoid":
				for u := range out {
					out[u] = 1 / (1 + math.Exp(-out[u]))
				}
			case "relu":
				for u := range out {
					out[u] = math.Max(0, out[u])
				}
			case "tanh":
				for u := range out {
					out[u] = math.Tanh(out[u])
				}
			case "softmax":
				mx := math.Inf(-1)
				for _, v := range out {
					mx = math.Max(mx, v)
				}
				var sum float64
				for u := range out {
					out[u] = math.Exp(out[u] - mx)
					sum += out[u]
				}
				for u := range out {
					out[u] /= sum
				}
			}
			vec[b] = out
		}
	}
	var flat []float64
	for _, v := range vec {
		flat = append(flat, v...)
	}
	return flat
}

// refLSTM runs direction d of LSTM layer l over xs [batch][seq][in]:
// i, o, f, c gate blocks of W [dirs, 4H, in], R [dirs, 4H, H], B [dirs, 8H];
// c' = f⊙c + i⊙tanh(g), h' = o⊙tanh(c'); direction 1 reads the sequence
// from the end. It returns h at every step in the original time order and
// the state after the last step read; with valid (mask_zero) a padded step
// keeps h and c and outputs zeros.
func refLSTM(m *model.Model, l model.LayerSpec, d int, xs [][][]float64, valid [][]bool) (outs [][][]float64, last [][]float64) {
	H, in := l.Units, l.In
	W := m.Param(l.Name + ".W").Data[d*4*H*in : (d+1)*4*H*in]
	R := m.Param(l.Name + ".R").Data[d*4*H*H : (d+1)*4*H*H]
	B := m.Param(l.Name + ".B").Data[d*8*H : (d+1)*8*H]
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	outs = make([][][]float64, len(xs))
	last = make([][]float64, len(xs))
	for b, x := range xs {
		seq := len(x)
		h, c := make([]float64, H), make([]float64, H)
		outs[b] = make([][]float64, seq)
		for s := range seq {
			t := s
			if d == 1 {
				t = seq - 1 - s
			}
			if valid != nil && !valid[b][t] {
				outs[b][t] = make([]float64, H)
				continue
			}
			z := make([]float64, 4*H)
			for k := range 4 * H {
				v := float64(B[k]) + float64(B[4*H+k])
				for j := range in {
					v += float64(W[k*in+j]) * x[t][j]
				}
				for j := range H {
					v += float64(R[k*H+j]) * h[j]
				}
				z[k] = v
			}
			nh := make([]float64, H)
			for j := range H {
				ig, og, fg, g := sig(z[j]), sig(z[H+j]), sig(z[2*H+j]), math.Tanh(z[3*H+j])
				c[j] = fg*c[j] + ig*g
				nh[j] = og * math.Tanh(c[j])
			}
			h = nh
			outs[b][t] = h
		}
		last[b] = h
	}
	return outs, last
}

// Decode parses serialized ONNX bytes.
func Decode(t testing.TB, b []byte) *onnx.ModelProto {
	t.Helper()
	mp, err := onnx.DecodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// SameParams fails t unless got has want's weights: same names, shapes and
// values, bit for bit.
func SameParams(t testing.TB, got, want *model.Model) {
	t.Helper()
	if len(got.Params) != len(want.Params) {
		t.Fatalf("%d params, want %d", len(got.Params), len(want.Params))
	}
	for i, w := range want.Params {
		g := got.Params[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) {
			t.Fatalf("param %d: %s %v, want %s %v", i, g.Name, g.Shape, w.Name, w.Shape)
		}
		for j := range w.Data {
			if g.Data[j] != w.Data[j] {
				t.Fatalf("%s[%d] = %v, want %v", w.Name, j, g.Data[j], w.Data[j])
			}
		}
	}
}

// Layers is m.Layers(), failing t on an error.
func Layers(t testing.TB, m *model.Model) []model.LayerSpec {
	t.Helper()
	l, err := m.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ExportProto is m exported with opts, failing t on an error.
func ExportProto(t testing.TB, m *model.Model, opts export.Options) *onnx.ModelProto {
	t.Helper()
	mp, err := export.Model(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// Export is m exported with opts and serialized deterministically.
func Export(t testing.TB, m *model.Model, opts export.Options) []byte {
	t.Helper()
	return Marshal(t, ExportProto(t, m, opts))
}

// Marshal serializes mp deterministically.
func Marshal(t testing.TB, mp *onnx.ModelProto) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// StudyModel is the study's run with random weights (seed 1).
func StudyModel(t testing.TB, run string) *model.Model {
	t.Helper()
	cfg, err := configs.Load(run)
	if err != nil {
		t.Fatal(err)
	}
	return RandomModel(t, cfg, 1)
}
