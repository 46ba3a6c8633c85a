package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the scoring service: HTTP routes, the batching queue, and the
// model holder that reloads swap atomically.
type Server struct {
	cfg     Config
	load    Loader
	log     *slog.Logger
	met     *metrics
	models  holder
	batch   *batcher
	handler http.Handler

	reloadMu sync.Mutex
	draining atomic.Bool
	baseCtx  context.Context
	stopBase context.CancelFunc
}

// New returns a server that loads its model with load, its batching
// workers started. The model is loaded by Run (or Start, when the handler
// is served elsewhere); call Drain to stop the workers. cfg is validated
// (a *ConfigError); log nil means slog.Default().
func New(cfg Config, load Loader, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if load == nil {
		return nil, errors.New("serve: nil Loader")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, load: load, log: log, met: newMetrics()}
	s.baseCtx, s.stopBase = context.WithCancel(context.Background())
	s.handler = s.routes()
	s.batch = newBatcher(cfg.MaxBatch, cfg.MaxWait, cfg.QueueSize, cfg.Workers, s.runBatch,
		func(d int) { s.met.queueDepth.Set(float64(d)) },
		func(n int) { s.met.rows.WithLabelValues("dropped").Add(float64(n)) })
	return s, nil
}

// Handler is the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start loads the first model (unless one is loaded).
func (s *Server) Start(ctx context.Context) error {
	if s.models.current() == nil {
		if _, err := s.swapIn(ctx, false); err != nil {
			return err
		}
	}
	return nil
}

// Drain marks the server not ready, waits for queued rows to be scored,
// and stops the workers. Requests arriving afterwards get 503 draining.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.batch.close()
	s.stopBase()
}

// Run serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting connections, lets every request in flight and every queued row
// finish (up to ShutdownTimeout), and returns nil. /healthz answers while
// the first model loads; /readyz only once it is loaded. A first model
// that fails to load ends Run with that error.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())

	loadErr := make(chan error, 1)
	go func() { loadErr <- s.Start(ctx) }()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	case err := <-loadErr:
		if err != nil {
			runErr = err
		} else {
			s.log.Info("ready")
			select {
			case <-ctx.Done():
			case err := <-serveErr:
				runErr = fmt.Errorf("serve: %w", err)
			}
		}
	}

	s.draining.Store(true)
	s.log.Info("draining", "in_flight_timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("serve: shutdown: %w", err)
	}
	s.Drain()
	if runErr == nil {
		s.log.Info("stopped")
	}
	return runErr
}

// Reload loads the model again (the Loader typically rereads the file),
// checks it with a probe inference and swaps it in atomically; batches
// already running finish on the old model. On failure the old model keeps
// serving and the error is a *ReloadError.
func (s *Server) Reload(ctx context.Context) (ModelInfo, error) {
	return s.swapIn(ctx, true)
}

func (s *Server) swapIn(ctx context.Context, reload bool) (ModelInfo, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	m, err := s.load(ctx)
	if err == nil {
		err = probe(ctx, m)
		if err != nil {
			if c, ok := m.(interface{ Close() error }); ok {
				_ = c.Close()
			}
		}
	}
	secs := time.Since(start).Seconds()
	s.met.loadHist.Observe(secs)
	if err != nil {
		if reload {
			s.met.reloads.WithLabelValues("failure").Inc()
		}
		s.log.Error("model load failed", "reload", reload, "error", err.Error())
		return ModelInfo{}, &ReloadError{Err: err}
	}
	info := m.Info()
	info.LoadedAt = time.Now().UTC()
	info.LoadSeconds = secs
	l := &loaded{model: m, info: info, id: info.ID()}
	prev := s.models.current()
	s.models.swap(l)
	if prev != nil {
		s.met.modelInfo.DeleteLabelValues(prev.info.Name, prev.info.SHA256)
	}
	s.met.modelInfo.WithLabelValues(info.Name, info.SHA256).Set(1)
	s.met.loadSecs.Set(secs)
	if reload {
		s.met.reloads.WithLabelValues("success").Inc()
	}
	s.log.Info("model loaded", "reload", reload, "model", l.id, "path", info.Path, "seconds", secs)
	return info, nil
}

// probe scores one text and one id row and checks that each gives one
// probability; a model that cannot is never served.
func probe(ctx context.Context, m Model) error {
	check := func(what string, p []float32, err error) error {
		if err != nil {
			return fmt.Errorf("probe %s: %w", what, err)
		}
		if len(p) != 1 {
			return fmt.Errorf("probe %s: %d scores for 1 review", what, len(p))
		}
		if v := float64(p[0]); math.IsNaN(v) || v < 0 || v > 1 {
			return fmt.Errorf("probe %s: score %v is not a probability", what, p[0])
		}
		return nil
	}
	p, err := m.Score(ctx, []string{"this film was good"})
	if err := check("text", p, err); err != nil {
		return err
	}
	p, err = m.ScoreIDs(ctx, [][]int32{{1, 14, 22, 16}})
	return check("ids", p, err)
}

// runBatch scores one batch on the current model and routes the scores
// back to their jobs.
func (s *Server) runBatch(items []item) {
	l := s.models.acquire()
	if l == nil {
		for _, it := range items {
			it.j.complete(it.i, 0, "", ErrNoModel)
		}
		s.met.rows.WithLabelValues("failed").Add(float64(len(items)))
		return
	}
	defer l.mu.RUnlock()
	var texts []string
	var ids [][]int32
	var ti, ii []int
	for k, it := range items {
		if it.j.texts != nil {
			texts = append(texts, it.j.texts[it.i])
			ti = append(ti, k)
		} else {
			ids = append(ids, it.j.ids[it.i])
			ii = append(ii, k)
		}
	}
	start := time.Now()
	scores := make([]float32, len(items))
	errs := make([]error, len(items))
	run := func(idx []int, f func() ([]float32, error)) {
		if len(idx) == 0 {
			return
		}
		p, err := f()
		if err == nil && len(p) != len(idx) {
			err = fmt.Errorf("model returned %d scores for %d rows", len(p), len(idx))
		}
		for n, k := range idx {
			if err != nil {
				errs[k] = err
			} else {
				scores[k] = p[n]
			}
		}
	}
	run(ti, func() ([]float32, error) { return l.model.Score(s.baseCtx, texts) })
	run(ii, func() ([]float32, error) { return l.model.ScoreIDs(s.baseCtx, ids) })
	s.met.batchSecs.Observe(time.Since(start).Seconds())
	s.met.batchSize.Observe(float64(len(items)))
	// Metrics first, so a client that has its answer sees them counted.
	failed := 0
	for k := range items {
		if errs[k] != nil {
			failed++
		}
	}
	if failed > 0 {
		s.met.rows.WithLabelValues("failed").Add(float64(failed))
		s.log.Error("batch failed", "model", l.id, "rows", len(items), "error", errs[firstErr(errs)].Error())
	}
	s.met.rows.WithLabelValues("scored").Add(float64(len(items) - failed))
	for k, it := range items {
		it.j.complete(it.i, scores[k], l.id, errs[k])
	}
}

func firstErr(errs []error) int {
	for i, e := range errs {
		if e != nil {
			return i
		}
	}
	return -1
}

// metricsHandler serves the registry in the Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{Registry: s.met.reg})
}
