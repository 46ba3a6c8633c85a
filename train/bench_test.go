package train

import (
	"context"

	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
	G "gorgonia.org/gorgonia"
)

// randomData is n rows of seq uniform ids below vocab with random labels.
func randomData(n, seq, vocab int, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	d := Data{X: dataset.Matrix{Rows: n, Cols: seq, Data: make([]int32, n*seq)}, Y: make([]int32, n)}
	for i := range d.X.Data {
		d.X.Data[i] = int32(rng.IntN(vocab))
	}
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(2))
	}
	return d
}

// BenchmarkTrainStep is one optimizer step (forward, BPTT, Adam) of the
// study's architectures at batch 128, sequence 100.
func BenchmarkTrainStep(b *testing.B) {
	for _, run := range []string{"deep_lstm", "bilstm", "deep_bilstm"} {
		b.Run(run, func(b *testing.B) {
			cfg, err := configs.Load(run)
			if err != nil {
				b.Fatal(err)
			}
			m, err := model.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			r, err := newRunner(m, 1)
			if err != nil {
				b.Fatal(err)
			}
			opt, err := NewOptimizer(cfg.Train.Optimizer)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 128
			d := randomData(batch, cfg.Data.MaxLen, cfg.Data.NumWords, 1)
			idx := make([]int, batch)
			for i := range idx {
				idx[i] = i
			}
			// One warm-up step builds the graph and its buffers.
			if _, _, err := r.batch(d, idx); err != nil {
				b.Fatal(err)
			}
			n, _ := r.net(batch, cfg.Data.MaxLen)
			opt.Step(G.NodesToValueGrads(n.params))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if _, _, err := r.batch(d, idx); err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(G.NodesToValueGrads(n.params)); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuSeconds() - cpu0
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
			// A study epoch trains 137 steps (17,500 reviews); on a shared
			// machine the process CPU time is the fairer figure.
			b.ReportMetric(17500/(float64(b.N*batch)/b.Elapsed().Seconds()), "s/epoch-train")
			b.ReportMetric(17500*cpu/float64(b.N*batch), "cpu-s/epoch-train")
		})
	}
}

// cpuSeconds is the CPU time (user + system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkEvaluate is inference over 1,024 rows of the deep BiLSTM.
func BenchmarkEvaluate(b *testing.B) {
	cfg, err := configs.Load("deep_bilstm")
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	d := randomData(1024, cfg.Data.MaxLen, cfg.Data.NumWords, 2)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Evaluate(context.Background(), m, d, 128); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*d.Len())/b.Elapsed().Seconds(), "reviews/s")
}
