package infer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
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
	m := spec.build(b)
	sess, err := LoadModel(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("engine float32 kernels: %s; ONNX Runtime: %s; OPENBLAS_CORETYPE=%q (unused); GOARCH %s",
		kernel.Float32Impl(), ortLibPath(b), os.Getenv("OPENBLAS_CORETYPE"), runtime.GOARCH)
	for _, batch := range []int{1, 32, 128} {
		rng := rand.New(rand.NewPCG(uint64(batch), 1))
		in := idsTensor(onnx.TensorProto_FLOAT, []int{batch, spec.seq}, randomIDs(rng, batch, spec.seq, spec.vocab))
		for _, procs := range []int{1, 2} {
			b.Run(fmt.Sprintf("engine/batch=%d/procs=%d", batch, procs), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				feeds := map[string]*Tensor{"input_ids": in}
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					if _, err := sess.Run(context.Background(), feeds); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "reviews/s")
			})
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("ort/batch=%d/threads=%d", batch, threads), func(b *testing.B) {
				o := newORTSession(b, m, threads)
				feeds := []*Tensor{in}
				start := time.Now()
				for b.Loop() {
					if _, err := o.run(feeds); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "reviews/s")
			})
		}
	}
}

// BenchmarkKerasDeepBiLSTM scores the study's deep_bilstm as Keras and
// tf2onnx exported it (testdata/keras/deep_bilstm: with its Slice, Squeeze
// and Concat around the LSTMs), in the engine and in ONNX Runtime, both
// on 2 processors, at batch 1 and 64. The metric is reviews/s.
//
//	go test ./infer -run '^$' -bench KerasDeepBiLSTM -count 5
func BenchmarkKerasDeepBiLSTM(b *testing.B) {
	path := filepath.Join(testutil.RepoRoot(b), "testdata", "keras", "deep_bilstm", "model.onnx")
	m, err := onnx.ReadModel(path)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := LoadModel(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, batch := range []int{1, 64} {
		rng := rand.New(rand.NewPCG(uint64(batch), 2))
		in := idsTensor(onnx.TensorProto_FLOAT, []int{batch, 100}, randomIDs(rng, batch, 100, 4000))
		b.Run(fmt.Sprintf("engine/batch=%d", batch), func(b *testing.B) {
			feeds := map[string]*Tensor{"embedding_input": in}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sess.Run(context.Background(), feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
		})
		b.Run(fmt.Sprintf("ort/batch=%d", batch), func(b *testing.B) {
			o := newORTSession(b, m, 2)
			feeds := []*Tensor{in}
			for b.Loop() {
				if _, err := o.run(feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
		})
	}
}
