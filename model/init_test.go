package model

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// kerasKernel rebuilds direction d of an ONNX W or R [dirs, 4H, in] as the
// Keras kernel [in, 4H] with gate columns i, f, c, o. It inverts the
// documented layout independently of KerasToONNXKernel.
func kerasKernel(p *Param, d int) [][]float64 {
	g4, in := p.Shape[1], p.Shape[2]
	h := g4 / 4
	onnxBlockOf := [4]int{0, 2, 3, 1} // Keras block i,f,c,o lives in ONNX block 0,2,3,1
	k := make([][]float64, in)
	for x := range in {
		k[x] = make([]float64, g4)
		for kb := range 4 {
			for j := range h {
				k[x][kb*h+j] = float64(p.Data[d*g4*in+(onnxBlockOf[kb]*h+j)*in+x])
			}
		}
	}
	return k
}

func flat(k [][]float64) []float64 {
	var v []float64
	for _, r := range k {
		v = append(v, r...)
	}
	return v
}

// checkUniform checks values lie in [−limit, limit], reach close to both
// ends and have the variance of U(−limit, limit), limit²/3.
func checkUniform(t *testing.T, what string, v []float64, limit float64) {
	t.Helper()
	lo, hi, mean, sq := math.Inf(1), math.Inf(-1), 0.0, 0.0
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
		mean += x
		sq += x * x
	}
	n := float64(len(v))
	mean /= n
	variance := sq/n - mean*mean
	if lo < -limit*(1+1e-6) || hi > limit*(1+1e-6) {
		t.Errorf("%s: range [%g, %g] outside ±%g", what, lo, hi, limit)
	}
	if lo > -0.98*limit || hi < 0.98*limit {
		t.Errorf("%s: range [%g, %g] does not fill ±%g", what, lo, hi, limit)
	}
	want := limit * limit / 3
	// n ≥ 4096 draws: the sample variance is within a few percent.
	if math.Abs(variance-want) > 0.06*want {
		t.Errorf("%s: variance %g, want %g", what, variance, want)
	}
	if math.Abs(mean) > 4*limit/math.Sqrt(3*n) {
		t.Errorf("%s: mean %g too far from 0", what, mean)
	}
}

func TestGlorotUniformKernels(t *testing.T) {
	m := newRun(t, "deep_bilstm_rmsprop_dropout") // recurrent kernels glorot_uniform too
	for _, tc := range []struct {
		name    string
		fanIn   int
		fanOut  int
		dirs    int
		isDense bool
	}{
		{"lstm_0.W", 64, 256, 2, false},
		{"lstm_1.W", 128, 256, 2, false},
		{"lstm_0.R", 64, 256, 2, false},
		{"lstm_1.R", 64, 256, 2, false},
	} {
		p := m.Param(tc.name)
		limit := math.Sqrt(6 / float64(tc.fanIn+tc.fanOut))
		for d := range tc.dirs {
			checkUniform(t, tc.name, flat(kerasKernel(p, d)), limit)
		}
	}
	// Dense [128, 1]: 128 values only; check the bound.
	limit := math.Sqrt(6.0 / (128 + 1))
	for _, x := range m.Param("dense_2.W").Data {
		if math.Abs(float64(x)) > limit {
			t.Errorf("dense_2.W value %g beyond ±%g", x, limit)
		}
	}
	for _, x := range m.Param("dense_2.B").Data {
		if x != 0 {
			t.Errorf("dense bias %g, want 0", x)
		}
	}
}

func TestEmbeddingUniform(t *testing.T) {
	m := newRun(t, "deep_lstm")
	v := make([]float64, 0, 4000*64)
	for _, x := range m.Param("embedding").Data {
		v = append(v, float64(x))
	}
	checkUniform(t, "embedding", v, 0.05)
}

// TestOrthogonalRecurrent checks Keras's layout: the recurrent kernel
// [H, 4H] has orthonormal rows (R·Rᵀ = I).
func TestOrthogonalRecurrent(t *testing.T) {
	for _, run := range []string{"deep_lstm", "deep_bilstm"} {
		m := newRun(t, run)
		for _, name := range []string{"lstm_0.R", "lstm_1.R"} {
			p := m.Param(name)
			for d := range p.Shape[0] {
				k := kerasKernel(p, d) // [H][4H]
				for a := range k {
					for b := range k {
						dot := 0.0
						for j := range k[a] {
							dot += k[a][j] * k[b][j]
						}
						want := 0.0
						if a == b {
							want = 1
						}
						if math.Abs(dot-want) > 1e-5 {
							t.Fatalf("%s %s dir %d: row %d·row %d = %g, want %g", run, name, d, a, b, dot, want)
						}
					}
				}
			}
		}
	}
}

// TestForgetBias: Keras unit_forget_bias puts 1 in the f block (Keras block
// 1, ONNX block 2) of Wb, zeros elsewhere, and Rb is zero.
func TestForgetBias(t *testing.T) {
	m := newRun(t, "deep_bilstm")
	const h = 64
	for _, name := range []string{"lstm_0.B", "lstm_1.B"} {
		p := m.Param(name)
		for d := range 2 {
			for i := range 8 * h {
				want := float32(0)
				if i >= 2*h && i < 3*h {
					want = 1
				}
				if got := p.Data[d*8*h+i]; got != want {
					t.Fatalf("%s dir %d [%d] = %g, want %g", name, d, i, got, want)
				}
			}
		}
	}
	f := false
	cfg := loadRun(t, "deep_lstm")
	cfg.Model.Layers[0].UnitForgetBias = &f
	m2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range m2.Param("lstm_0.B").Data {
		if x != 0 {
			t.Fatalf("unit_forget_bias false: B[%d] = %g, want 0", i, x)
		}
	}
	cfg = loadRun(t, "deep_lstm")
	cfg.Model.Layers[0].BiasInitializer = "ones"
	cfg.Model.Layers[0].UnitForgetBias = &f
	m3, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range m3.Param("lstm_0.B").Data {
		if want := float32(map[bool]float64{true: 1, false: 0}[i < 4*h]); x != want {
			t.Fatalf("bias ones: B[%d] = %g, want %g", i, x, want)
		}
	}
}

// TestGatePermutation checks KerasToONNXKernel and KerasToONNXBias on a
// hand-built Keras tensor whose values encode (row, Keras column).
func TestGatePermutation(t *testing.T) {
	const in, h = 3, 2
	k := make([]float64, in*4*h)
	for x := range in {
		for c := range 4 * h {
			k[x*4*h+c] = float64(100*x + c)
		}
	}
	dst := make([]float32, 4*h*in)
	KerasToONNXKernel(dst, k, in, h)
	// ONNX row r = block*h + j; Keras column: i→0, o→3, f→1, c→2 blocks.
	want := [][]float32{
		{0, 100, 200}, {1, 101, 201}, // i: Keras cols 0,1
		{6, 106, 206}, {7, 107, 207}, // o: Keras cols 6,7
		{2, 102, 202}, {3, 103, 203}, // f: Keras cols 2,3
		{4, 104, 204}, {5, 105, 205}, // c: Keras cols 4,5
	}
	for r := range want {
		for x := range in {
			if got := dst[r*in+x]; got != want[r][x] {
				t.Errorf("W[%d][%d] = %g, want %g", r, x, got, want[r][x])
			}
		}
	}
	b := []float64{10, 11, 20, 21, 30, 31, 40, 41} // i, f, c, o
	db := make([]float32, 4*h)
	KerasToONNXBias(db, b, h)
	wantB := []float32{10, 11, 40, 41, 20, 21, 30, 31} // i, o, f, c
	for i := range wantB {
		if db[i] != wantB[i] {
			t.Errorf("B[%d] = %g, want %g", i, db[i], wantB[i])
		}
	}
}

func modelBytes(m *Model) []byte {
	var buf bytes.Buffer
	for _, p := range m.Params {
		buf.WriteString(p.Name)
		binary.Write(&buf, binary.LittleEndian, p.Data)
	}
	return buf.Bytes()
}

func TestDeterminism(t *testing.T) {
	a := modelBytes(newRun(t, "deep_bilstm"))
	b := modelBytes(newRun(t, "deep_bilstm"))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different weights")
	}
	cfg := loadRun(t, "deep_bilstm")
	cfg.Train.Seed = 2
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := modelBytes(m)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same weights")
	}
	// Every randomly initialised tensor differs, not only one.
	m1 := newRun(t, "deep_bilstm")
	for _, name := range []string{"embedding", "lstm_0.W", "lstm_0.R", "lstm_1.W", "lstm_1.R", "dense_2.W"} {
		if bytes.Equal(floatBytes(m1.Param(name).Data), floatBytes(m.Param(name).Data)) {
			t.Errorf("%s is the same under seeds 1 and 2", name)
		}
	}
}

func floatBytes(v []float32) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, v)
	return buf.Bytes()
}

// TestInitializerStatistics checks each named initializer against its Keras
// definition on a [256, 128] kernel: fan_in 256, fan_out 128.
func TestInitializerStatistics(t *testing.T) {
	const fi, fo = 256.0, 128.0
	const truncVar = 0.87962566103423978 * 0.87962566103423978 // variance of N(0,1) cut at ±2
	tests := []struct {
		name    string
		std     float64 // of the resulting distribution
		bound   float64 // 0 = none
		mean    float64
		exactly float64 // for constants
	}{
		{"zeros", 0, 0, 0, 0},
		{"ones", 0, 0, 1, 1},
		{"uniform", 0.05 / math.Sqrt(3), 0.05, 0, -1},
		{"normal", 0.05, 0, 0, -1},
		{"glorot_uniform", math.Sqrt(6/(fi+fo)) / math.Sqrt(3), math.Sqrt(6 / (fi + fo)), 0, -1},
		{"glorot_normal", math.Sqrt(2 / (fi + fo)), 2 * math.Sqrt(2/(fi+fo)) / math.Sqrt(truncVar), 0, -1},
		{"he_uniform", math.Sqrt(6/fi) / math.Sqrt(3), math.Sqrt(6 / fi), 0, -1},
		{"he_normal", math.Sqrt(2 / fi), 2 * math.Sqrt(2/fi) / math.Sqrt(truncVar), 0, -1},
		{"lecun_uniform", math.Sqrt(3/fi) / math.Sqrt(3), math.Sqrt(3 / fi), 0, -1},
		{"lecun_normal", math.Sqrt(1 / fi), 2 * math.Sqrt(1/fi) / math.Sqrt(truncVar), 0, -1},
		// Keras TruncatedNormal(stddev=0.05): cut at ±0.1, so the spread is
		// 0.05·0.8796.
		{"truncated_normal", 0.05 * math.Sqrt(truncVar), 0.1, 0, -1},
		{"random_uniform", 0.05 / math.Sqrt(3), 0.05, 0, -1},
		{"random_normal", 0.05, 0, 0, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := draw(newTestRand(), tc.name, []int{int(fi), int(fo)})
			if err != nil {
				t.Fatal(err)
			}
			n := float64(len(v))
			mean, sq := 0.0, 0.0
			for _, x := range v {
				if tc.exactly >= 0 && x != tc.exactly {
					t.Fatalf("value %g, want %g", x, tc.exactly)
				}
				if tc.bound > 0 && math.Abs(x) > tc.bound*(1+1e-9) {
					t.Fatalf("value %g beyond ±%g", x, tc.bound)
				}
				mean += x
				sq += x * x
			}
			mean /= n
			std := math.Sqrt(sq/n - mean*mean)
			if math.Abs(mean-tc.mean) > 5*tc.std/math.Sqrt(n)+1e-12 {
				t.Errorf("mean %g, want %g", mean, tc.mean)
			}
			if math.Abs(std-tc.std) > 0.03*tc.std+1e-12 {
				t.Errorf("std %g, want %g", std, tc.std)
			}
		})
	}
	// Orthogonal on a tall kernel [256, 128] has orthonormal columns.
	v, err := draw(newTestRand(), "orthogonal", []int{256, 128})
	if err != nil {
		t.Fatal(err)
	}
	for a := range 128 {
		for b := a; b < 128; b++ {
			dot := 0.0
			for i := range 256 {
				dot += v[i*128+a] * v[i*128+b]
			}
			want := 0.0
			if a == b {
				want = 1
			}
			if math.Abs(dot-want) > 1e-9 {
				t.Fatalf("columns %d·%d = %g, want %g", a, b, dot, want)
			}
		}
	}
}

func TestEveryInitializerBuilds(t *testing.T) {
	for _, name := range InitializerNames() {
		cfg := loadRun(t, "deep_bilstm")
		cfg.Model.Embedding.Initializer = name
		for i := range cfg.Model.Layers {
			cfg.Model.Layers[i].KernelInitializer = name
			if cfg.Model.Layers[i].Type == KindLSTM { // a dense layer has no recurrent kernel
				cfg.Model.Layers[i].RecurrentInitializer = name
			}
			if name != "orthogonal" && name != "identity" {
				cfg.Model.Layers[i].BiasInitializer = name
			}
		}
		if _, err := New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }

// Keras Identity is tf.eye(rows, cols): on an LSTM's [units, 4·units]
// recurrent kernel, ones at (i, i) — the input gate's block — and zeros
// elsewhere; on a vector it is an error naming the key.
func TestIdentityRecurrent(t *testing.T) {
	cfg := loadRun(t, "deep_bilstm")
	for i := range cfg.Model.Layers[:2] {
		cfg.Model.Layers[i].RecurrentInitializer = "identity"
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Param("lstm_0.R")
	for d := range p.Shape[0] {
		k := kerasKernel(p, d)
		for i := range k {
			for j := range k[i] {
				want := 0.0
				if i == j {
					want = 1
				}
				if k[i][j] != want {
					t.Fatalf("dir %d: R[%d][%d] = %g, want %g", d, i, j, k[i][j], want)
				}
			}
		}
	}
	cfg = loadRun(t, "deep_bilstm")
	cfg.Model.Layers[0].BiasInitializer = "identity"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "bias_initializer") {
		t.Errorf("identity bias: err = %v, want an error naming bias_initializer", err)
	}
}
