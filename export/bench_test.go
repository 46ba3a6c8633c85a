package export_test

import (
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/export"
	"google.golang.org/protobuf/proto"
)

// BenchmarkExport measures Model plus serialization for the study's runs.
func BenchmarkExport(b *testing.B) {
	for _, r := range []string{"bilstm", "deep_bilstm"} {
		cfg, err := configs.Load(r)
		if err != nil {
			b.Fatal(err)
		}
		m := randomModel(b, cfg, 1)
		b.Run(r, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mp, err := export.Model(m, export.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(mp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImport measures decoding plus Import for the study's runs.
func BenchmarkImport(b *testing.B) {
	for _, r := range []string{"bilstm", "deep_bilstm"} {
		cfg, err := configs.Load(r)
		if err != nil {
			b.Fatal(err)
		}
		data := marshal(b, randomModel(b, cfg, 1), export.Options{})
		b.Run(r, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				mp := decode(b, data)
				if _, err := export.Import(mp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
