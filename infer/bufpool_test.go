package infer

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// TestPoolRecyclesOnlyDeadBuffers runs a graph whose LSTM Y (pooled) is
// read by a copying op (Relu), by a view (Reshape) that is a graph output,
// or is a graph output itself, twice with different inputs, and checks
// that the first run's outputs still hold their values after the second
// (a buffer the caller holds is never reused), that a Y nobody holds goes
// back to the pool, and that the pool keeps no claim after a run.
func TestPoolRecyclesOnlyDeadBuffers(t *testing.T) {
	const seq, batch, in, H = 8, 40, 16, 64 // Y: 20480 floats, pooled
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func(n int) []float32 { return randFloats(rng, []int{n}, -1, 1).Float32s() }
	for _, c := range []struct {
		name    string
		outputs []string
		pooled  int // buffers idle in the pool after a run
	}{
		{"copied", []string{"relu"}, 1},
		{"viewed", []string{"relu", "flat"}, 0},
		{"output", []string{"Y", "relu"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			nodes := []*onnx.NodeProto{
				onnx.MakeNode("lstm", "LSTM", []string{"X", "W", "R", "B"}, []string{"Y"}, onnx.AttrInt("hidden_size", H)),
				onnx.MakeNode("relu", "Relu", []string{"Y"}, []string{"relu"}),
				onnx.MakeNode("flat", "Reshape", []string{"Y", "minus1"}, []string{"flat"}),
			}
			inits := []*onnx.TensorProto{
				initializer(t, "W", []int64{1, 4 * H, in}, draw(4*H*in)), initializer(t, "R", []int64{1, 4 * H, H}, draw(4*H*H)),
				initializer(t, "B", []int64{1, 8 * H}, draw(8*H)), initializer(t, "minus1", []int64{1}, []int64{-1}),
			}
			var outs []*onnx.ValueInfoProto
			for _, o := range c.outputs {
				outs = append(outs, onnx.MakeValueInfo(o, onnx.TensorProto_FLOAT))
			}
			x := onnx.MakeValueInfo("X", onnx.TensorProto_FLOAT, onnx.DimValue(seq), onnx.DimValue(batch), onnx.DimValue(in))
			m := onnx.MakeModel(onnx.MakeGraph("g", nodes, []*onnx.ValueInfoProto{x}, outs, inits...), onnx.Opset("", 17))
			s, err := LoadModel(m)
			if err != nil {
				t.Fatal(err)
			}
			run := func(x *Tensor) map[string]*Tensor {
				out, err := s.Run(context.Background(), map[string]*Tensor{"X": x})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			xa, xb := New([]int{seq, batch, in}, draw(seq*batch*in)), New([]int{seq, batch, in}, draw(seq*batch*in))
			first := run(xa)
			want := map[string]*Tensor{}
			for k, v := range first {
				want[k] = v.Clone()
			}
			for range 3 {
				run(xb)
			}
			for k, v := range want {
				if d := maxAbsDiff(first[k], v); d != 0 {
					t.Errorf("output %s of the first run changed by %g after later runs", k, d)
				}
			}
			if got := len(s.pool.free); got != c.pooled {
				t.Errorf("%d buffers idle in the pool, want %d", got, c.pooled)
			}
			if len(s.pool.lent) != 0 {
				t.Errorf("pool still claims %d buffers after the runs", len(s.pool.lent))
			}
		})
	}
}

// TestPoolReusesAcrossSizes checks that a buffer goes to a later run of
// another batch size when it is large enough and at most twice too large,
// and that the pool keeps at most maxPooled idle buffers.
func TestPoolReusesAcrossSizes(t *testing.T) {
	p := newFloatPool()
	give := func(b []float32) { p.release(&Tensor{DType: Float, Shape: []int{len(b)}, Data: b}, nil) }
	a := p.get(30000)
	give(a)
	if b := p.get(20000); &b[0] != &a[0] || len(b) != 20000 {
		t.Errorf("a 30000-float buffer was not reused for 20000")
	} else {
		give(b)
	}
	if c := p.get(10000); &c[0] == &a[0] {
		t.Errorf("a 30000-float buffer was reused for 10000 (more than twice too large)")
	}
	var held [][]float32
	for range maxPooled + 3 {
		held = append(held, p.get(minPooled))
	}
	for _, b := range held {
		give(b)
	}
	if len(p.free) != maxPooled {
		t.Errorf("%d idle buffers, want at most %d", len(p.free), maxPooled)
	}
}
