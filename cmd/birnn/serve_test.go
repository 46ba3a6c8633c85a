package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

var (
	serveBinOnce sync.Once
	serveBinPath string
	serveBinErr  error
)

// serveBinary builds birnn for the serve tests, with -race when the tests
// themselves run with it, so the server's own concurrency is checked.
func serveBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return cliBinary(t)
	}
	serveBinOnce.Do(func() {
		serveBinPath = filepath.Join(binDir, "birnn-race")
		out, err := exec.Command("go", "build", "-race", "-o", serveBinPath, ".").CombinedOutput()
		if err != nil {
			serveBinErr = errors.New("go build -race: " + err.Error() + "\n" + string(out))
		}
	})
	if serveBinErr != nil {
		t.Fatal(serveBinErr)
	}
	return serveBinPath
}

// syncBuffer collects the server's stderr while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a running `birnn serve` process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
	code int
}

// startServe runs `birnn serve --addr 127.0.0.1:0 args…` and waits until
// it is ready; the process is killed at the end of the test if still alive.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(serveBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.Write([]byte(line + "\n"))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil {
				switch rec.Msg {
				case "listening":
					addr <- rec.Addr
				case "ready":
					close(ready)
				}
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatalf("server exited %d before listening:\n%s", s.code, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not listen:\n%s", s.logs.String())
	}
	select {
	case <-ready:
	case <-s.done:
		t.Fatalf("server exited %d before ready:\n%s", s.code, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server not ready:\n%s", s.logs.String())
	}
	return s
}

// stop sends sig and waits for the exit code.
func (s *server) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatal("server did not exit after", sig)
	}
	return s.code
}

// serveFixture writes servetest.Tiny(seed) and its word index to a temp
// folder.
func serveFixture(t *testing.T, seed uint64) (p *servetest.Params, model, wordIndex string) {
	t.Helper()
	p = servetest.Tiny(seed)
	model, wordIndex, err := p.Write(t.TempDir(), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	return p, model, wordIndex
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func postJSON(client *http.Client, url, contentType, body string) (httpResult, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return httpResult{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, resp.Header, b}, err
}

// checkScores compares a score response with the reference model(s),
// keyed by the served model id.
func checkScores(refs map[string]*servetest.Params, rows [][]int32, body []byte) error {
	var got serve.ScoreResponse
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("answer %s: %v", body, err)
	}
	if len(got.Scores) != len(rows) {
		return fmt.Errorf("%d scores for %d rows", len(got.Scores), len(rows))
	}
	if got.RowModels != nil && len(got.RowModels) != len(rows) {
		return fmt.Errorf("%d row models for %d rows", len(got.RowModels), len(rows))
	}
	for i, r := range rows {
		id := got.Model
		if got.RowModels != nil {
			id = got.RowModels[i]
		}
		p, ok := refs[id]
		if !ok {
			return fmt.Errorf("row %d: answer from unknown model %q", i, id)
		}
		want, err := p.Reference(r)
		if err != nil {
			return err
		}
		if math.Abs(float64(got.Scores[i])-want) > 1e-5 {
			return fmt.Errorf("row %d %v: served %v, reference %v (model %s)", i, r, got.Scores[i], want, got.Model)
		}
	}
	return nil
}

// checkAnswer checks a 200 score answer against the reference model(s).
func checkAnswer(refs map[string]*servetest.Params, rows [][]int32, res httpResult) error {
	if res.status != 200 {
		return fmt.Errorf("status %d: %s", res.status, res.body)
	}
	return checkScores(refs, rows, res.body)
}

// modelID is the id the server reports for the model file at path.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return strings.TrimSuffix(filepath.Base(path), ".onnx") + "@" + hex.EncodeToString(sum[:])
}

// clientRows is the id rows client c sends in its k-th request: 1–4 rows
// of different lengths, some past maxlen and some out of vocabulary.
func clientRows(c, k, vocab int) [][]int32 {
	n := 1 + (c+k)%4
	rows := make([][]int32, n)
	for i := range rows {
		row := []int32{1}
		for j := range (c*3 + k + i) % 12 {
			row = append(row, int32(3+(c*7+k*5+i*3+j*11)%(vocab+4)))
		}
		rows[i] = row
	}
	return rows
}

func TestServeConcurrentClients(t *testing.T) {
	p, model, wi := serveFixture(t, 7)
	s := startServe(t, nil, "--model", model, "--word-index", wi, "--max-batch", "8", "--max-wait", "1ms")
	id := sha256File(t, model)
	refs := map[string]*servetest.Params{id: p}
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 25 {
				rows := clientRows(c, k, p.Vocab)
				var res httpResult
				var err error
				if k%2 == 0 {
					b, _ := json.Marshal(serve.IDsRequest{IDs: rows})
					res, err = postJSON(client, s.url+"/v1/score/ids", "application/json", string(b))
				} else {
					texts := make([]string, len(rows))
					for i, r := range rows {
						words := make([]string, 0, len(r))
						for _, v := range r[1:] {
							words = append(words, servetest.Word(int(v)-3))
						}
						texts[i] = strings.Join(words, " ")
					}
					b, _ := json.Marshal(serve.ScoreRequest{Reviews: texts})
					res, err = postJSON(client, s.url+"/v1/score", "application/json", string(b))
					// The text route drops unknown words and maps ids ≥ vocab to 2, as the reference encoder does.
					for i := range rows {
						rows[i] = p.EncodeText(texts[i])
					}
				}
				if err == nil {
					err = checkAnswer(refs, rows, res)
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("client %d request %d: %v", c, k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	resp, err := client.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`birnn_http_requests_total{code="200",route="/v1/score"} 192`,
		`birnn_http_requests_total{code="200",route="/v1/score/ids"} 208`, "birnn_batch_size_rows_count"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

func TestServeLimits(t *testing.T) {
	_, model, wi := serveFixture(t, 7)
	s := startServe(t, []string{"BIRNN_SERVE_MAX_REVIEWS=3"}, "--model", model, "--word-index", wi,
		"--max-body-bytes", "300", "--max-review-chars", "20", "--max-ids", "5")
	client := &http.Client{Timeout: 10 * time.Second}
	cases := []struct {
		name, path, ct, body string
		status               int
		code                 string
		index                int // -1: none
	}{
		{"body too large", "/v1/score", "application/json", `{"reviews": ["` + strings.Repeat("x", 400) + `"]}`, 413, serve.CodeBodyTooLarge, -1},
		{"wrong content type", "/v1/score", "text/plain", `{"reviews": ["a"]}`, 415, serve.CodeUnsupportedMediaType, -1},
		{"malformed", "/v1/score", "application/json", `{"reviews": [`, 400, serve.CodeMalformedJSON, -1},
		{"unknown field", "/v1/score", "application/json", `{"reviews": ["a"], "x": 1}`, 400, serve.CodeUnknownField, -1},
		{"empty list", "/v1/score", "application/json", `{"reviews": []}`, 422, serve.CodeEmptyRequest, -1},
		{"too many reviews", "/v1/score", "application/json", `{"reviews": ["a", "b", "c", "d"]}`, 422, serve.CodeTooManyReviews, -1},
		{"review too long", "/v1/score", "application/json", `{"reviews": ["short", "` + strings.Repeat("word ", 5) + `"]}`, 422, serve.CodeReviewTooLong, 1},
		{"ids row too long", "/v1/score/ids", "application/json", `{"ids": [[1, 2, 3, 4, 5, 6]]}`, 422, serve.CodeReviewTooLong, 0},
		{"negative id", "/v1/score/ids", "application/json", `{"ids": [[1], [1, -1]]}`, 422, serve.CodeInvalidID, 1},
		{"admin disabled", "/v1/admin/reload", "", ``, 404, serve.CodeNotFound, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := postJSON(client, s.url+tc.path, tc.ct, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error struct {
					Code    string
					Message string
					Index   *int
				}
			}
			if err := json.Unmarshal(res.body, &e); err != nil {
				t.Fatalf("body %q: %v", res.body, err)
			}
			if res.status != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("status %d body %s; want %d %s", res.status, res.body, tc.status, tc.code)
			}
			if tc.index >= 0 && (e.Error.Index == nil || *e.Error.Index != tc.index) {
				t.Errorf("index %v, want %d", e.Error.Index, tc.index)
			}
			if res.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
	// The limits above leave the server healthy.
	res, err := postJSON(client, s.url+"/v1/score", "application/json", `{"reviews": ["a", "b", "c"]}`)
	if err != nil || res.status != 200 {
		t.Errorf("valid request after the limits: %v %d %s", err, res.status, res.body)
	}
	if code := s.stop(t, os.Interrupt); code != 0 {
		t.Errorf("exit code %d after SIGINT, want 0", code)
	}
}

// replaceFile writes m to path atomically, as a deployment would.
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestServeReloadUnderLoad keeps 8 clients busy while the model file is
// replaced and reloaded by SIGHUP and by the admin route, and a corrupt
// file is refused: no request may fail, and every answer must match the
// reference of the model it names.
func TestServeReloadUnderLoad(t *testing.T) {
	p1, model, wi := serveFixture(t, 7)
	p2 := servetest.Tiny(8)
	m2, err := p2.Model()
	if err != nil {
		t.Fatal(err)
	}
	b1, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	model2 := filepath.Join(dir, "tiny.onnx")
	if err := onnx.WriteModel(model2, m2); err != nil {
		t.Fatal(err)
	}
	b2, err := os.ReadFile(model2)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]*servetest.Params{sha256File(t, model): p1, sha256File(t, model2): p2}

	s := startServe(t, []string{"BIRNN_SERVE_ADMIN_TOKEN=tok"}, "--model", model, "--word-index", wi, "--max-batch", "4", "--max-wait", "2ms")
	client := &http.Client{Timeout: 30 * time.Second}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	seen := sync.Map{}
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				rows := clientRows(c, k, p1.Vocab)
				b, _ := json.Marshal(serve.IDsRequest{IDs: rows})
				res, err := postJSON(client, s.url+"/v1/score/ids", "application/json", string(b))
				if err == nil {
					err = checkAnswer(refs, rows, res)
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("client %d request %d: %v", c, k, err)
					continue
				}
				var r serve.ScoreResponse
				_ = json.Unmarshal(res.body, &r)
				seen.Store(r.Model, true)
				ok.Add(1)
			}
		}()
	}
	admin := func() httpResult {
		req, _ := http.NewRequest("POST", s.url+"/v1/admin/reload", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return httpResult{resp.StatusCode, resp.Header, body}
	}
	waitModel := func(want string) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := client.Get(s.url + "/v1/model")
			if err == nil {
				var mr serve.ModelResponse
				_ = json.NewDecoder(resp.Body).Decode(&mr)
				resp.Body.Close()
				if mr.Model == want {
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Errorf("model %s never served", want)
	}
	id1, id2 := sha256File(t, model), sha256File(t, model2)
	time.Sleep(300 * time.Millisecond)
	replaceFile(t, model, b2)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitModel(id2)
	time.Sleep(300 * time.Millisecond)
	replaceFile(t, model, []byte("this is not an ONNX model"))
	if res := admin(); res.status != 422 || !strings.Contains(string(res.body), serve.CodeReloadFailed) {
		t.Errorf("reload of a corrupt file: %d %s, want 422 reload_failed", res.status, res.body)
	}
	time.Sleep(200 * time.Millisecond)
	replaceFile(t, model, b1)
	if res := admin(); res.status != 200 {
		t.Errorf("admin reload: %d %s", res.status, res.body)
	}
	waitModel(id1)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() < 50 {
		t.Errorf("%d requests failed, %d succeeded (want 0 failures, ≥ 50 answers)", failed.Load(), ok.Load())
	}
	for _, id := range []string{id1, id2} {
		if _, ok := seen.Load(id); !ok {
			t.Errorf("no request was answered by %s", id)
		}
	}
	if !strings.Contains(s.logs.String(), `"msg":"model load failed"`) {
		t.Error("the failed reload was not logged")
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	t.Logf("%d requests answered across two reloads", ok.Load())
}

// TestServeReloadRereadsWordIndex replaces the word index under a running
// process: SIGHUP makes texts encode with the new vocabulary.
func TestServeReloadRereadsWordIndex(t *testing.T) {
	p, model, wi := serveFixture(t, 9)
	s := startServe(t, nil, "--model", model, "--word-index", wi)
	client := &http.Client{Timeout: 30 * time.Second}
	text := servetest.Word(1) + " " + servetest.Word(2)
	score := func() float64 {
		t.Helper()
		b, _ := json.Marshal(serve.ScoreRequest{Reviews: []string{text}})
		res, err := postJSON(client, s.url+"/v1/score", "application/json", string(b))
		if err != nil || res.status != 200 {
			t.Fatalf("score: %v %d %s", err, res.status, res.body)
		}
		var r serve.ScoreResponse
		if err := json.Unmarshal(res.body, &r); err != nil || len(r.Scores) != 1 {
			t.Fatalf("score: %v %s", err, res.body)
		}
		return float64(r.Scores[0])
	}
	want := func(ids ...int32) float64 {
		t.Helper()
		v, err := p.Reference(ids)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got, w := score(), want(1, 1+3, 2+3); math.Abs(got-w) > 1e-5 {
		t.Fatalf("before: score %v, want %v", got, w)
	}
	words := p.Words()
	words[servetest.Word(1)], words[servetest.Word(2)] = 2, 1
	b, err := json.Marshal(words)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, wi, b)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	w := want(1, 2+3, 1+3)
	if math.Abs(w-want(1, 1+3, 2+3)) < 1e-4 {
		t.Fatal("the fixture scores both vocabularies alike; the test could not tell them apart")
	}
	deadline := time.Now().Add(10 * time.Second)
	for math.Abs(score()-w) > 1e-5 {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP: score %v, want %v with the replaced word index", score(), w)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeDrainOnShutdown sends SIGTERM while 12 requests are running or
// queued on a slow model, and checks each is answered and the process
// exits 0.
func TestServeDrainOnShutdown(t *testing.T) {
	steps := 200000 // tens of ms a row on a fast AVX-512 core, so requests are still in flight at SIGTERM
	if raceEnabled {
		steps = 20000 // the race detector slows the engine about tenfold
	}
	p := servetest.Slow(7, steps)
	model, wi, err := p.Write(t.TempDir(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, "--model", model, "--word-index", wi, "--max-batch", "4", "--workers", "1",
		"--request-timeout", "5m", "--write-timeout", "6m")
	id := sha256File(t, model)
	client := &http.Client{Timeout: 5 * time.Minute}
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for c := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := clientRows(c, 0, p.Vocab)
			b, _ := json.Marshal(serve.IDsRequest{IDs: rows})
			res, err := postJSON(client, s.url+"/v1/score/ids", "application/json", string(b))
			if err == nil && res.status != 200 {
				err = fmt.Errorf("status %d: %s", res.status, res.body)
			}
			if err == nil {
				var got serve.ScoreResponse
				if err = json.Unmarshal(res.body, &got); err == nil && (len(got.Scores) != len(rows) || got.Model != id) {
					err = fmt.Errorf("answer %s: want %d scores from %s", res.body, len(rows), id)
				}
			}
			errs[c] = err
		}()
	}
	// Wait until all 12 requests have arrived (answered + in flight, less
	// the scrape itself) with at least 4 still running or queued (each
	// batch of the slow model takes long), then ask the server to stop.
	deadline := time.Now().Add(30 * time.Second)
	var inFlight int
	for {
		resp, err := client.Get(s.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered := 0
		inFlight = -1 // the scrape
		for _, line := range strings.Split(string(m), "\n") {
			var n int
			if _, err := fmt.Sscanf(line, `birnn_http_requests_total{code="200",route="/v1/score/ids"} %d`, &n); err == nil {
				answered = n
			}
			if _, err := fmt.Sscanf(line, "birnn_http_in_flight_requests %d", &n); err == nil {
				inFlight += n
			}
		}
		if answered+inFlight == 12 {
			if inFlight < 4 {
				t.Fatalf("only %d requests in flight once all had arrived: the model is too fast for this test", inFlight)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests never arrived:\n%s", m)
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			t.Errorf("request %d in flight at SIGTERM: %v", c, err)
		}
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after drain")
	}
	if s.code != 0 {
		t.Errorf("exit code %d, want 0", s.code)
	}
	if _, err := client.Get(s.url + "/healthz"); err == nil {
		t.Error("server still accepting after shutdown")
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"draining"`) || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("log lacks draining/stopped")
	}
	t.Logf("%d requests in flight at SIGTERM; drained in %s", inFlight, time.Since(start))
}

func TestServeSettings(t *testing.T) {
	_, model, wi := serveFixture(t, 7)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfg, []byte("model: "+model+"\nword_index: "+wi+"\nmax_batch: 3\nmax_reviews: 7\nmax_wait: 4ms\nqueue_size: 100\naccess_log: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// file < env < flags: queue_size from the file, max_reviews from the
	// environment (over the file), max_batch from the flag (over both).
	s := startServe(t, []string{"BIRNN_SERVE_MAX_REVIEWS=9", "BIRNN_SERVE_MAX_BATCH=5"}, "--config", cfg, "--max-batch", "11")
	var settings map[string]any
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"settings"`) {
			_ = json.Unmarshal([]byte(line), &settings)
		}
	}
	want := map[string]any{"max_batch": 11.0, "max_reviews": 9.0, "queue_size": 100.0, "max_wait": "4ms", "model": model, "access_log": false}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("%s = %v, want %v (settings %v)", k, settings[k], v, settings)
		}
	}
	// access_log false: a scored request leaves no request line.
	res, err := postJSON(&http.Client{Timeout: 30 * time.Second}, s.url+"/v1/score/ids", "application/json", `{"ids": [[1, 5, 6]]}`)
	if err != nil || res.status != 200 {
		t.Fatalf("score: %v %d %s", err, res.status, res.body)
	}
	s.stop(t, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), `"msg":"stopped"`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if logs := s.logs.String(); !strings.Contains(logs, `"msg":"stopped"`) || strings.Contains(logs, `"msg":"request"`) {
		t.Errorf("with access_log false, want no request line before stopped:\n%s", logs)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("max_batchh: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badValue := filepath.Join(dir, "bad_value.yaml")
	if err := os.WriteFile(badValue, []byte("addr: 127.0.0.1:0\nmax_batch: lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		env  []string
		code int
		want string
	}{
		{[]string{"serve", "--word-index", wi}, nil, 2, "give one of --model and --model-repository"},
		{[]string{"serve", "--model", model, "--word-index", wi, "--config", bad}, nil, 2, "max_batchh: unknown key (line 1"},
		{[]string{"serve", "--model", model, "--word-index", wi, "--config", badValue}, nil, 2, "max_batch (line 2)"},
		{[]string{"serve", "--model", model, "--word-index", wi, "--max-batch", "0"}, nil, 2, "max_batch"},
		{[]string{"serve", "--model", model, "--word-index", wi}, []string{"BIRNN_SERVE_MAX_WAIT=soon"}, 2, "BIRNN_SERVE_MAX_WAIT=soon"},
		{[]string{"serve", "--model", model, "--word-index", filepath.Join(dir, "none.json")}, nil, 1, "word index"},
		{[]string{"serve", "--model", junk, "--word-index", wi, "--addr", "127.0.0.1:0"}, nil, 1, "junk.onnx"},
	}
	for _, tc := range cases {
		_, errOut, code := runServeCLI(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("birnn %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func runServeCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(serveBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("birnn %v did not exit", args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}

// TestServeQueueFullAndTimeout keeps the one worker busy with a slow
// model: a request that does not fit the queue gets 503 with Retry-After,
// queued requests time out with 504, and their rows are dropped unscored.
func TestServeQueueFullAndTimeout(t *testing.T) {
	p := servetest.Slow(7, 2000000) // ≥ 0.4 s a row on a fast AVX-512 core: the queued rows expire before the worker is free
	model, wi, err := p.Write(t.TempDir(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, "--model", model, "--word-index", wi, "--queue-size", "4", "--max-reviews", "4",
		"--max-batch", "1", "--workers", "1", "--request-timeout", "100ms", "--write-timeout", "5s")
	client := &http.Client{Timeout: 60 * time.Second}
	metric := func(name string) string {
		resp, err := client.Get(s.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, name+" ") {
				return strings.TrimPrefix(line, name+" ")
			}
		}
		return ""
	}
	waitMetric := func(name, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for metric(name) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s = %q, want %q", name, metric(name), want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	async := func(body string) chan httpResult {
		ch := make(chan httpResult, 1)
		go func() {
			res, err := postJSON(client, s.url+"/v1/score", "application/json", body)
			if err != nil {
				t.Error(err)
			}
			ch <- res
		}()
		return ch
	}
	running := async(`{"reviews": ["a"]}`)
	waitMetric("birnn_http_in_flight_requests", "2") // it and the scrape; its row is taken at once
	queued := async(`{"reviews": ["b", "c", "d", "e"]}`)
	waitMetric("birnn_queue_depth_rows", "4")
	res, err := postJSON(client, s.url+"/v1/score", "application/json", `{"reviews": ["f"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 503 || !strings.Contains(string(res.body), serve.CodeQueueFull) || res.header.Get("Retry-After") == "" {
		t.Errorf("over the queue: %d %s Retry-After %q; want 503 queue_full with Retry-After", res.status, res.body, res.header.Get("Retry-After"))
	}
	for _, ch := range []chan httpResult{running, queued} {
		if res := <-ch; res.status != 504 || !strings.Contains(string(res.body), serve.CodeTimeout) {
			t.Errorf("request past its timeout: %d %s; want 504 timeout", res.status, res.body)
		}
	}
	// The running row finishes; the four queued ones are dropped unscored.
	waitMetric(`birnn_rows_total{result="dropped"}`, "4")
	waitMetric(`birnn_rows_total{result="scored"}`, "1")
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}
