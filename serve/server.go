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
	"google.golang.org/grpc"
)

// Server is the scoring service: HTTP routes, the batching queue, and the
// model holder that reloads swap atomically.
type Server struct {
	cfg      Config
	load     Loader
	log      *slog.Logger
	met      *metrics
	models   holder
	batch    *batcher
	handler  http.Handler
	repo     *repository // nil: the one model of load
	grpc     *grpcServer
	grpcOnce sync.Once

	draining  atomic.Bool
	startOnce sync.Once
	// repoStarted is set once the repository's first scan has loaded
	// (or failed) every version found: only then is the server ready.
	repoStarted atomic.Bool
	startErr    error
	baseCtx     context.Context
	stopBase    context.CancelFunc
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
	if s.repo != nil {
		s.startOnce.Do(func() {
			s.startErr = s.syncRepository(ctx, syncOpts{})
			s.repoStarted.Store(s.startErr == nil)
			if s.startErr == nil && s.cfg.RepositoryPoll > 0 {
				go s.poll(s.baseCtx, s.cfg.RepositoryPoll)
			}
		})
		return s.startErr
	}
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
	s.setServing(false)
	s.batch.close()
	s.stopBase()
}

// Run serves HTTP on ln until ctx is done, then shuts down gracefully: it
// stops accepting connections, lets every request in flight and every
// queued row finish (up to ShutdownTimeout), and returns nil. /healthz
// and /v2/health/live answer while the first model loads; /readyz and
// /v2/health/ready only once it is loaded. A first model that fails to
// load ends Run with that error.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.RunWith(ctx, ln, nil)
}

// RunWith is Run that also serves the gRPC service (GRPCServer) on
// grpcLn, when not nil, and drains it the same way.
func (s *Server) RunWith(ctx context.Context, ln, grpcLn net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	var g *grpc.Server
	if grpcLn != nil {
		g = s.GRPCServer()
		go func() {
			if err := g.Serve(grpcLn); err != nil {
				serveErr <- fmt.Errorf("grpc: %w", err)
			}
		}()
		s.log.Info("listening (gRPC)", "addr", grpcLn.Addr().String())
	}

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
			s.setServing(true)
			select {
			case <-ctx.Done():
			case err := <-serveErr:
				runErr = fmt.Errorf("serve: %w", err)
			}
		}
	}

	s.draining.Store(true)
	s.setServing(false)
	s.log.Info("draining", "in_flight_timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	grpcDone := make(chan struct{})
	if g != nil {
		go func() {
			g.GracefulStop()
			close(grpcDone)
		}()
	} else {
		close(grpcDone)
	}
	if err := srv.Shutdown(sctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("serve: shutdown: %w", err)
	}
	select {
	case <-grpcDone:
	case <-sctx.Done():
		g.Stop()
		<-grpcDone
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
	if s.repo != nil {
		if err := s.syncRepository(ctx, syncOpts{force: true}); err != nil {
			return ModelInfo{}, &ReloadError{Err: err}
		}
		if l := s.v1Holder().current(); l != nil {
			return l.info, nil
		}
		return ModelInfo{}, nil
	}
	return s.swapIn(ctx, true)
}

func (s *Server) swapIn(ctx context.Context, reload bool) (ModelInfo, error) {
	return s.loadInto(ctx, &s.models, s.load, reload)
}

// loadInto loads a model with load, warms it up with a probe inference and
// installs it in h; a model that fails either never serves, and h keeps
// what it had.
func (s *Server) loadInto(ctx context.Context, h *holder, load Loader, reload bool) (ModelInfo, error) {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	start := time.Now()
	m, err := load(ctx)
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
	prev := h.current()
	h.swap(l)
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

// runBatch scores one batch and routes the scores back to their jobs.
// Rows bound for different models (a model repository) share the queue;
// each model's rows run as one call.
func (s *Server) runBatch(items []item) {
	first := items[0].j.h
	for _, it := range items[1:] {
		if it.j.h != first {
			groups := map[*holder][]item{}
			var order []*holder
			for _, it := range items {
				if _, ok := groups[it.j.h]; !ok {
					order = append(order, it.j.h)
				}
				groups[it.j.h] = append(groups[it.j.h], it)
			}
			for _, h := range order {
				s.runGroup(h, groups[h])
			}
			return
		}
	}
	s.runGroup(first, items)
}

// runGroup scores items, all bound for h (nil: the server's model), on
// h's current model.
func (s *Server) runGroup(h *holder, items []item) {
	if h == nil {
		h = &s.models
	}
	l := h.acquire()
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
