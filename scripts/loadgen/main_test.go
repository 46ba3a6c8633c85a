package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/birnn/birnn/serve/servetest"
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
	for _, want := range []string{"45 ok, 5 errors", "reviews/s", "p99", "HTTP 503: 5", "client cpu "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunRaw checks -raw-model: after the served run the same reviews are
// scored in this process, and the raw rate and served/raw are printed; a
// missing word index or model is an error naming the flag.
func TestRunRaw(t *testing.T) {
	dir := t.TempDir()
	model, wi, err := servetest.Tiny(1).Write(dir, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"scores": [0.5]}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run([]string{"-url", srv.URL, "-c", "3", "-n", "20", "-words", "7", "-raw-model", model, "-word-index", wi}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"20 ok, 0 errors", "raw ", "(20 reviews in batches of 3", "served/raw "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-raw-model", model}, "-word-index"},
		{[]string{"-raw-model", filepath.Join(dir, "missing.onnx"), "-word-index", wi}, "-raw-model"},
		{[]string{"-raw-model", model, "-word-index", filepath.Join(dir, "missing.json")}, "-word-index"},
	} {
		err := run(append([]string{"-url", srv.URL, "-n", "1"}, c.args...), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}

func TestRunV2(t *testing.T) {
	var got struct {
		Inputs []struct {
			Name     string   `json:"name"`
			Datatype string   `json:"datatype"`
			Shape    []int    `json:"shape"`
			Data     []string `json:"data"`
		} `json:"inputs"`
	}
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte(`{"outputs":[]}`))
	}))
	defer srv.Close()
	var out strings.Builder
	if err := run([]string{"-url", srv.URL, "-protocol", "v2", "-model", "m", "-c", "1", "-n", "3", "-reviews", "2", "-words", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	in := got.Inputs
	if path != "/v2/models/m/infer" || len(in) != 1 || in[0].Name != "text" || in[0].Datatype != "BYTES" || len(in[0].Shape) != 1 || in[0].Shape[0] != 2 || len(in[0].Data) != 2 || len(strings.Fields(in[0].Data[0])) != 5 {
		t.Errorf("request to %s: %+v", path, got)
	}
	if !strings.Contains(out.String(), "3 ok, 0 errors") {
		t.Errorf("output %s", out.String())
	}
	for _, args := range [][]string{{"-protocol", "v2"}, {"-protocol", "x"}, {"-protocol", "grpc", "-model", "m", "-grpc-addr", "10.0.0.1:1"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
