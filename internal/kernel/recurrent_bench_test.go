package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkLSTMStep measures one fused LSTM step of the study's layer
// (H 64) for a batch of rows, against the unfused step (packed GEMM, then
// LSTMForward32) it replaces. The metric is GFLOP/s of the product.
func BenchmarkLSTMStep(b *testing.B) {
	const H = 64
	for _, rows := range []int{1, 32, 128} {
		l := NewGates(4, H)
		r := make([]float32, 4*H*H)
		for i := range r {
			r[i] = float32(i%7-3) * 0.01
		}
		R := NewGateMatrix(l, r, H)
		z := make([]float32, rows*l.LD)
		h, c := make([]float32, rows*l.Hp), make([]float32, rows*l.Hp)
		flops := func(b *testing.B) {
			b.ReportMetric(2*float64(rows*4*H*H)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(fmt.Sprintf("fused/rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				LSTMStep(R, rows, z, h, h, c)
			}
			flops(b)
		})
		pb := PackB(true, H, 4*H, r, H)
		zz, cn := make([]float32, rows*4*H), make([]float32, rows*H)
		b.Run(fmt.Sprintf("unfused/rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				GemmPacked(false, rows, 1, h[:rows*H], H, pb, 1, zz, 4*H)
				LSTMForward32(zz, c[:rows*H], cn, h[:rows*H], rows, H)
			}
			flops(b)
		})
	}
}

// BenchmarkGateProject measures the input projection of a chunk of steps:
// [rows, K]·Wᵀ into the interleaved layout (G 4, H 64).
func BenchmarkGateProject(b *testing.B) {
	const H = 64
	for _, sh := range [][2]int{{100, 64}, {1024, 128}} {
		rows, K := sh[0], sh[1]
		l := NewGates(4, H)
		W := NewGateMatrix(l, make([]float32, 4*H*K), K)
		a, c := make([]float32, rows*K), make([]float32, rows*l.LD)
		bias := make([]float32, l.LD)
		b.Run(fmt.Sprintf("rows=%d/k=%d", rows, K), func(b *testing.B) {
			for b.Loop() {
				W.Project(rows, a, K, bias, c, l.LD)
			}
			b.ReportMetric(2*float64(rows*4*H*K)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkLSTMStepParts times the two halves of a fused step apart.
func BenchmarkLSTMStepParts(b *testing.B) {
	const H = 64
	for _, rows := range []int{1, 6, 128} {
		l := NewGates(4, H)
		R := NewGateMatrix(l, make([]float32, 4*H*H), H)
		z := make([]float32, rows*l.LD)
		h, c := make([]float32, rows*l.Hp), make([]float32, rows*l.Hp)
		b.Run(fmt.Sprintf("muladd/rows=%d", rows), func(b *testing.B) {
			for b.Loop() {
				R.MulAdd(rows, h, l.Hp, z, l.LD)
			}
			b.ReportMetric(2*float64(rows*4*H*H)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("cells/rows=%d", rows), func(b *testing.B) {
			for b.Loop() {
				lstmCells(l, rows, z, c, h)
			}
			b.ReportMetric(float64(rows*H)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gunits/s")
		})
	}
}
