package serve_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

// kerasPredictions is testdata/keras/<run>/predictions.json: padded test
// rows and Keras's model.predict on them.
type kerasPredictions struct {
	X       [][]int32   `json:"x"`
	Outputs [][]float64 `json:"outputs"`
}

// TestServeKerasStudyModels serves the study's tf2onnx exports and checks
// that answers to concurrent, micro-batched requests match Keras's own
// predictions for the same rows. deep_lstm must be there; the other study
// runs are checked when their exports are.
func TestServeKerasStudyModels(t *testing.T) {
	root := filepath.Join("..", "testdata", "keras")
	runs := []string{"deep_lstm"}
	for _, run := range []string{"bilstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"} {
		if _, err := os.Stat(filepath.Join(root, run, "model.onnx")); err == nil {
			runs = append(runs, run)
		}
	}
	for _, run := range runs {
		t.Run(run, func(t *testing.T) {
			dir := filepath.Join(root, run)
			model := filepath.Join(dir, "model.onnx")
			b, err := os.ReadFile(filepath.Join(dir, "predictions.json"))
			if err != nil {
				t.Fatal(err)
			}
			var kp kerasPredictions
			if err := json.Unmarshal(b, &kp); err != nil {
				t.Fatal(err)
			}
			const n = 96
			if len(kp.X) < n || len(kp.Outputs) < n {
				t.Fatalf("predictions.json has %d rows", len(kp.X))
			}
			// The ids route needs no word index; the probe's text needs one word.
			wi := dataset.WordIndex{"film": 16}
			cfg := serve.DefaultConfig()
			cfg.MaxBatch = 16
			s, err := serve.New(cfg, serve.FileLoader(model, wi, score.Options{BatchSize: cfg.MaxBatch}), quiet())
			servetest.Started(t, s, err)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			var wg sync.WaitGroup
			for c := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Client c sends rows c, c+8, … in requests of 1–3 rows.
					var rows []int
					for r := c; r < n; r += 8 {
						rows = append(rows, r)
					}
					for len(rows) > 0 {
						k := min(1+len(rows)%3, len(rows))
						req := serve.IDsRequest{}
						for _, r := range rows[:k] {
							req.IDs = append(req.IDs, kp.X[r])
						}
						body, _ := json.Marshal(req)
						resp, err := http.Post(srv.URL+"/v1/score/ids", "application/json", bytes.NewReader(body))
						if err != nil {
							t.Error(err)
							return
						}
						var got serve.ScoreResponse
						err = json.NewDecoder(resp.Body).Decode(&got)
						resp.Body.Close()
						if err != nil || resp.StatusCode != 200 || len(got.Scores) != k || !strings.HasPrefix(got.Model, run+"@") {
							t.Errorf("rows %v: status %d, %v, %d scores from %q", rows[:k], resp.StatusCode, err, len(got.Scores), got.Model)
							return
						}
						for i, r := range rows[:k] {
							want := kp.Outputs[r][0]
							if d := math.Abs(float64(got.Scores[i]) - want); d > 1e-4 {
								t.Errorf("test row %d: served %v, Keras %v (|diff| %.2g)", r, got.Scores[i], want, d)
							}
							label := "negative"
							if want >= 0.5 {
								label = "positive"
							}
							if got.Labels[i] != label && math.Abs(want-0.5) > 1e-4 {
								t.Errorf("test row %d: label %s, Keras %v", r, got.Labels[i], want)
							}
						}
						rows = rows[k:]
					}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			t.Logf("%d rows match Keras", n)
		})
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
