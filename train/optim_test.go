package train

import (
	"errors"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// fakeParam is a weight with a fixed gradient for optimizer tests.
type fakeParam struct {
	name string
	w, g *tensor.Dense
}

func (p *fakeParam) Name() string           { return p.name }
func (p *fakeParam) Value() G.Value         { return p.w }
func (p *fakeParam) Grad() (G.Value, error) { return p.g, nil }
func newFake(w, g []float64) *fakeParam {
	return &fakeParam{name: "w", w: dense(append([]float64(nil), w...), len(w)), g: dense(append([]float64(nil), g...), len(g))}
}

// TestOptimizersFirstSteps applies two steps with gradients g1 then g2 to
// w = [0.5, −1.5] and compares with values worked out by hand from the
// update formulas of the TF 2.15 Keras optimizers (written out per case).
func TestOptimizersFirstSteps(t *testing.T) {
	w0 := []float64{0.5, -1.5}
	g1 := []float64{0.2, -0.4}
	g2 := []float64{-0.1, 0.3}
	sqrt := math.Sqrt
	cases := []struct {
		name string
		cfg  configs.Optimizer
		want func() [][]float64 // weights after step 1 and step 2
	}{
		{"sgd", configs.Optimizer{Name: "sgd"}, func() [][]float64 {
			// w −= 0.01·g
			return [][]float64{{0.498, -1.496}, {0.499, -1.499}}
		}},
		{"sgd-momentum", configs.Optimizer{Name: "sgd", Momentum: 0.9}, func() [][]float64 {
			// m1 = −0.01·g1 = [−0.002, 0.004]; w1 = w0 + m1
			// m2 = 0.9·m1 − 0.01·g2 = [−0.0008, 0.0006]; w2 = w1 + m2
			return [][]float64{{0.498, -1.496}, {0.4972, -1.4954}}
		}},
		{"sgd-nesterov", configs.Optimizer{Name: "sgd", Momentum: 0.9, Nesterov: true}, func() [][]float64 {
			// w1 = w0 + 0.9·m1 − 0.01·g1 = w0 + [−0.0038, 0.0076]
			// w2 = w1 + 0.9·m2 − 0.01·g2 = w1 + [0.00028, −0.00246]
			return [][]float64{{0.4962, -1.4924}, {0.49648, -1.49486}}
		}},
		{"adam", configs.Optimizer{Name: "adam"}, func() [][]float64 {
			// step 1: m = 0.1·g1, v = 0.001·g1², α = 1e-3·√(1−0.999)/(1−0.9)
			// w −= m·α/(√v + 1e-7) ≈ 1e-3·sign(g1) (a bias-corrected first step)
			a1 := 1e-3 * sqrt(1-0.999) / (1 - 0.9)
			m1 := []float64{0.02, -0.04}
			v1 := []float64{0.001 * 0.04, 0.001 * 0.16}
			w1 := []float64{0.5 - m1[0]*a1/(sqrt(v1[0])+1e-7), -1.5 - m1[1]*a1/(sqrt(v1[1])+1e-7)}
			a2 := 1e-3 * sqrt(1-0.999*0.999) / (1 - 0.9*0.9)
			m2 := []float64{0.9*0.02 + 0.1*-0.1, 0.9*-0.04 + 0.1*0.3}
			v2 := []float64{0.999*v1[0] + 0.001*0.01, 0.999*v1[1] + 0.001*0.09}
			w2 := []float64{w1[0] - m2[0]*a2/(sqrt(v2[0])+1e-7), w1[1] - m2[1]*a2/(sqrt(v2[1])+1e-7)}
			return [][]float64{w1, w2}
		}},
		{"rmsprop", configs.Optimizer{Name: "rmsprop"}, func() [][]float64 {
			// v = 0.9·v + 0.1·g²; w −= 1e-3·g/√(v + 1e-7)
			v1 := []float64{0.1 * 0.04, 0.1 * 0.16}
			w1 := []float64{0.5 - 1e-3*0.2/sqrt(v1[0]+1e-7), -1.5 + 1e-3*0.4/sqrt(v1[1]+1e-7)}
			v2 := []float64{0.9*v1[0] + 0.1*0.01, 0.9*v1[1] + 0.1*0.09}
			w2 := []float64{w1[0] + 1e-3*0.1/sqrt(v2[0]+1e-7), w1[1] - 1e-3*0.3/sqrt(v2[1]+1e-7)}
			return [][]float64{w1, w2}
		}},
		{"adagrad", configs.Optimizer{Name: "adagrad"}, func() [][]float64 {
			// acc starts at 0.1; acc += g²; w −= 1e-3·g/√(acc + 1e-7)
			a1 := []float64{0.1 + 0.04, 0.1 + 0.16}
			w1 := []float64{0.5 - 1e-3*0.2/sqrt(a1[0]+1e-7), -1.5 + 1e-3*0.4/sqrt(a1[1]+1e-7)}
			a2 := []float64{a1[0] + 0.01, a1[1] + 0.09}
			w2 := []float64{w1[0] + 1e-3*0.1/sqrt(a2[0]+1e-7), w1[1] - 1e-3*0.3/sqrt(a2[1]+1e-7)}
			return [][]float64{w1, w2}
		}},
		{"adadelta", configs.Optimizer{Name: "adadelta"}, func() [][]float64 {
			// ag = 0.95·ag + 0.05·g²; d = −√(ad+ε)·g/√(ag+ε);
			// ad = 0.95·ad + 0.05·d²; w += 1e-3·d
			e := 1e-7
			ag1 := []float64{0.05 * 0.04, 0.05 * 0.16}
			d1 := []float64{-sqrt(e) * 0.2 / sqrt(ag1[0]+e), -sqrt(e) * -0.4 / sqrt(ag1[1]+e)}
			ad1 := []float64{0.05 * d1[0] * d1[0], 0.05 * d1[1] * d1[1]}
			w1 := []float64{0.5 + 1e-3*d1[0], -1.5 + 1e-3*d1[1]}
			ag2 := []float64{0.95*ag1[0] + 0.05*0.01, 0.95*ag1[1] + 0.05*0.09}
			d2 := []float64{-sqrt(ad1[0]+e) * -0.1 / sqrt(ag2[0]+e), -sqrt(ad1[1]+e) * 0.3 / sqrt(ag2[1]+e)}
			w2 := []float64{w1[0] + 1e-3*d2[0], w1[1] + 1e-3*d2[1]}
			return [][]float64{w1, w2}
		}},
		{"adamax", configs.Optimizer{Name: "adamax"}, func() [][]float64 {
			// m = m + (g−m)·0.1; u = max(0.999·u, |g|); w −= 1e-3·m/((1−0.9^t)(u+ε))
			m1 := []float64{0.02, -0.04}
			u1 := []float64{0.2, 0.4}
			w1 := []float64{0.5 - 1e-3*m1[0]/(0.1*(u1[0]+1e-7)), -1.5 - 1e-3*m1[1]/(0.1*(u1[1]+1e-7))}
			m2 := []float64{0.9*0.02 - 0.01, 0.9*-0.04 + 0.03}
			u2 := []float64{0.999 * 0.2, 0.999 * 0.4}
			w2 := []float64{w1[0] - 1e-3*m2[0]/(0.19*(u2[0]+1e-7)), w1[1] - 1e-3*m2[1]/(0.19*(u2[1]+1e-7))}
			return [][]float64{w1, w2}
		}},
		{"nadam", configs.Optimizer{Name: "nadam"}, func() [][]float64 {
			// u_t = 0.9·(1 − 0.5·0.96^t); Π_t = Π u; m̂ = u_{t+1}·m/(1−Π_t·u_{t+1})
			// + (1−u_t)·g/(1−Π_t); v̂ = v/(1−0.999^t); w −= 1e-3·m̂/(√v̂ + ε)
			u := func(t float64) float64 { return 0.9 * (1 - 0.5*math.Pow(0.96, t)) }
			p1 := u(1)
			m1 := []float64{0.02, -0.04}
			v1 := []float64{0.001 * 0.04, 0.001 * 0.16}
			var w1, w2 []float64
			for i, g := range g1 {
				mh := u(2)*m1[i]/(1-p1*u(2)) + (1-u(1))*g/(1-p1)
				vh := v1[i] / (1 - 0.999)
				w1 = append(w1, w0[i]-1e-3*mh/(sqrt(vh)+1e-7))
			}
			p2 := p1 * u(2)
			for i, g := range g2 {
				m := 0.9*m1[i] + 0.1*g
				v := 0.999*v1[i] + 0.001*g*g
				mh := u(3)*m/(1-p2*u(3)) + (1-u(2))*g/(1-p2)
				vh := v / (1 - 0.999*0.999)
				w2 = append(w2, w1[i]-1e-3*mh/(sqrt(vh)+1e-7))
			}
			return [][]float64{w1, w2}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := NewOptimizer(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want()
			p := newFake(w0, g1)
			if err := opt.Step([]G.ValueGrad{p}); err != nil {
				t.Fatal(err)
			}
			// float32 slots: agreement to ~1e-7 relative.
			AllClose(t, "step 1", p.w.Data().([]float64), want[0], 1e-9, 1e-6)
			copy(p.g.Data().([]float64), g2)
			if err := opt.Step([]G.ValueGrad{p}); err != nil {
				t.Fatal(err)
			}
			AllClose(t, "step 2", p.w.Data().([]float64), want[1], 1e-9, 1e-6)
		})
	}
}

func TestOptimizerErrors(t *testing.T) {
	for _, o := range []configs.Optimizer{
		{Name: "lbfgs"},
		{Name: "adam", LearningRate: -1},
		{Name: "sgd", Momentum: 1.5},
		{Name: "rmsprop", Rho: 1},
	} {
		if _, err := NewOptimizer(o); !errors.Is(err, ErrOptimizer) {
			t.Errorf("NewOptimizer(%+v) = %v, want ErrOptimizer", o, err)
		}
	}
}

// TestOptimizerRestore checks that slots and counters saved after one step
// give the same second step in a fresh optimizer.
func TestOptimizerRestore(t *testing.T) {
	for _, name := range OptimizerNames() {
		a, _ := NewOptimizer(configs.Optimizer{Name: name, Momentum: 0.5})
		b, _ := NewOptimizer(configs.Optimizer{Name: name, Momentum: 0.5})
		pa := newFake([]float64{1, 2}, []float64{0.3, -0.2})
		if err := a.Step([]G.ValueGrad{pa}); err != nil {
			t.Fatal(err)
		}
		if err := b.Restore(a.Slots(), a.State()); err != nil {
			t.Fatal(err)
		}
		pb := newFake(pa.w.Data().([]float64), []float64{0.3, -0.2})
		if g := pa.g.Data().([]float64); g[0] != 0 || g[1] != 0 {
			t.Fatalf("%s: gradient not cleared after the step: %v", name, g)
		}
		copy(pa.g.Data().([]float64), []float64{0.3, -0.2})
		a.Step([]G.ValueGrad{pa})
		b.Step([]G.ValueGrad{pb})
		AllClose(t, name, pb.w.Data().([]float64), pa.w.Data().([]float64), 0, 0)
	}
	a, _ := NewOptimizer(configs.Optimizer{Name: "adam"})
	b, _ := NewOptimizer(configs.Optimizer{Name: "rmsprop"})
	if err := b.Restore(a.Slots(), a.State()); !errors.Is(err, ErrOptimizer) {
		t.Errorf("restoring adam state into rmsprop: %v, want ErrOptimizer", err)
	}
}

// TestResolveNamesOptimizerKeys: train owns the optimizer's schema;
// configuration errors name the key, and zero hyper-parameters take
// Keras 2.15's defaults.
func TestResolveNamesOptimizerKeys(t *testing.T) {
	parse := func(yaml string) *configs.Config {
		t.Helper()
		c, err := configs.Parse([]byte(yaml + "model:\n  layers: [{type: lstm, units: 3}, {type: dense, units: 1}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for yaml, key := range map[string]string{
		"train: {optimizer: {name: lbfgs}}\n":                "train.optimizer.name",
		"train: {optimizer: {name: adam, beta_1: 1}}\n":      "train.optimizer.beta_1",
		"train: {optimizer: {name: adam, nesterov: true}}\n": "train.optimizer.nesterov",
		"train: {epochs: 0}\n":                               "train.epochs",
		"data: {maxlen: 0}\n":                                "data.maxlen",
	} {
		err := Resolve(parse(yaml))
		var ce *configs.Error
		var se *model.SpecError
		switch {
		case errors.As(err, &ce):
			if ce.Key != key {
				t.Errorf("%q: key %s, want %s (%v)", yaml, ce.Key, key, err)
			}
		case errors.As(err, &se):
			if se.Key != key {
				t.Errorf("%q: key %s, want %s (%v)", yaml, se.Key, key, err)
			}
		default:
			t.Errorf("%q: %v, want an error naming %s", yaml, err, key)
		}
	}
	c := parse("train: {optimizer: {name: rmsprop}}\n")
	if err := Resolve(c); err != nil {
		t.Fatal(err)
	}
	if o := c.Train.Optimizer; o.LearningRate != 1e-3 || o.Rho != 0.9 || o.Epsilon != 1e-7 || o.Momentum != 0 || c.Train.Shuffle == nil || !*c.Train.Shuffle {
		t.Errorf("resolved %+v, want Keras's RMSprop defaults", o)
	}
}
