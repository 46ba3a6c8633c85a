package serve

import (
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/birnn/birnn/model"
)

// Config holds the service's settings. Field tags name the keys of the
// YAML file and of BIRNN_SERVE_* variables (max_batch → BIRNN_SERVE_MAX_BATCH).
type Config struct {
	// Addr is the listen address; default 127.0.0.1:8080.
	Addr string `mapstructure:"addr"`

	// MaxBatch is the most rows one model call scores; default 64.
	MaxBatch int `mapstructure:"max_batch"`
	// MaxWait is how long a queued row may wait for others to fill its
	// batch, default 2ms. It waits only while more rows are expected:
	// requests being received, or fewer rows queued than the previous
	// batch had (its clients, just answered, tend to come back), so a
	// lone client is never delayed. 0 runs whatever is queued at once.
	MaxWait time.Duration `mapstructure:"max_wait"`
	// QueueSize bounds the rows waiting to be scored; beyond it requests
	// are answered 503 with Retry-After. Default 4096.
	QueueSize int `mapstructure:"queue_size"`
	// Workers is the number of batches scored at once; default
	// GOMAXPROCS/2, at least 2. The engine already runs the two directions
	// of a bidirectional LSTM on two goroutines, so more workers than that
	// only split batches; but a second one scores the next batch while the
	// previous batch's clients are answered and send again, which keeps
	// the engine busy under load (2 cores, deep BiLSTM, 64 clients:
	// served/raw about 0.85 with 1 worker, about 1.0 with 2).
	Workers int `mapstructure:"workers"`

	// RequestTimeout bounds a scoring request from arrival to answer
	// (504 timeout); default 30s.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// those of http.Server; defaults 5s, 30s, RequestTimeout+10s, 120s.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	// ShutdownTimeout bounds the drain on SIGTERM; default 60s.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`

	// MaxBodyBytes limits a request body (413 body_too_large); default 1 MiB.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxReviews limits the reviews (or id rows) of one request (422
	// too_many_reviews); default 256.
	MaxReviews int `mapstructure:"max_reviews"`
	// MaxReviewChars limits one review's length in Unicode characters,
	// and MaxIDs one id row's length (422 review_too_long); defaults
	// 50000 and 5000.
	MaxReviewChars int `mapstructure:"max_review_chars"`
	MaxIDs         int `mapstructure:"max_ids"`

	// AdminToken enables POST /v1/admin/reload for requests carrying
	// "Authorization: Bearer <AdminToken>"; empty disables it (404).
	AdminToken string `mapstructure:"admin_token"`
	// AccessLog writes one structured line per request (request id,
	// route, status, duration, rows); default true. Off, only requests
	// answered 5xx are logged, e.g. behind a proxy that keeps its own
	// access log.
	AccessLog bool `mapstructure:"access_log"`

	// RepositoryPoll is how often a model repository is rescanned for
	// new, changed and removed versions; 0 (the default) scans only at
	// start, on reload and on the repository extension's load.
	RepositoryPoll time.Duration `mapstructure:"repository_poll"`
	// DefaultModel is the repository model /v1 scores on; default the
	// repository's only model (with several and none named, /v1 scoring
	// answers 503 model_not_loaded).
	DefaultModel string `mapstructure:"default_model"`
	// GRPCAddr is the listen address of the gRPC service (Open Inference
	// Protocol v2); empty (the default) serves no gRPC.
	GRPCAddr string `mapstructure:"grpc_addr"`

	// Threshold splits "positive" (score > Threshold, model.Positive) from
	// "negative"; default 0.5, Keras's accuracy threshold.
	Threshold float32 `mapstructure:"threshold"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		MaxBatch:          64,
		MaxWait:           2 * time.Millisecond,
		QueueSize:         4096,
		Workers:           max(2, runtime.GOMAXPROCS(0)/2),
		RequestTimeout:    30 * time.Second,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   60 * time.Second,
		MaxBodyBytes:      1 << 20,
		MaxReviews:        256,
		AccessLog:         true,
		MaxReviewChars:    50000,
		MaxIDs:            5000,
		Threshold:         model.DefaultThreshold,
	}
}

// ConfigError names a setting with an invalid value.
type ConfigError struct {
	Key     string
	Problem string
}

func (e *ConfigError) Error() string { return "serve: config " + e.Key + ": " + e.Problem }

// Validate checks c and returns a *ConfigError for the first bad value.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return &ConfigError{"addr", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	pos := []struct {
		key string
		v   int64
	}{
		{"max_batch", int64(c.MaxBatch)},
		{"queue_size", int64(c.QueueSize)},
		{"workers", int64(c.Workers)},
		{"request_timeout", int64(c.RequestTimeout)},
		{"read_header_timeout", int64(c.ReadHeaderTimeout)},
		{"read_timeout", int64(c.ReadTimeout)},
		{"write_timeout", int64(c.WriteTimeout)},
		{"idle_timeout", int64(c.IdleTimeout)},
		{"shutdown_timeout", int64(c.ShutdownTimeout)},
		{"max_body_bytes", c.MaxBodyBytes},
		{"max_reviews", int64(c.MaxReviews)},
		{"max_review_chars", int64(c.MaxReviewChars)},
		{"max_ids", int64(c.MaxIDs)},
	}
	for _, p := range pos {
		if p.v <= 0 {
			return &ConfigError{p.key, fmt.Sprintf("must be positive, got %d", p.v)}
		}
	}
	if c.RepositoryPoll < 0 {
		return &ConfigError{"repository_poll", fmt.Sprintf("must not be negative, got %s", c.RepositoryPoll)}
	}
	if c.GRPCAddr != "" {
		if _, _, err := net.SplitHostPort(c.GRPCAddr); err != nil {
			return &ConfigError{"grpc_addr", fmt.Sprintf("%q is not host:port", c.GRPCAddr)}
		}
	}
	if c.MaxWait < 0 {
		return &ConfigError{"max_wait", fmt.Sprintf("must not be negative, got %s", c.MaxWait)}
	}
	if c.MaxReviews > c.QueueSize {
		return &ConfigError{"max_reviews", fmt.Sprintf("%d exceeds queue_size %d: such a request could never be queued", c.MaxReviews, c.QueueSize)}
	}
	if c.WriteTimeout <= c.RequestTimeout {
		return &ConfigError{"write_timeout", fmt.Sprintf("%s must exceed request_timeout %s so timeouts can be answered", c.WriteTimeout, c.RequestTimeout)}
	}
	if !(c.Threshold > 0 && c.Threshold < 1) {
		return &ConfigError{"threshold", fmt.Sprintf("must be in (0, 1), got %g", c.Threshold)}
	}
	return nil
}
