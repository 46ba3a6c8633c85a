package infer

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
)

// The session turns kernel panics into "internal error" errors; a fuzz
// target treats those as crashes.
func failOnInternal(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "internal error") {
		t.Fatal(err)
	}
}

// fuzzLSTMModel is a single bidirectional LSTM whose X, sequence_lens,
// initial_h and initial_c are graph inputs of unstated shape.
func fuzzLSTMModel(t testing.TB) *onnx.ModelProto {
	spec := rnnCase{name: "fuzz", op: "LSTM", opset: 14, dir: "bidirectional", seq: 3, batch: 2, in: 3, hidden: 2,
		bias: true, peep: true, h0: true, c0: true, lens: []int32{3, 1}, outputs: [3]bool{true, true, true}}
	m, _ := rnnCaseModel[float32](t, spec)
	for _, in := range m.GetGraph().GetInput() {
		in.GetType().GetTensorType().Shape = nil // any rank, any dims
	}
	return m
}

// fuzzSeedModels are the conformance models of the recurrent operators and
// of their tf2onnx neighbours (none when the data folder is missing).
func fuzzSeedModels() [][]byte {
	var seeds [][]byte
	root := filepath.Join(rnnDataDirQuiet(), "onnx-node-tests")
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		n := e.Name()
		for _, p := range []string{"test_lstm", "test_gru", "test_rnn", "test_gather", "test_slice", "test_concat_2d",
			"test_squeeze", "test_transpose_default", "test_constantofshape", "test_shape"} {
			if strings.HasPrefix(n, p) {
				if b, err := os.ReadFile(filepath.Join(root, n, "model.onnx")); err == nil {
					seeds = append(seeds, b)
				}
				break
			}
		}
	}
	return seeds
}

// rnnDataDirQuiet is rnnDataDir without a testing.TB: "" when not found.
func rnnDataDirQuiet() string {
	if d := os.Getenv("BIRNN_DATA"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for dir != filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// FuzzLoad feeds arbitrary bytes to LoadBytes: it must return a session or
// an error, never panic. Models that load and consist of recurrent nodes
// only are also run on small zero inputs.
func FuzzLoad(f *testing.F) {
	for _, b := range fuzzSeedModels() {
		f.Add(b)
	}
	lstm, err := proto.Marshal(fuzzSeedLSTM(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lstm)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := LoadBytes(b)
		if err != nil {
			failOnInternal(t, err)
			return
		}
		for op := range s.OpHistogram() {
			if op != "LSTM" && op != "GRU" && op != "RNN" {
				return
			}
		}
		feeds := map[string]*Tensor{}
		for _, in := range s.Inputs() {
			shape := make([]int, len(in.Dims))
			for i, d := range in.Dims {
				shape[i] = 2
				if d.Value >= 0 {
					shape[i] = int(min(d.Value, 8))
				}
			}
			z, err := Zeros(in.DType, shape)
			if err != nil {
				return
			}
			feeds[in.Name] = z
		}
		_, err = s.Run(context.Background(), feeds)
		failOnInternal(t, err)
	})
}

// fuzzSeedLSTM is the generated LSTM seed: a small tf2onnx-shaped BiLSTM.
func fuzzSeedLSTM(f *testing.F) *onnx.ModelProto {
	return sentimentSpec{vocab: 20, emb: 3, seq: 5, inType: onnx.TensorProto_FLOAT, seed: 1,
		layers: []layerSpec{{op: "LSTM", bidi: true, hidden: 2, seqOut: true}, {op: "LSTM", bidi: true, hidden: 2}}}.build(f)
}

// FuzzRun runs a small bidirectional LSTM (with peepholes, sequence_lens
// and initial states as inputs of unstated shape) on inputs of random
// shapes, values and element types: errors are fine, panics are not.
func FuzzRun(f *testing.F) {
	f.Add(uint8(0), []byte{3, 2, 3}, []byte{}, []byte{3, 1}, uint8(0))
	f.Add(uint8(1), []byte{3, 2, 3}, []byte{1, 2, 3, 4}, []byte{0, 9}, uint8(1))
	f.Add(uint8(2), []byte{0, 2, 3}, []byte{255, 255, 127, 127}, []byte{}, uint8(2))
	f.Add(uint8(0), []byte{1, 1}, []byte{0, 0, 192, 127}, []byte{1}, uint8(3))
	sess, err := LoadModel(fuzzLSTMModel(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dtSel uint8, dims, data, lens []byte, stateSel uint8) {
		if len(dims) > 5 {
			dims = dims[:5]
		}
		shape := make([]int, len(dims))
		n := 1
		for i, d := range dims {
			shape[i] = int(d % 17)
			n *= shape[i]
		}
		if n > 1<<16 {
			return
		}
		var x *Tensor
		switch dtSel % 4 {
		case 0, 3:
			v := make([]float32, n)
			for i := range v {
				if 4*i+4 <= len(data) {
					v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
				} else if len(data) > 0 {
					v[i] = float32(int8(data[i%len(data)])) / 16
				}
			}
			x = NewFloat32(shape, v)
		case 1:
			v := make([]float64, n)
			for i := range v {
				if len(data) > 0 {
					v[i] = float64(int8(data[i%len(data)])) / 8
				}
			}
			x = NewFloat64(shape, v)
		case 2:
			x = NewInt32(shape, make([]int32, n))
		}
		l := make([]int32, len(lens))
		for i, b := range lens {
			l[i] = int32(int8(b))
		}
		batch := 2
		if len(shape) >= 2 {
			batch = shape[1]
		}
		stShape := []int{2, batch, 2}
		if stateSel%3 == 1 {
			stShape = []int{2, int(stateSel % 5), 2}
		} else if stateSel%3 == 2 {
			stShape = []int{int(stateSel % 7)}
		}
		feeds := map[string]*Tensor{
			"X":        x,
			"seq_lens": NewInt32([]int{len(l)}, l),
			"h0":       NewFloat32(stShape, nil),
			"c0":       NewFloat32(stShape, nil),
		}
		_, err := sess.Run(context.Background(), feeds)
		failOnInternal(t, err)
	})
}
