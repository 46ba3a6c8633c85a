package onnximport_test

import (
	"os"
	"testing"
	"time"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
)

// FuzzImport feeds mutated ONNX graphs — birnn's exports of every small
// architecture (GRU, SimpleRNN, LSTM, masks, pools, dropout) and Keras's
// tf2onnx exports — to Import: it must return a model or an error, never
// panic, and a model it returns must be valid and export again.
func FuzzImport(f *testing.F) {
	for i, a := range modeltest.Architectures(f) {
		if a.Cfg.Data.NumWords > 100 {
			continue // the study's runs: too large to mutate usefully
		}
		f.Add(modeltest.Export(f, modeltest.RandomModel(f, a.Cfg, uint64(i+1)), export.Options{}))
	}
	for _, p := range testutil.KerasExports(f) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 400_000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mp, err := onnx.DecodeModel(b)
		if err != nil {
			return
		}
		type result struct {
			m   *model.Model
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, err := onnximport.Import(mp)
			done <- result{m, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Import ran for more than 10 s on a %d-byte model", len(b))
		}
		m, err := r.m, r.err
		if err != nil {
			return
		}
		if _, err := m.Layers(); err != nil {
			t.Fatalf("Import returned an invalid model: %v", err)
		}
		if _, err := export.Model(m, export.Options{}); err != nil {
			t.Fatalf("an imported model does not export: %v", err)
		}
	})
}
