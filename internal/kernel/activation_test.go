package kernel

import (
	"math"
	"testing"
)

// TestActivations checks each function at a few points against values
// worked out by hand from the ONNX definitions (α and β are float32, hence
// the float64 tolerance of 1e-7).
func TestActivations(t *testing.T) {
	xs := []float64{-2, -0.5, 0, 0.5, 2}
	cases := []struct {
		name  string
		alpha []float32
		beta  []float32
		want  []float64
	}{
		{"Sigmoid", nil, nil, []float64{0.11920292202, 0.37754066880, 0.5, 0.62245933120, 0.88079707798}},
		{"Tanh", nil, nil, []float64{-0.96402758008, -0.46211715726, 0, 0.46211715726, 0.96402758008}},
		{"Relu", nil, nil, []float64{0, 0, 0, 0.5, 2}},
		{"HardSigmoid", nil, nil, []float64{0.1, 0.4, 0.5, 0.6, 0.9}},
		{"HardSigmoid", []float32{0.5}, []float32{0.25}, []float64{0, 0, 0.25, 0.5, 1}},
		{"Affine", []float32{2}, []float32{1}, []float64{-3, 0, 1, 2, 5}},
		{"LeakyRelu", nil, nil, []float64{-0.02, -0.005, 0, 0.5, 2}},
		{"LeakyRelu", []float32{0.5}, nil, []float64{-1, -0.25, 0, 0.5, 2}},
		{"ThresholdedRelu", []float32{0.5}, nil, []float64{0, 0, 0, 0, 2}},
		{"ScaledTanh", []float32{2}, []float32{0.5}, []float64{-1.52318831191, -0.48983732481, 0, 0.48983732481, 1.52318831191}},
		{"Elu", nil, nil, []float64{-0.86466471676, -0.39346934029, 0, 0.5, 2}},
		{"Softsign", nil, nil, []float64{-2.0 / 3, -1.0 / 3, 0, 1.0 / 3, 2.0 / 3}},
		{"Softplus", nil, nil, []float64{0.12692801104, 0.47407698418, 0.69314718056, 0.97407698418, 2.12692801104}},
	}
	for _, c := range cases {
		acts, err := ParseActivations([]string{c.name}, c.alpha, c.beta)
		if err != nil {
			t.Fatal(err)
		}
		x := append([]float64{}, xs...)
		ApplyActivation(acts[0], x)
		x32 := make([]float32, len(xs))
		for i, v := range xs {
			x32[i] = float32(v)
		}
		ApplyActivation(acts[0], x32)
		for i := range xs {
			if math.Abs(x[i]-c.want[i]) > 1e-7 || math.Abs(float64(x32[i])-c.want[i]) > 1e-6 {
				t.Errorf("%s(α %v, β %v)(%v) = %v (float32 %v), want %v", c.name, c.alpha, c.beta, xs[i], x[i], x32[i], c.want[i])
			}
		}
	}
}

// TestParseActivations checks how alpha and beta entries are handed out and
// that unknown names fail.
func TestParseActivations(t *testing.T) {
	acts, err := ParseActivations([]string{"sigmoid", "LeakyRelu", "TANH", "ScaledTanh", "Elu"},
		[]float32{0.1, 0.2}, []float32{0.3})
	if err != nil {
		t.Fatal(err)
	}
	want := []Activation{
		{ActSigmoid, 0, 0}, {ActLeakyRelu, 0.1, 0}, {ActTanh, 0, 0}, {ActScaledTanh, 0.2, 0.3}, {ActElu, 1, 0},
	}
	for i := range want {
		if acts[i] != want[i] {
			t.Errorf("activation %d = %+v, want %+v", i, acts[i], want[i])
		}
	}
	if acts[3].String() != "ScaledTanh" {
		t.Errorf("String() = %q", acts[3].String())
	}
	if _, err := ParseActivations([]string{"Swish"}, nil, nil); err == nil {
		t.Error("unknown activation accepted")
	}
}
