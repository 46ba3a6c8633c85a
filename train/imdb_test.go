package train

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
)

// dataDir returns the shared data folder holding imdb/; missing data skips
// the test, or fails it when CI=true.
func dataDir(t *testing.T) string {
	t.Helper()
	return filepath.Dir(testutil.DataDir(t, "imdb"))
}

// TestFitIMDBSubset trains a small BiLSTM for one epoch on 2,000 IMDB
// training reviews and checks it beats chance clearly on 1,000 test
// reviews it never saw.
func TestFitIMDBSubset(t *testing.T) {
	dir := dataDir(t)
	if testing.Short() {
		t.Skip("trains on IMDB; skipped with -short")
	}
	cfg, err := configs.Parse([]byte(`
name: ci_bilstm
data: {limit: 2000, maxlen: 80}
model:
  embedding: {dim: 32}
  layers:
    - {type: lstm, units: 16, bidirectional: true}
    - {type: dense, units: 1, activation: sigmoid}
train:
  optimizer: {name: adam, learning_rate: 0.01}
  batch_size: 32
  epochs: 1
  validation_split: 0
`))
	if err != nil {
		t.Fatal(err)
	}
	trainD, testD, err := Load(context.Background(), dataset.IMDB{Dir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if trainD.Len() != 2000 || testD.Len() != 2000 || trainD.X.Cols != 80 {
		t.Fatalf("subset: %d train, %d test rows of %d ids", trainD.Len(), testD.Len(), trainD.X.Cols)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h, err := Fit(context.Background(), m, trainD, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	loss, acc, err := Evaluate(context.Background(), m, testD.Slice(0, 1000), 128)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1 epoch in %v: train loss %.4f acc %.4f; held-out loss %.4f acc %.4f",
		time.Since(start).Round(time.Millisecond), h.Loss[0], h.Accuracy[0], loss, acc)
	if acc < 0.6 {
		t.Errorf("held-out accuracy %.4f after one epoch, want ≥ 0.6", acc)
	}
}
