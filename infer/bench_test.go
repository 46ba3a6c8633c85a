package infer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/quantize"
)

// BenchmarkStudyDeepBiLSTM scores the study's deep BiLSTM (vocab 4000, emb
// 64, two bidirectional LSTM(64) layers, seq 100, Dense sigmoid) as a
// tf2onnx-shaped graph, in the engine (GOMAXPROCS 1 and 2) and in ONNX
// Runtime (intra-op threads 1 and 2) in the same run, at batch 1, 32, 128.
// The metric is reviews/s.
//
//	go test ./infer -run '^$' -bench StudyDeepBiLSTM -count 5
func BenchmarkStudyDeepBiLSTM(b *testing.B) {
	spec := studyDeepBiLSTM()
	benchEngineVsORT(b, spec.build(b), "input_ids", spec.seq, spec.vocab)
}

// BenchmarkStudyDeepBiGRU is BenchmarkStudyDeepBiLSTM with GRU(64) layers
// (linear_before_reset 1, as PyTorch exports them) in place of the LSTMs.
//
//	go test ./infer -run '^$' -bench StudyDeepBiGRU -count 5
func BenchmarkStudyDeepBiGRU(b *testing.B) {
	spec := studyDeepBiLSTM()
	for i := range spec.layers {
		spec.layers[i].op = "GRU"
	}
	benchEngineVsORT(b, spec.build(b), "input_ids", spec.seq, spec.vocab)
}

// benchEngineVsORT runs the engine and ONNX Runtime on m, whose one input
// (named input) takes [batch, seq] float token ids below vocab, alternating
// per batch size: engine/batch=N/procs=P, then ort/batch=N/threads=T.
func benchEngineVsORT(b *testing.B, m *onnx.ModelProto, input string, seq, vocab int) {
	sess, err := LoadModel(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("engine float32 kernels: %s; ONNX Runtime: %s; OPENBLAS_CORETYPE=%q (unused); GOARCH %s",
		kernel.Float32Impl(), ortLibPath(b), os.Getenv("OPENBLAS_CORETYPE"), runtime.GOARCH)
	for _, batch := range []int{1, 32, 128} {
		rng := rand.New(rand.NewPCG(uint64(batch), 1))
		in := idsTensor(onnx.TensorProto_FLOAT, []int{batch, seq}, randomIDs(rng, batch, seq, vocab))
		for _, procs := range []int{1, 2} {
			b.Run(fmt.Sprintf("engine/batch=%d/procs=%d", batch, procs), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				feeds := map[string]*Tensor{input: in}
				b.ReportAllocs()
				start, cpu := time.Now(), processCPU()
				for b.Loop() {
					if _, err := sess.Run(context.Background(), feeds); err != nil {
						b.Fatal(err)
					}
				}
				reportRates(b, batch, start, cpu)
			})
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("ort/batch=%d/threads=%d", batch, threads), func(b *testing.B) {
				o := newORTSession(b, m, threads)
				feeds := []*Tensor{in}
				start, cpu := time.Now(), processCPU()
				for b.Loop() {
					if _, err := o.run(feeds); err != nil {
						b.Fatal(err)
					}
				}
				reportRates(b, batch, start, cpu)
			})
		}
	}
}

// BenchmarkKerasDeepBiLSTM scores the study's deep_bilstm as Keras and
// tf2onnx exported it (testdata/keras/deep_bilstm: with its Slice, Squeeze
// and Concat around the LSTMs), in the engine and in ONNX Runtime, as
// BenchmarkStudyDeepBiLSTM does. The metric is reviews/s.
//
//	go test ./infer -run '^$' -bench KerasDeepBiLSTM -count 5
func BenchmarkKerasDeepBiLSTM(b *testing.B) {
	path := filepath.Join(testutil.RepoRoot(b), "testdata", "keras", "deep_bilstm", "model.onnx")
	m, err := onnx.ReadModel(path)
	if err != nil {
		b.Fatal(err)
	}
	benchEngineVsORT(b, m, "embedding_input", 100, 4000)
}

// reportRates reports reviews/s (wall clock since start) and cpu-ns/op,
// the CPU time the whole process spent per run since cpu. On a shared
// machine wall time swings with the other load while CPU time barely
// moves; with one thread it is the run's latency on an idle machine.
func reportRates(b *testing.B, batch int, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "reviews/s")
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQuantizedDeepBiLSTM is BenchmarkKerasDeepBiLSTM on the same
// export quantized by quantize.Dynamic (int8 LSTM weights, full range),
// in the engine and in ONNX Runtime. Against BenchmarkKerasDeepBiLSTM's
// engine rows it gives the int8 speed-up.
//
//	go test ./infer -run '^$' -bench 'KerasDeepBiLSTM|QuantizedDeepBiLSTM' -count 5
func BenchmarkQuantizedDeepBiLSTM(b *testing.B) {
	path := filepath.Join(testutil.RepoRoot(b), "testdata", "keras", "deep_bilstm", "model.onnx")
	m, err := onnx.ReadModel(path)
	if err != nil {
		b.Fatal(err)
	}
	q, _, err := quantize.Dynamic(m, quantize.Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchEngineVsORT(b, q, "embedding_input", 100, 4000)
}
