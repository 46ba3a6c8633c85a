package train

import (
	"errors"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/birnn/birnn/configs"
)

// step applies one step of o with gradient g to w and returns the weights.
func step(t *testing.T, o configs.Optimizer, w, g []float64) []float64 {
	t.Helper()
	opt, err := NewOptimizer(o)
	if err != nil {
		t.Fatal(err)
	}
	p := newFake(w, g)
	if err := opt.Step([]G.ValueGrad{p}); err != nil {
		t.Fatal(err)
	}
	return p.w.Data().([]float64)
}

// Keras 2.15 apply_gradients by hand: clip the gradient, decay the weight
// (w −= lr·wd·w), then the rule. w = [0.5, −1.5], g = [0.3, −0.4] (norm 0.5).
func TestOptimizerClippingAndDecay(t *testing.T) {
	w, g := []float64{0.5, -1.5}, []float64{0.3, -0.4}
	sqrt := math.Sqrt
	for _, tc := range []struct {
		name string
		o    configs.Optimizer
		want []float64
	}{
		// clip_by_norm(g, 0.25) = g·0.25/0.5 = [0.15, −0.2]; w −= 0.01·g
		{"clipnorm", configs.Optimizer{Name: "sgd", ClipNorm: 0.25}, []float64{0.4985, -1.498}},
		// a norm under clipnorm leaves g alone
		{"clipnorm-loose", configs.Optimizer{Name: "sgd", ClipNorm: 1}, []float64{0.497, -1.496}},
		// clipvalue 0.35: [0.3, −0.35]
		{"clipvalue", configs.Optimizer{Name: "sgd", ClipValue: 0.35}, []float64{0.497, -1.4965}},
		// global norm of the one weight is 0.5: same as clipnorm
		{"global_clipnorm", configs.Optimizer{Name: "sgd", GlobalClipNorm: 0.25}, []float64{0.4985, -1.498}},
		// w −= 0.01·0.1·w first: [0.4995, −1.4985]; then −0.01·g
		{"sgd-weight_decay", configs.Optimizer{Name: "sgd", WeightDecay: 0.1}, []float64{0.4965, -1.4945}},
		// adamw: decay 1e-3·0.004·w, then Adam's first step m·α/(√v+ε)
		{"adamw", configs.Optimizer{Name: "adamw"}, func() []float64 {
			a := 1e-3 * sqrt(1-0.999) / (1 - 0.9)
			out := make([]float64, 2)
			for i := range w {
				wi := w[i] - w[i]*0.004*1e-3
				m, v := 0.1*g[i], 0.001*g[i]*g[i]
				out[i] = wi - m*a/(sqrt(v)+1e-7)
			}
			return out
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			AllClose(t, tc.name, step(t, tc.o, w, g), tc.want, 1e-9, 1e-6)
		})
	}
	// Several clips at once are refused, as Keras refuses them.
	if _, err := NewOptimizer(configs.Optimizer{Name: "adam", ClipNorm: 1, ClipValue: 1}); !errors.Is(err, ErrOptimizer) {
		t.Errorf("clipnorm and clipvalue: %v", err)
	}
	if _, err := NewOptimizer(configs.Optimizer{Name: "adam", WeightDecay: -1}); !errors.Is(err, ErrOptimizer) {
		t.Errorf("negative weight decay: %v", err)
	}
}

// Two weights: the global norm is over both. g1 = [3], g2 = [4]: norm 5,
// global_clipnorm 1 scales both by 1/5.
func TestGlobalClipNormSpansWeights(t *testing.T) {
	opt, _ := NewOptimizer(configs.Optimizer{Name: "sgd", LearningRate: 1, GlobalClipNorm: 1})
	a, b := newFake([]float64{0}, []float64{3}), newFake([]float64{0}, []float64{4})
	b.name = "b"
	if err := opt.Step([]G.ValueGrad{a, b}); err != nil {
		t.Fatal(err)
	}
	AllClose(t, "a", a.w.Data().([]float64), []float64{-0.6}, 1e-12, 0)
	AllClose(t, "b", b.w.Data().([]float64), []float64{-0.8}, 1e-12, 0)
}

// SetLearningRate and a schedule change the rate of the following steps;
// the rate survives a checkpoint (State/Restore).
func TestOptimizerLearningRate(t *testing.T) {
	opt, _ := NewOptimizer(configs.Optimizer{Name: "sgd", LearningRate: 0.1})
	p := newFake([]float64{1}, []float64{1})
	opt.SetLearningRate(0.01)
	opt.Step([]G.ValueGrad{p})
	AllClose(t, "lr 0.01", p.w.Data().([]float64), []float64{0.99}, 1e-12, 0)
	b, _ := NewOptimizer(configs.Optimizer{Name: "sgd", LearningRate: 0.1})
	if err := b.Restore(opt.Slots(), opt.State()); err != nil || b.LearningRate() != 0.01 {
		t.Errorf("restored lr %g (%v), want 0.01", b.LearningRate(), err)
	}
	var seen []int64
	opt.schedule = func(s int64) float64 { seen = append(seen, s); return 0.5 }
	copy(p.g.Data().([]float64), []float64{1})
	opt.Step([]G.ValueGrad{p})
	AllClose(t, "scheduled", p.w.Data().([]float64), []float64{0.49}, 1e-12, 0)
	if len(seen) != 1 || seen[0] != 1 {
		t.Errorf("schedule asked for steps %v, want [1] (the iterations done before the step)", seen)
	}
}
