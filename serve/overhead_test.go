package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// BenchmarkOverhead is the service's own cost per request: loopback HTTP,
// JSON, limits, queueing and routing, around a model that does no work.
func BenchmarkOverhead(b *testing.B) {
	for _, c := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) {
			f := &fakeModel{name: "m", sha: "aa"}
			cfg := DefaultConfig()
			cfg.MaxBatch = c
			s, err := New(cfg, staticLoader(f), quietLogger())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Drain()
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
			body := []byte(`{"reviews": ["a short review of a film"]}`)
			work := make(chan struct{})
			var wg sync.WaitGroup
			for range c {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						resp, err := client.Post(srv.URL+"/v1/score", "application/json", bytes.NewReader(body))
						if err != nil {
							b.Error(err)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
		})
	}
}
