package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/serve"
)

func init() {
	rootCmd.AddCommand(newServeCmd())
}

// serveSettings is everything birnn serve reads: the service's Config
// plus the files to serve.
type serveSettings struct {
	serve.Config `mapstructure:",squash"`
	Model        string `mapstructure:"model"`
	Repository   string `mapstructure:"model_repository"`
	WordIndex    string `mapstructure:"word_index"`
}

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve --model MODEL.onnx | --model-repository DIR",
		Short: "Serve sentiment models over HTTP and gRPC (birnn's JSON API and the Open Inference Protocol v2)",
		Long: long(`
			Serve an ONNX sentiment model: POST /v1/score {"reviews": [...]}, POST /v1/score/ids,
			GET /v1/model, /healthz, /readyz, /metrics (Prometheus), and POST /v1/admin/reload when
			an admin token is set. SIGHUP reloads the model file and word index; SIGTERM or SIGINT drains in-flight
			requests and exits 0. Logs are JSON lines on stderr.

			The Open Inference Protocol v2 (KServe, Triton clients) is served beside it: GET /v2,
			/v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{v}][/ready], POST .../infer, and
			over gRPC (inference.GRPCInferenceService, health, reflection) on --grpc-addr. With
			--model-repository DIR every DIR/<name>/<version>/model.onnx is served (the newest version by
			default), with POST /v2/repository/index, /v2/repository/models/{name}/load and /unload, and
			--repository-poll rescans the folder.

			Settings come from flags, then BIRNN_SERVE_* variables (--max-batch → BIRNN_SERVE_MAX_BATCH),
			then the YAML file of --config (keys as the flags, with _ for -: max_batch: 64), then
			defaults. An unknown key in the file is an error naming it and its line.`),
		Args:        cobra.NoArgs,
		RunE:        runServe,
		Annotations: map[string]string{fileAnnotation: "serve"},
	}
	def := serve.DefaultConfig()
	fl := cmd.Flags()
	fl.String("config", "", "YAML settings file")
	fl.String("model", "", "ONNX model to serve (this or --model-repository)")
	fl.String("model-repository", "", "folder of <name>/<version>/model.onnx to serve (this or --model)")
	fl.Duration("repository-poll", def.RepositoryPoll, "rescan the model repository this often (0: never)")
	fl.String("default-model", def.DefaultModel, "repository model /v1 scores on (default: the only one)")
	fl.String("grpc-addr", def.GRPCAddr, "gRPC listen address of the v2 protocol (empty: no gRPC)")
	fl.String("word-index", "", "Keras word index JSON (default: <data dir>/imdb_word_index.json)")
	fl.String("addr", def.Addr, "listen address")
	fl.Int("max-batch", def.MaxBatch, "most reviews per model call")
	fl.Duration("max-wait", def.MaxWait, "longest a review waits for its batch to fill while more reviews are expected")
	fl.Int("queue-size", def.QueueSize, "reviews that may wait; beyond, 503 with Retry-After")
	fl.Int("workers", def.Workers, "model calls running at once")
	fl.Duration("request-timeout", def.RequestTimeout, "limit from arrival to answer of a scoring request (504)")
	fl.Duration("read-header-timeout", def.ReadHeaderTimeout, "HTTP read-header timeout")
	fl.Duration("read-timeout", def.ReadTimeout, "HTTP read timeout")
	fl.Duration("write-timeout", def.WriteTimeout, "HTTP write timeout (must exceed --request-timeout)")
	fl.Duration("idle-timeout", def.IdleTimeout, "HTTP keep-alive idle timeout")
	fl.Duration("shutdown-timeout", def.ShutdownTimeout, "longest drain on SIGTERM")
	fl.Int64("max-body-bytes", def.MaxBodyBytes, "largest request body (413)")
	fl.Int("max-reviews", def.MaxReviews, "most reviews per request (422)")
	fl.Int("max-review-chars", def.MaxReviewChars, "most characters per review (422)")
	fl.Int("max-ids", def.MaxIDs, "most ids per row of /v1/score/ids (422)")
	fl.String("admin-token", "", "bearer token enabling POST /v1/admin/reload (prefer BIRNN_SERVE_ADMIN_TOKEN)")
	fl.Float32("threshold", def.Threshold, "scores ≥ it are labelled positive")
	fl.Bool("access-log", def.AccessLog, "log every request (off: only those answered 5xx)")
	return cmd
}

// serveConfig reads the settings from the flags, which hold the order
// flags > BIRNN_SERVE_* > --config file > defaults (applySettings), and
// validates them.
func serveConfig(cmd *cobra.Command) (serveSettings, error) {
	v := viper.New()
	var bindErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "data" || f.Name == "help" {
			return
		}
		if err := v.BindPFlag(strings.ReplaceAll(f.Name, "-", "_"), f); err != nil && bindErr == nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return serveSettings{}, bindErr
	}
	var s serveSettings
	if err := v.UnmarshalExact(&s); err != nil {
		return serveSettings{}, usagef("serve: settings: %v", err)
	}
	if (s.Model == "") == (s.Repository == "") {
		return serveSettings{}, usagef("serve: give one of --model and --model-repository (or BIRNN_SERVE_MODEL / BIRNN_SERVE_MODEL_REPOSITORY, or model: / model_repository: in --config)")
	}
	if s.WordIndex == "" {
		s.WordIndex = defaultWordIndex(dataDir(cmd))
	}
	if err := s.Config.Validate(); err != nil {
		return serveSettings{}, usagef("%v", err)
	}
	return s, nil
}

func runServe(cmd *cobra.Command, _ []string) error {
	s, err := serveConfig(cmd)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	log.Info("settings", "model", s.Model, "model_repository", s.Repository, "word_index", s.WordIndex, "addr", s.Addr, "grpc_addr", s.GRPCAddr,
		"max_batch", s.MaxBatch, "max_wait", s.MaxWait.String(), "queue_size", s.QueueSize, "workers", s.Workers,
		"request_timeout", s.RequestTimeout.String(), "max_body_bytes", s.MaxBodyBytes, "max_reviews", s.MaxReviews,
		"max_review_chars", s.MaxReviewChars, "max_ids", s.MaxIDs, "admin", s.AdminToken != "", "access_log", s.AccessLog)
	// Checked here for the hint; the loader reads it again on every
	// (re)load, so SIGHUP picks up a replaced word index with the model.
	if _, err := dataset.LoadWordIndex(s.WordIndex); err != nil {
		return fmt.Errorf("serve: word index: %w (set --word-index or --data)", err)
	}
	opts := score.Options{BatchSize: s.MaxBatch}
	var srv *serve.Server
	if s.Repository != "" {
		srv, err = serve.NewRepository(s.Config, s.Repository, func(path string) serve.Loader {
			return serve.FilesLoader(path, s.WordIndex, opts)
		}, log)
	} else {
		srv, err = serve.New(s.Config, serve.FilesLoader(s.Model, s.WordIndex, opts), log)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var grpcLn net.Listener
	if s.GRPCAddr != "" {
		if grpcLn, err = net.Listen("tcp", s.GRPCAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("serve: gRPC: %w", err)
		}
	}
	ctx := cmd.Context()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading", "path", s.Model, "model_repository", s.Repository)
				_, _ = srv.Reload(context.WithoutCancel(ctx)) // the outcome is logged
			}
		}
	}()
	return srv.RunWith(ctx, ln, grpcLn)
}
