package export_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	ort "github.com/yalue/onnxruntime_go"
)

// arch is one architecture under test.
type arch struct {
	name string
	cfg  *configs.Config
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
	"bilstm_softmax": `
data: {num_words: 50}
model:
  embedding: {dim: 6}
  layers:
    - {type: lstm, units: 5, bidirectional: true}
    - {type: dense, units: 2, activation: softmax}`,
}

// architectures returns the study's five runs (full size) and the small
// architectures, sorted by name within each group.
func architectures(t testing.TB) []arch {
	var out []arch
	for _, r := range configs.Runs() {
		c, err := configs.Load(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, arch{r, c})
	}
	for _, name := range []string{"bi_sum_seq", "bi_mul_seq", "bi_ave_seq", "mixed_softmax", "dense_heads", "bilstm_softmax"} {
		c, err := configs.Parse([]byte(smallYAML[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Name = name
		out = append(out, arch{name, c})
	}
	return out
}

// randomModel builds cfg's model and perturbs every weight (except the
// always-zero Rb halves) so that no value is left at its initial constant.
func randomModel(t testing.TB, cfg *configs.Config, seed uint64) *model.Model {
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, l := range m.Layers() {
		for _, suffix := range []string{".W", ".R", ".B"} {
			p := m.Param(l.Name + suffix)
			if p == nil {
				continue
			}
			n := len(p.Data)
			if l.Kind == model.KindLSTM && suffix == ".B" {
				n = 0 // Wb halves only: [dirs, 8H] = [Wb, Rb] per direction
				for d := range l.Dirs {
					for k := range 4 * l.Units {
						p.Data[d*8*l.Units+k] += float32(rng.Float64()*0.4 - 0.2)
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

// randomIDs returns [batch, seq] ids in [0, numWords), some of them the
// padding id 0.
func randomIDs(rng *rand.Rand, batch, seq, numWords int) []int32 {
	ids := make([]int32, batch*seq)
	for i := range ids {
		if rng.IntN(5) > 0 {
			ids[i] = int32(rng.IntN(numWords))
		}
	}
	return ids
}

func maxAbsDiff(got []float32, want []float64) float64 {
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

var (
	ortOnce sync.Once
	ortErr  error
)

// needORT initialises ONNX Runtime once; without the library the test is
// skipped, or fails under CI=true.
func needORT(t testing.TB) {
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

// ortRun scores ids [batch, seq] with ONNX Runtime on one thread.
func ortRun(t testing.TB, onnxBytes []byte, ids []int32, batch, seq int, floatInput bool) []float32 {
	t.Helper()
	needORT(t)
	so, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(onnxBytes, []string{"input_ids"}, []string{"probability"}, so)
	if err != nil {
		t.Fatalf("ONNX Runtime load: %v", err)
	}
	defer s.Destroy()
	var in ort.Value
	shape := ort.NewShape(int64(batch), int64(seq))
	if floatInput {
		f := make([]float32, len(ids))
		for i, v := range ids {
			f[i] = float32(v)
		}
		in, err = ort.NewTensor(shape, f)
	} else {
		in, err = ort.NewTensor(shape, ids)
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

// sample is one input batch and the reference forward pass's output on it.
type sample struct {
	batch, seq int
	ids        []int32
	want       []float64
}

// parityCase is an architecture with random weights and reference outputs
// at several batch sizes and sequence lengths.
type parityCase struct {
	arch
	m       *model.Model
	samples []sample
}

var (
	parityOnce  sync.Once
	parityCache []parityCase
)

// parityCases builds every architecture's case once per test process: the
// float64 reference is the slow part of the parity tests.
func parityCases(t testing.TB) []parityCase {
	parityOnce.Do(func() {
		for i, a := range architectures(t) {
			c := parityCase{arch: a, m: randomModel(t, a.cfg, uint64(i+1))}
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			for _, bs := range [][2]int{{1, 1}, {3, 7}, {17, 100}, {2, 130}} {
				ids := randomIDs(rng, bs[0], bs[1], a.cfg.Data.NumWords)
				c.samples = append(c.samples, sample{bs[0], bs[1], ids, refForward(c.m, ids, bs[0], bs[1])})
			}
			parityCache = append(parityCache, c)
		}
	})
	if len(parityCache) == 0 {
		t.Fatal("no parity cases")
	}
	return parityCache
}
