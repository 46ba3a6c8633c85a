package infer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// randomRNN is one randomly drawn recurrent node and its feeds.
type randomRNN struct {
	op                 string // LSTM, GRU, RNN
	lbr                bool   // GRU linear_before_reset
	dir                string
	seq, batch, in, H  int
	bias, h0, c0, lens bool
}

func (c randomRNN) String() string {
	return fmt.Sprintf("%s/lbr=%v/%s/seq=%d/batch=%d/in=%d/H=%d/bias=%v/h0=%v/c0=%v/lens=%v",
		c.op, c.lbr, c.dir, c.seq, c.batch, c.in, c.H, c.bias, c.h0, c.c0, c.lens)
}

// randomRNNCases draws the shapes: batch 1–200 and hidden 1–300 (a few
// large, most small so that every 6-row block remainder and every 8-unit
// tail comes up), every direction, with and without biases, initial states
// and sequence_lens.
func randomRNNCases() []randomRNN {
	rng := rand.New(rand.NewPCG(41, 42))
	ops := []struct {
		op  string
		lbr bool
	}{{"LSTM", false}, {"GRU", false}, {"GRU", true}, {"RNN", false}}
	dirs := []string{"forward", "reverse", "bidirectional"}
	var cs []randomRNN
	for i := range 48 {
		o := ops[i%len(ops)]
		c := randomRNN{op: o.op, lbr: o.lbr, dir: dirs[(i/len(ops))%len(dirs)],
			seq: 1 + rng.IntN(7), batch: 1 + rng.IntN(14), in: 1 + rng.IntN(40), H: 1 + rng.IntN(40),
			bias: rng.IntN(4) != 0, h0: rng.IntN(2) == 0, c0: rng.IntN(2) == 0, lens: rng.IntN(3) == 0}
		cs = append(cs, c)
	}
	// Large cases: the batch and hidden bounds, odd sizes.
	cs = append(cs,
		randomRNN{op: "LSTM", dir: "bidirectional", seq: 3, batch: 200, in: 37, H: 67, bias: true, h0: true, c0: true},
		randomRNN{op: "LSTM", dir: "reverse", seq: 2, batch: 23, in: 50, H: 300, bias: true, lens: true},
		randomRNN{op: "GRU", lbr: true, dir: "bidirectional", seq: 3, batch: 131, in: 64, H: 129, bias: true, h0: true},
		randomRNN{op: "GRU", dir: "forward", seq: 2, batch: 9, in: 20, H: 300, bias: true, h0: true, lens: true},
		randomRNN{op: "RNN", dir: "bidirectional", seq: 4, batch: 200, in: 11, H: 255, bias: true},
		// Batches that 2–4 threads split by rows as well as directions.
		randomRNN{op: "LSTM", dir: "reverse", seq: 5, batch: 50, in: 9, H: 21, bias: true, h0: true, c0: true},
		randomRNN{op: "GRU", dir: "forward", seq: 4, batch: 37, in: 13, H: 18, bias: true, h0: true},
		randomRNN{op: "RNN", dir: "forward", seq: 3, batch: 100, in: 7, H: 30},
		randomRNN{op: "GRU", lbr: true, dir: "bidirectional", seq: 3, batch: 61, in: 5, H: 9, bias: true},
		// Hidden sizes that are multiples of 8: new states go straight
		// into Y.
		randomRNN{op: "LSTM", dir: "bidirectional", seq: 6, batch: 13, in: 10, H: 16, bias: true, h0: true, c0: true},
		randomRNN{op: "GRU", dir: "reverse", seq: 5, batch: 30, in: 12, H: 24, bias: true, h0: true},
		randomRNN{op: "GRU", lbr: true, dir: "bidirectional", seq: 4, batch: 29, in: 64, H: 64, bias: true},
		randomRNN{op: "RNN", dir: "forward", seq: 7, batch: 3, in: 4, H: 8, h0: true},
	)
	return cs
}

// model builds the node as a one-node model in element type T with its
// graph inputs (X, then seq_lens, initial_h, initial_c where present) and
// the matching feeds. Weights are scaled by 1/√(in+H) so that gates stay
// away from saturation and the comparison measures something.
func (c randomRNN) model(t testing.TB, elem onnx.TensorProto_DataType) (*onnx.ModelProto, []*Tensor) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(c.batch*1000+c.H), uint64(c.in*100+c.seq)))
	G := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
	D := 1
	if c.dir == "bidirectional" {
		D = 2
	}
	scale := 1.5 / math.Sqrt(float64(c.in+c.H))
	draw := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(float32((rng.Float64()*2 - 1) * s))
		}
		return v
	}
	tensor := func(name string, dims []int, v []float64) *onnx.TensorProto {
		d64 := make([]int64, len(dims))
		for i, d := range dims {
			d64[i] = int64(d)
		}
		var tp *onnx.TensorProto
		var err error
		if elem == onnx.TensorProto_DOUBLE {
			tp, err = onnx.MakeTensor(name, d64, v)
		} else {
			tp, err = onnx.MakeTensor(name, d64, convertSlice[float64, float32](v))
		}
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	feed := func(shape []int, v []float64) *Tensor {
		if elem == onnx.TensorProto_DOUBLE {
			return New(shape, v)
		}
		return New(shape, convertSlice[float64, float32](v))
	}
	inits := []*onnx.TensorProto{
		tensor("W", []int{D, G * c.H, c.in}, draw(D*G*c.H*c.in, scale)),
		tensor("R", []int{D, G * c.H, c.H}, draw(D*G*c.H*c.H, scale)),
	}
	nodeIn := []string{"X", "W", "R", "", "", "", ""}
	if c.bias {
		inits = append(inits, tensor("B", []int{D, 2 * G * c.H}, draw(D*2*G*c.H, 0.5)))
		nodeIn[3] = "B"
	}
	dims := func(s ...int) []onnx.Dim {
		out := make([]onnx.Dim, len(s))
		for i, v := range s {
			out[i] = onnx.DimValue(int64(v))
		}
		return out
	}
	gIn := []*onnx.ValueInfoProto{onnx.MakeValueInfo("X", elem, dims(c.seq, c.batch, c.in)...)}
	feeds := []*Tensor{feed([]int{c.seq, c.batch, c.in}, draw(c.seq*c.batch*c.in, 1.5))}
	if c.lens {
		l := make([]int32, c.batch)
		for i := range l {
			l[i] = int32(rng.IntN(c.seq + 1))
		}
		l[rng.IntN(c.batch)] = int32(c.seq)
		nodeIn[4] = "seq_lens"
		gIn = append(gIn, onnx.MakeValueInfo("seq_lens", onnx.TensorProto_INT32, dims(c.batch)...))
		feeds = append(feeds, New([]int{c.batch}, l))
	}
	st := []int{D, c.batch, c.H}
	if c.h0 {
		nodeIn[5] = "h0"
		gIn = append(gIn, onnx.MakeValueInfo("h0", elem, dims(st...)...))
		feeds = append(feeds, feed(st, draw(D*c.batch*c.H, 0.9)))
	}
	if c.c0 && c.op == "LSTM" {
		nodeIn[6] = "c0"
		gIn = append(gIn, onnx.MakeValueInfo("c0", elem, dims(st...)...))
		feeds = append(feeds, feed(st, draw(D*c.batch*c.H, 2)))
	}
	if c.op != "LSTM" {
		nodeIn = nodeIn[:6]
	}
	for len(nodeIn) > 3 && nodeIn[len(nodeIn)-1] == "" {
		nodeIn = nodeIn[:len(nodeIn)-1]
	}
	outs := []string{"Y", "Y_h"}
	if c.op == "LSTM" {
		outs = append(outs, "Y_c")
	}
	var gOut []*onnx.ValueInfoProto
	for _, o := range outs {
		gOut = append(gOut, onnx.MakeValueInfo(o, elem))
	}
	attrs := []*onnx.AttributeProto{onnx.AttrInt("hidden_size", int64(c.H)), onnx.AttrString("direction", c.dir)}
	if c.op == "GRU" && c.lbr {
		attrs = append(attrs, onnx.AttrInt("linear_before_reset", 1))
	}
	node := onnx.MakeNode("rnn", c.op, nodeIn, outs, attrs...)
	g := onnx.MakeGraph("random_rnn", []*onnx.NodeProto{node}, gIn, gOut, inits...)
	return onnx.MakeModel(g, onnx.Opset("", 14)), feeds
}

// sessionRun runs m with feeds (in graph input order) in a session.
func sessionRun(t testing.TB, ctx context.Context, s *Session, m *onnx.ModelProto, feeds []*Tensor) []*Tensor {
	t.Helper()
	in := map[string]*Tensor{}
	for i, vi := range m.GetGraph().GetInput() {
		in[vi.GetName()] = feeds[i]
	}
	out, err := s.Run(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	res := make([]*Tensor, len(m.GetGraph().GetOutput()))
	for i, vi := range m.GetGraph().GetOutput() {
		res[i] = out[vi.GetName()]
	}
	return res
}

// TestRecurrentRandomShapes runs random LSTM, GRU (linear_before_reset 0
// and 1) and RNN nodes under every kernel implementation and checks each
// output against ONNX Runtime and against the engine's float64 path (the
// general cells with float64 math) to 1e-5; and that 1 to 4 threads
// (directions and rows split among them) give bit-identical results.
func TestRecurrentRandomShapes(t *testing.T) {
	ortInit(t)
	ctx := context.Background()
	for _, c := range randomRNNCases() {
		t.Run(c.String(), func(t *testing.T) {
			m32, feeds32 := c.model(t, onnx.TensorProto_FLOAT)
			m64, feeds64 := c.model(t, onnx.TensorProto_DOUBLE)
			want, err := newORTSession(t, m32, 1).run(feeds32)
			if err != nil {
				t.Fatalf("ONNX Runtime: %v", err)
			}
			s64, err := LoadModel(m64)
			if err != nil {
				t.Fatal(err)
			}
			ref := sessionRun(t, ctx, s64, m64, feeds64)
			s32, err := LoadModel(m32)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range kernel.Available() {
				prev, err := kernel.SetImpl(im)
				if err != nil {
					t.Fatal(err)
				}
				got := sessionRun(t, WithThreads(ctx, 1), s32, m32, feeds32)
				for i, vi := range m32.GetGraph().GetOutput() {
					name := fmt.Sprintf("%v %s", im, vi.GetName())
					rnnAllClose(t, name+" vs ONNX Runtime", got[i], want[i], 1e-5, 0)
					rnnAllClose(t, name+" vs float64", got[i], ref[i], 1e-5, 0)
				}
				for _, threads := range []int{2, 3, 4} {
					again := sessionRun(t, WithThreads(ctx, threads), s32, m32, feeds32)
					for i := range got {
						if err := sameBits(again[i], got[i]); err != nil {
							t.Errorf("%v, %d threads: output %d differs from 1 thread: %v", im, threads, i, err)
						}
					}
				}
				kernel.SetImpl(prev)
			}
		})
	}
}

// sameBits checks that two float32 tensors are identical bit for bit.
func sameBits(got, want *Tensor) error {
	if !rnnSameShape(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	g, w := got.Float32s(), want.Float32s()
	for i := range w {
		if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
			return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
		}
	}
	return nil
}

// TestRecurrentMatchesORTEveryKernel runs TestRecurrentMatchesORT's cases
// under each kernel implementation besides the one in use (which that
// test covers), so that the pure-Go path is checked on every machine.
func TestRecurrentMatchesORTEveryKernel(t *testing.T) {
	ortInit(t)
	for _, im := range kernel.Available() {
		if im == kernel.Current() {
			continue
		}
		t.Run(im.String(), func(t *testing.T) {
			prev, err := kernel.SetImpl(im)
			if err != nil {
				t.Fatal(err)
			}
			defer kernel.SetImpl(prev)
			compareRNNCases(t)
		})
	}
}

// TestFusedPlan checks how runs are cut into tasks: directions first, rows
// of a long batch in multiples of 6 when threads remain, never rows with
// sequence_lens; and that an unset thread count means GOMAXPROCS.
func TestFusedPlan(t *testing.T) {
	if got := resolveThreads(0); got != runtime.GOMAXPROCS(0) {
		t.Errorf("resolveThreads(0) = %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	if got := resolveThreads(3); got != 3 {
		t.Errorf("resolveThreads(3) = %d", got)
	}
	fw := &fusedWeights{l: kernel.NewGates(4, 64)}
	cases := []struct {
		dirs, batch, threads int
		lens                 bool
		want                 []fusedTask
	}{
		{2, 128, 1, false, []fusedTask{{dirs: [2]int{0, 1}, nd: 2, b0: 0, b1: 128}}},
		{2, 1, 2, false, []fusedTask{{dirs: [2]int{0, 0}, nd: 1, b0: 0, b1: 1}, {dirs: [2]int{1, 0}, nd: 1, b0: 0, b1: 1}}},
		{2, 128, 4, false, []fusedTask{{dirs: [2]int{0, 0}, nd: 1, b0: 0, b1: 66}, {dirs: [2]int{0, 0}, nd: 1, b0: 66, b1: 128},
			{dirs: [2]int{1, 0}, nd: 1, b0: 0, b1: 66}, {dirs: [2]int{1, 0}, nd: 1, b0: 66, b1: 128}}},
		{1, 32, 2, false, []fusedTask{{dirs: [2]int{0, 0}, nd: 1, b0: 0, b1: 18}, {dirs: [2]int{0, 0}, nd: 1, b0: 18, b1: 32}}},
		{1, 20, 2, false, []fusedTask{{dirs: [2]int{0, 0}, nd: 1, b0: 0, b1: 20}}},
		{1, 128, 4, true, []fusedTask{{dirs: [2]int{0, 0}, nd: 1, b0: 0, b1: 128}}},
	}
	for _, c := range cases {
		p := &rnnProblem[float32]{seq: 100, batch: c.batch, dirs: c.dirs}
		if c.lens {
			p.lens = make([]int32, c.batch)
		}
		f := &fusedRun{p: p, fw: fw}
		f.plan(c.threads)
		if !slices.Equal(f.tasks, c.want) {
			t.Errorf("dirs %d batch %d threads %d lens %v: tasks %+v, want %+v", c.dirs, c.batch, c.threads, c.lens, f.tasks, c.want)
		}
	}
}
