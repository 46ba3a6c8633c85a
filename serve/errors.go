package serve

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of the JSON error body {"error": {"code", "message",
// "index"}}. They are stable: clients may switch on them.
const (
	CodeMalformedJSON        = "malformed_json"         // 400
	CodeUnknownField         = "unknown_field"          // 400
	CodeUnauthorized         = "unauthorized"           // 401
	CodeNotFound             = "not_found"              // 404
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeEmptyRequest         = "empty_request"          // 422
	CodeTooManyReviews       = "too_many_reviews"       // 422
	CodeReviewTooLong        = "review_too_long"        // 422
	CodeInvalidID            = "invalid_id"             // 422 (/v2: 400)
	CodeInvalidTensor        = "invalid_tensor"         // 400: a v2 input of the wrong name, datatype or shape
	CodeReloadFailed         = "reload_failed"          // 422
	CodeClientClosed         = "client_closed_request"  // 499
	CodeInferenceFailed      = "inference_failed"       // 500
	CodeQueueFull            = "queue_full"             // 503
	CodeModelNotLoaded       = "model_not_loaded"       // 503
	CodeDraining             = "draining"               // 503
	CodeTimeout              = "timeout"                // 504
)

// statusClientClosed is nginx's code for a request the client gave up on;
// nobody reads the response, but logs and metrics tell it apart.
const statusClientClosed = 499

// Sentinel errors of the batching queue.
var (
	// ErrQueueFull means the queue holds QueueSize rows already.
	ErrQueueFull = errors.New("serve: queue full")
	// ErrDraining means the server is shutting down.
	ErrDraining = errors.New("serve: draining")
	// ErrNoModel means no model has been loaded yet.
	ErrNoModel = errors.New("serve: no model loaded")
)

// APIError is an error answered as a JSON body with an HTTP status.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Index is the offending review's position, for per-review limits.
	Index *int `json:"index,omitempty"`
}

func (e *APIError) Error() string {
	if e.Index != nil {
		return fmt.Sprintf("%s: %s (index %d)", e.Code, e.Message, *e.Index)
	}
	return e.Code + ": " + e.Message
}

func apiErrorf(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func apiErrorAt(status int, code string, index int, format string, args ...any) *APIError {
	e := apiErrorf(status, code, format, args...)
	e.Index = &index
	return e
}

// ReloadError reports a model that could not be loaded or failed its
// probe; the previous model keeps serving.
type ReloadError struct {
	Err error
}

func (e *ReloadError) Error() string { return "serve: reload: " + e.Err.Error() }
func (e *ReloadError) Unwrap() error { return e.Err }

var errStatus = map[error]struct {
	status int
	code   string
}{
	ErrQueueFull: {http.StatusServiceUnavailable, CodeQueueFull},
	ErrDraining:  {http.StatusServiceUnavailable, CodeDraining},
	ErrNoModel:   {http.StatusServiceUnavailable, CodeModelNotLoaded},
}
