package model

import (
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/configs"
)

// BenchmarkNew measures building and initialising a study model (the
// orthogonal recurrent kernels are one QR each per direction).
func BenchmarkNew(b *testing.B) {
	for _, run := range []string{"deep_lstm", "deep_bilstm"} {
		b.Run(run, func(b *testing.B) {
			cfg, err := loadRunB(run)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckpoint measures a deep-BiLSTM checkpoint with Adam's two
// slots per weight (≈ 5 MB): atomic save with fsync, and verified load.
func BenchmarkCheckpoint(b *testing.B) {
	cfg, err := loadRunB("deep_bilstm")
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c := &Checkpoint{Model: m, Epoch: 1}
	for _, slot := range []string{"adam.m/", "adam.v/"} {
		for _, p := range m.Params {
			s := p.Clone()
			s.Name = slot + p.Name
			c.Optimizer = append(c.Optimizer, s)
		}
	}
	bytes := int64(0)
	for _, ps := range [][]*Param{m.Params, c.Optimizer} {
		for _, p := range ps {
			bytes += 4 * int64(len(p.Data))
		}
	}
	path := filepath.Join(b.TempDir(), "c.ckpt")
	if err := SaveCheckpoint(path, c); err != nil {
		b.Fatal(err)
	}
	b.Run("save", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			if err := SaveCheckpoint(path, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			if _, err := LoadCheckpoint(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func loadRunB(name string) (*configs.Config, error) { return configs.Load(name) }
