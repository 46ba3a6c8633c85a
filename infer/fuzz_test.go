package infer

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/internal/testutil"
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

// fuzzRunnable are the operators FuzzLoad also runs: cheap ones, whose
// outputs cannot grow past their inputs, and the subgraph operators (a run
// is bounded by a deadline).
var fuzzRunnable = map[string]bool{"LSTM": true, "GRU": true, "RNN": true, "Loop": true, "If": true, "Scan": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Tanh": true, "Sigmoid": true, "Relu": true, "Identity": true,
	"Less": true, "Greater": true, "Equal": true, "And": true, "Or": true, "Not": true, "Cast": true, "MatMul": true,
	"ReduceSum": true, "ReduceMean": true, "Neg": true, "Abs": true, "Where": true, "Mod": true, "Max": true, "Min": true}

// fuzzSubgraphSeeds are Loop, Scan and If models: generated ones and the
// node tests of both test sets (when present).
func fuzzSubgraphSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, m := range []*onnx.ModelProto{whileModel(f, 3, 2, true, true), whileModel(f, 0, 3, false, true), nestedModel(f),
		scanModel(f, []int64{1, 0}, []int64{1, 0}, []int64{1, -1}, []int64{0, 1})} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, root := range []string{filepath.Join(rnnDataDirQuiet(), "onnx-node-tests"), "/usr/share/libonnx-testdata/data/node"} {
		for _, name := range []string{"test_loop11", "test_if", "test_scan9_sum", "test_scan_sum", "test_range_float_type_positive_delta_expanded"} {
			if b, err := os.ReadFile(filepath.Join(root, name, "model.onnx")); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	return seeds
}

// FuzzLoad feeds arbitrary bytes to LoadBytes: it must return a session or
// an error, never panic. Models that load and use only fuzzRunnable
// operators (recurrent ones, Loop/Scan/If and cheap elementwise ones) are
// also run on small zero inputs, with a deadline for endless loops.
func FuzzLoad(f *testing.F) {
	for _, b := range fuzzSeedModels() {
		f.Add(b)
	}
	for _, b := range fuzzSubgraphSeeds(f) {
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
			if !fuzzRunnable[op] {
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
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = s.Run(ctx, feeds)
		failOnInternal(t, err)
	})
}

// FuzzRunLoop runs the Keras-shaped while loop (trip count, Less
// condition, a growing loop-carried value, scan outputs, outer-scope
// weights) on fuzzed trip counts, limits, input shapes and values, with
// the condition and trip count fed as inputs of any type: errors are
// fine, panics are not.
func FuzzRunLoop(f *testing.F) {
	f.Add(int64(3), int64(2), []byte{1, 3}, []byte{1, 2, 3}, uint8(0))
	f.Add(int64(-1), int64(0), []byte{2, 3}, []byte{}, uint8(1))
	f.Add(int64(1<<40), int64(5), []byte{0, 3}, []byte{9}, uint8(2))
	f.Add(int64(2), int64(7), []byte{1, 4}, []byte{255}, uint8(3))
	m := whileModel(f, 1, 1, true, true)
	g := m.Graph
	// M and cond become graph inputs of unstated type and shape; the
	// Constants that made them are dropped.
	var nodes []*onnx.NodeProto
	for _, n := range g.Node {
		if n.GetName() != "M" && n.GetName() != "cond" && n.GetName() != "limit" {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	g.Input = append(g.Input, &onnx.ValueInfoProto{Name: proto.String("M")}, &onnx.ValueInfoProto{Name: proto.String("cond")}, &onnx.ValueInfoProto{Name: proto.String("limit")})
	for _, in := range g.Input {
		in.Type = nil
	}
	g.Input[0] = vi("x", onnx.TensorProto_FLOAT)
	g.Input[1] = vi("M", onnx.TensorProto_INT64)
	g.Input[2] = vi("cond", onnx.TensorProto_BOOL)
	g.Input[3] = vi("limit", onnx.TensorProto_INT64)
	sess, err := LoadModel(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, trip, limit int64, dims, data []byte, sel uint8) {
		if len(dims) > 4 {
			dims = dims[:4]
		}
		shape := make([]int, len(dims))
		for i, d := range dims {
			shape[i] = int(d % 6)
		}
		x := NewFloat32(shape, nil)
		for i := range x.Float32s() {
			if len(data) > 0 {
				x.Float32s()[i] = float32(int8(data[i%len(data)])) / 16
			}
		}
		feeds := map[string]*Tensor{"x": x, "M": NewInt64(nil, []int64{trip}), "cond": NewBool(nil, []bool{sel%2 == 0}), "limit": NewInt64(nil, []int64{limit})}
		switch sel % 4 {
		case 1:
			feeds["M"] = NewInt64([]int{2}, []int64{trip, trip})
		case 2:
			feeds["cond"] = NewBool([]int{0}, nil)
		case 3:
			feeds["limit"] = NewInt64([]int{len(dims)}, make([]int64, len(dims)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := sess.Run(ctx, feeds)
		failOnInternal(t, err)
	})
}

// secretByte fills the file FuzzLoadExternal keeps outside the model's
// folder: a loaded tensor holding four of it in a row, at any offset and
// for any element type, means the loader read outside.
const secretByte = 0x5a

// FuzzLoadExternal loads arbitrary model bytes against a folder holding the
// model's data files and links pointing out of it: a session or an error,
// never a panic, and never a tensor read from the file outside. Seeds are
// the external-data model with its locations inside, absolute, climbing
// out, and through links.
func FuzzLoadExternal(f *testing.F) {
	path, _ := externalModel(f)
	dir := filepath.Dir(path)
	outside := f.TempDir()
	secret := filepath.Join(outside, "secret.bin")
	if err := os.WriteFile(secret, bytes.Repeat([]byte{secretByte}, 4096), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link.bin")); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	m, err := onnx.DecodeModel(good)
	if err != nil {
		f.Fatal(err)
	}
	rel, _ := filepath.Rel(dir, secret)
	for _, loc := range []string{"link.bin", "out/secret.bin", rel, secret, "model.onnx.data", "const.bin", "nothing.bin"} {
		c := proto.Clone(m).(*onnx.ModelProto)
		for _, kv := range c.Graph.Initializer[0].ExternalData {
			if kv.GetKey() == "location" {
				kv.Value = proto.String(loc)
			}
		}
		b, err := proto.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := LoadBytesFrom(b, dir)
		if err != nil {
			failOnInternal(t, err)
			return
		}
		checkNoSecret(t, s.graph)
	})
}

// checkNoSecret fails t if a constant of g or of its bodies holds the
// marker of the file outside the model's folder.
func checkNoSecret(t *testing.T, g *graph) {
	t.Helper()
	marker := bytes.Repeat([]byte{secretByte}, 4)
	for _, c := range g.consts {
		tp, err := ToProto("c", c)
		if err != nil {
			continue
		}
		if bytes.Contains(tp.GetRawData(), marker) {
			t.Fatalf("tensor %s holds the data of the file outside the model's folder", c)
		}
	}
	for _, st := range g.steps {
		switch k := st.k.(type) {
		case *loopOp:
			checkNoSecret(t, k.body)
		case *scanOp:
			checkNoSecret(t, k.body)
		case *ifOp:
			checkNoSecret(t, k.then)
			checkNoSecret(t, k.els)
		}
	}
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

// FuzzRecurrentLoopRewrite feeds fuzzed id rows (zeros anywhere, ids out
// of the vocabulary, any batch) to the Keras 3 masked LSTM and GRU
// exports, whose Loops run on the fused kernels, and to the same models
// with the Loops as written: both must agree (within 1e-5) or both fail.
func FuzzRecurrentLoopRewrite(f *testing.F) {
	root := testutil.RepoRoot(f)
	type pair struct{ fused, plain *Session }
	var models []pair
	for _, name := range []string{"lstm_mask_zero", "gru_stack_softmax"} {
		path := filepath.Join(root, "testdata", "keras3", name, "model.onnx")
		fused, err := Load(path)
		if err != nil {
			f.Fatal(err)
		}
		models = append(models, pair{fused, loadUnrewritten(f, path)})
	}
	f.Add(uint8(0), uint8(2), []byte{1, 14, 22, 0, 0})
	f.Add(uint8(1), uint8(1), []byte{1, 0, 5, 0})
	f.Add(uint8(0), uint8(3), []byte{0})
	f.Add(uint8(1), uint8(2), []byte{1, 200, 255, 3, 9, 0, 0, 0, 0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, which, batch uint8, ids []byte) {
		p := models[int(which)%len(models)]
		b := int(batch % 6)
		v := make([]int32, b*100)
		for i := range v {
			if len(ids) > 0 {
				// Mostly words then padding, with whatever the bytes say.
				v[i] = int32(ids[i%len(ids)]) * 17
				if i%100 >= len(ids) {
					v[i] = 0
				}
			}
		}
		feed := map[string]*Tensor{p.fused.Inputs()[0].Name: NewInt32([]int{b, 100}, v)}
		got, err1 := p.fused.Run(context.Background(), feed)
		want, err2 := p.plain.Run(context.Background(), feed)
		failOnInternal(t, err1)
		failOnInternal(t, err2)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("fused: %v, as written: %v", err1, err2)
		}
		for name, w := range want {
			if d := maxAbsDiff(got[name], w); d > 1e-5 && !(w.Len() == 0 && got[name].Len() == 0) {
				t.Fatalf("output %s differs by %g", name, d)
			}
		}
	})
}

// FuzzPlannedSentiment feeds fuzzed id rows (any shape, ids out of the
// vocabulary or negative, NaN) to a small tf2onnx-shaped BiLSTM and BiGRU
// as planned (embedding folded into tables, directions joined, zero
// states dropped) and as written: both must fail, or both succeed with
// the same outputs bit for bit.
func FuzzPlannedSentiment(f *testing.F) {
	f.Add(uint8(2), uint8(5), []byte{1, 2, 3, 19, 0})
	f.Add(uint8(1), uint8(5), []byte{20, 255, 7})
	f.Add(uint8(3), uint8(0), []byte{})
	f.Add(uint8(0), uint8(4), []byte{0xff, 0xc0, 0x7f, 0x01})
	type pair struct{ planned, asWritten *Session }
	var models []pair
	for _, op := range []string{"LSTM", "GRU"} {
		m := sentimentSpec{vocab: 20, emb: 3, seq: 0, inType: onnx.TensorProto_FLOAT, seed: 1,
			layers: []layerSpec{{op: op, bidi: true, hidden: 2, seqOut: true}, {op: op, bidi: true, hidden: 2}}}.build(f)
		p, err := LoadModel(m)
		if err != nil {
			f.Fatal(err)
		}
		planGraphs = false
		w, err := LoadModel(m)
		planGraphs = true
		if err != nil {
			f.Fatal(err)
		}
		models = append(models, pair{p, w})
	}
	f.Fuzz(func(t *testing.T, batch, seq uint8, data []byte) {
		b, s := int(batch%9), int(seq%9)
		v := make([]float32, b*s)
		for i := range v {
			if len(data) > 0 {
				v[i] = float32(int8(data[i%len(data)]))
				if data[i%len(data)] == 0xc0 {
					v[i] = float32(math.NaN())
				}
			}
		}
		feeds := map[string]*Tensor{"input_ids": NewFloat32([]int{b, s}, v)}
		for _, m := range models {
			a, errA := m.planned.Run(context.Background(), feeds)
			w, errW := m.asWritten.Run(context.Background(), feeds)
			failOnInternal(t, errA)
			if (errA == nil) != (errW == nil) {
				t.Fatalf("planned error %v, as written %v", errA, errW)
			}
			for name, want := range w {
				if got := a[name]; got == nil || !slices.Equal(got.Shape, want.Shape) || maxAbsDiff(got, want) != 0 {
					t.Fatalf("output %s: planned %v, as written %v", name, got, want)
				}
			}
		}
	})
}
