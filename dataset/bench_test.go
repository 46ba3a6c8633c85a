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

// BenchmarkTokenize measures the archive path's tokenizer and word lookup
// (tokenizeRanks) against the plain TextToWordSequence + map lookups that
// Encode uses, on 1 MiB of review-like text.
func BenchmarkTokenize(b *testing.B) {
	wi, err := LoadWordIndex(filepath.Join(imdbDir(b), WordIndexName))
	if err != nil {
		b.Fatal(err)
	}
	const para = "This film was just brilliant, casting location scenery story direction everyone's really suited the part they played.<br /><br />I didn't like the ending - but the acting was GREAT! 10/10 "
	var text []byte
	for len(text) < 1<<20 {
		text = append(text, para...)
	}
	b.Run("table", func(b *testing.B) {
		wt := newWordTable(wi)
		buf := make([]byte, len(text))
		var dst []int32
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			copy(buf, text)
			dst = tokenizeRanks(dst[:0], buf, wt)
		}
	})
	b.Run("map", func(b *testing.B) {
		s := string(text)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			wi.ranks(s)
		}
	})
}

// BenchmarkPadSequences pads 25,000 rows of IMDB-like lengths to 100.
func BenchmarkPadSequences(b *testing.B) {
	seqs := make([][]int32, 25000)
	r, _ := NewRandomState(1)
	for i := range seqs {
		seqs[i] = make([]int32, 10+r.Interval(500))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PadSequences(seqs, 100, Post, Pre, 0); err != nil {
			b.Fatal(err)
		}
	}
}
