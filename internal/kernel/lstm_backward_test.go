package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackGateMatrixReuse repacks a matrix that held other weights and of
// another shape, and checks its products against a fresh NewGateMatrix
// and against a hand-written loop.
func TestPackGateMatrixReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(2*rng.Float64() - 1)
		}
		return v
	}
	old := NewGateMatrix(NewGates(1, 64), vec(64*24), 24)
	const n, k, rows = 40, 16, 7 // n not a multiple of 16: padded columns
	l := NewGates(1, n)
	w := vec(n * k)
	m := PackGateMatrix(old, l, w, k)
	if m != old {
		t.Fatal("PackGateMatrix did not reuse a large enough matrix")
	}
	fresh := NewGateMatrix(l, w, k)
	a := vec(rows * k)
	got, want := make([]float32, rows*l.LD), make([]float32, rows*l.LD)
	m.Project(rows, a, k, nil, got, l.LD)
	fresh.Project(rows, a, k, nil, want, l.LD)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("repacked product [%d] = %g, fresh %g", i, got[i], want[i])
		}
	}
	for r := 0; r < rows; r++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[r*k+p]) * float64(w[j*k+p])
			}
			if d := math.Abs(float64(got[r*l.LD+j]) - s); d > 1e-5 {
				t.Fatalf("product [%d,%d] = %g, want %g", r, j, got[r*l.LD+j], s)
			}
		}
		for j := n; j < l.LD; j++ {
			if got[r*l.LD+j] != 0 {
				t.Fatalf("padding column %d of row %d = %g, want 0", j, r, got[r*l.LD+j])
			}
		}
	}
}

// TestLSTMCellBackwardMatchesLSTMBackward compares the one-row adjoint
// (float32, in place) with the batch kernel LSTMBackward on the same step.
func TestLSTMCellBackwardMatchesLSTMBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const H = 11
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(2*rng.Float64() - 1)
		}
		return v
	}
	z, cPrev := vec(4*H), vec(H)
	c, h := make([]float32, H), make([]float32, H)
	LSTMForward(z, cPrev, c, h, 1, H)
	dh, dc := vec(H), vec(H)
	dz, dc2 := make([]float32, 4*H), append([]float32(nil), dc...)
	LSTMBackward(z, cPrev, c, dh, dc2, dz, 1, H)
	g := append([]float32(nil), z...)
	LSTMCellBackward(g, cPrev, c, dh, dc, g, make([]float32, H))
	for i := range dz {
		if d := math.Abs(float64(g[i] - dz[i])); d > 1e-6 {
			t.Fatalf("dz[%d] = %g, LSTMBackward %g", i, g[i], dz[i])
		}
	}
	for i := range dc {
		if d := math.Abs(float64(dc[i] - dc2[i])); d > 1e-6 {
			t.Fatalf("dc[%d] = %g, LSTMBackward %g", i, dc[i], dc2[i])
		}
	}
}
