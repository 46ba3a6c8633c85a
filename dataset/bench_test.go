package dataset

import (
	"path/filepath"
	"testing"
)

// BenchmarkLoadIMDB loads both splits from the labelled tar.gz (word index
// included) and pads them into [25000, 100] int32 matrices as the study
// does (num_words 4000, maxlen 100, padding post).
func BenchmarkLoadIMDB(b *testing.B) {
	dir := imdbDir(b)
	if !isFile(filepath.Join(dir, LabeledArchiveName)) {
		b.Skip("no " + LabeledArchiveName)
	}
	o := DefaultLoadOptions()
	o.NumWords = 4000
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		tr, te, err := LoadData(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []*Split{tr, te} {
			if _, err := PadSequences(s.X, 100, Post, Pre, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(50000*float64(b.N)/b.Elapsed().Seconds(), "reviews/s")
	// CPU seconds per load: the work itself, comparable across runs on a
	// machine whose cores are shared.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

// BenchmarkReadArchive isolates the archive pass (gunzip, untar, tokenize).
func BenchmarkReadArchive(b *testing.B) {
	dir := imdbDir(b)
	wi, err := LoadWordIndex(filepath.Join(dir, WordIndexName))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for b.Loop() {
		if _, _, err := ReadReviews(filepath.Join(dir, LabeledArchiveName), wi); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

// BenchmarkLoadWordIndex parses the 88,584-word JSON index.
func BenchmarkLoadWordIndex(b *testing.B) {
	p := filepath.Join(imdbDir(b), WordIndexName)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadWordIndex(p); err != nil {
			b.Fatal(err)
		}
	}
}
