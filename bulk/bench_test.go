package bulk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birnn/birnn/bulk"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/score"
)

// benchReviews writes the first n IMDB test reviews, one per line.
func benchReviews(b *testing.B, n int) (file string, texts []string) {
	b.Helper()
	texts, _ = testTexts(b, n)
	for i := range texts {
		texts[i] = strings.ReplaceAll(texts[i], "\n", " ")
	}
	file = filepath.Join(b.TempDir(), "reviews.txt")
	if err := os.WriteFile(file, []byte(strings.Join(texts, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return file, texts
}

// BenchmarkBulk compares, in one run, the Prism pipeline (birnn score)
// with the scorer birnn predict runs (batches of 64 in one process) on the
// same file, the 25,000 IMDB test reviews, with Keras's deep_bilstm. Each
// iteration runs both, alternately, so machine load drifts alike on both;
// it reports the reviews/s of each and prism/predict.
//
//	go test ./bulk -run '^$' -bench Bulk -benchtime 3x
func BenchmarkBulk(b *testing.B) {
	file, texts := benchReviews(b, 25000)
	modelPath := filepath.Join(testutil.RepoRoot(b), "testdata", "keras", "deep_bilstm", "model.onnx")
	wordIndex := filepath.Join(testutil.DataDir(b, "imdb"), "imdb_word_index.json")
	out := filepath.Join(b.TempDir(), "scores")
	var predict, prism time.Duration
	for b.Loop() {
		t0 := time.Now()
		sc := predictScorer(b, modelPath, wordIndex)
		for lo := 0; lo < len(texts); lo += score.DefaultBatchSize {
			if _, err := sc.Score(context.Background(), texts[lo:min(lo+score.DefaultBatchSize, len(texts))]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		if err := bulk.Run(context.Background(), bulk.Options{Model: modelPath, WordIndex: wordIndex, Input: file, Output: out, Format: bulk.FormatText}, bulk.RunOptions{}); err != nil {
			b.Fatal(err)
		}
		predict += t1.Sub(t0)
		prism += time.Since(t1)
	}
	n := float64(len(texts) * b.N)
	b.ReportMetric(n/predict.Seconds(), "predict-reviews/s")
	b.ReportMetric(n/prism.Seconds(), "prism-reviews/s")
	b.ReportMetric(predict.Seconds()/prism.Seconds(), "prism/predict")
}
