// Package serve is birnn's HTTP scoring service: JSON routes in front of a
// Model (in production a score.Scorer over an ONNX file), with dynamic
// micro-batching across concurrent requests, a bounded queue, request
// limits, hot reload and graceful shutdown.
//
//	POST /v1/score {"reviews": [...]}  ─┐
//	POST /v1/score/ids {"ids": [[...]]} ─┴► limits ► queue (≤ QueueSize rows, else 503)
//	    ► batcher: ≤ MaxBatch rows, waits ≤ MaxWait while rows are expected ► Model.Score / Model.ScoreIDs
//	    ► scores routed back to their requests, in order
//
// A request's rows may be split over several batches and share batches with
// other requests' rows; rows of a request that timed out or whose client went
// away are skipped if they have not run yet. Reload (SIGHUP in birnn serve, or
// POST /v1/admin/reload with a bearer token) loads the model again, checks it
// with a probe inference and swaps it in with an atomic.Pointer: batches
// already running finish on the old model, and a model that fails to load or
// to probe leaves the old one serving.
//
// Errors are JSON bodies {"error": {"code": "...", "message": "...", "index":
// N}} with stable codes (see the Code constants). Metrics are Prometheus
// series on GET /metrics; logs are log/slog records carrying the request id
// (X-Request-Id, honoured or generated). The API is described in OpenAPI 3 in
// api/openapi.yaml.
//
// Labels follow model.Positive: positive when the score is above the
// threshold (default 0.5), so a score of exactly the threshold is negative.
//
// What it does not do: tokenize or run the model (package score and infer
// do), or read settings (birnn serve passes a Config built from its flags,
// BIRNN_SERVE_* variables and --config file).
package serve
