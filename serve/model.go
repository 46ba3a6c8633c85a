package serve

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Model scores reviews. Implementations must be safe for concurrent use:
// the server runs several batches at once, and during a reload the old and
// the new model serve side by side until the old one's batches finish.
type Model interface {
	// Score returns one probability of the positive class per text, in
	// order.
	Score(ctx context.Context, texts []string) ([]float32, error)
	// ScoreIDs scores already tokenized reviews (Keras load_data ids, the
	// start marker 1 included); rows may have any length, the model pads
	// or truncates them as it was trained to.
	ScoreIDs(ctx context.Context, ids [][]int32) ([]float32, error)
	// Info describes the model; it is called once, after loading.
	Info() ModelInfo
}

// A Loader loads a fresh copy of the served model, typically by reading
// the model file again. It is called at start-up and on every reload.
type Loader func(ctx context.Context) (Model, error)

// TensorInfo describes one graph input or output. Shape holds a number
// per fixed dimension and a name (the ONNX dim_param, e.g. "unk__12") per
// symbolic one.
type TensorInfo struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []any  `json:"shape"`
}

// ModelInfo is what GET /v1/model reports about the served model.
type ModelInfo struct {
	// Name is a short name: the model file's base name without
	// extension, or its folder's name for a file called model.onnx.
	Name string `json:"name"`
	// Version is the model's own version (ONNX model_version), if any.
	Version string `json:"version,omitempty"`
	// SHA256 is the hex digest of the model file's bytes.
	SHA256 string `json:"sha256"`
	// Path is the file the model was loaded from.
	Path            string            `json:"path,omitempty"`
	Producer        string            `json:"producer,omitempty"`
	ProducerVersion string            `json:"producer_version,omitempty"`
	Opsets          map[string]int64  `json:"opsets,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Inputs          []TensorInfo      `json:"inputs,omitempty"`
	Outputs         []TensorInfo      `json:"outputs,omitempty"`
	// Input is the input the ids go to and Output the one the scores
	// come from (default: the only input, the first output).
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	// MaxLen is the sequence length reviews are padded or truncated to
	// and NumWords the vocabulary size (ids ≥ NumWords are
	// out-of-vocabulary); 0 when unknown.
	MaxLen   int `json:"maxlen,omitempty"`
	NumWords int `json:"num_words,omitempty"`
	// MaxID is the largest token id the model accepts in /v1/score/ids
	// (the embedding's last row); 0 when unknown, and then only negative
	// ids are refused before scoring.
	MaxID int `json:"max_id,omitempty"`
	// LoadedAt and LoadSeconds are set by the server.
	LoadedAt    time.Time `json:"loaded_at"`
	LoadSeconds float64   `json:"load_seconds"`
}

// ID is the "<name>@<sha256>" string every score response carries.
func (i ModelInfo) ID() string { return i.Name + "@" + i.SHA256 }

// loaded is one generation of the served model. Batches hold mu for
// reading while they run; retiring takes it for writing, so a replaced
// model is closed only after its last batch is done.
type loaded struct {
	model Model
	info  ModelInfo
	id    string

	mu      sync.RWMutex
	retired bool
}

// holder publishes the current model generation.
type holder struct {
	cur atomic.Pointer[loaded]
	// loadMu serializes loads into this holder (start-up, reloads,
	// repository loads), so two reloads never race to swap.
	loadMu sync.Mutex
}

// acquire returns the current model with its read lock held (release
// with l.mu.RUnlock), or nil when no model is loaded yet.
func (h *holder) acquire() *loaded {
	if h == nil {
		return nil
	}
	for {
		l := h.cur.Load()
		if l == nil {
			return nil
		}
		l.mu.RLock()
		if !l.retired {
			return l
		}
		// Swapped out between Load and RLock: the next Load sees the
		// new generation.
		l.mu.RUnlock()
	}
}

// current is the model being served now (nil before the first load).
func (h *holder) current() *loaded {
	if h == nil {
		return nil
	}
	return h.cur.Load()
}

// swap installs n and retires the previous generation once its in-flight
// batches have finished, closing it if it is an io.Closer.
func (h *holder) swap(n *loaded) {
	old := h.cur.Swap(n)
	if old == nil || old == n {
		return
	}
	go old.retire()
}

func (l *loaded) retire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.retired {
		return
	}
	l.retired = true
	if c, ok := l.model.(io.Closer); ok {
		_ = c.Close()
	}
}
