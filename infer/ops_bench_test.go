package infer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/onnx"
)

func randF32(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// BenchmarkAdd measures float32 Add: same shapes (the contiguous path) and
// a bias row broadcast over [batch·seq, 64] (the strided-row path).
func BenchmarkAdd(b *testing.B) {
	for _, c := range []struct {
		name   string
		as, bs []int
	}{
		{"same_128x100x64", []int{128, 100, 64}, []int{128, 100, 64}},
		{"bias_128x100x64+64", []int{128, 100, 64}, []int{64}},
		{"col_12800x1+1x64", []int{12800, 1}, []int{1, 64}},
	} {
		b.Run(c.name, func(b *testing.B) {
			x, y := NewFloat32(c.as, randF32(numel(c.as))), NewFloat32(c.bs, randF32(numel(c.bs)))
			b.ReportAllocs()
			b.SetBytes(int64(4 * max(x.Len(), y.Len())))
			for b.Loop() {
				if _, err := arith(opAdd, x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGather is the embedding lookup of the study: [4000, 64] table,
// [batch, 100] int32 ids.
func BenchmarkGather(b *testing.B) {
	table := NewFloat32([]int{4000, 64}, randF32(4000*64))
	for _, batch := range []int{1, 128} {
		b.Run(fmt.Sprintf("batch_%d", batch), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			ids := make([]int32, batch*100)
			for i := range ids {
				ids[i] = int32(rng.IntN(4000))
			}
			idx := NewInt32([]int{batch, 100}, ids)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gather(table, idx, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "reviews/s")
		})
	}
}

// BenchmarkTranspose covers the two permutations around an ONNX LSTM:
// [batch, seq, 64] → [seq, batch, 64] (row copies) and a full reversal
// (element gather).
func BenchmarkTranspose(b *testing.B) {
	x := NewFloat32([]int{128, 100, 64}, randF32(128*100*64))
	for _, c := range []struct {
		name string
		perm []int64
	}{{"keep_last_axis", []int64{1, 0, 2}}, {"reverse", nil}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(4 * x.Len()))
			for b.Loop() {
				if _, err := transpose(x, c.perm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSessionOverhead runs a three-node graph on one row: the cost of
// Run's bookkeeping (input checks, slots, freeing) per call.
func BenchmarkSessionOverhead(b *testing.B) {
	s, err := LoadModel(mlpModel(b))
	if err != nil {
		b.Fatal(err)
	}
	in := map[string]*Tensor{"x": NewFloat32([]int{1, 2}, []float32{1, 2})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecurrentOp runs one bidirectional recurrent node of the study's
// shape (seq 100, input 64, hidden 64, constant weights) on a batch, so
// that B/op and allocs/op show what the operator itself allocates: its
// outputs (Y [100, 2, batch, 64], Y_h and Y_c [2, batch, 64]), nothing per
// step. The metric is sequences/s.
func BenchmarkRecurrentOp(b *testing.B) {
	for _, op := range []string{"LSTM", "GRU"} {
		for _, batch := range []int{1, 128} {
			c := randomRNN{op: op, lbr: true, dir: "bidirectional", seq: 100, batch: batch, in: 64, H: 64, bias: true}
			m, feeds := c.model(b, onnx.TensorProto_FLOAT)
			s, err := LoadModel(m)
			if err != nil {
				b.Fatal(err)
			}
			in := map[string]*Tensor{"X": feeds[0]}
			b.Run(fmt.Sprintf("%s/batch=%d", op, batch), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Run(context.Background(), in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "sequences/s")
			})
		}
	}
}
