package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleRun = `goos: linux
BenchmarkStudyDeepBiLSTM/engine/batch=1/procs=1-2   	 1000	   1000000 ns/op	  900000 cpu-ns/op	  1000 reviews/s	 295000 B/op	 255 allocs/op
BenchmarkStudyDeepBiLSTM/ort/batch=1/threads=1-2    	 1000	   2000000 ns/op	 1800000 cpu-ns/op	   500 reviews/s
BenchmarkStudyDeepBiLSTM/engine/batch=32/procs=1-2  	  100	  20000000 ns/op	20000000 cpu-ns/op	  1600 reviews/s	8000000 B/op	 268 allocs/op
BenchmarkStudyDeepBiLSTM/ort/batch=32/threads=1-2   	  100	  32000000 ns/op	30000000 cpu-ns/op	  1000 reviews/s
BenchmarkStudyDeepBiLSTM/engine/batch=32/procs=1-2  	  100	  30000000 ns/op	20000000 cpu-ns/op	  1200 reviews/s	8000000 B/op	 268 allocs/op
BenchmarkStudyDeepBiLSTM/engine/batch=32/procs=1-2  	  100	  30000000 ns/op	20000000 cpu-ns/op	  1400 reviews/s	8000000 B/op	 268 allocs/op
--- FAIL: something else
BenchmarkOther-2 	 10	 5 ns/op
PASS
`

// TestParseAndTable checks medians, ratios and target marks on a
// hand-made run: batch 1 at half ONNX Runtime's latency, batch 32 at
// 1.4× its throughput (median of 1600, 1200, 1400).
func TestParseAndTable(t *testing.T) {
	res, err := parse(strings.NewReader(sampleRun))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4: %v", len(res), res)
	}
	e := res["StudyDeepBiLSTM/engine/batch=32/procs=1"]
	if got := median(e.reviews); got != 1400 {
		t.Errorf("median reviews/s %v, want 1400", got)
	}
	var b bytes.Buffer
	writeTable(&b, res, header{cmd: "test", rounds: 3, benchtime: "1s"})
	out := b.String()
	for _, want := range []string{
		"| 1000 µs | 2000 µs | 0.50× the latency ✓ | ≤ 0.6× | 0.50× | 288 KB | 255 |",
		"| 1400 reviews/s | 1000 reviews/s | 1.40× the throughput | ≥ 1.5× | 1.50× | 7.6 MB | 268 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if _, err := parse(strings.NewReader("PASS\n")); err == nil {
		t.Error("output without results was accepted")
	}
}

// FuzzParse: any text parses to results or an error, and tabulates
// without panicking.
func FuzzParse(f *testing.F) {
	f.Add(sampleRun)
	f.Add("BenchmarkA/engine/batch=1/procs=1-2 1 x ns/op")
	f.Fuzz(func(t *testing.T, s string) {
		res, err := parse(strings.NewReader(s))
		if err == nil {
			writeTable(&bytes.Buffer{}, res, header{})
			writeInt8(&bytes.Buffer{}, res)
		}
	})
}

// TestUpdateReadme checks that -readme replaces exactly the block between
// the markers, and refuses a file without them.
func TestUpdateReadme(t *testing.T) {
	res, err := parse(strings.NewReader(sampleRun))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "README.md")
	before, after := "# title\n\nsome text\n", "\n## next\nmore\n"
	old := before + readmeBegin + "\nstale table\n" + readmeEnd + after
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateReadme(path, res, header{cmd: "scripts/bench/ratios.sh -readme README.md", rounds: 3, benchtime: "1s"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	if !strings.HasPrefix(got, before+readmeBegin+"\n") || !strings.HasSuffix(got, readmeEnd+after) || strings.Contains(got, "stale table") {
		t.Errorf("README not rewritten between its markers:\n%s", got)
	}
	if !strings.Contains(got, "| 1000 µs | 2000 µs | 0.50× the latency (0.50×) | 288 KB, 255 allocs |") {
		t.Errorf("README block lacks the batch-1 row:\n%s", got)
	}
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateReadme(path, res, header{}); err == nil {
		t.Error("a README without the markers was accepted")
	}
}
