package onnximport_test

import (
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/onnximport"
)

// BenchmarkImport measures decoding plus Import for the study's runs.
func BenchmarkImport(b *testing.B) {
	for _, r := range []string{"bilstm", "deep_bilstm"} {
		data := modeltest.Export(b, modeltest.StudyModel(b, r), export.Options{})
		b.Run(r, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				mp := modeltest.Decode(b, data)
				if _, err := onnximport.Import(mp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
