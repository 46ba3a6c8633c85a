package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080/", "https://127.9.9.9"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.com", "http://0.0.0.0:8080", "ftp://127.0.0.1", "http://127.0.0.1.example.com"} {
		if err := checkLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestRunBounded checks the run stops at -n requests and counts errors by
// status.
func TestRunBounded(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Reviews []string }
		if r.URL.Path != "/v1/score" || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Reviews) != 2 {
			w.WriteHeader(400)
			return
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(503)
			return
		}
		_, _ = w.Write([]byte(`{"scores": [0.5, 0.5]}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run([]string{"-url", srv.URL, "-c", "4", "-n", "50", "-reviews", "2", "-words", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 50 {
		t.Errorf("%d requests sent, want 50", n.Load())
	}
	for _, want := range []string{"45 ok, 5 errors", "reviews/s", "p99", "HTTP 503: 5"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
