package infer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/onnx"
)

// BenchmarkProducerFixtures scores the committed Keras 3 and PyTorch
// exports (Loop-form GRU, SimpleRNN and LSTMs among them) in the engine
// and in ONNX Runtime on the same file, both on 2 processors, at batch 1
// and 64, on the reviews of the fixture's first data set (real padded
// reviews: the first row, and the first 64 rows repeated as needed). For
// exports whose recurrent Loops the engine runs on its fused kernels,
// engine-loop runs them as written. The metric is reviews/s.
//
//	go test ./infer -run '^$' -bench 'ProducerFixtures/keras3' -count 5
func BenchmarkProducerFixtures(b *testing.B) {
	for _, fx := range producerFixtures(b) {
		path := filepath.Join(fx.dir, "model.onnx")
		m, err := onnx.ReadModel(path)
		if err != nil {
			b.Fatal(err)
		}
		sess, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		engines := map[string]*Session{"engine": sess}
		if strings.Contains(strings.Join(fusedLoops(sess), " "), "(") {
			// The recurrent Loops as written, before the rewrite.
			engines["engine-loop"] = loadUnrewritten(b, path)
		}
		in := sess.Inputs()[0]
		rows := readSet(b, fx.sets[0], "input")[0]
		if rows.Rank() != 2 || rows.Shape[0] == 0 {
			b.Fatalf("%s: input %s is not [rows, steps]", fx.name, rows)
		}
		for _, batch := range []int{1, 64} {
			idx := make([]int64, batch)
			for i := range idx {
				idx[i] = int64(i % rows.Shape[0])
			}
			x, err := gather(rows, NewInt64([]int{batch}, idx), 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, name := range []string{"engine", "engine-loop"} {
				s, ok := engines[name]
				if !ok {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/batch=%d", fx.name, name, batch), func(b *testing.B) {
					feeds := map[string]*Tensor{in.Name: x}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := s.Run(context.Background(), feeds); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
				})
			}
			b.Run(fmt.Sprintf("%s/ort/batch=%d", fx.name, batch), func(b *testing.B) {
				o := newORTSession(b, m, 2)
				feeds := []*Tensor{x}
				for b.Loop() {
					if _, err := o.run(feeds); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
			})
		}
	}
}
