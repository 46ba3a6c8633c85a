package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testCheckpoint(t *testing.T) *Checkpoint {
	t.Helper()
	m := newRun(t, "deep_bilstm")
	var opt []*Param
	for _, p := range m.Params[:3] {
		s := p.Clone()
		s.Name = "adam.m/" + p.Name
		for i := range s.Data {
			s.Data[i] = float32(i) * 0.5
		}
		opt = append(opt, s)
	}
	return &Checkpoint{
		Model: m,
		Epoch: 2,
		History: History{
			Loss: []float64{0.5, 0.3}, Accuracy: []float64{0.72, 0.87},
			ValLoss: []float64{0.4, 0.35}, ValAccuracy: []float64{0.8, 0.85},
			Seconds: []float64{30.5, 29.25},
		},
		Optimizer: opt,
		State:     map[string]string{"step": "274", "rng": "abc"},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := testCheckpoint(t)
	path := filepath.Join(t.TempDir(), "ckpt.bin")
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 2 || got.State["step"] != "274" || got.State["rng"] != "abc" {
		t.Errorf("epoch/state: %d %v", got.Epoch, got.State)
	}
	if !slices.Equal(got.History.ValAccuracy, c.History.ValAccuracy) || !slices.Equal(got.History.Seconds, c.History.Seconds) {
		t.Errorf("history: %+v", got.History)
	}
	if got.Model.Config.Name != "deep_bilstm" || got.Model.Config.Train.Optimizer.Name != "adam" || len(got.Model.Config.Model.Layers) != 3 {
		t.Errorf("config: %+v", got.Model.Config)
	}
	if !bytes.Equal(modelBytes(got.Model), modelBytes(c.Model)) {
		t.Error("weights differ after the round trip")
	}
	if len(got.Optimizer) != 3 {
		t.Fatalf("%d optimizer slots", len(got.Optimizer))
	}
	for i, p := range got.Optimizer {
		w := c.Optimizer[i]
		if p.Name != w.Name || !slices.Equal(p.Shape, w.Shape) || !bytes.Equal(floatBytes(p.Data), floatBytes(w.Data)) {
			t.Errorf("optimizer slot %d: %s %v", i, p.Name, p.Shape)
		}
	}
	// The file is exactly prelude + header + payload + checksum.
	b, _ := os.ReadFile(path)
	if string(b[:8]) != "BIRNNCKP" || binary.LittleEndian.Uint32(b[8:]) != 1 {
		t.Errorf("prelude % x", b[:12])
	}
	floats := 0
	for _, p := range c.Model.Params {
		floats += len(p.Data)
	}
	for _, p := range c.Optimizer {
		floats += len(p.Data)
	}
	hsize := binary.LittleEndian.Uint64(b[12:])
	if psize := binary.LittleEndian.Uint64(b[20:]); psize != uint64(4*floats) {
		t.Errorf("payload %d bytes, want %d", psize, 4*floats)
	}
	if want := 28 + int(hsize) + 4*floats + 32; len(b) != want {
		t.Errorf("file %d bytes, want %d", len(b), want)
	}
	// No temporary files remain.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after the save", len(entries))
	}
}

func TestCheckpointDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ok.ckpt")
	if err := SaveCheckpoint(path, testCheckpoint(t)); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	hsize := int(binary.LittleEndian.Uint64(good[12:]))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "empty"},
		{"wrong magic", mutate(func(b []byte) []byte { copy(b, "NOTACKPT"); return b }), ErrNotCheckpoint, "NOTACKPT"},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n rest of file"), ErrNotCheckpoint, ""},
		{"magic only", good[:8], ErrTruncated, "prelude"},
		{"half the magic", good[:4], ErrTruncated, "magic"},
		{"future version", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 2); return b }), ErrVersion, "version 2"},
		{"version 0", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0); return b }), ErrVersion, "version 0"},
		{"truncated payload", good[:len(good)/2], ErrTruncated, "announces"},
		{"truncated checksum", good[:len(good)-1], ErrTruncated, "announces"},
		{"trailing data", append(append([]byte(nil), good...), 0), ErrCorrupt, "trailing"},
		{"huge header size", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[12:], 1<<40); return b }), ErrCorrupt, "header"},
		{"flipped payload byte", mutate(func(b []byte) []byte { b[28+hsize+1000] ^= 0x01; return b }), ErrChecksum, ""},
		{"flipped header byte", mutate(func(b []byte) []byte { b[28+5] ^= 0x20; return b }), ErrChecksum, ""},
		{"flipped checksum byte", mutate(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), ErrChecksum, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := LoadCheckpoint(p)
			if err == nil {
				t.Fatal("damaged checkpoint loaded")
			}
			if c != nil {
				t.Error("a checkpoint came back with the error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q should mention %q and the path", err, tc.msg)
			}
		})
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCheckpointConsistentButWrong: a file with a valid checksum whose
// header does not match its weights (written by hand) is still refused.
func TestCheckpointConsistentButWrong(t *testing.T) {
	c := testCheckpoint(t)
	c.Model.Config.Model.Layers[0].Units = 32 // weights are for 64
	err := SaveCheckpoint(filepath.Join(t.TempDir(), "x"), c)
	if err == nil || !strings.Contains(err.Error(), "lstm_0.W") {
		t.Errorf("save of mismatched weights: %v", err)
	}
	// Build the file by hand around a header that lies about a shape.
	c = testCheckpoint(t)
	path := filepath.Join(t.TempDir(), "ok")
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	hsize := binary.LittleEndian.Uint64(b[12:])
	hdr := string(b[28 : 28+hsize])
	bad := strings.Replace(hdr, `"name":"dense_2.W","shape":[128,1]`, `"name":"dense_2.W","shape":[1,128]`, 1)
	if bad == hdr {
		t.Fatalf("header has no dense_2.W entry: %s", hdr[len(hdr)-300:])
	}
	out := rebuild(b[:28], []byte(bad), b[28+hsize:len(b)-32])
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "dense_2.W") {
		t.Errorf("lying header: %v", err)
	}
}

// rebuild assembles a checkpoint from its parts with a fresh checksum.
func rebuild(prelude, header, payload []byte) []byte {
	b := append([]byte(nil), prelude...)
	binary.LittleEndian.PutUint64(b[12:], uint64(len(header)))
	b = append(b, header...)
	b = append(b, payload...)
	return append(b, sha256sum(b)...)
}

func TestSaveCheckpointRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		edit func(c *Checkpoint)
	}{
		{"nil model", func(c *Checkpoint) { c.Model = nil }},
		{"negative epoch", func(c *Checkpoint) { c.Epoch = -1 }},
		{"bad history", func(c *Checkpoint) { c.History.Accuracy = c.History.Accuracy[:1] }},
		{"short slot", func(c *Checkpoint) { c.Optimizer[0].Data = c.Optimizer[0].Data[:3] }},
		{"duplicate slot", func(c *Checkpoint) { c.Optimizer[1].Name = c.Optimizer[0].Name }},
		{"missing weight", func(c *Checkpoint) { c.Model.Params = c.Model.Params[1:] }},
	} {
		c := testCheckpoint(t)
		tc.edit(c)
		path := filepath.Join(dir, "c")
		if err := SaveCheckpoint(path, c); err == nil {
			t.Errorf("%s: saved", tc.name)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a file was left behind", tc.name)
		}
	}
	if err := SaveCheckpoint(filepath.Join(dir, "no", "such", "dir"), testCheckpoint(t)); err == nil {
		t.Error("save into a missing folder succeeded")
	}
}

// TestSaveReplacesAtomically: saving over an existing checkpoint leaves a
// loadable file and no temporaries.
func TestSaveReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c")
	c := testCheckpoint(t)
	for epoch := range 3 {
		c.Epoch = epoch
		if err := SaveCheckpoint(path, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadCheckpoint(path)
	if err != nil || got.Epoch != 2 {
		t.Fatalf("%v, epoch %v", err, got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries in the folder", len(entries))
	}
}

func sha256sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
