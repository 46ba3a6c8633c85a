package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/birnn/birnn/model"
)

// ScoreRequest is the body of POST /v1/score.
type ScoreRequest struct {
	Reviews []string `json:"reviews"`
}

// IDsRequest is the body of POST /v1/score/ids: token ids per review, as
// keras.datasets.imdb.load_data gives them (start marker 1 first).
type IDsRequest struct {
	IDs [][]int32 `json:"ids"`
}

// ScoreResponse answers both scoring routes: one probability of the
// positive class and one label per review, in request order, and the
// "<name>@<sha256>" of the model that scored them. A request whose rows
// were split over batches that straddle a reload is scored partly by the
// old and partly by the new model: then Model names the one that scored
// its last row and RowModels names, per row, the model that scored it.
type ScoreResponse struct {
	Scores    []float32 `json:"scores"`
	Labels    []string  `json:"labels"`
	Model     string    `json:"model"`
	RowModels []string  `json:"row_models,omitempty"`
}

// ModelResponse is the body of GET /v1/model and of a successful reload.
type ModelResponse struct {
	Model string `json:"model"`
	ModelInfo
}

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID is the request's id (X-Request-Id, honoured or generated).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(method, path string, h http.HandlerFunc) {
		mux.Handle(method+" "+path, s.instrument(path, h))
		mux.Handle(path, s.instrument(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", method)
			s.writeError(w, r, apiErrorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s %s: use %s", r.Method, path, method))
		}))
	}
	handle("POST", "/v1/score", s.handleScore)
	handle("POST", "/v1/score/ids", s.handleScoreIDs)
	handle("GET", "/v1/model", s.handleModel)
	handle("POST", "/v1/admin/reload", s.handleReload)
	handle("GET", "/healthz", s.handleHealth)
	handle("GET", "/readyz", s.handleReady)
	s.v2Routes(mux)
	mux.Handle("GET /metrics", s.instrument("/metrics", s.metricsHandler().ServeHTTP))
	mux.Handle("/", s.instrument("other", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, apiErrorf(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	}))
	return mux
}

// recorder remembers what a handler answered, for metrics and logs.
type recorder struct {
	http.ResponseWriter
	status int
	code   string // error code, if any
	rows   int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument wraps every route: request id, in-flight gauge, request
// count and latency by route and status, one structured log line.
func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		rec := &recorder{ResponseWriter: w}
		s.met.inFlight.Inc()
		defer s.met.inFlight.Dec()
		h(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		code := strconv.Itoa(rec.status)
		s.met.requests.WithLabelValues(route, code).Inc()
		s.met.latency.WithLabelValues(route, code).Observe(d.Seconds())
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			return // probes and scrapes would drown the log
		}
		if !s.cfg.AccessLog && rec.status < 500 {
			return
		}
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(d.Microseconds()) / 1000, "remote", r.RemoteAddr}
		if rec.rows > 0 {
			attrs = append(attrs, "rows", rec.rows)
		}
		if rec.code != "" {
			attrs = append(attrs, "error_code", rec.code)
		}
		s.log.Info("request", attrs...)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:", c) >= 0) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *APIError) {
	if rec, ok := w.(*recorder); ok {
		rec.code = e.Code
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, map[string]*APIError{"error": e})
}

// decode reads a JSON body into dst, enforcing the content type, the body
// size limit, and the absence of unknown fields and trailing data.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any) *APIError {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return apiErrorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type %q: want application/json", ct)
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return apiErrorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body of %d bytes exceeds the limit of %d", r.ContentLength, s.cfg.MaxBodyBytes)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		if err == nil {
			err = errors.New("more than one JSON value in the body")
		}
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	return nil
}

func decodeError(err error, limit int64) *APIError {
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return apiErrorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body exceeds the limit of %d bytes", limit)
	case errors.Is(err, io.EOF):
		return apiErrorf(http.StatusBadRequest, CodeMalformedJSON, "empty body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apiErrorf(http.StatusBadRequest, CodeUnknownField, "%s", strings.TrimPrefix(err.Error(), "json: "))
	case errors.As(err, &te):
		return apiErrorf(http.StatusBadRequest, CodeMalformedJSON, "field %q: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return apiErrorf(http.StatusBadRequest, CodeMalformedJSON, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func (s *Server) checkCount(n int, what string) *APIError {
	if n == 0 {
		return apiErrorf(http.StatusUnprocessableEntity, CodeEmptyRequest, "%s is missing or empty", what)
	}
	if n > s.cfg.MaxReviews {
		return apiErrorf(http.StatusUnprocessableEntity, CodeTooManyReviews, "%d reviews exceed the limit of %d per request", n, s.cfg.MaxReviews)
	}
	return nil
}

func (s *Server) handleScore(w http.ResponseWriter, r *http.Request) {
	arrived := s.batch.arrive()
	defer arrived()
	var req ScoreRequest
	if e := s.decode(w, r, &req); e != nil {
		s.writeError(w, r, e)
		return
	}
	if e := s.checkCount(len(req.Reviews), `"reviews"`); e != nil {
		s.writeError(w, r, e)
		return
	}
	for i, t := range req.Reviews {
		if n := utf8.RuneCountInString(t); n > s.cfg.MaxReviewChars {
			s.writeError(w, r, apiErrorAt(http.StatusUnprocessableEntity, CodeReviewTooLong, i,
				"review %d has %d characters, over the limit of %d", i, n, s.cfg.MaxReviewChars))
			return
		}
	}
	s.score(w, r, req.Reviews, nil, arrived)
}

func (s *Server) handleScoreIDs(w http.ResponseWriter, r *http.Request) {
	arrived := s.batch.arrive()
	defer arrived()
	var req IDsRequest
	if e := s.decode(w, r, &req); e != nil {
		s.writeError(w, r, e)
		return
	}
	if e := s.checkCount(len(req.IDs), `"ids"`); e != nil {
		s.writeError(w, r, e)
		return
	}
	maxID := 0
	if l := s.v1Holder().current(); l != nil {
		maxID = l.info.MaxID
	}
	for i, row := range req.IDs {
		if len(row) > s.cfg.MaxIDs {
			s.writeError(w, r, apiErrorAt(http.StatusUnprocessableEntity, CodeReviewTooLong, i,
				"row %d has %d ids, over the limit of %d", i, len(row), s.cfg.MaxIDs))
			return
		}
		for _, id := range row {
			if id < 0 || maxID > 0 && int(id) > maxID {
				s.writeError(w, r, apiErrorAt(http.StatusUnprocessableEntity, CodeInvalidID, i,
					"row %d: id %d outside [0, %d]", i, id, maxID))
				return
			}
		}
	}
	for i := range req.IDs {
		if req.IDs[i] == nil {
			req.IDs[i] = []int32{} // a row, even if empty: job tells kinds apart by nil-ness
		}
	}
	s.score(w, r, nil, req.IDs, arrived)
}

// score queues the request's rows on the server's model, waits for them
// and answers in /v1's shape. arrived ends the request's arriving note
// once its rows are queued.
func (s *Server) score(w http.ResponseWriter, r *http.Request, texts []string, ids [][]int32, arrived func()) {
	if rec, ok := w.(*recorder); ok {
		rec.rows = len(texts) + len(ids)
	}
	j, e := s.run(r.Context(), s.v1Holder(), texts, ids, arrived)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	resp := ScoreResponse{Scores: j.scores, Labels: s.labels(j.scores), Model: j.models[len(j.models)-1]}
	for _, m := range j.models {
		if m != resp.Model {
			resp.RowModels = j.models
			break
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// labels are the scores' labels under the server's threshold.
func (s *Server) labels(scores []float32) []string {
	out := make([]string, len(scores))
	for i, p := range scores {
		out[i] = model.Label(float64(p), float64(s.cfg.Threshold))
	}
	return out
}

// run is every protocol's way to the model (/v1, /v2 and gRPC): it queues
// the rows (texts or ids) on the batcher for h's model, waits for them, the
// request timeout or ctx (the client) ending, and returns the finished job
// or the error to answer. arrived ends the request's arriving note once its
// rows are queued.
func (s *Server) run(ctx context.Context, h *holder, texts []string, ids [][]int32, arrived func()) (*job, *APIError) {
	if h == nil || h.current() == nil {
		return nil, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "no model loaded yet")
	}
	tctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	j := newJob(tctx, texts, ids)
	j.h = h
	err := s.batch.submit(j)
	arrived()
	if err != nil {
		st := errStatus[err]
		return nil, apiErrorf(st.status, st.code, "%s", strings.TrimPrefix(err.Error(), "serve: "))
	}
	select {
	case <-j.done:
	case <-tctx.Done():
		if ctx.Err() != nil {
			return nil, apiErrorf(statusClientClosed, CodeClientClosed, "client closed the request")
		}
		return nil, apiErrorf(http.StatusGatewayTimeout, CodeTimeout, "not scored within %s", s.cfg.RequestTimeout)
	}
	if j.err != nil {
		if st, ok := errStatus[j.err]; ok {
			return nil, apiErrorf(st.status, st.code, "%s", strings.TrimPrefix(j.err.Error(), "serve: "))
		}
		return nil, apiErrorf(http.StatusInternalServerError, CodeInferenceFailed, "%v", j.err)
	}
	return j, nil
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	l := s.v1Holder().current()
	if l == nil {
		s.writeError(w, r, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "no model loaded yet"))
		return
	}
	writeJSON(w, http.StatusOK, ModelResponse{Model: l.id, ModelInfo: l.info})
}

func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminToken == "" {
		s.writeError(w, r, apiErrorf(http.StatusNotFound, CodeNotFound, "admin routes are disabled (no admin token configured)"))
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="birnn admin"`)
		s.writeError(w, r, apiErrorf(http.StatusUnauthorized, CodeUnauthorized, "missing or wrong bearer token"))
		return
	}
	info, err := s.Reload(r.Context())
	if err != nil {
		s.writeError(w, r, apiErrorf(http.StatusUnprocessableEntity, CodeReloadFailed, "%v; the previous model keeps serving", err))
		return
	}
	writeJSON(w, http.StatusOK, ModelResponse{Model: info.ID(), ModelInfo: info})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.writeError(w, r, apiErrorf(http.StatusServiceUnavailable, CodeDraining, "shutting down"))
		return
	}
	l := s.v1Holder().current()
	if l == nil && s.repo != nil && s.ready() {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	if l == nil {
		s.writeError(w, r, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "no model loaded yet"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "model": l.id})
}
