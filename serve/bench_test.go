package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/birnn/birnn/score"
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
	path, wi := p.WriteTemp(b, "deep_bilstm")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	sm, err := serve.NewScorerModel(path, raw, wi, score.Options{BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	return sm, p, wi, raw
}

// BenchmarkScorerRaw is the engine alone: Scorer.Score on batches of
// reviews (tokenizing included), the ceiling for the served figure.
func BenchmarkScorerRaw(b *testing.B) {
	for _, batch := range []int{1, 4, 16, 64} {
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
// (MaxBatch = c), and reports reviews/s and latency percentiles. Against
// it stands the engine's raw throughput: the same reviews straight through
// the scorer in batches of c (raw-reviews/s). The two alternate in rounds
// so that the machine's load drifts as little as possible between them;
// served/raw is the median of the rounds' ratios.
//
// BENCH_WORKERS and BENCH_WAIT override Config.Workers and MaxWait.
func BenchmarkServed(b *testing.B) {
	const rounds = 5
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) {
			sm, p, _, _ := deepModel(b, c)
			cfg := serve.DefaultConfig()
			cfg.MaxBatch = c
			if v := os.Getenv("BENCH_WORKERS"); v != "" {
				if _, err := fmt.Sscan(v, &cfg.Workers); err != nil {
					b.Fatalf("BENCH_WORKERS: %v", err)
				}
			}
			if v := os.Getenv("BENCH_WAIT"); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil {
					b.Fatalf("BENCH_WAIT: %v", err)
				}
				cfg.MaxWait = d
			}
			s, err := serve.New(cfg, func(context.Context) (serve.Model, error) { return sm, nil }, quiet())
			servetest.Started(b, s, err)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			texts := benchReviews(p, 64)
			bodies := make([][]byte, len(texts))
			for i, t := range texts {
				bodies[i], _ = json.Marshal(serve.ScoreRequest{Reviews: []string{t}})
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
			var all []time.Duration
			// served sends n requests from c clients and returns the time taken.
			served := func(n int) time.Duration {
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
				t0 := time.Now()
				for i := range n {
					work <- i
				}
				close(work)
				wg.Wait()
				d := time.Since(t0)
				for _, l := range lat {
					all = append(all, l...)
				}
				return d
			}
			// raw scores n reviews in batches of c and returns the time taken.
			ctx := context.Background()
			raw := func(n int) time.Duration {
				t0 := time.Now()
				for lo := 0; lo < n; lo += c {
					batch := make([]string, 0, c)
					for i := lo; i < min(lo+c, n); i++ {
						batch = append(batch, texts[i%len(texts)])
					}
					if _, err := sm.Scorer().Score(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(t0)
			}
			served(2 * c) // connections and buffers
			b.ResetTimer()
			var servedT, rawT time.Duration
			var ratios []float64
			for r := range rounds {
				n := b.N/rounds + btoi(r < b.N%rounds)
				if n == 0 {
					continue
				}
				st := served(n)
				b.StopTimer()
				rt := raw(n)
				b.StartTimer()
				servedT += st
				rawT += rt
				ratios = append(ratios, rt.Seconds()/st.Seconds())
			}
			b.StopTimer()
			slices.Sort(ratios)
			b.ReportMetric(float64(b.N)/servedT.Seconds(), "reviews/s")
			b.ReportMetric(float64(b.N)/rawT.Seconds(), "raw-reviews/s")
			b.ReportMetric(ratios[len(ratios)/2], "served/raw")
			if len(all) > 0 {
				slices.Sort(all)
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[(len(all)*99)/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}
