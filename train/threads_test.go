package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// TestFitIndependentOfThreads trains the same model at GOMAXPROCS 1, 2 and
// 3 and requires the same history and weights bit for bit. The shapes are
// the study's (64 units, sequences of 100) so that the large products are
// split by kernel.GemmPar and the time loops shared by kernel.Parallel;
// recurrent dropout is on, and the middle layer has one direction (its
// batch is cut into halves).
func TestFitIndependentOfThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("trains study-sized layers")
	}
	cfg, err := configs.Parse([]byte(`
name: threads
data: {num_words: 50, maxlen: 100}
model:
  embedding: {dim: 32}
  layers:
    - {type: lstm, units: 64, bidirectional: true, return_sequences: true, recurrent_dropout: 0.2}
    - {type: lstm, units: 64, return_sequences: true}
    - {type: lstm, units: 64, bidirectional: true, merge_mode: sum}
    - {type: dense, units: 1, activation: sigmoid}
train: {batch_size: 64, epochs: 1, seed: 9, validation_split: 0.25}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := randomData(2*64+40, 100, cfg.Data.NumWords, 4)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first []byte
	var firstHist string
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		m, err := model.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Fit(context.Background(), m, d, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hist := fmt.Sprint(bits(h.Loss), bits(h.Accuracy), bits(h.ValLoss), bits(h.ValAccuracy))
		w := weightBytes(m)
		if first == nil {
			first, firstHist = w, hist
			continue
		}
		if !bytes.Equal(w, first) {
			t.Errorf("GOMAXPROCS %d: weights differ from GOMAXPROCS 1's", procs)
		}
		if hist != firstHist {
			t.Errorf("GOMAXPROCS %d: history %s, GOMAXPROCS 1 %s", procs, hist, firstHist)
		}
	}
}

func bits(v []float64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = math.Float64bits(x)
	}
	return out
}
