package configs

import (
	"fmt"
	"strings"
)

// Initializers are the weight initializer names a config may use (Keras's).
var Initializers = []string{
	"zeros", "ones", "uniform", "normal",
	"glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
	"lecun_uniform", "lecun_normal", "orthogonal",
}

// Optimizers are the optimizer names a config may use.
var Optimizers = []string{"adam", "rmsprop", "sgd", "adagrad", "adadelta", "adamax", "nadam"}

// OptimizerDefaults returns Keras 2.15's defaults for the named optimizer.
func OptimizerDefaults(name string) (Optimizer, bool) {
	switch name {
	case "adam", "adamax", "nadam":
		return Optimizer{Name: name, LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}, true
	case "rmsprop":
		return Optimizer{Name: name, LearningRate: 1e-3, Rho: 0.9, Epsilon: 1e-7}, true
	case "sgd":
		return Optimizer{Name: name, LearningRate: 1e-2}, true
	case "adagrad":
		return Optimizer{Name: name, LearningRate: 1e-3, InitialAccumulator: 0.1, Epsilon: 1e-7}, true
	case "adadelta":
		return Optimizer{Name: name, LearningRate: 1e-3, Rho: 0.95, Epsilon: 1e-7}, true
	}
	return Optimizer{}, false
}

func oneOf(key, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errf(key, "unknown value %q (want %s)", v, orList(allowed))
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Resolve fills defaults that depend on other keys (per-layer initializers,
// merge mode, optimizer hyper-parameters) and validates every value.
func (c *Config) Resolve() error {
	d := &c.Data
	switch {
	case d.NumWords < 0:
		return errf("data.num_words", "must be ≥ 0 (0 keeps every word), got %d", d.NumWords)
	case d.SkipTop < 0:
		return errf("data.skip_top", "must be ≥ 0, got %d", d.SkipTop)
	case d.MaxLen <= 0:
		return errf("data.maxlen", "must be > 0, got %d", d.MaxLen)
	case d.IndexFrom < 0:
		return errf("data.index_from", "must be ≥ 0, got %d", d.IndexFrom)
	case d.Limit < 0:
		return errf("data.limit", "must be ≥ 0 (0 = all rows), got %d", d.Limit)
	case d.Dir == "":
		return errf("data.dir", "must not be empty")
	}
	if err := oneOf("data.padding", d.Padding, []string{"pre", "post"}); err != nil {
		return err
	}
	if err := oneOf("data.truncating", d.Truncating, []string{"pre", "post"}); err != nil {
		return err
	}

	m := &c.Model
	if m.Embedding.Dim <= 0 {
		return errf("model.embedding.dim", "must be > 0, got %d", m.Embedding.Dim)
	}
	if err := oneOf("model.embedding.initializer", m.Embedding.Initializer, Initializers); err != nil {
		return err
	}
	if len(m.Layers) == 0 {
		return errf("model.layers", "at least one layer is needed, ending in a dense layer")
	}
	seq := true // the embedding emits a sequence
	for i := range m.Layers {
		l := &m.Layers[i]
		key := fmt.Sprintf("model.layers[%d]", i)
		if l.Units <= 0 {
			return errf(key+".units", "must be > 0, got %d", l.Units)
		}
		switch l.Type {
		case "lstm":
			if !seq {
				return errf(key+".type", "an LSTM needs a sequence, but the layer before it has return_sequences false")
			}
			seq = l.ReturnSequences
			if l.MergeMode == "" {
				l.MergeMode = "concat"
			}
			if l.KernelInitializer == "" {
				l.KernelInitializer = "glorot_uniform"
			}
			if l.RecurrentInitializer == "" {
				l.RecurrentInitializer = "orthogonal"
			}
			if l.BiasInitializer == "" {
				l.BiasInitializer = "zeros"
			}
			if l.UnitForgetBias == nil {
				t := true
				l.UnitForgetBias = &t
			}
			if err := oneOf(key+".merge_mode", l.MergeMode, []string{"concat", "sum", "mul", "ave"}); err != nil {
				return err
			}
			if l.RecurrentDropout < 0 || l.RecurrentDropout >= 1 {
				return errf(key+".recurrent_dropout", "must be in [0, 1), got %g", l.RecurrentDropout)
			}
			if l.Activation != "" {
				return errf(key+".activation", "LSTM activations are fixed (tanh, sigmoid); remove the key")
			}
			for _, ik := range []struct{ k, v string }{
				{".kernel_initializer", l.KernelInitializer},
				{".recurrent_initializer", l.RecurrentInitializer},
				{".bias_initializer", l.BiasInitializer},
			} {
				if err := oneOf(key+ik.k, ik.v, Initializers); err != nil {
					return err
				}
			}
		case "dense":
			if seq {
				return errf(key+".type", "a dense layer needs a vector: set return_sequences false on the LSTM before it")
			}
			if l.Activation == "" {
				l.Activation = "sigmoid"
			}
			if l.KernelInitializer == "" {
				l.KernelInitializer = "glorot_uniform"
			}
			if l.BiasInitializer == "" {
				l.BiasInitializer = "zeros"
			}
			if err := oneOf(key+".activation", l.Activation, []string{"sigmoid", "linear", "relu", "tanh", "softmax"}); err != nil {
				return err
			}
			for _, ik := range []struct{ k, v string }{
				{".kernel_initializer", l.KernelInitializer},
				{".bias_initializer", l.BiasInitializer},
			} {
				if err := oneOf(key+ik.k, ik.v, Initializers); err != nil {
					return err
				}
			}
			if l.Bidirectional || l.ReturnSequences || l.RecurrentDropout != 0 || l.MergeMode != "" ||
				l.RecurrentInitializer != "" || l.UnitForgetBias != nil {
				return errf(key, "a dense layer takes only type, units, activation, kernel_initializer and bias_initializer")
			}
		default:
			return errf(key+".type", "unknown value %q (want lstm or dense)", l.Type)
		}
	}
	last := m.Layers[len(m.Layers)-1]
	if last.Type != "dense" {
		return errf(fmt.Sprintf("model.layers[%d]", len(m.Layers)-1), "the last layer must be dense (the classifier head)")
	}
	switch {
	case last.Activation == "sigmoid" && last.Units != 1:
		return errf(fmt.Sprintf("model.layers[%d].units", len(m.Layers)-1), "a sigmoid head has 1 unit, got %d", last.Units)
	case last.Activation == "softmax" && last.Units != 2:
		return errf(fmt.Sprintf("model.layers[%d].units", len(m.Layers)-1), "a softmax head has 2 units (negative, positive), got %d", last.Units)
	case last.Activation != "sigmoid" && last.Activation != "softmax":
		return errf(fmt.Sprintf("model.layers[%d].activation", len(m.Layers)-1), "the head must be sigmoid or softmax, got %q", last.Activation)
	}

	t := &c.Train
	o := &t.Optimizer
	def, ok := OptimizerDefaults(o.Name)
	if !ok {
		return oneOf("train.optimizer.name", o.Name, Optimizers)
	}
	fill := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	fill(&o.LearningRate, def.LearningRate)
	fill(&o.Beta1, def.Beta1)
	fill(&o.Beta2, def.Beta2)
	fill(&o.Epsilon, def.Epsilon)
	fill(&o.Rho, def.Rho)
	fill(&o.InitialAccumulator, def.InitialAccumulator)
	switch {
	case o.LearningRate < 0:
		return errf("train.optimizer.learning_rate", "must be > 0, got %g", o.LearningRate)
	case o.Beta1 < 0 || o.Beta1 >= 1:
		return errf("train.optimizer.beta_1", "must be in [0, 1), got %g", o.Beta1)
	case o.Beta2 < 0 || o.Beta2 >= 1:
		return errf("train.optimizer.beta_2", "must be in [0, 1), got %g", o.Beta2)
	case o.Rho < 0 || o.Rho >= 1:
		return errf("train.optimizer.rho", "must be in [0, 1), got %g", o.Rho)
	case o.Momentum < 0 || o.Momentum >= 1:
		return errf("train.optimizer.momentum", "must be in [0, 1), got %g", o.Momentum)
	case o.Epsilon < 0:
		return errf("train.optimizer.epsilon", "must be ≥ 0, got %g", o.Epsilon)
	case o.Nesterov && o.Name != "sgd":
		return errf("train.optimizer.nesterov", "applies to sgd only")
	case t.BatchSize <= 0:
		return errf("train.batch_size", "must be > 0, got %d", t.BatchSize)
	case t.Epochs <= 0:
		return errf("train.epochs", "must be > 0, got %d", t.Epochs)
	case t.ValidationSplit < 0 || t.ValidationSplit >= 1:
		return errf("train.validation_split", "must be in [0, 1), got %g", t.ValidationSplit)
	}
	if t.Shuffle == nil {
		s := true
		t.Shuffle = &s
	}
	return nil
}
