package export_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
)

// BenchmarkExport measures Model plus serialization for the study's runs.
func BenchmarkExport(b *testing.B) {
	for _, r := range []string{"bilstm", "deep_bilstm"} {
		m := modeltest.StudyModel(b, r)
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
