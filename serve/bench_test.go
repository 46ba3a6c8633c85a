package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

// benchReviews are n synthetic reviews of 230 words (about the IMDB
// median) drawn from the model's word index, a few words unknown.
func benchReviews(p *servetest.Params, n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]string, n)
	for i := range out {
		w := make([]string, 230)
		for k := range w {
			if rng.IntN(20) == 0 {
				w[k] = "zzunknown"
			} else {
				w[k] = servetest.Word(1 + rng.IntN(p.Vocab))
			}
		}
		out[i] = strings.Join(w, " ")
	}
	return out
}

// deepModel is servetest.DeepBiLSTM (the study's deep_bilstm shape with
// random weights) as a ScorerModel.
func deepModel(b *testing.B, batch int) (*serve.ScorerModel, *servetest.Params, dataset.WordIndex, []byte) {
	b.Helper()
	p := servetest.DeepBiLSTM(1)
	dir := b.TempDir()
	path, wiPath, err := p.Write(dir, "deep_bilstm")
	if err != nil {
		b.Fatal(err)
	}
	wi, err := dataset.LoadWordIndex(wiPath)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	sm, err := serve.NewScorerModel(path, raw, wi, infer.ScorerOptions{BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	return sm, p, wi, raw
}

// BenchmarkScorerRaw is the engine alone: Scorer.Score on batches of
// reviews (tokenizing included), the ceiling for the served figure.
func BenchmarkScorerRaw(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			sm, p, _, _ := deepModel(b, batch)
			texts := benchReviews(p, batch)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := sm.Scorer().Score(ctx, texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "reviews/s")
		})
	}
}

// BenchmarkServed runs the service on loopback HTTP with c concurrent
// clients each sending one review per request, batching up to c rows
// (MaxBatch = c, one worker), and reports reviews/s and latency
// percentiles; then it scores as many reviews straight through the
// scorer in batches of c (raw-reviews/s) and reports served/raw.
func BenchmarkServed(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) {
			sm, p, _, _ := deepModel(b, c)
			cfg := serve.DefaultConfig()
			cfg.MaxBatch = c
			cfg.MaxWait = 2 * time.Millisecond
			cfg.Workers = 1
			s, err := serve.New(cfg, func(context.Context) (serve.Model, error) { return sm, nil },
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Drain()
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			texts := benchReviews(p, 64)
			bodies := make([][]byte, len(texts))
			for i, t := range texts {
				bodies[i], _ = json.Marshal(serve.ScoreRequest{Reviews: []string{t}})
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
			lat := make([][]time.Duration, c)
			work := make(chan int)
			var wg sync.WaitGroup
			for k := range c {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						t0 := time.Now()
						resp, err := client.Post(srv.URL+"/v1/score", "application/json", bytes.NewReader(bodies[i%len(bodies)]))
						if err != nil {
							b.Error(err)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
						}
						lat[k] = append(lat[k], time.Since(t0))
					}
				}()
			}
			b.ResetTimer()
			for i := range b.N {
				work <- i
			}
			close(work)
			wg.Wait()
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			served := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(served, "reviews/s")
			// The same reviews straight through the scorer in batches of c,
			// right after, so machine load drifts as little as possible
			// between the two figures.
			ctx := context.Background()
			t0 := time.Now()
			for lo := 0; lo < b.N; lo += c {
				batch := make([]string, 0, c)
				for i := lo; i < min(lo+c, b.N); i++ {
					batch = append(batch, texts[i%len(texts)])
				}
				if _, err := sm.Scorer().Score(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			raw := float64(b.N) / time.Since(t0).Seconds()
			b.ReportMetric(raw, "raw-reviews/s")
			b.ReportMetric(served/raw, "served/raw")
			if len(all) > 0 {
				sortDurations(all)
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[(len(all)*99)/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

func sortDurations(d []time.Duration) { slices.Sort(d) }
