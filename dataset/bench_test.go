package dataset

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
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
// Encode uses, on the text of the first 5,000 reviews of the archive.
func BenchmarkTokenize(b *testing.B) {
	dir := imdbDir(b)
	wi, err := LoadWordIndex(filepath.Join(dir, WordIndexName))
	if err != nil {
		b.Fatal(err)
	}
	text := reviewText(b, filepath.Join(dir, LabeledArchiveName), 5000)
	b.Run("table", func(b *testing.B) {
		wt := newWordTable(wi)
		buf := make([]byte, len(text))
		var dst []int32
		b.SetBytes(int64(len(text)))
		cpu0 := cpuSeconds()
		for b.Loop() {
			copy(buf, text)
			dst = tokenizeRanks(dst[:0], buf, wt)
		}
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	})
	b.Run("map", func(b *testing.B) {
		s := string(text)
		b.SetBytes(int64(len(text)))
		cpu0 := cpuSeconds()
		for b.Loop() {
			wi.ranks(s)
		}
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	})
}

// reviewText returns the bodies of the first n reviews of an archive,
// joined by newlines.
func reviewText(b *testing.B, path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var text []byte
	for n > 0 {
		hdr, err := tr.Next()
		if err != nil {
			b.Fatal(err)
		}
		if _, _, ok := reviewName(hdr.Name); !ok {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			b.Fatal(err)
		}
		text = append(append(text, body...), '\n')
		n--
	}
	return text
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
