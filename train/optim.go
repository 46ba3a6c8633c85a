package train

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	G "gorgonia.org/gorgonia"
)

// ErrOptimizer is wrapped by errors about an unknown or ill-configured
// optimizer.
var ErrOptimizer = errors.New("train: invalid optimizer")

// Optimizer is a gorgonia.Solver with the update rules of Keras 2.15's
// optimizers (tf.keras.optimizers, TF 2.15), whose state can be saved in a
// checkpoint and restored.
//
// Every weight's gradient is applied densely, including the embedding's
// (Keras applies an embedding gradient as sparse slices; for SGD, Adagrad
// and the moving averages of RMSprop, Adam, Adamax and Nadam the two agree
// except where a word occurs twice in a batch).
type Optimizer struct {
	cfg   configs.Optimizer
	iters int64 // Keras optimizer.iterations: steps applied so far
	// lr is the learning rate of the next step: cfg.LearningRate, changed by
	// SetLearningRate (ReduceLROnPlateau) or recomputed each step by
	// schedule (a function of the iterations before the step, as Keras
	// evaluates a LearningRateSchedule).
	lr       float64
	schedule func(step int64) float64

	// slot values by "<slot>/<param>", in creation order
	slots map[string][]float32
	order []string

	uProduct float64 // Nadam's running product of momentum schedules
}

// slotNames lists each optimizer's per-weight state.
var slotNames = map[string][]string{
	"sgd":      {"m"},
	"adam":     {"m", "v"},
	"adamw":    {"m", "v"},
	"rmsprop":  {"v", "mom"},
	"adagrad":  {"acc"},
	"adadelta": {"acc_grad", "acc_delta"},
	"adamax":   {"m", "u"},
	"nadam":    {"m", "v"},
}

// OptimizerNames returns the optimizers a configuration may name.
func OptimizerNames() []string {
	return []string{"adam", "adamw", "rmsprop", "sgd", "adagrad", "adadelta", "adamax", "nadam"}
}

// OptimizerDefaults returns Keras 2.15's hyper-parameters for the named
// optimizer; false for a name train does not implement.
func OptimizerDefaults(name string) (configs.Optimizer, bool) {
	switch name {
	case "adam", "adamax", "nadam":
		return configs.Optimizer{Name: name, LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}, true
	case "adamw":
		return configs.Optimizer{Name: name, LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, WeightDecay: 0.004}, true
	case "rmsprop":
		return configs.Optimizer{Name: name, LearningRate: 1e-3, Rho: 0.9, Epsilon: 1e-7}, true
	case "sgd":
		return configs.Optimizer{Name: name, LearningRate: 1e-2}, true
	case "adagrad":
		return configs.Optimizer{Name: name, LearningRate: 1e-3, InitialAccumulator: 0.1, Epsilon: 1e-7}, true
	case "adadelta":
		return configs.Optimizer{Name: name, LearningRate: 1e-3, Rho: 0.95, Epsilon: 1e-7}, true
	}
	return configs.Optimizer{}, false
}

// NewOptimizer returns the optimizer o names with its hyper-parameters; zero
// fields take Keras 2.15's defaults (OptimizerDefaults). Unknown names and
// out-of-range values are *configs.Error values naming the key (for
// example train.optimizer.beta_1) that also wrap ErrOptimizer.
func NewOptimizer(o configs.Optimizer) (*Optimizer, error) {
	o, err := resolveOptimizer(o)
	if err != nil {
		return nil, err
	}
	return &Optimizer{cfg: o, lr: o.LearningRate, slots: map[string][]float32{}, uProduct: 1}, nil
}

// optimizerError is a configuration error of key train.optimizer.<key>.
type optimizerError struct{ key *configs.Error }

func (e *optimizerError) Error() string   { return e.key.Error() }
func (e *optimizerError) Unwrap() []error { return []error{e.key, ErrOptimizer} }

func optErr(key, format string, args ...any) error {
	return &optimizerError{&configs.Error{Key: "train.optimizer." + key, Msg: fmt.Sprintf(format, args...)}}
}

// resolveOptimizer fills o's zero hyper-parameters with Keras's defaults
// and checks every value.
func resolveOptimizer(o configs.Optimizer) (configs.Optimizer, error) {
	def, ok := OptimizerDefaults(o.Name)
	if _, known := slotNames[o.Name]; !ok || !known {
		return o, optErr("name", "unknown optimizer %q (want %s)", o.Name, strings.Join(OptimizerNames(), ", "))
	}
	fill := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&o.LearningRate, def.LearningRate)
	fill(&o.Beta1, def.Beta1)
	fill(&o.Beta2, def.Beta2)
	fill(&o.Epsilon, def.Epsilon)
	fill(&o.Rho, def.Rho)
	fill(&o.InitialAccumulator, def.InitialAccumulator)
	fill(&o.WeightDecay, def.WeightDecay)
	clips := 0
	for _, c := range []float64{o.ClipNorm, o.GlobalClipNorm, o.ClipValue} {
		if c != 0 {
			clips++
		}
	}
	switch {
	case o.LearningRate <= 0:
		return o, optErr("learning_rate", "must be > 0, got %g", o.LearningRate)
	case o.Momentum < 0 || o.Momentum >= 1:
		return o, optErr("momentum", "must be in [0, 1), got %g", o.Momentum)
	case o.Beta1 < 0 || o.Beta1 >= 1:
		return o, optErr("beta_1", "must be in [0, 1), got %g", o.Beta1)
	case o.Beta2 < 0 || o.Beta2 >= 1:
		return o, optErr("beta_2", "must be in [0, 1), got %g", o.Beta2)
	case o.Rho < 0 || o.Rho >= 1:
		return o, optErr("rho", "must be in [0, 1), got %g", o.Rho)
	case o.Epsilon < 0:
		return o, optErr("epsilon", "must be ≥ 0, got %g", o.Epsilon)
	case o.Nesterov && o.Name != "sgd":
		return o, optErr("nesterov", "applies to sgd only")
	case o.WeightDecay < 0:
		return o, optErr("weight_decay", "must be ≥ 0, got %g", o.WeightDecay)
	case o.ClipNorm < 0 || o.GlobalClipNorm < 0 || o.ClipValue < 0:
		return o, optErr("clipnorm", "clipnorm, global_clipnorm and clipvalue must be ≥ 0")
	case clips > 1:
		return o, optErr("clipnorm", "set at most one of clipnorm, global_clipnorm and clipvalue (Keras refuses several)")
	}
	return o, nil
}

// Resolve checks a run configuration and fills what depends on other keys,
// each part by the package that owns it: the data and train settings
// (cfg.Validate), the layers (model.Resolve) and the optimizer's Keras
// defaults (OptimizerDefaults). Errors name the key (*configs.Error or
// *model.SpecError).
func Resolve(cfg *configs.Config) error {
	if cfg == nil {
		return errors.New("train: no configuration")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	// model.embedding.dropout is a first dropout layer, written out so
	// that the resolved configuration (and a re-resolved one) has it once.
	if p := cfg.Model.Embedding.Dropout; p != 0 {
		if !(p > 0 && p < 1) {
			return &configs.Error{Key: "model.embedding.dropout", Msg: fmt.Sprintf("must be in [0, 1), got %g", p)}
		}
		cfg.Model.Layers = append([]configs.Layer{{Type: model.KindDropout, Rate: p}}, cfg.Model.Layers...)
		cfg.Model.Embedding.Dropout = 0
	}
	if err := model.Resolve(cfg); err != nil {
		return err
	}
	o, err := resolveOptimizer(cfg.Train.Optimizer)
	if err != nil {
		return err
	}
	cfg.Train.Optimizer = o
	if err := checkCallbacks(cfg.Train); err != nil {
		return err
	}
	if cfg.Train.Shuffle == nil {
		s := true
		cfg.Train.Shuffle = &s
	}
	return nil
}

// Config returns the resolved hyper-parameters.
func (o *Optimizer) Config() configs.Optimizer { return o.cfg }

// Iterations returns the number of steps applied (Keras optimizer.iterations).
func (o *Optimizer) Iterations() int64 { return o.iters }

// LearningRate is the learning rate of the last step (before any step:
// of the first one).
func (o *Optimizer) LearningRate() float64 { return o.lr }

// SetLearningRate sets the learning rate of the next steps, as Keras
// callbacks assign optimizer.lr.
func (o *Optimizer) SetLearningRate(lr float64) { o.lr = lr }

func (o *Optimizer) slot(kind, name string, n int, init float32) []float32 {
	key := o.cfg.Name + "." + kind + "/" + name
	s, ok := o.slots[key]
	if !ok {
		s = make([]float32, n)
		if init != 0 {
			for i := range s {
				s[i] = init
			}
		}
		o.slots[key] = s
		o.order = append(o.order, key)
	}
	if len(s) != n {
		panic(fmt.Sprintf("train: optimizer slot %s has %d values, weight has %d", key, len(s), n))
	}
	return s
}

type named interface{ Name() string }

// Step applies one update to every weight from its gradient (Keras
// apply_gradients) and then zeroes the gradient, as gorgonia's solvers do
// (its tape machine accumulates gradients across runs). Weights are updated
// in the order given; the state is keyed by node name, so graphs of
// different batch shapes share it.
//
// Before the updates, as Keras 2.15's apply_gradients: the learning rate
// of the step is the schedule's (if any) at the iterations done so far;
// gradients are clipped (clipnorm: each to norm ≤ clipnorm, as
// tf.clip_by_norm; global_clipnorm: all scaled by clip/max(global norm,
// clip), as tf.clip_by_global_norm; clipvalue: each value into ±clipvalue)
// and every weight decays by w −= lr·weight_decay·w.
func (o *Optimizer) Step(params []G.ValueGrad) error {
	if o.schedule != nil {
		o.lr = o.schedule(o.iters)
	}
	o.iters++
	t := float64(o.iters)
	if o.cfg.Name == "nadam" {
		o.uProduct *= o.cfg.Beta1 * (1 - 0.5*math.Pow(0.96, t))
	}
	type pair struct {
		name string
		w, g any
		gv   G.Value
	}
	pairs := make([]pair, len(params))
	var global float64
	for i, p := range params {
		name := strconv.Itoa(i)
		if nm, ok := p.(named); ok {
			name = nm.Name()
		}
		gv, err := p.Grad()
		if err != nil {
			return fmt.Errorf("train: optimizer: %s: %w", name, err)
		}
		w, g := p.Value().Data(), gv.Data()
		ok := false
		switch w := w.(type) {
		case []float32:
			g, isT := g.([]float32)
			ok = isT && len(g) == len(w)
			global += sumSquares(g)
		case []float64:
			g, isT := g.([]float64)
			ok = isT && len(g) == len(w)
			global += sumSquares(g)
		default:
			return fmt.Errorf("train: optimizer: %s: unsupported weight type %T", name, w)
		}
		if !ok {
			return fmt.Errorf("train: optimizer: %s: gradient does not match the weight", name)
		}
		pairs[i] = pair{name, w, g, gv}
	}
	globalScale := 1.0
	if c := o.cfg.GlobalClipNorm; c > 0 {
		globalScale = c / math.Max(math.Sqrt(global), c)
	}
	for _, p := range pairs {
		switch w := p.w.(type) {
		case []float32:
			clipDecayUpdate(o, p.name, w, p.g.([]float32), globalScale)
		case []float64:
			clipDecayUpdate(o, p.name, w, p.g.([]float64), globalScale)
		}
		// gorgonia adds each run's gradient into the weight's dual value;
		// like its own solvers, clear it once applied.
		if z, ok := p.gv.(interface{ Zero() }); ok {
			z.Zero()
		}
	}
	return nil
}

func sumSquares[T float32 | float64](g []T) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return s
}

// clipDecayUpdate clips g in place, decays w and applies the update rule.
func clipDecayUpdate[T float32 | float64](o *Optimizer, name string, w, g []T, globalScale float64) {
	c := o.cfg
	scale := globalScale
	if c.ClipNorm > 0 {
		if n := math.Sqrt(sumSquares(g)); n > c.ClipNorm {
			scale = c.ClipNorm / n
		}
	}
	if scale != 1 {
		for i := range g {
			g[i] = T(float64(g[i]) * scale)
		}
	}
	if cv := c.ClipValue; cv > 0 {
		for i := range g {
			g[i] = T(math.Max(-cv, math.Min(cv, float64(g[i]))))
		}
	}
	if wd := c.WeightDecay; wd > 0 {
		for i := range w {
			w[i] -= T(float64(w[i]) * wd * o.lr)
		}
	}
	update(o, name, w, g)
}

// update applies the Keras rule of o to one weight. Arithmetic is float64
// per element; state is kept in float32 like Keras's slot variables.
func update[T float32 | float64](o *Optimizer, name string, w, g []T) {
	c := o.cfg
	lr, eps := o.lr, c.Epsilon
	t := float64(o.iters)
	n := len(w)
	switch c.Name {
	case "sgd":
		if c.Momentum == 0 {
			for i := range w {
				w[i] -= T(lr * float64(g[i]))
			}
			return
		}
		m := o.slot("m", name, n, 0)
		for i := range w {
			gi := float64(g[i])
			mi := c.Momentum*float64(m[i]) - lr*gi
			m[i] = float32(mi)
			if c.Nesterov {
				w[i] += T(c.Momentum*mi - lr*gi)
			} else {
				w[i] += T(mi)
			}
		}
	case "adam", "adamw":
		m, v := o.slot("m", name, n, 0), o.slot("v", name, n, 0)
		alpha := lr * math.Sqrt(1-math.Pow(c.Beta2, t)) / (1 - math.Pow(c.Beta1, t))
		for i := range w {
			gi := float64(g[i])
			mi := float64(m[i]) + (gi-float64(m[i]))*(1-c.Beta1)
			vi := float64(v[i]) + (gi*gi-float64(v[i]))*(1-c.Beta2)
			m[i], v[i] = float32(mi), float32(vi)
			w[i] -= T(mi * alpha / (math.Sqrt(vi) + eps))
		}
	case "rmsprop":
		v := o.slot("v", name, n, 0)
		var mom []float32
		if c.Momentum > 0 {
			mom = o.slot("mom", name, n, 0)
		}
		for i := range w {
			gi := float64(g[i])
			vi := c.Rho*float64(v[i]) + (1-c.Rho)*gi*gi
			v[i] = float32(vi)
			inc := lr * gi / math.Sqrt(vi+eps)
			if mom != nil {
				inc += c.Momentum * float64(mom[i])
				mom[i] = float32(inc)
			}
			w[i] -= T(inc)
		}
	case "adagrad":
		acc := o.slot("acc", name, n, float32(c.InitialAccumulator))
		for i := range w {
			gi := float64(g[i])
			a := float64(acc[i]) + gi*gi
			acc[i] = float32(a)
			w[i] -= T(lr * gi / math.Sqrt(a+eps))
		}
	case "adadelta":
		ag, ad := o.slot("acc_grad", name, n, 0), o.slot("acc_delta", name, n, 0)
		for i := range w {
			gi := float64(g[i])
			a := c.Rho*float64(ag[i]) + (1-c.Rho)*gi*gi
			ag[i] = float32(a)
			delta := -math.Sqrt(float64(ad[i])+eps) * gi / math.Sqrt(a+eps)
			ad[i] = float32(c.Rho*float64(ad[i]) + (1-c.Rho)*delta*delta)
			w[i] += T(lr * delta)
		}
	case "adamax":
		m, u := o.slot("m", name, n, 0), o.slot("u", name, n, 0)
		b1p := math.Pow(c.Beta1, t)
		for i := range w {
			gi := float64(g[i])
			mi := float64(m[i]) + (gi-float64(m[i]))*(1-c.Beta1)
			ui := math.Max(c.Beta2*float64(u[i]), math.Abs(gi))
			m[i], u[i] = float32(mi), float32(ui)
			w[i] -= T(lr * mi / ((1 - b1p) * (ui + eps)))
		}
	case "nadam":
		m, v := o.slot("m", name, n, 0), o.slot("v", name, n, 0)
		ut := c.Beta1 * (1 - 0.5*math.Pow(0.96, t))
		ut1 := c.Beta1 * (1 - 0.5*math.Pow(0.96, t+1))
		up, up1 := o.uProduct, o.uProduct*ut1
		b2p := math.Pow(c.Beta2, t)
		for i := range w {
			gi := float64(g[i])
			mi := float64(m[i]) + (gi-float64(m[i]))*(1-c.Beta1)
			vi := float64(v[i]) + (gi*gi-float64(v[i]))*(1-c.Beta2)
			m[i], v[i] = float32(mi), float32(vi)
			mhat := ut1*mi/(1-up1) + (1-ut)*gi/(1-up)
			vhat := vi / (1 - b2p)
			w[i] -= T(mhat * lr / (math.Sqrt(vhat) + eps))
		}
	}
}

// Slots returns the optimizer state as named tensors for a checkpoint
// ("adam.m/lstm_0.W#0" …), in a fixed order.
func (o *Optimizer) Slots() []*model.Param {
	out := make([]*model.Param, 0, len(o.order))
	for _, k := range o.order {
		s := o.slots[k]
		out = append(out, &model.Param{Name: k, Shape: []int{len(s)}, Data: append([]float32(nil), s...)})
	}
	return out
}

// State returns the scalar state (iterations, Nadam's product) as strings
// for a checkpoint's State map.
func (o *Optimizer) State() map[string]string {
	return map[string]string{
		"optimizer.name":       o.cfg.Name,
		"optimizer.iterations": strconv.FormatInt(o.iters, 10),
		"optimizer.u_product":  strconv.FormatFloat(o.uProduct, 'g', -1, 64),
		"optimizer.lr":         strconv.FormatFloat(o.lr, 'g', -1, 64),
	}
}

// Restore loads state saved by Slots and State. A checkpoint from another
// optimizer is an error wrapping ErrOptimizer.
func (o *Optimizer) Restore(slots []*model.Param, state map[string]string) error {
	if n := state["optimizer.name"]; n != "" && n != o.cfg.Name {
		return fmt.Errorf("%w: checkpoint was trained with %s, config says %s", ErrOptimizer, n, o.cfg.Name)
	}
	if s := state["optimizer.iterations"]; s != "" {
		it, err := strconv.ParseInt(s, 10, 64)
		if err != nil || it < 0 {
			return fmt.Errorf("%w: bad iteration count %q in checkpoint", ErrOptimizer, s)
		}
		o.iters = it
	}
	if s := state["optimizer.u_product"]; s != "" {
		u, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%w: bad u_product %q in checkpoint", ErrOptimizer, s)
		}
		o.uProduct = u
	}
	if s := state["optimizer.lr"]; s != "" {
		lr, err := strconv.ParseFloat(s, 64)
		if err != nil || !(lr > 0) {
			return fmt.Errorf("%w: bad learning rate %q in checkpoint", ErrOptimizer, s)
		}
		o.lr = lr
	}
	o.slots = map[string][]float32{}
	o.order = o.order[:0]
	for _, p := range slots {
		o.slots[p.Name] = append([]float32(nil), p.Data...)
		o.order = append(o.order, p.Name)
	}
	return nil
}
