package serve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeModel scores a text as len(text)/1000 and an id row as the sum of
// its ids / 1000, so expected values are computed by hand in the tests.
// gate, when set, holds every call until a value is received from it.
type fakeModel struct {
	name, sha string
	gate      chan struct{}
	fail      error

	mu      sync.Mutex
	batches []int    // rows per call
	texts   []string // every text scored
	closed  atomic.Bool
	calls   atomic.Int64
	entered chan struct{} // receives once per call, when set
}

func (f *fakeModel) wait(ctx context.Context) {
	f.calls.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
}

func (f *fakeModel) Score(ctx context.Context, texts []string) ([]float32, error) {
	f.wait(ctx)
	if f.closed.Load() {
		return nil, errors.New("fake: used after Close")
	}
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(texts))
	f.texts = append(f.texts, texts...)
	f.mu.Unlock()
	out := make([]float32, len(texts))
	for i, t := range texts {
		out[i] = float32(len(t)) / 1000
	}
	return out, nil
}

func (f *fakeModel) ScoreIDs(ctx context.Context, ids [][]int32) ([]float32, error) {
	f.wait(ctx)
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(ids))
	f.mu.Unlock()
	out := make([]float32, len(ids))
	for i, row := range ids {
		var s int32
		for _, v := range row {
			s += v
		}
		out[i] = float32(s) / 1000
	}
	return out, nil
}

func (f *fakeModel) Info() ModelInfo {
	return ModelInfo{Name: f.name, SHA256: f.sha, MaxID: 3999, MaxLen: 100, NumWords: 4000,
		Inputs:  []TensorInfo{{Name: "input_ids", DType: "INT32", Shape: []any{"batch", "len"}}},
		Outputs: []TensorInfo{{Name: "score", DType: "FLOAT", Shape: []any{"batch", int64(1)}}},
		Input:   "input_ids", Output: "score"}
}

func (f *fakeModel) Close() error {
	f.closed.Store(true)
	return nil
}

func (f *fakeModel) seen() (batches []int, texts []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...), append([]string(nil), f.texts...)
}

// staticLoader always returns m.
func staticLoader(m Model) Loader {
	return func(context.Context) (Model, error) { return m, nil }
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func slogJSON(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// newTestServer starts a server on the fake model m with cfg adjusted by
// edit; the server is drained when the test ends.
func newTestServer(t *testing.T, load Loader, edit func(*Config)) *Server {
	t.Helper()
	return newLoggedTestServer(t, load, edit, quietLogger())
}

// newLoggedTestServer is newTestServer logging to log.
func newLoggedTestServer(t *testing.T, load Loader, edit func(*Config), log *slog.Logger) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MaxWait = 0
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, load, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Drain)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
