package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFastGateFunctions compares exp32, Sigmoid32 and Tanh32 with the
// float64 math library over the whole useful range and at the edges.
func TestFastGateFunctions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := []float32{0, -0, 1e-8, -1e-8, 0.5, -0.5, 20, -20, 87, -87, 100, -100, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	for range 200000 {
		xs = append(xs, float32((rng.Float64()*2-1)*30))
	}
	for _, x := range xs {
		if x > -80 && x < 80 {
			want := math.Exp(float64(x))
			if got := float64(exp32(x)); math.Abs(got/want-1) > 3e-7 {
				t.Fatalf("exp32(%v) = %v, want %v", x, got, want)
			}
		}
		if got, want := float64(Sigmoid32(x)), 1/(1+math.Exp(-float64(x))); math.Abs(got-want) > 2e-7 {
			t.Fatalf("Sigmoid32(%v) = %v, want %v", x, got, want)
		}
		if got, want := float64(Tanh32(x)), math.Tanh(float64(x)); math.Abs(got-want) > 2e-7 {
			t.Fatalf("Tanh32(%v) = %v, want %v", x, got, want)
		}
	}
	// The slice forms (vectorised where the CPU allows) hold the same bounds.
	sig, th := append([]float32{}, xs...), append([]float32{}, xs...)
	SigmoidSlice32(sig)
	TanhSlice32(th)
	for i, x := range xs {
		// FMA rounds once where the scalar code rounds twice.
		if d := math.Abs(float64(sig[i]) - 1/(1+math.Exp(-float64(x)))); d > 3e-7 {
			t.Fatalf("SigmoidSlice32 at %v: %v, scalar %v", x, sig[i], Sigmoid32(x))
		}
		if d := math.Abs(float64(th[i]) - math.Tanh(float64(x))); d > 3e-7 {
			t.Fatalf("TanhSlice32 at %v: %v, scalar %v", x, th[i], Tanh32(x))
		}
	}
	nan := float32(math.NaN())
	v := []float32{nan, nan, nan, nan, nan, nan, nan, nan, nan}
	SigmoidSlice32(v)
	for _, y := range v {
		if !math.IsNaN(float64(y)) {
			t.Error("SigmoidSlice32(NaN) is not NaN")
		}
	}
	if !math.IsNaN(float64(Sigmoid32(nan))) || !math.IsNaN(float64(Tanh32(nan))) {
		t.Error("NaN input does not give NaN")
	}
}

// TestLSTMForward32 checks the fast float32 gate kernel against the
// float64 LSTMForward on random pre-activations.
func TestLSTMForward32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const batch, H = 5, 7
	z32 := make([]float32, batch*4*H)
	c32 := make([]float32, batch*H)
	for i := range z32 {
		z32[i] = float32((rng.Float64()*2 - 1) * 6)
	}
	for i := range c32 {
		c32[i] = float32((rng.Float64()*2 - 1) * 3)
	}
	z64, c64 := make([]float64, len(z32)), make([]float64, len(c32))
	for i, v := range z32 {
		z64[i] = float64(v)
	}
	for i, v := range c32 {
		c64[i] = float64(v)
	}
	cn32, h32 := make([]float32, batch*H), make([]float32, batch*H)
	cn64, h64 := make([]float64, batch*H), make([]float64, batch*H)
	LSTMForward32(z32, c32, cn32, h32, batch, H)
	LSTMForward(z64, c64, cn64, h64, batch, H)
	for i := range h64 {
		if math.Abs(float64(h32[i])-h64[i]) > 1e-6 || math.Abs(float64(cn32[i])-cn64[i]) > 1e-6 {
			t.Fatalf("unit %d: h %v c %v, want h %v c %v", i, h32[i], cn32[i], h64[i], cn64[i])
		}
	}
	for i := range z64 {
		if math.Abs(float64(z32[i])-z64[i]) > 1e-6 {
			t.Fatalf("gate %d = %v, want %v", i, z32[i], z64[i])
		}
	}
}

// TestLSTMBackward32 checks the float32 backward step (vectorised tanh)
// against the float64 LSTMBackward on random gates, states and gradients,
// with a hidden size that is not a multiple of 8.
func TestLSTMBackward32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const batch, H = 4, 11
	rnd := func(n int, lo, hi float64) ([]float32, []float64) {
		s32, s64 := make([]float32, n), make([]float64, n)
		for i := range s32 {
			s32[i] = float32(lo + rng.Float64()*(hi-lo))
			s64[i] = float64(s32[i])
		}
		return s32, s64
	}
	g32, g64 := rnd(batch*4*H, 0, 1) // activated gates
	cp32, cp64 := rnd(batch*H, -3, 3)
	c32, c64 := rnd(batch*H, -3, 3)
	dh32, dh64 := rnd(batch*H, -1, 1)
	dc32, dc64 := rnd(batch*H, -1, 1)
	dz32, dz64 := make([]float32, batch*4*H), make([]float64, batch*4*H)
	LSTMBackward(g32, cp32, c32, dh32, dc32, dz32, batch, H)
	LSTMBackward(g64, cp64, c64, dh64, dc64, dz64, batch, H)
	for i := range dz64 {
		if math.Abs(float64(dz32[i])-dz64[i]) > 1e-6 {
			t.Fatalf("dz[%d] = %v, want %v", i, dz32[i], dz64[i])
		}
	}
	for i := range dc64 {
		if math.Abs(float64(dc32[i])-dc64[i]) > 1e-6 {
			t.Fatalf("dc[%d] = %v, want %v", i, dc32[i], dc64[i])
		}
	}
}

func BenchmarkLSTMForward(b *testing.B) {
	const batch, H = 128, 64
	z, c, cn, h := make([]float32, batch*4*H), make([]float32, batch*H), make([]float32, batch*H), make([]float32, batch*H)
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			LSTMForward(z, c, cn, h, batch, H)
		}
	})
	b.Run("fast32", func(b *testing.B) {
		for b.Loop() {
			LSTMForward32(z, c, cn, h, batch, H)
		}
	})
}
