package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// CosineDecay(1, 4) by hand: ½(1+cos(π·s/4)) for s = 0…4, then held.
func TestCosineDecay(t *testing.T) {
	want := []float64{1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0}
	for s, w := range want {
		if got := cosineDecay(1, int64(s), 4, 0); math.Abs(got-w) > 1e-12 {
			t.Errorf("step %d: %g, want %g", s, got, w)
		}
	}
	// alpha 0.1: 0.1 + 0.9·½(1+cos(π/2)) = 0.55 at step 2, times lr0 2.
	if got := cosineDecay(2, 2, 4, 0.1); math.Abs(got-1.1) > 1e-12 {
		t.Errorf("alpha 0.1, step 2: %g, want 1.1", got)
	}
}

func fakeModel() *model.Model {
	return &model.Model{Params: []*model.Param{{Name: "w", Shape: []int{1}, Data: []float32{0}}}}
}

// ReduceLROnPlateau(patience 2, factor 0.5, cooldown 1) on val_loss 1.0,
// 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, worked out with Keras's rules:
// epochs 2 and 3 do not improve on 0.9 → the rate halves after epoch 3 and
// a cooldown epoch follows (4, its counter held at 0, then counting 1);
// 0.5 improves; 0.6, 0.6 count 1, 2 → halves again.
func TestReduceLROnPlateau(t *testing.T) {
	tc := configs.Defaults().Train
	tc.ReduceLROnPlateau = configs.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 2, MinDelta: 1e-4, Cooldown: 1}
	opt, _ := NewOptimizer(configs.Optimizer{Name: "sgd", LearningRate: 1})
	cb := newCallbacks(tc, opt, 10, 8)
	want := []float64{1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25}
	for e, v := range []float64{1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6} {
		if _, err := cb.epochEnd(e, fakeModel(), opt, 0, 0, v, 0); err != nil {
			t.Fatal(err)
		}
		if opt.LearningRate() != want[e] {
			t.Errorf("after epoch %d: lr %g, want %g", e, opt.LearningRate(), want[e])
		}
	}
	// min_lr floors the rate.
	tc.ReduceLROnPlateau = configs.ReduceLROnPlateau{Monitor: "loss", Factor: 0.1, Patience: 1, MinLR: 0.3}
	opt, _ = NewOptimizer(configs.Optimizer{Name: "sgd", LearningRate: 1})
	cb = newCallbacks(tc, opt, 10, 3)
	for e := range 3 {
		cb.epochEnd(e, fakeModel(), opt, 1, 0, 0, 0)
	}
	if opt.LearningRate() != 0.3 {
		t.Errorf("min_lr: %g, want 0.3", opt.LearningRate())
	}
}

// EarlyStopping(val_accuracy, patience 2, restore_best_weights) on 0.5,
// 0.7, 0.6, 0.65: 0.7 is the best (epoch 1); epochs 2 and 3 do not improve
// → stop after epoch 3 with the weights of epoch 1.
func TestEarlyStopping(t *testing.T) {
	tc := configs.Defaults().Train
	tc.EarlyStopping = configs.EarlyStopping{Monitor: "val_accuracy", Patience: 2, RestoreBestWeights: true}
	opt, _ := NewOptimizer(configs.Optimizer{Name: "sgd"})
	cb := newCallbacks(tc, opt, 10, 10)
	m := fakeModel()
	for e, v := range []float64{0.5, 0.7, 0.6, 0.65} {
		m.Params[0].Data[0] = float32(e + 1) // the weights after epoch e
		stop, err := cb.epochEnd(e, m, opt, 0, 0, 0, v)
		if err != nil {
			t.Fatal(err)
		}
		if stop != (e == 3) {
			t.Fatalf("epoch %d: stop %v", e, stop)
		}
	}
	if m.Params[0].Data[0] != 2 {
		t.Errorf("weights %g after the stop, want 2 (those of epoch 1)", m.Params[0].Data[0])
	}
	// A monitor without values (no validation rows) is an error.
	cb = newCallbacks(tc, opt, 10, 10)
	if _, err := cb.epochEnd(0, m, opt, 0, 0, math.NaN(), math.NaN()); err == nil {
		t.Error("val_accuracy without validation rows: no error")
	}
}

func TestCallbackConfigErrors(t *testing.T) {
	for _, mod := range []func(*configs.Train){
		func(t *configs.Train) { t.LRSchedule.Name = "step" },
		func(t *configs.Train) { t.LRSchedule.Alpha = 2 },
		func(t *configs.Train) { t.EarlyStopping.Monitor = "f1" },
		func(t *configs.Train) {
			t.LRSchedule.Name = "cosine"
			t.ReduceLROnPlateau.Monitor = "val_loss"
		},
		func(t *configs.Train) { t.ReduceLROnPlateau.Monitor, t.ReduceLROnPlateau.Factor = "loss", 1 },
	} {
		tc := configs.Defaults().Train
		mod(&tc)
		var ce *configs.Error
		if err := checkCallbacks(tc); !errors.As(err, &ce) {
			t.Errorf("%+v: err = %v, want a *configs.Error", tc, err)
		}
	}
}

// Early stopping inside Fit: monitor loss with min_delta 100 improves only
// on the first epoch, so patience 1 stops after epoch 2 and restores the
// weights of epoch 1 — the weights a one-epoch Fit ends with. A resumed
// run of the stopped checkpoint trains no further. A cosine schedule over
// the run ends the last step at the schedule's step steps−1.
func TestFitEarlyStoppingAndSchedule(t *testing.T) {
	d := randomData(24, 4, 7, 3)
	cfg := tinyConfig(t, fitLayers)
	cfg.Train.Epochs = 5
	one := tinyConfig(t, fitLayers)
	one.Train.Epochs = 1
	want := fitTiny(t, one, d, FitOptions{})

	cfg.Train.EarlyStopping = configs.EarlyStopping{Monitor: "loss", Patience: 1, MinDelta: 100, RestoreBestWeights: true}
	ck := filepath.Join(t.TempDir(), "c.ckpt")
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Fit(context.Background(), m, d, FitOptions{Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	if h.Epochs() != 2 {
		t.Errorf("%d epochs, want 2 (stopped)", h.Epochs())
	}
	if !bytes.Equal(weightBytes(m), weightBytes(want)) {
		t.Error("weights after the stop differ from those after epoch 1")
	}
	again, _ := model.New(cfg)
	h2, err := Fit(context.Background(), again, d, FitOptions{Checkpoint: ck, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if h2.Epochs() != 2 || !bytes.Equal(weightBytes(again), weightBytes(want)) {
		t.Errorf("resumed a stopped run: %d epochs", h2.Epochs())
	}

	// Cosine over the whole run: 24 rows, validation 0 → 6 steps of 4 per
	// epoch, 2 epochs = 12 steps; the last step's rate is
	// CosineDecay(1e-3, 12) at 11.
	cs := tinyConfig(t, fitLayers)
	cs.Train.Epochs, cs.Train.ValidationSplit = 2, 0
	cs.Train.LRSchedule = configs.LRSchedule{Name: "cosine"}
	if err := Resolve(cs); err != nil {
		t.Fatal(err)
	}
	cm, _ := model.New(cs)
	ck2 := filepath.Join(t.TempDir(), "cos.ckpt")
	if _, err := Fit(context.Background(), cm, d, FitOptions{Checkpoint: ck2}); err != nil {
		t.Fatal(err)
	}
	saved, err := model.LoadCheckpoint(ck2)
	if err != nil {
		t.Fatal(err)
	}
	wantLR := 1e-3 * 0.5 * (1 + math.Cos(math.Pi*11/12))
	if got := saved.State["optimizer.lr"]; got == "" || math.Abs(parseF(t, got)-wantLR) > 1e-15 {
		t.Errorf("last rate %s, want %g", got, wantLR)
	}
}

func parseF(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// model.embedding.dropout becomes a first dropout layer, once: resolving
// the resolved configuration again adds nothing; a model with it trains.
func TestEmbeddingDropout(t *testing.T) {
	cfg := tinyConfig(t, fitLayers)
	n := len(cfg.Model.Layers)
	cfg.Model.Embedding.Dropout = 0.25
	if err := Resolve(cfg); err != nil {
		t.Fatal(err)
	}
	l := cfg.Model.Layers[0]
	if len(cfg.Model.Layers) != n+1 || l.Type != model.KindDropout || l.Rate != 0.25 || cfg.Model.Embedding.Dropout != 0 {
		t.Fatalf("layers %+v, embedding dropout %g", cfg.Model.Layers, cfg.Model.Embedding.Dropout)
	}
	if err := Resolve(cfg); err != nil || len(cfg.Model.Layers) != n+1 {
		t.Errorf("re-resolved: %d layers, %v", len(cfg.Model.Layers), err)
	}
	fitTiny(t, cfg, randomData(16, 4, 7, 1), FitOptions{})
	bad := tinyConfig(t, fitLayers)
	bad.Model.Embedding.Dropout = 1
	var ce *configs.Error
	if err := Resolve(bad); !errors.As(err, &ce) || ce.Key != "model.embedding.dropout" {
		t.Errorf("dropout 1: %v", err)
	}
}
