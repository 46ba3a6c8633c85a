package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/birnn/birnn/model"
)

func (f *fakeModel) reset() {
	f.mu.Lock()
	f.batches, f.texts = nil, nil
	f.mu.Unlock()
	f.calls.Store(0)
}

// post sends body to the handler and decodes the answer into out (if not
// nil); it returns the recorded response.
func post(t *testing.T, h http.Handler, path, contentType, body string, out any) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s: answer %q: %v", path, rec.Body.String(), err)
		}
	}
	return rec
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Index   *int   `json:"index"`
	} `json:"error"`
}

func TestScoreOrderAcrossBatches(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), func(c *Config) { c.MaxBatch = 3 })
	f.reset()
	reviews := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g", "hh", "iii", "jjjj"}
	b, _ := json.Marshal(ScoreRequest{Reviews: reviews})
	var got ScoreResponse
	rec := post(t, s.Handler(), "/v1/score", "application/json", string(b), &got)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got.Model != "m@aa" {
		t.Errorf("model %q, want m@aa", got.Model)
	}
	if len(got.Scores) != len(reviews) || len(got.Labels) != len(reviews) {
		t.Fatalf("%d scores, %d labels for %d reviews", len(got.Scores), len(got.Labels), len(reviews))
	}
	for i, r := range reviews {
		if want := float32(len(r)) / 1000; got.Scores[i] != want {
			t.Errorf("score %d = %v, want %v", i, got.Scores[i], want)
		}
		if got.Labels[i] != model.LabelNegative {
			t.Errorf("label %d = %q, want negative", i, got.Labels[i])
		}
	}
	batches, _ := f.seen()
	total := 0
	for _, n := range batches {
		if n > 3 {
			t.Errorf("batch of %d rows exceeds MaxBatch 3", n)
		}
		total += n
	}
	if total != len(reviews) || len(batches) < 4 {
		t.Errorf("batches %v: want ≥ 4 batches covering %d rows", batches, len(reviews))
	}
}

func TestScoreIDsAndLabels(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), func(c *Config) { c.Threshold = 0.5 })
	var got ScoreResponse
	rec := post(t, s.Handler(), "/v1/score/ids", "application/json; charset=utf-8",
		`{"ids": [[1, 14, 22], [1, 600], [], [1, 499]]}`, &got)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// 0.5 is exactly the threshold: negative under model.Positive's
	// score > threshold rule.
	want := []float32{0.037, 0.601, 0, 0.5}
	labels := []string{"negative", "positive", "negative", "negative"}
	for i := range want {
		if got.Scores[i] != want[i] || got.Labels[i] != labels[i] {
			t.Errorf("row %d: %v %q, want %v %q", i, got.Scores[i], got.Labels[i], want[i], labels[i])
		}
	}
}

// TestMicroBatching holds the model on a first request until 20 more are
// queued, and checks they are then scored together, in batches of at most
// MaxBatch rows.
func TestMicroBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) { c.MaxBatch = 8; c.Workers = 1; c.MaxWait = time.Millisecond })
		f.reset()
		f.gate = make(chan struct{})
		h := s.Handler()
		var wg sync.WaitGroup
		results := make([]ScoreResponse, 21)
		codes := make([]int, 21)
		for i := range 21 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				text := strings.Repeat("x", i+1)
				rec := post(t, h, "/v1/score", "application/json", `{"reviews": ["`+text+`"]}`, &results[i])
				codes[i] = rec.Code
			}()
			if i == 0 {
				// Let the lone first request enter the model before the rest arrive.
				synctest.Wait()
				if f.calls.Load() != 1 {
					t.Fatalf("model called %d times, want the first request held in it", f.calls.Load())
				}
			}
		}
		synctest.Wait()
		if n := s.queued(); n != 20 {
			t.Fatalf("%d rows queued behind the held batch, want 20", n)
		}
		close(f.gate)
		wg.Wait()
		for i := range 21 {
			if codes[i] != 200 || results[i].Scores[0] != float32(i+1)/1000 {
				t.Errorf("request %d: status %d, scores %v; want [%v]", i, codes[i], results[i].Scores, float32(i+1)/1000)
			}
		}
		batches, _ := f.seen()
		if len(batches) != 4 || batches[0] != 1 || batches[1] != 8 || batches[2] != 8 || batches[3] != 4 {
			t.Errorf("batches %v, want [1 8 8 4]", batches)
		}
	})
}

func (s *Server) queued() int {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	return len(s.batch.queue)
}

func TestLimits(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), func(c *Config) {
		c.MaxBodyBytes = 200
		c.MaxReviews = 3
		c.MaxReviewChars = 10
		c.MaxIDs = 4
	})
	idx := func(i int) *int { return &i }
	cases := []struct {
		name, path, ct, body string
		status               int
		code                 string
		index                *int
	}{
		{"wrong content type", "/v1/score", "text/plain", `{"reviews": ["a"]}`, 415, CodeUnsupportedMediaType, nil},
		{"no content type", "/v1/score", "", `{"reviews": ["a"]}`, 415, CodeUnsupportedMediaType, nil},
		{"body too large", "/v1/score", "application/json", `{"reviews": ["` + strings.Repeat("a", 300) + `"]}`, 413, CodeBodyTooLarge, nil},
		{"malformed", "/v1/score", "application/json", `{"reviews": ["a"`, 400, CodeMalformedJSON, nil},
		{"empty body", "/v1/score", "application/json", ``, 400, CodeMalformedJSON, nil},
		{"wrong type", "/v1/score", "application/json", `{"reviews": "a"}`, 400, CodeMalformedJSON, nil},
		{"trailing data", "/v1/score", "application/json", `{"reviews": ["a"]} {}`, 400, CodeMalformedJSON, nil},
		{"unknown field", "/v1/score", "application/json", `{"reviews": ["a"], "lang": "en"}`, 400, CodeUnknownField, nil},
		{"empty list", "/v1/score", "application/json", `{"reviews": []}`, 422, CodeEmptyRequest, nil},
		{"missing list", "/v1/score", "application/json", `{}`, 422, CodeEmptyRequest, nil},
		{"too many", "/v1/score", "application/json", `{"reviews": ["a", "b", "c", "d"]}`, 422, CodeTooManyReviews, nil},
		{"too long", "/v1/score", "application/json", `{"reviews": ["a", "ééééééééééé"]}`, 422, CodeReviewTooLong, idx(1)},
		{"ids too long", "/v1/score/ids", "application/json", `{"ids": [[1], [1, 2, 3, 4, 5]]}`, 422, CodeReviewTooLong, idx(1)},
		{"negative id", "/v1/score/ids", "application/json", `{"ids": [[1], [1], [1, -4]]}`, 422, CodeInvalidID, idx(2)},
		{"id past embedding", "/v1/score/ids", "application/json", `{"ids": [[1, 4000]]}`, 422, CodeInvalidID, idx(0)},
		{"fractional id", "/v1/score/ids", "application/json", `{"ids": [[1.5]]}`, 400, CodeMalformedJSON, nil},
		{"ids empty", "/v1/score/ids", "application/json", `{"ids": []}`, 422, CodeEmptyRequest, nil},
		{"reviews on ids route", "/v1/score/ids", "application/json", `{"reviews": ["a"]}`, 400, CodeUnknownField, nil},
		{"no route", "/v1/nothing", "application/json", `{}`, 404, CodeNotFound, nil},
		{"admin disabled", "/v1/admin/reload", "", ``, 404, CodeNotFound, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e errorBody
			rec := post(t, s.Handler(), tc.path, tc.ct, tc.body, &e)
			if rec.Code != tc.status || e.Error.Code != tc.code {
				t.Fatalf("status %d code %q, want %d %q (body %s)", rec.Code, e.Error.Code, tc.status, tc.code, rec.Body)
			}
			if e.Error.Message == "" {
				t.Error("empty message")
			}
			if (tc.index == nil) != (e.Error.Index == nil) || tc.index != nil && *tc.index != *e.Error.Index {
				t.Errorf("index %v, want %v", e.Error.Index, tc.index)
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	req := httptest.NewRequest("GET", "/v1/score", nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET /v1/score: %d, Allow %q; want 405 POST", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) { c.QueueSize = 4; c.MaxReviews = 4; c.Workers = 1; c.MaxBatch = 1 })
		f.gate = make(chan struct{})
		f.entered = make(chan struct{}, 16)
		h := s.Handler()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); post(t, h, "/v1/score", "application/json", `{"reviews": ["running"]}`, nil) }()
		<-f.entered // the worker is busy with the first request
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, h, "/v1/score", "application/json", `{"reviews": ["a", "b", "c"]}`, nil)
		}()
		synctest.Wait()
		if n := s.queued(); n != 3 {
			t.Fatalf("%d rows queued, want 3", n)
		}
		var e errorBody
		rec := post(t, h, "/v1/score", "application/json", `{"reviews": ["d", "e"]}`, &e)
		if rec.Code != 503 || e.Error.Code != CodeQueueFull || rec.Header().Get("Retry-After") == "" {
			t.Errorf("status %d code %q Retry-After %q; want 503 queue_full with Retry-After", rec.Code, e.Error.Code, rec.Header().Get("Retry-After"))
		}
		// One more row still fits.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := post(t, h, "/v1/score", "application/json", `{"reviews": ["f"]}`, nil); rec.Code != 200 {
				t.Errorf("request fitting the queue: %d %s", rec.Code, rec.Body)
			}
		}()
		synctest.Wait()
		if n := s.queued(); n != 4 {
			t.Fatalf("%d rows queued, want 4", n)
		}
		close(f.gate)
		wg.Wait()
	})
}

// TestCancelledRowsSkipped checks that rows of a request whose client went
// away, or that timed out, never reach the model.
func TestCancelledRowsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) { c.Workers = 1; c.MaxBatch = 1 })
		f.reset()
		f.gate = make(chan struct{})
		f.entered = make(chan struct{}, 16)
		h := s.Handler()
		done := make(chan *httptest.ResponseRecorder, 3)
		go func() { done <- post(t, h, "/v1/score", "application/json", `{"reviews": ["first"]}`, nil) }()
		<-f.entered

		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequest("POST", "/v1/score", strings.NewReader(`{"reviews": ["gone1", "gone2"]}`)).WithContext(ctx)
		req.Header.Set("Content-Type", "application/json")
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			done <- rec
		}()
		synctest.Wait()
		if n := s.queued(); n != 2 {
			t.Fatalf("%d rows queued, want 2", n)
		}
		cancel()
		gone := <-done
		var e errorBody
		_ = json.Unmarshal(gone.Body.Bytes(), &e)
		if gone.Code != statusClientClosed || e.Error.Code != CodeClientClosed {
			t.Errorf("cancelled request: %d %q, want 499 %s", gone.Code, e.Error.Code, CodeClientClosed)
		}
		go func() { done <- post(t, h, "/v1/score", "application/json", `{"reviews": ["last"]}`, nil) }()
		synctest.Wait()
		if n := s.queued(); n != 3 {
			t.Fatalf("%d rows queued, want 3 (the cancelled two still in the queue)", n)
		}
		close(f.gate)
		for range 2 {
			if rec := <-done; rec.Code != 200 {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		}
		_, texts := f.seen()
		if strings.Join(texts, ",") != "first,last" {
			t.Errorf("model scored %v, want [first last]", texts)
		}
	})
}

func TestRequestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) { c.RequestTimeout = 50 * time.Millisecond; c.WriteTimeout = time.Second })
		f.gate = make(chan struct{})
		defer close(f.gate)
		var e errorBody
		rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["slow"]}`, &e)
		if rec.Code != 504 || e.Error.Code != CodeTimeout {
			t.Errorf("status %d code %q, want 504 timeout", rec.Code, e.Error.Code)
		}
	})
}

func TestInferenceFailure(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), nil)
	f.fail = errors.New("engine exploded")
	var e errorBody
	rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["x"]}`, &e)
	if rec.Code != 500 || e.Error.Code != CodeInferenceFailed || !strings.Contains(e.Error.Message, "engine exploded") {
		t.Errorf("status %d body %s, want 500 inference_failed naming the cause", rec.Code, rec.Body)
	}
}

// swapLoader hands out the models in order, one per load.
type swapLoader struct {
	mu     sync.Mutex
	models []Model
	errs   []error
}

func (l *swapLoader) load(context.Context) (Model, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.models[0], l.errs[0]
	l.models, l.errs = l.models[1:], l.errs[1:]
	return m, err
}

func TestReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := &fakeModel{name: "m", sha: "01"}
		nu := &fakeModel{name: "m", sha: "02"}
		bad := &fakeModel{name: "m", sha: "03", fail: errors.New("probe fails")}
		l := &swapLoader{
			models: []Model{old, nil, bad, nu},
			errs:   []error{nil, errors.New("model.onnx: not an ONNX model"), nil, nil},
		}
		s := newTestServer(t, l.load, func(c *Config) { c.AdminToken = "s3cret"; c.Workers = 2 })
		h := s.Handler()
		reload := func(token string) (*httptest.ResponseRecorder, errorBody) {
			req := httptest.NewRequest("POST", "/v1/admin/reload", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var e errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			return rec, e
		}
		if rec, e := reload(""); rec.Code != 401 || e.Error.Code != CodeUnauthorized {
			t.Errorf("no token: %d %q", rec.Code, e.Error.Code)
		}
		if rec, e := reload("wrong"); rec.Code != 401 || e.Error.Code != CodeUnauthorized {
			t.Errorf("wrong token: %d %q", rec.Code, e.Error.Code)
		}
		for _, why := range []string{"not an ONNX model", "probe fails"} {
			rec, e := reload("s3cret")
			if rec.Code != 422 || e.Error.Code != CodeReloadFailed || !strings.Contains(e.Error.Message, why) {
				t.Errorf("bad model: %d %s; want 422 reload_failed naming %q", rec.Code, rec.Body, why)
			}
			var got ScoreResponse
			post(t, h, "/v1/score", "application/json", `{"reviews": ["x"]}`, &got)
			if got.Model != "m@01" {
				t.Errorf("after a failed reload, served by %q, want m@01", got.Model)
			}
		}
		if !bad.closed.Load() {
			t.Error("the model that failed its probe was not closed")
		}

		// A batch running on the old model when the reload lands finishes there.
		old.gate = make(chan struct{})
		old.entered = make(chan struct{}, 1)
		inflight := make(chan ScoreResponse)
		go func() {
			var r ScoreResponse
			post(t, h, "/v1/score", "application/json", `{"reviews": ["inflight"]}`, &r)
			inflight <- r
		}()
		<-old.entered
		rec, _ := reload("s3cret")
		if rec.Code != 200 {
			t.Fatalf("good reload: %d %s", rec.Code, rec.Body)
		}
		var mr ModelResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &mr)
		if mr.Model != "m@02" || mr.LoadedAt.IsZero() {
			t.Errorf("reload answer %+v", mr)
		}
		var got ScoreResponse
		post(t, h, "/v1/score", "application/json", `{"reviews": ["x"]}`, &got)
		if got.Model != "m@02" {
			t.Errorf("after reload served by %q, want m@02", got.Model)
		}
		if old.closed.Load() {
			t.Error("old model closed while a batch was running on it")
		}
		close(old.gate)
		if r := <-inflight; r.Model != "m@01" || len(r.Scores) != 1 || r.Scores[0] != 0.008 {
			t.Errorf("in-flight request: %+v, want scored by m@01 as 0.008", r)
		}
		synctest.Wait()
		if !old.closed.Load() {
			t.Error("old model never closed after its last batch")
		}
		metrics := scrape(t, h)
		for _, want := range []string{`birnn_model_reloads_total{result="success"} 1`, `birnn_model_reloads_total{result="failure"} 2`,
			`birnn_model_info{name="m",sha256="02"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func TestMetricsAndModel(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), nil)
	h := s.Handler()
	post(t, h, "/v1/score", "application/json", `{"reviews": ["a", "b"]}`, nil)
	post(t, h, "/v1/score", "text/plain", `x`, nil)
	m := scrape(t, h)
	for _, want := range []string{
		`birnn_http_requests_total{code="200",route="/v1/score"} 1`,
		`birnn_http_requests_total{code="415",route="/v1/score"} 1`,
		`birnn_http_request_duration_seconds_bucket{code="200",route="/v1/score",le=`,
		`birnn_batch_size_rows_bucket{le="2"}`,
		`birnn_queue_depth_rows 0`,
		`birnn_http_in_flight_requests 1`, // the scrape itself
		`birnn_model_load_seconds `,
		`birnn_model_load_duration_seconds_count 1`,
		`birnn_rows_total{result="scored"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/model", nil))
	var mr ModelResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &mr); err != nil || rec.Code != 200 {
		t.Fatalf("/v1/model: %d %s", rec.Code, rec.Body)
	}
	if mr.Model != "m@aa" || mr.SHA256 != "aa" || mr.MaxLen != 100 || mr.LoadedAt.IsZero() {
		t.Errorf("/v1/model: %+v", mr)
	}
}

func TestRequestID(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	var logs bytes.Buffer
	s := newLoggedTestServer(t, staticLoader(f), nil, slogJSON(&logs))
	req := httptest.NewRequest("POST", "/v1/score", strings.NewReader(`{"reviews": ["a"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "abc-123")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Errorf("X-Request-Id %q, want the client's abc-123", rec.Header().Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Errorf("log lacks the request id:\n%s", logs.String())
	}
	req = httptest.NewRequest("POST", "/v1/score", strings.NewReader(`{"reviews": ["a"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "bad id\n")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-Id"); id == "" || id == "bad id\n" {
		t.Errorf("generated id %q", id)
	}
}

// TestAccessLogOff checks access_log false: answered and refused requests
// leave no request line, a request answered 5xx still does.
func TestAccessLogOff(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	var logs bytes.Buffer
	s := newLoggedTestServer(t, staticLoader(f), func(c *Config) { c.AccessLog = false }, slogJSON(&logs))
	requests := func() int { return strings.Count(logs.String(), `"msg":"request"`) }
	if rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["a"]}`, nil); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": [`, nil); rec.Code != 400 {
		t.Fatalf("status %d", rec.Code)
	}
	if n := requests(); n != 0 {
		t.Errorf("%d request lines with the access log off:\n%s", n, logs.String())
	}
	f.fail = errors.New("engine exploded")
	if rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["a"]}`, nil); rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if n := requests(); n != 1 || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("the 500 was not logged (%d request lines):\n%s", n, logs.String())
	}
}

func TestReadyAndDrain(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	cfg := DefaultConfig()
	release := make(chan struct{})
	s, err := New(cfg, func(context.Context) (Model, error) { <-release; return f, nil }, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	started := make(chan error)
	go func() { started <- s.Start(context.Background()) }()
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Errorf("while loading: healthz %d readyz %d, want 200 503", get("/healthz"), get("/readyz"))
	}
	var e errorBody
	if rec := post(t, h, "/v1/score", "application/json", `{"reviews": ["a"]}`, &e); rec.Code != 503 || e.Error.Code != CodeModelNotLoaded {
		t.Errorf("score while loading: %d %q", rec.Code, e.Error.Code)
	}
	close(release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if get("/readyz") != 200 {
		t.Errorf("loaded: readyz %d", get("/readyz"))
	}
	s.Drain()
	if get("/readyz") != 503 || get("/healthz") != 200 {
		t.Errorf("drained: readyz %d healthz %d, want 503 200", get("/readyz"), get("/healthz"))
	}
	if rec := post(t, h, "/v1/score", "application/json", `{"reviews": ["a"]}`, &e); rec.Code != 503 || e.Error.Code != CodeDraining {
		t.Errorf("score after drain: %d %q", rec.Code, e.Error.Code)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		edit func(*Config)
		key  string
	}{
		{func(c *Config) { c.Addr = "8080" }, "addr"},
		{func(c *Config) { c.MaxBatch = 0 }, "max_batch"},
		{func(c *Config) { c.MaxWait = -1 }, "max_wait"},
		{func(c *Config) { c.QueueSize = 10; c.MaxReviews = 11 }, "max_reviews"},
		{func(c *Config) { c.WriteTimeout = c.RequestTimeout }, "write_timeout"},
		{func(c *Config) { c.Threshold = 1 }, "threshold"},
		{func(c *Config) { c.MaxBodyBytes = -5 }, "max_body_bytes"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.edit(&c)
		var ce *ConfigError
		if err := c.Validate(); !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s: got %v, want a ConfigError for %s", tc.key, err, tc.key)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestConcurrentMixed runs many concurrent text and id requests (with
// -race) and checks every answer against the hand-computed fake scores.
func TestConcurrentMixed(t *testing.T) {
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), func(c *Config) { c.MaxBatch = 16; c.MaxWait = time.Millisecond })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				n := 1 + (c+k)%5
				var body string
				want := make([]float32, n)
				path := "/v1/score"
				if (c+k)%2 == 0 {
					revs := make([]string, n)
					for i := range revs {
						revs[i] = strings.Repeat("r", c*10+i+1)
						want[i] = float32(len(revs[i])) / 1000
					}
					b, _ := json.Marshal(ScoreRequest{Reviews: revs})
					body = string(b)
				} else {
					ids := make([][]int32, n)
					for i := range ids {
						ids[i] = []int32{1, int32(c), int32(k + i)}
						want[i] = float32(1+c+k+i) / 1000
					}
					b, _ := json.Marshal(IDsRequest{IDs: ids})
					body, path = string(b), "/v1/score/ids"
				}
				resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				var got ScoreResponse
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
					t.Errorf("client %d request %d: %d %s", c, k, resp.StatusCode, b)
					return
				}
				if fmt.Sprint(got.Scores) != fmt.Sprint(want) {
					t.Errorf("client %d request %d: scores %v, want %v", c, k, got.Scores, want)
				}
			}
		}()
	}
	wg.Wait()
}

// TestReloadSplitsRequest lands a reload between the two batches of one
// request and checks the answer names each row's model.
func TestReloadSplitsRequest(t *testing.T) {
	old := &fakeModel{name: "m", sha: "01"}
	nu := &fakeModel{name: "m", sha: "02"}
	l := &swapLoader{models: []Model{old, nu}, errs: []error{nil, nil}}
	s := newTestServer(t, l.load, func(c *Config) { c.Workers = 1; c.MaxBatch = 1 })
	old.gate = make(chan struct{})
	old.entered = make(chan struct{}, 1)
	answer := make(chan ScoreResponse)
	go func() {
		var r ScoreResponse
		post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["first", "second!"]}`, &r)
		answer <- r
	}()
	<-old.entered
	if _, err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(old.gate)
	r := <-answer
	if r.Model != "m@02" || fmt.Sprint(r.RowModels) != "[m@01 m@02]" || fmt.Sprint(r.Scores) != "[0.005 0.007]" {
		t.Errorf("answer %+v, want rows scored by m@01 then m@02", r)
	}
	var plain ScoreResponse
	post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["a", "b"]}`, &plain)
	if plain.RowModels != nil || plain.Model != "m@02" {
		t.Errorf("answer %+v: row_models only when rows differ", plain)
	}
}

// TestLoneRequestDoesNotWait checks that max_wait only applies while other
// requests are arriving: a lone request runs at once, even with a max_wait
// far beyond its timeout, and a request known to be arriving holds the
// batch until it is queued.
func TestLoneRequestDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) {
			c.MaxWait = time.Hour
			c.RequestTimeout = 5 * time.Second
			c.Workers = 1
		})
		f.reset()
		var got ScoreResponse
		if rec := post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["alone"]}`, &got); rec.Code != 200 {
			t.Fatalf("lone request: %d %s", rec.Code, rec.Body)
		}

		other := s.batch.arrive() // a request being read
		answer := make(chan ScoreResponse)
		go func() {
			var r ScoreResponse
			post(t, s.Handler(), "/v1/score", "application/json", `{"reviews": ["waits"]}`, &r)
			answer <- r
		}()
		synctest.Wait()
		if n := s.queued(); n != 1 {
			t.Fatalf("%d rows queued, want the waiting request's 1", n)
		}
		time.Sleep(4 * time.Second) // virtual: within the 5s request timeout, far past "at once"
		synctest.Wait()
		if n := f.calls.Load(); n != 1 {
			t.Errorf("model called %d times while another request was arriving, want 1 (the lone request)", n)
		}
		other()
		if r := <-answer; len(r.Scores) != 1 || r.Scores[0] != 0.005 {
			t.Errorf("answer %+v", r)
		}
	})
}
