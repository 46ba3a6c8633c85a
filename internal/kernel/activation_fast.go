package kernel

import "math"

// Fast float32 versions of the gate nonlinearities. They stay in float32
// (no float64 round trip, no libm call) and are accurate to a few ulp:
// |exp32(x)/eˣ − 1| < 3e-7 and an absolute error below 2e-7 for Sigmoid32
// and Tanh32 — far inside the 1e-5 that parity with ONNX Runtime allows,
// whose MLAS kernels make the same trade.

// exp32 approximates eˣ: Cephes' expf reduction x = n·ln2 + r with a
// degree-6 polynomial for eʳ on [−ln2/2, ln2/2]. Inputs are clamped to
// [−87.3, 88.3] (eˣ saturates to about 1e-38 and 2e38); NaN stays NaN.
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	x = min(max(x, -87.3), 88.3)
	t := x*log2e + 0.5
	fx := float32(int32(t))
	if fx > t {
		fx--
	}
	r := x - fx*c1 - fx*c2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(fx)+127)<<23)
}

// Sigmoid32 is 1/(1+e^−x) in float32.
func Sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// Tanh32 is tanh(x) = 1 − 2/(e^2x + 1) in float32.
func Tanh32(x float32) float32 { return 1 - 2/(exp32(2*x)+1) }

// SigmoidSlice32 replaces every x[i] with Sigmoid32(x[i]), eight at a time
// with AVX2 where available.
func SigmoidSlice32(x []float32) {
	for i := sigmoidVec(x); i < len(x); i++ {
		x[i] = Sigmoid32(x[i])
	}
}

// TanhSlice32 replaces every x[i] with Tanh32(x[i]), eight at a time with
// AVX2 where available.
func TanhSlice32(x []float32) {
	for i := tanhVec(x); i < len(x); i++ {
		x[i] = Tanh32(x[i])
	}
}
