package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

// tinyServer serves servetest.Tiny(seed) through the real engine.
func tinyServer(t *testing.T, seed uint64, edit func(*serve.Config)) (*serve.Server, *servetest.Params, string) {
	t.Helper()
	p := servetest.Tiny(seed)
	model, wi := p.WriteTemp(t, "tiny")
	cfg := serve.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	s, err := serve.New(cfg, serve.FileLoader(model, wi, score.Options{BatchSize: cfg.MaxBatch}), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Drain)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, p, model
}

// randomRows draws n id rows of 0–12 ids below vocab+10 (some past the
// vocabulary, some longer than MaxLen), each starting with 1.
func randomRows(rng *rand.Rand, n, vocab int) [][]int32 {
	rows := make([][]int32, n)
	for i := range rows {
		row := []int32{1}
		for range rng.IntN(13) {
			row = append(row, int32(3+rng.IntN(vocab+7)))
		}
		rows[i] = row
	}
	return rows
}

func TestServeTinyModelMatchesReference(t *testing.T) {
	s, p, model := tinyServer(t, 7, func(c *serve.Config) { c.MaxBatch = 5 })
	rng := rand.New(rand.NewPCG(1, 2))
	rows := randomRows(rng, 23, p.Vocab)
	body, _ := json.Marshal(serve.IDsRequest{IDs: rows})
	req := httptest.NewRequest("POST", "/v1/score/ids", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var got serve.ScoreResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for i, r := range rows {
		want, err := p.Reference(r)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(got.Scores[i])-want) > 1e-5 {
			t.Errorf("row %d %v: served %v, reference %v", i, r, got.Scores[i], want)
		}
	}
	b, _ := os.ReadFile(model)
	if !strings.HasPrefix(got.Model, "tiny@") || len(got.Model) != len("tiny@")+64 {
		t.Errorf("model %q, want tiny@<sha256 of %d bytes>", got.Model, len(b))
	}

	texts := []string{
		servetest.Word(1) + " " + servetest.Word(5) + " unknownword " + servetest.Word(30),
		"",
		strings.Repeat(servetest.Word(2)+" "+servetest.Word(3)+" ", 9),
		servetest.Word(p.Vocab) + " " + servetest.Word(12), // the first is out of vocabulary (id 2)
	}
	body, _ = json.Marshal(serve.ScoreRequest{Reviews: texts})
	req = httptest.NewRequest("POST", "/v1/score", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for i, text := range texts {
		want, _ := p.Reference(p.EncodeText(text))
		if math.Abs(float64(got.Scores[i])-want) > 1e-5 {
			t.Errorf("text %d: served %v, reference %v", i, got.Scores[i], want)
		}
		label := "negative"
		if want >= 0.5 {
			label = "positive"
		}
		if got.Labels[i] != label {
			t.Errorf("text %d: label %q for reference %v", i, got.Labels[i], want)
		}
	}

	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/model", nil))
	var mr serve.ModelResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &mr); err != nil {
		t.Fatal(err)
	}
	if mr.Producer != "birnn" || mr.Opsets["ai.onnx"] != 15 || mr.MaxLen != 8 || mr.NumWords != 40 || mr.Version != "1" ||
		len(mr.Inputs) != 1 || mr.Inputs[0].Name != "embedding_input" || mr.Inputs[0].DType != "FLOAT" ||
		len(mr.Inputs[0].Shape) != 2 || mr.Inputs[0].Shape[0] != "unk__batch" || mr.Inputs[0].Shape[1] != 8.0 ||
		mr.Metadata["birnn.maxlen"] != "8" || mr.Path != model {
		t.Errorf("/v1/model: %+v", mr)
	}
}

func TestFileLoaderErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.FileLoader(junk, nil, score.Options{})(context.Background()); err == nil || !strings.Contains(err.Error(), "junk.onnx") {
		t.Errorf("junk file: %v, want an error naming the file", err)
	}
	_, err := serve.FileLoader(filepath.Join(dir, "missing.onnx"), nil, score.Options{})(context.Background())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReloadReplacedFile swaps the file under a running server and checks
// the reload serves the new weights, and that a corrupt file is refused.
func TestReloadReplacedFile(t *testing.T) {
	s, _, model := tinyServer(t, 7, func(c *serve.Config) { c.AdminToken = "tok" })
	p2 := servetest.Tiny(8)
	m2, err := p2.Model()
	if err != nil {
		t.Fatal(err)
	}
	before := modelID(t, s.Handler())
	if err := os.WriteFile(model, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var re *serve.ReloadError
	if _, err := s.Reload(context.Background()); !errors.As(err, &re) {
		t.Fatalf("reload of a corrupt file: %v, want a ReloadError", err)
	}
	if id := modelID(t, s.Handler()); id != before {
		t.Errorf("after a failed reload serving %s, want %s", id, before)
	}
	if err := writeModel(model, m2); err != nil {
		t.Fatal(err)
	}
	info, err := s.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.ID() == before || modelID(t, s.Handler()) != info.ID() {
		t.Errorf("reload did not swap: before %s, after %s", before, info.ID())
	}
}

func modelID(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/model", nil))
	var mr serve.ModelResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &mr); err != nil {
		t.Fatal(err)
	}
	return mr.Model
}

func writeModel(path string, m *onnx.ModelProto) error { return onnx.WriteModel(path, m) }

// TestDeepBiLSTMMatchesReference checks the benchmark's model, two stacked
// bidirectional layers of the study's size, against the reference.
func TestDeepBiLSTMMatchesReference(t *testing.T) {
	p := servetest.DeepBiLSTM(1)
	m, err := p.Model()
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := serve.NewScorerModel("deep_bilstm.onnx", b, nil, score.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rows := randomRows(rng, 3, p.Vocab)
	long := []int32{1}
	for range 130 {
		long = append(long, int32(4+rng.IntN(4100)))
	}
	rows = append(rows, long)
	got, err := sm.ScoreIDs(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		want, _ := p.Reference(r)
		if math.Abs(float64(got[i])-want) > 1e-4 {
			t.Errorf("row %d (%d ids): engine %v, reference %v", i, len(r), got[i], want)
		}
	}
	t.Logf("scores %v", got)
	if info := sm.Info(); info.MaxLen != 100 || info.NumWords != 4000 {
		t.Errorf("info %+v", info)
	}
}

// TestReloadRereadsWordIndex checks FilesLoader: a reload reads the word
// index again, so texts are encoded with the replaced vocabulary, and an
// unreadable word index is refused with the old model and vocabulary
// still serving.
func TestReloadRereadsWordIndex(t *testing.T) {
	p := servetest.Tiny(5)
	dir := t.TempDir()
	model, wiPath, err := p.Write(dir, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.DefaultConfig(), serve.FilesLoader(model, wiPath, score.Options{}), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Drain)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := strings.Join([]string{servetest.Word(1), servetest.Word(2), servetest.Word(3)}, " ")
	score := func() float64 {
		t.Helper()
		body, _ := json.Marshal(serve.ScoreRequest{Reviews: []string{text}})
		req := httptest.NewRequest("POST", "/v1/score", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		var got serve.ScoreResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || len(got.Scores) != 1 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return float64(got.Scores[0])
	}
	check := func(label string, ids []int32) {
		t.Helper()
		want, err := p.Reference(ids)
		if err != nil {
			t.Fatal(err)
		}
		if got := score(); math.Abs(got-want) > 1e-5 {
			t.Errorf("%s: score %v, want %v (ids %v)", label, got, want, ids)
		}
	}
	check("first vocabulary", []int32{1, 1 + 3, 2 + 3, 3 + 3})

	// Ranks of the three words rotate: 1→3, 2→1, 3→2.
	words := p.Words()
	words[servetest.Word(1)], words[servetest.Word(2)], words[servetest.Word(3)] = 3, 1, 2
	b, err := json.Marshal(words)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wiPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	replaced := []int32{1, 3 + 3, 1 + 3, 2 + 3}
	check("replaced vocabulary", replaced)

	if err := os.WriteFile(wiPath, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "word index") {
		t.Errorf("reload with a corrupt word index: %v, want an error naming the word index", err)
	}
	check("after the refused reload", replaced)
}

// A model whose weights live in model.onnx.data beside it is served, and a
// reload reads the data file again: replaced weights are served after it.
func TestExternalDataModelReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	write := func(p *servetest.Params) {
		m, err := p.Model()
		if err != nil {
			t.Fatal(err)
		}
		if err := onnx.MoveToExternalData(m, dir, "model.onnx.data", 0); err != nil {
			t.Fatal(err)
		}
		if err := onnx.WriteModel(path, m); err != nil {
			t.Fatal(err)
		}
	}
	load := serve.FileLoader(path, nil, score.Options{})
	rows := randomRows(rand.New(rand.NewPCG(3, 4)), 4, 40)
	for _, seed := range []uint64{7, 8} {
		p := servetest.Tiny(seed)
		write(p)
		m, err := load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.ScoreIDs(context.Background(), rows)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			want, _ := p.Reference(r)
			if math.Abs(float64(got[i])-want) > 1e-5 {
				t.Errorf("weights %d, row %d: %v, want %v", seed, i, got[i], want)
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, "model.onnx.data")); err != nil {
		t.Fatal(err)
	}
	if _, err := load(context.Background()); err == nil || !strings.Contains(err.Error(), "model.onnx.data") {
		t.Errorf("missing data file: %v", err)
	}
}
