package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// initializers are the initializer names a config may use, with Keras
// 2.15's definitions (InitializerNames lists them).
// fan_in and fan_out follow Keras: for a [rows, cols] kernel fan_in = rows,
// fan_out = cols; for a [n] vector both are n.
//
//	zeros, ones
//	uniform          U(−0.05, 0.05)                      (Keras RandomUniform)
//	normal           N(0, 0.05²)                         (Keras RandomNormal)
//	glorot_uniform   U(±√(6/(fan_in+fan_out)))
//	glorot_normal    truncated N, σ = √(2/(fan_in+fan_out)) / 0.8796…
//	he_uniform       U(±√(6/fan_in))
//	he_normal        truncated N, σ = √(2/fan_in) / 0.8796…
//	lecun_uniform    U(±√(3/fan_in))
//	lecun_normal     truncated N, σ = √(1/fan_in) / 0.8796…
//	orthogonal       QR of a normal [max, min] matrix, sign-fixed (gain 1)
//	identity         tf.eye(rows, cols) (gain 1): ones on the main diagonal of a
//	                 matrix, square or not — on an LSTM's [units, 4·units]
//	                 recurrent kernel that is the input gate's block
//	truncated_normal N(0, 0.05²) truncated to ±2σ (Keras TruncatedNormal)
//	random_uniform, random_normal: Keras's full names of uniform and normal
//
// Truncated normals redraw values beyond two standard deviations, as
// TensorFlow's truncated_normal does; 0.8796… is the standard deviation of
// the standard normal truncated to [−2, 2].
var initializers = []string{
	"zeros", "ones", "uniform", "normal",
	"glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
	"lecun_uniform", "lecun_normal", "orthogonal", "identity", "truncated_normal",
	"random_uniform", "random_normal",
}

// Keras defaults where the config leaves an initializer empty.
const (
	defaultEmbeddingInit = "uniform"
	defaultKernelInit    = "glorot_uniform"
	defaultRecurrentInit = "orthogonal"
	defaultBiasInit      = "zeros"
)

// truncStd is the standard deviation of N(0, 1) truncated to [−2, 2].
const truncStd = 0.87962566103423978

// checkInit reports whether name (empty for the default) is an initializer
// usable on a tensor of the given rank.
func checkInit(key, name string, rank int) error {
	if name == "" {
		return nil
	}
	if !isInitializer(name) {
		return specErr(key, "unknown initializer %q (want one of %s)", name, strings.Join(InitializerNames(), ", "))
	}
	if (name == "orthogonal" || name == "identity") && rank < 2 {
		return specErr(key, "%s needs a matrix; a bias is a vector", name)
	}
	return nil
}

func isInitializer(name string) bool { return slices.Contains(initializers, name) }

// InitializerNames returns the weight initializer names a config may use,
// sorted.
func InitializerNames() []string {
	names := slices.Clone(initializers)
	slices.Sort(names)
	return names
}

func orDefault(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// initialize fills m's weights in the draw order documented on New.
func initialize(m *Model, layers []LayerSpec) error {
	cfg := m.Config
	seed := uint64(cfg.Train.Seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	emb := m.Param("embedding")
	v, err := draw(rng, orDefault(cfg.Model.Embedding.Initializer, defaultEmbeddingInit), emb.Shape)
	if err != nil {
		return fmt.Errorf("model: embedding: %w", err)
	}
	copy64(emb.Data, v)

	for _, l := range layers {
		lc := cfg.Model.Layers[l.Index]
		kinit := orDefault(lc.KernelInitializer, defaultKernelInit)
		binit := orDefault(lc.BiasInitializer, defaultBiasInit)
		if weightless[l.Kind] {
			continue
		}
		if l.Kind == KindDense {
			k, err := draw(rng, kinit, []int{l.In, l.Units})
			if err != nil {
				return fmt.Errorf("model: %s kernel: %w", l.Name, err)
			}
			b, err := draw(rng, binit, []int{l.Units})
			if err != nil {
				return fmt.Errorf("model: %s bias: %w", l.Name, err)
			}
			copy64(m.Param(l.Name+".W").Data, k)
			copy64(m.Param(l.Name+".B").Data, b)
			continue
		}
		rinit := orDefault(lc.RecurrentInitializer, defaultRecurrentInit)
		if l.Kind != KindLSTM {
			if err := initGatedRNN(rng, m, l, kinit, rinit, binit); err != nil {
				return err
			}
			continue
		}
		forgetOne := lc.UnitForgetBias == nil || *lc.UnitForgetBias
		h := l.Units
		W, R, B := m.Param(l.Name+".W"), m.Param(l.Name+".R"), m.Param(l.Name+".B")
		for d := 0; d < l.Dirs; d++ {
			k, err := draw(rng, kinit, []int{l.In, 4 * h})
			if err != nil {
				return fmt.Errorf("model: %s kernel: %w", l.Name, err)
			}
			r, err := draw(rng, rinit, []int{h, 4 * h})
			if err != nil {
				return fmt.Errorf("model: %s recurrent kernel: %w", l.Name, err)
			}
			var b []float64
			if forgetOne {
				bi, err := draw(rng, binit, []int{h})
				if err != nil {
					return fmt.Errorf("model: %s bias: %w", l.Name, err)
				}
				bco, err := draw(rng, binit, []int{2 * h})
				if err != nil {
					return fmt.Errorf("model: %s bias: %w", l.Name, err)
				}
				b = make([]float64, 0, 4*h)
				b = append(b, bi...)
				for range h {
					b = append(b, 1)
				}
				b = append(b, bco...)
			} else if b, err = draw(rng, binit, []int{4 * h}); err != nil {
				return fmt.Errorf("model: %s bias: %w", l.Name, err)
			}
			KerasToONNXKernel(W.Data[d*4*h*l.In:(d+1)*4*h*l.In], k, l.In, h)
			KerasToONNXKernel(R.Data[d*4*h*h:(d+1)*4*h*h], r, h, h)
			KerasToONNXBias(B.Data[d*8*h:d*8*h+4*h], b, h)
		}
	}
	return nil
}

// initGatedRNN draws a GRU's or SimpleRNN's weights, direction by
// direction: kernel [in, gH], recurrent kernel [H, gH], bias ([2, 3H] for a
// GRU with reset_after, [H] for a SimpleRNN). Keras's gate order (z, r, h)
// is ONNX's, so W and R are the kernels transposed and B = [input bias,
// recurrent bias].
func initGatedRNN(rng *rand.Rand, m *Model, l LayerSpec, kinit, rinit, binit string) error {
	h := l.Units
	gh := Gates(l.Kind) * h
	bshape := []int{h}
	if l.Kind == KindGRU {
		bshape = []int{2, gh}
	}
	W, R, B := m.Param(l.Name+".W"), m.Param(l.Name+".R"), m.Param(l.Name+".B")
	for d := 0; d < l.Dirs; d++ {
		k, err := draw(rng, kinit, []int{l.In, gh})
		if err != nil {
			return fmt.Errorf("model: %s kernel: %w", l.Name, err)
		}
		r, err := draw(rng, rinit, []int{h, gh})
		if err != nil {
			return fmt.Errorf("model: %s recurrent kernel: %w", l.Name, err)
		}
		b, err := draw(rng, binit, bshape)
		if err != nil {
			return fmt.Errorf("model: %s bias: %w", l.Name, err)
		}
		transposeInto(W.Data[d*gh*l.In:(d+1)*gh*l.In], k, l.In, gh)
		transposeInto(R.Data[d*gh*h:(d+1)*gh*h], r, h, gh)
		copy64(B.Data[d*2*gh:d*2*gh+len(b)], b)
	}
	return nil
}

// transposeInto writes the [rows, cols] matrix k transposed into dst
// [cols, rows].
func transposeInto(dst []float32, k []float64, rows, cols int) {
	for i := range rows {
		for j := range cols {
			dst[j*rows+i] = float32(k[i*cols+j])
		}
	}
}

func copy64(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// KerasToONNXKernel writes a Keras LSTM kernel k [in, 4H] (gate columns i,
// f, c, o) as one direction of ONNX W or R, dst [4H, in] (gate rows i, o,
// f, c): dst[k·H+j][x] = k[x][gatePerm[k]·H+j].
func KerasToONNXKernel(dst []float32, k []float64, in, h int) {
	for g := range 4 {
		src := gatePerm[g] * h
		for j := range h {
			row := dst[(g*h+j)*in : (g*h+j+1)*in]
			for x := range in {
				row[x] = float32(k[x*4*h+src+j])
			}
		}
	}
}

// KerasToONNXBias writes a Keras LSTM bias b [4H] (i, f, c, o) as ONNX Wb
// dst [4H] (i, o, f, c).
func KerasToONNXBias(dst []float32, b []float64, h int) {
	for g := range 4 {
		src := gatePerm[g] * h
		for j := range h {
			dst[g*h+j] = float32(b[src+j])
		}
	}
}

// fans returns Keras's fan_in and fan_out for a kernel shape.
func fans(shape []int) (fanIn, fanOut float64) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return float64(shape[0]), float64(shape[0])
	default:
		// Keras: receptive field = product of all but the last two dims.
		rf := 1
		for _, d := range shape[:len(shape)-2] {
			rf *= d
		}
		return float64(shape[len(shape)-2] * rf), float64(shape[len(shape)-1] * rf)
	}
}

// draw returns a tensor of the given Keras shape, row-major, initialised by
// the named initializer from rng.
func draw(rng *rand.Rand, name string, shape []int) ([]float64, error) {
	n := shapeSize(shape)
	v := make([]float64, n)
	fanIn, fanOut := fans(shape)
	uniform := func(limit float64) {
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * limit
		}
	}
	truncated := func(std float64) {
		for i := range v {
			z := rng.NormFloat64()
			for z < -2 || z > 2 {
				z = rng.NormFloat64()
			}
			v[i] = z * std
		}
	}
	switch name {
	case "zeros":
	case "ones":
		for i := range v {
			v[i] = 1
		}
	case "uniform", "random_uniform":
		uniform(0.05)
	case "truncated_normal":
		truncated(0.05)
	case "identity":
		if len(shape) != 2 {
			return nil, fmt.Errorf("identity needs a matrix, got shape %v", shape)
		}
		for i := range min(shape[0], shape[1]) {
			v[i*shape[1]+i] = 1
		}
	case "normal", "random_normal":
		for i := range v {
			v[i] = 0.05 * rng.NormFloat64()
		}
	case "glorot_uniform":
		uniform(math.Sqrt(6 / (fanIn + fanOut)))
	case "glorot_normal":
		truncated(math.Sqrt(2/(fanIn+fanOut)) / truncStd)
	case "he_uniform":
		uniform(math.Sqrt(6 / fanIn))
	case "he_normal":
		truncated(math.Sqrt(2/fanIn) / truncStd)
	case "lecun_uniform":
		uniform(math.Sqrt(3 / fanIn))
	case "lecun_normal":
		truncated(math.Sqrt(1/fanIn) / truncStd)
	case "orthogonal":
		if len(shape) < 2 {
			return nil, fmt.Errorf("orthogonal needs a matrix, got shape %v", shape)
		}
		orthogonal(rng, v, shape)
	default:
		return nil, fmt.Errorf("unknown initializer %q", name)
	}
	return v, nil
}

// orthogonal fills v (shape [rows…, cols]) as Keras's Orthogonal(gain=1):
// QR of a normal [max(rows, cols), min(rows, cols)] matrix, columns of Q
// multiplied by the signs of R's diagonal, transposed when rows < cols.
func orthogonal(rng *rand.Rand, v []float64, shape []int) {
	cols := shape[len(shape)-1]
	rows := len(v) / cols
	big, small := max(rows, cols), min(rows, cols)
	a := blas64.General{Rows: big, Cols: small, Stride: small, Data: make([]float64, big*small)}
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	// Householder QR, then the thin Q [big, small] in place of a.
	tau := make([]float64, small)
	work := make([]float64, 1)
	lapack64.Geqrf(a, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(a, tau, work, len(work))
	sign := make([]float64, small)
	for j := range small {
		sign[j] = 1
		if a.Data[j*small+j] < 0 { // R's diagonal
			sign[j] = -1
		}
	}
	lapack64.Orgqr(a, tau, work, -1)
	if n := int(work[0]); n > len(work) {
		work = make([]float64, n)
	}
	lapack64.Orgqr(a, tau, work, len(work))
	for i := range big {
		for j := range small {
			x := sign[j] * a.Data[i*small+j]
			if rows < cols {
				v[j*cols+i] = x // transposed: [small=rows, big=cols]
			} else {
				v[i*cols+j] = x
			}
		}
	}
}
