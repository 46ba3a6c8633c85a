package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	G "gorgonia.org/gorgonia"
)

const fitLayers = `
    - {type: lstm, units: 4, bidirectional: true, return_sequences: true, recurrent_dropout: 0.2}
    - {type: lstm, units: 3, bidirectional: true}
    - {type: dense, units: 1, activation: sigmoid}`

func weightBytes(m *model.Model) []byte {
	var b bytes.Buffer
	for _, p := range m.Params {
		b.WriteString(p.Name)
		binary.Write(&b, binary.LittleEndian, p.Data)
	}
	return b.Bytes()
}

func fitTiny(t *testing.T, cfg *configs.Config, d Data, o FitOptions) *model.Model {
	t.Helper()
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(context.Background(), m, d, o); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFitDeterministicAndResumable(t *testing.T) {
	for _, opt := range []string{"adam", "rmsprop", "nadam"} {
		t.Run(opt, func(t *testing.T) {
			cfg := tinyConfig(t, fitLayers)
			cfg.Train.Optimizer = configs.Optimizer{Name: opt}
			cfg.Train.Epochs = 2
			d := randomData(30, 4, cfg.Data.NumWords, 3)
			dir := t.TempDir()

			a := fitTiny(t, cfg, d, FitOptions{})
			b := fitTiny(t, cfg, d, FitOptions{})
			if !bytes.Equal(weightBytes(a), weightBytes(b)) {
				t.Fatal("two runs with the same seed and config differ")
			}
			ck := filepath.Join(dir, "c.ckpt")
			fitTiny(t, cfg, d, FitOptions{Epochs: 1, Checkpoint: ck, History: filepath.Join(dir, "h.json")})
			c := fitTiny(t, cfg, d, FitOptions{Checkpoint: ck, Resume: true})
			if !bytes.Equal(weightBytes(a), weightBytes(c)) {
				t.Fatal("1 epoch + resume 1 epoch differs from 2 epochs straight")
			}
			h, err := model.ReadHistory(filepath.Join(dir, "h.json"))
			if err != nil || h.Epochs() != 1 || len(h.ValLoss) != 1 {
				t.Fatalf("history after 1 epoch: %+v, %v", h, err)
			}
			ckp, err := model.LoadCheckpoint(ck)
			if err != nil || ckp.Epoch != 2 || ckp.History.Epochs() != 2 {
				t.Fatalf("checkpoint after resume: epoch %d, %v", ckp.Epoch, err)
			}
			// A different seed must change the result (the test can fail).
			cfg.Train.Seed++
			e := fitTiny(t, cfg, d, FitOptions{})
			if bytes.Equal(weightBytes(a), weightBytes(e)) {
				t.Fatal("a different seed gave identical weights")
			}
		})
	}
}

// TestFitCancelResume interrupts runs as SIGINT does — inside the first
// epoch, inside the second, and after an epoch's last step — then resumes
// them: the weights equal an uninterrupted run's.
func TestFitCancelResume(t *testing.T) {
	cfg := tinyConfig(t, fitLayers)
	cfg.Train.Epochs = 2
	d := randomData(40, 4, cfg.Data.NumWords, 4)
	straight := fitTiny(t, cfg, d, FitOptions{})
	// 28 training rows in batches of 4: 7 steps per epoch.
	for _, at := range [][2]int{{0, 2}, {1, 3}, {1, 7}} {
		ck := filepath.Join(t.TempDir(), "c.ckpt")
		m, _ := model.New(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Fit(ctx, m, d, FitOptions{Checkpoint: ck, onStep: func(epoch, step int) {
			if epoch == at[0] && step == at[1] {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v: Fit after cancel: %v, want context.Canceled", at, err)
		}
		ckp, err := model.LoadCheckpoint(ck)
		if err != nil {
			t.Fatalf("%v: %v", at, err)
		}
		wantStep := fmt.Sprint(at[1])
		if ckp.Epoch != at[0] || ckp.State["fit.step"] != wantStep {
			t.Fatalf("%v: checkpoint at epoch %d step %q, want %d, %s", at, ckp.Epoch, ckp.State["fit.step"], at[0], wantStep)
		}
		var h bytes.Buffer
		resumed := fitTiny(t, cfg, d, FitOptions{Checkpoint: ck, Resume: true, Progress: &h})
		if !bytes.Equal(weightBytes(straight), weightBytes(resumed)) {
			t.Fatalf("%v: interrupted and resumed run differs from the uninterrupted one", at)
		}
		ckp, err = model.LoadCheckpoint(ck)
		if err != nil || ckp.Epoch != 2 || ckp.State["fit.step"] != "" || ckp.History.Epochs() != 2 {
			t.Fatalf("%v: final checkpoint epoch %d, state %v, %v", at, ckp.Epoch, ckp.State, err)
		}
	}
}

func TestFitProgressLines(t *testing.T) {
	cfg := tinyConfig(t, fitLayers)
	d := randomData(30, 4, cfg.Data.NumWords, 5)
	var b bytes.Buffer
	fitTiny(t, cfg, d, FitOptions{Progress: &b})
	// 21 training rows in batches of 4: 6 steps.
	out := b.String()
	if !strings.Contains(out, "Epoch 1/1\n6/6 [==============================] - ") ||
		!strings.Contains(out, "ms/step - loss: ") || !strings.Contains(out, " - val_accuracy: ") {
		t.Errorf("progress output:\n%s", out)
	}
}

func TestFitBadInput(t *testing.T) {
	cfg := tinyConfig(t, fitLayers)
	m, _ := model.New(cfg)
	d := randomData(10, 4, cfg.Data.NumWords, 6)
	d.X.Data[7] = int32(cfg.Data.NumWords) // outside the vocabulary
	if _, err := Fit(context.Background(), m, d, FitOptions{}); !errors.Is(err, ErrData) {
		t.Errorf("id outside the vocabulary: %v, want ErrData", err)
	}
	d = randomData(10, 4, cfg.Data.NumWords, 6)
	d.Y[3] = 2
	if _, err := Fit(context.Background(), m, d, FitOptions{}); !errors.Is(err, ErrData) {
		t.Errorf("label 2 for a sigmoid head: %v, want ErrData", err)
	}
	if _, _, err := Evaluate(context.Background(), m, Data{}, 0); !errors.Is(err, ErrData) {
		t.Errorf("empty data: %v, want ErrData", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.ckpt")
	os.WriteFile(bad, []byte("not a checkpoint"), 0o644)
	if _, err := Fit(context.Background(), m, randomData(10, 4, 7, 1), FitOptions{Checkpoint: bad, Resume: true}); err == nil {
		t.Error("resuming from a damaged checkpoint succeeded")
	}
}

// TestLossSaturated checks the loss and its gradient stay finite for
// logits far into saturation, where log(sigmoid) underflows.
func TestLossSaturated(t *testing.T) {
	k := &lossKernel[float64]{n: 2, u: 1}
	z := dense([]float64{800, -800}, 2, 1)
	y := dense([]float64{0, 1}, 2, 1)
	v, err := k.forward([]G.Value{z, y})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := scalar(v)
	if math.Abs(l-800) > 1e-9 {
		t.Errorf("loss %v, want 800", l)
	}
	g, err := k.backward([]G.Value{z, y}, G.NewF64(1))
	if err != nil {
		t.Fatal(err)
	}
	AllClose(t, "dz", g[0].Data().([]float64), []float64{0.5, -0.5}, 1e-12, 0)
}
