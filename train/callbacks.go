package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// callbacks are the Keras callbacks and schedule of a run's train section,
// with Keras 2.15's semantics (keras/callbacks.py, keras/optimizers/
// schedules):
//
//   - lr_schedule cosine: lr(step) = lr0·((1−alpha)·½(1+cos(π·min(step,
//     decay_steps)/decay_steps)) + alpha), evaluated at the optimizer's
//     iterations before each step (CosineDecay).
//   - reduce_lr_on_plateau: after each epoch, an improvement is monitor <
//     best − min_delta (> best + min_delta for an accuracy); in cooldown the
//     counter is held at 0; after patience epochs without one the rate
//     becomes max(lr·factor, min_lr) (if lr > min_lr) and cooldown starts.
//   - early_stopping: an improvement is monitor + min_delta < best (−, >
//     for an accuracy); each epoch without one counts; when the count
//     reaches patience (not in the first epoch) training stops and, with
//     restore_best_weights, the weights of the best epoch come back —
//     only when it stops, as in Keras.
//
// Their state (counters, best values, the best weights) is saved in the
// checkpoint, so a resumed run takes the same decisions.
type callbacks struct {
	cfg configs.Train

	plateauBest                         float64
	plateauWait, cooldownLeft           int
	stopBest                            float64
	stopWait                            int
	stopped                             bool
	best                                []*model.Param // best weights (restore_best_weights)
	haveSchedule, havePlateau, haveStop bool
}

const bestPrefix = "best/"

func validMonitor(key, m string) error {
	switch m {
	case "", "val_loss", "val_accuracy", "loss", "accuracy":
		return nil
	}
	return &configs.Error{Key: key, Msg: fmt.Sprintf("unknown monitor %q (want val_loss, val_accuracy, loss or accuracy)", m)}
}

// checkCallbacks validates the schedule and callback keys of t.
func checkCallbacks(t configs.Train) error {
	s, p, e := t.LRSchedule, t.ReduceLROnPlateau, t.EarlyStopping
	switch {
	case s.Name != "" && s.Name != "cosine":
		return &configs.Error{Key: "train.lr_schedule.name", Msg: fmt.Sprintf("unknown schedule %q (want cosine or \"\")", s.Name)}
	case s.DecaySteps < 0:
		return &configs.Error{Key: "train.lr_schedule.decay_steps", Msg: "must be ≥ 0"}
	case s.Alpha < 0 || s.Alpha > 1:
		return &configs.Error{Key: "train.lr_schedule.alpha", Msg: "must be in [0, 1]"}
	case s.Name != "" && p.Monitor != "":
		return &configs.Error{Key: "train.reduce_lr_on_plateau.monitor", Msg: "cannot change the rate of a schedule (Keras refuses it too)"}
	case p.Monitor != "" && !(p.Factor > 0 && p.Factor < 1):
		return &configs.Error{Key: "train.reduce_lr_on_plateau.factor", Msg: fmt.Sprintf("must be in (0, 1), got %g", p.Factor)}
	case p.Patience < 0 || p.Cooldown < 0 || p.MinLR < 0 || p.MinDelta < 0:
		return &configs.Error{Key: "train.reduce_lr_on_plateau", Msg: "patience, cooldown, min_lr and min_delta must be ≥ 0"}
	case e.Patience < 0 || e.MinDelta < 0:
		return &configs.Error{Key: "train.early_stopping", Msg: "patience and min_delta must be ≥ 0"}
	}
	if err := validMonitor("train.reduce_lr_on_plateau.monitor", p.Monitor); err != nil {
		return err
	}
	return validMonitor("train.early_stopping.monitor", e.Monitor)
}

func newCallbacks(t configs.Train, opt *Optimizer, stepsPerEpoch, epochs int) *callbacks {
	c := &callbacks{cfg: t, plateauBest: math.Inf(1), stopBest: math.Inf(1)}
	if maximize(t.ReduceLROnPlateau.Monitor) {
		c.plateauBest = math.Inf(-1)
	}
	if maximize(t.EarlyStopping.Monitor) {
		c.stopBest = math.Inf(-1)
	}
	c.havePlateau, c.haveStop = t.ReduceLROnPlateau.Monitor != "", t.EarlyStopping.Monitor != ""
	if s := t.LRSchedule; s.Name == "cosine" {
		c.haveSchedule = true
		lr0 := opt.cfg.LearningRate
		decay := s.DecaySteps
		if decay == 0 {
			decay = max(stepsPerEpoch*epochs, 1)
		}
		opt.schedule = func(step int64) float64 { return cosineDecay(lr0, step, decay, s.Alpha) }
	}
	return c
}

// cosineDecay is Keras CosineDecay(lr0, decay, alpha) at step.
func cosineDecay(lr0 float64, step int64, decay int, alpha float64) float64 {
	p := math.Min(float64(step), float64(decay)) / float64(decay)
	return lr0 * ((1-alpha)*0.5*(1+math.Cos(math.Pi*p)) + alpha)
}

// maximize is Keras's mode "auto": max for an accuracy, else min.
func maximize(monitor string) bool { return strings.Contains(monitor, "acc") }

func monitored(name string, loss, acc, valLoss, valAcc float64) (float64, error) {
	v := map[string]float64{"loss": loss, "accuracy": acc, "val_loss": valLoss, "val_accuracy": valAcc}[name]
	if math.IsNaN(v) {
		return v, fmt.Errorf("train: callback monitor %s is not available (no validation rows?)", name)
	}
	return v, nil
}

// epochEnd runs the callbacks after an epoch (0-based) and reports whether
// training stops.
func (c *callbacks) epochEnd(epoch int, m *model.Model, opt *Optimizer, loss, acc, valLoss, valAcc float64) (bool, error) {
	if c.havePlateau {
		p := c.cfg.ReduceLROnPlateau
		cur, err := monitored(p.Monitor, loss, acc, valLoss, valAcc)
		if err != nil {
			return false, err
		}
		better := cur < c.plateauBest-p.MinDelta
		if maximize(p.Monitor) {
			better = cur > c.plateauBest+p.MinDelta
		}
		inCooldown := c.cooldownLeft > 0
		if inCooldown {
			c.cooldownLeft--
			c.plateauWait = 0
		}
		if better {
			c.plateauBest, c.plateauWait = cur, 0
		} else if c.cooldownLeft <= 0 {
			c.plateauWait++
			if c.plateauWait >= p.Patience {
				if lr := opt.LearningRate(); lr > float64(float32(p.MinLR)) {
					opt.SetLearningRate(math.Max(lr*p.Factor, p.MinLR))
					c.cooldownLeft, c.plateauWait = p.Cooldown, 0
				}
			}
		}
	}
	if c.haveStop {
		e := c.cfg.EarlyStopping
		cur, err := monitored(e.Monitor, loss, acc, valLoss, valAcc)
		if err != nil {
			return false, err
		}
		if e.RestoreBestWeights && c.best == nil {
			c.best = copyParams(m.Params)
		}
		c.stopWait++
		better := cur+e.MinDelta < c.stopBest
		if maximize(e.Monitor) {
			better = cur-e.MinDelta > c.stopBest
		}
		if better {
			c.stopBest, c.stopWait = cur, 0
			if e.RestoreBestWeights {
				c.best = copyParams(m.Params)
			}
			return false, nil
		}
		if c.stopWait >= e.Patience && epoch > 0 {
			c.stopped = true
			if e.RestoreBestWeights && c.best != nil {
				for i, p := range m.Params {
					copy(p.Data, c.best[i].Data)
				}
			}
			return true, nil
		}
	}
	return false, nil
}

func copyParams(ps []*model.Param) []*model.Param {
	out := make([]*model.Param, len(ps))
	for i, p := range ps {
		out[i] = &model.Param{Name: bestPrefix + p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)}
	}
	return out
}

// state adds the callbacks' counters to a checkpoint State and returns the
// best weights to save beside the optimizer's slots.
func (c *callbacks) state(st map[string]string) []*model.Param {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	st["callbacks.plateau_best"] = f(c.plateauBest)
	st["callbacks.plateau_wait"] = strconv.Itoa(c.plateauWait)
	st["callbacks.cooldown_left"] = strconv.Itoa(c.cooldownLeft)
	st["callbacks.stop_best"] = f(c.stopBest)
	st["callbacks.stop_wait"] = strconv.Itoa(c.stopWait)
	st["callbacks.stopped"] = strconv.FormatBool(c.stopped)
	return c.best
}

// restore reads what state saved; slots are the checkpoint's extra
// tensors, of which it takes the best/… ones and returns the rest.
func (c *callbacks) restore(st map[string]string, slots []*model.Param) ([]*model.Param, error) {
	var rest []*model.Param
	c.best = nil
	for _, p := range slots {
		if strings.HasPrefix(p.Name, bestPrefix) {
			c.best = append(c.best, p)
		} else {
			rest = append(rest, p)
		}
	}
	if st["callbacks.stopped"] == "" {
		return rest, nil
	}
	var errs [6]error
	c.plateauBest, errs[0] = strconv.ParseFloat(st["callbacks.plateau_best"], 64)
	c.plateauWait, errs[1] = strconv.Atoi(st["callbacks.plateau_wait"])
	c.cooldownLeft, errs[2] = strconv.Atoi(st["callbacks.cooldown_left"])
	c.stopBest, errs[3] = strconv.ParseFloat(st["callbacks.stop_best"], 64)
	c.stopWait, errs[4] = strconv.Atoi(st["callbacks.stop_wait"])
	c.stopped, errs[5] = strconv.ParseBool(st["callbacks.stopped"])
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("bad callback state in checkpoint: %w", err)
		}
	}
	return rest, nil
}
