// Command ratios runs the engine's end-to-end benchmarks — birnn against
// ONNX Runtime in the same process, on the same inputs — several rounds,
// and prints the ratio table (markdown) from the medians, headed by what
// the figures depend on: CPU model and flags, OPENBLAS_CORETYPE, the
// kernels in use, load average.
//
//	scripts/bench/ratios.sh [-rounds 5] [-benchtime 2s] [-bench REGEXP] [-raw FILE] [-readme README.md]
//
// With -readme it also rewrites the README's inference speed table (the
// block between its markers), so that table is never edited by hand. The
// benchmark binary is built once and run -rounds times; each round runs
// every sub-benchmark once (engine then ONNX Runtime per batch size), so the
// two engines alternate instead of one running while the machine is quiet
// and the other while it is busy. Throughput cases (batch > 1) compare
// reviews/s, the batch-1 case compares latency; the targets are ≥ 1.5×
// ONNX Runtime's throughput and ≤ 0.6× its latency.
//
// The benchmark lines are read by hand (name, iterations, then value–unit
// pairs: the format `go test` documents): golang.org/x/perf/benchfmt reads
// them too, but requiring it raises module-wide versions of unrelated
// indirect dependencies (golang.org/x/image under the plots among them).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/birnn/birnn/internal/atomicfile"
	"github.com/birnn/birnn/internal/kernel"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// models lists the benchmarks of the table in order, with their labels.
var models = []struct{ bench, label string }{
	{"StudyDeepBiLSTM", "deep BiLSTM (study shapes, tf2onnx graph)"},
	{"StudyDeepBiGRU", "deep BiGRU (same shapes, linear_before_reset 1)"},
	{"KerasDeepBiLSTM", "deep BiLSTM (Keras + tf2onnx export)"},
	{"QuantizedDeepBiLSTM", "deep BiLSTM int8 (that export, birnn quantize)"},
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ratios", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 5, "runs of every sub-benchmark; the table shows medians")
	benchtime := fs.String("benchtime", "2s", "go test -benchtime of each run")
	bench := fs.String("bench", "^Benchmark(StudyDeepBiLSTM|StudyDeepBiGRU|KerasDeepBiLSTM|QuantizedDeepBiLSTM)$", "go test -bench pattern")
	raw := fs.String("raw", "", "also write the raw benchmark output to this file")
	in := fs.String("in", "", "read benchmark output from this file instead of running (for re-tabulating)")
	readme := fs.String("readme", "", "also rewrite the inference speed table of this README (between its markers)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1, got %d", *rounds)
	}
	started := time.Now()
	loadBefore := loadAverage()
	var out bytes.Buffer
	if *in != "" {
		b, err := os.ReadFile(*in)
		if err != nil {
			return err
		}
		out.Write(b)
	} else {
		if err := runBenchmarks(&out, stderr, *rounds, *benchtime, *bench); err != nil {
			return err
		}
	}
	if *raw != "" {
		if err := os.WriteFile(*raw, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	res, err := parse(&out)
	if err != nil {
		return err
	}
	cmd := "scripts/bench/ratios.sh " + strings.Join(args, " ")
	h := header{cmd: strings.TrimSpace(cmd), rounds: *rounds, benchtime: *benchtime, started: started,
		loadBefore: loadBefore, loadAfter: loadAverage()}
	if *in != "" {
		h.loadBefore, h.loadAfter = "not measured (results read from "+*in+")", "-"
	}
	writeTable(stdout, res, h)
	writeInt8(stdout, res)
	if *readme != "" {
		return updateReadme(*readme, res, h)
	}
	return nil
}

// The README's inference speed table sits between these markers; only
// ratios.sh -readme writes what is between them.
const (
	readmeBegin = "<!-- inference speed: written by scripts/bench/ratios.sh -readme README.md; do not edit by hand -->"
	readmeEnd   = "<!-- end of inference speed -->"
)

// updateReadme replaces the block between the markers of path with the
// README form of the table (atomically; the markers must be there).
func updateReadme(path string, res results, h header) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b)
	i := strings.Index(text, readmeBegin)
	j := strings.Index(text, readmeEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no inference speed block (a line %q, later a line %q)", path, readmeBegin, readmeEnd)
	}
	var block bytes.Buffer
	writeReadme(&block, res, h)
	out := text[:i+len(readmeBegin)] + "\n" + block.String() + text[j:]
	return atomicfile.WriteFile(path, []byte(out))
}

// writeReadme writes the README form: what was measured how, then one row
// per case of the float32 models and the int8 speed-up.
func writeReadme(w io.Writer, res results, h header) {
	model, flags := cpuInfo()
	fmt.Fprintf(w, "Inference against ONNX Runtime 1.30 in the same process on the same inputs, measured %s by\n", h.started.Format("2006-01-02"))
	fmt.Fprintf(w, "`%s` (%d rounds × %s, medians; birnn's kernels: %s; %s, flags %s; load average %s → %s,\n",
		h.cmd, h.rounds, h.benchtime, kernel.Current(), model, flags, h.loadBefore, h.loadAfter)
	fmt.Fprint(w, `the machine shared with other work). Throughput ratios are birnn/ORT (higher is better), latency
ratios birnn/ORT (lower is better); in parentheses the same ratio of CPU time per run, which
other load on the machine hardly moves.

| model | batch | threads | birnn | ONNX Runtime | birnn vs ORT (CPU time) | birnn allocations per run |
|---|---|---|---|---|---|---|
`)
	eachCase(res, func(label string, batch, threads int, e, o *sample) {
		c := compare(e, o, batch)
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s (%s) | %s, %.0f allocs |\n", label, batch, threads,
			c.engine, c.ort, c.ratio, c.cpu, humanBytes(median(e.bytes)), median(e.allocs))
	})
	writeInt8(w, res)
	fmt.Fprintln(w)
}

// eachCase calls f for every case of the table with both engines'
// samples, in table order.
func eachCase(res results, f func(label string, batch, threads int, e, o *sample)) {
	for _, m := range models {
		for _, batch := range []int{1, 32, 128} {
			for _, threads := range []int{1, 2} {
				e := res[fmt.Sprintf("%s/engine/batch=%d/procs=%d", m.bench, batch, threads)]
				o := res[fmt.Sprintf("%s/ort/batch=%d/threads=%d", m.bench, batch, threads)]
				if e != nil && o != nil {
					f(m.label, batch, threads, e, o)
				}
			}
		}
	}
}

// comparison is one case of the table, formatted.
type comparison struct{ engine, ort, ratio, target, mark, cpu string }

// compare formats birnn's and ONNX Runtime's medians of a case: latency
// at batch 1, throughput otherwise.
func compare(e, o *sample, batch int) comparison {
	var c comparison
	ce, co := median(e.cpuPerOp), median(o.cpuPerOp)
	if batch == 1 {
		te, to := median(e.nsPerOp), median(o.nsPerOp)
		c.engine, c.ort = fmt.Sprintf("%.0f µs", te/1e3), fmt.Sprintf("%.0f µs", to/1e3)
		r := te / to
		c.ratio, c.target = fmt.Sprintf("%.2f× the latency", r), "≤ 0.6×"
		if r <= 0.6 {
			c.mark = " ✓"
		}
		if ce > 0 && co > 0 {
			c.cpu = fmt.Sprintf("%.2f×", ce/co)
		}
		return c
	}
	re, ro := median(e.reviews), median(o.reviews)
	c.engine, c.ort = fmt.Sprintf("%.0f reviews/s", re), fmt.Sprintf("%.0f reviews/s", ro)
	r := re / ro
	c.ratio, c.target = fmt.Sprintf("%.2f× the throughput", r), "≥ 1.5×"
	if r >= 1.5 {
		c.mark = " ✓"
	}
	if ce > 0 && co > 0 {
		c.cpu = fmt.Sprintf("%.2f×", co/ce)
	}
	return c
}

// runBenchmarks builds the infer test binary once and runs it rounds
// times, appending its output to out (and echoing progress to stderr).
func runBenchmarks(out *bytes.Buffer, stderr io.Writer, rounds int, benchtime, bench string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "birnn-ratios-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "infer.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./infer")
	build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the benchmarks: %w", err)
	}
	for r := range rounds {
		fmt.Fprintf(stderr, "round %d/%d\n", r+1, rounds)
		c := exec.Command(bin, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime, "-test.count", "1")
		c.Dir = filepath.Join(root, "infer")
		c.Stdout, c.Stderr = io.MultiWriter(out, stderr), stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// sample is what one sub-benchmark measured in every round.
type sample struct {
	nsPerOp, cpuPerOp, reviews, bytes, allocs []float64
}

// results maps "Model/engine/batch=N/procs=P" (GOMAXPROCS suffix dropped)
// to its samples.
type results map[string]*sample

var nameRE = regexp.MustCompile(`^(\w+)/(engine|ort)/batch=(\d+)/(procs|threads)=(\d+)$`)

func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		if !nameRE.MatchString(name) {
			continue
		}
		s := res[name]
		if s == nil {
			s = &sample{}
			res[name] = s
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: value %q: %w", sc.Text(), f[i], err)
			}
			switch f[i+1] {
			case "ns/op":
				s.nsPerOp = append(s.nsPerOp, v)
			case "cpu-ns/op":
				s.cpuPerOp = append(s.cpuPerOp, v)
			case "reviews/s":
				s.reviews = append(s.reviews, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no engine/ort benchmark results in the output")
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

type header struct {
	cmd                   string
	rounds                int
	benchtime             string
	started               time.Time
	loadBefore, loadAfter string
}

func writeTable(w io.Writer, res results, h header) {
	model, flags := cpuInfo()
	fmt.Fprintf(w, "Measured %s with `%s` (%d rounds × -benchtime %s, medians; birnn and ONNX Runtime alternate within each round).\n\n",
		h.started.Format("2006-01-02"), h.cmd, h.rounds, h.benchtime)
	fmt.Fprintf(w, "- CPU: %s, %d logical CPUs; flags: %s\n", model, runtime.NumCPU(), flags)
	fmt.Fprintf(w, "- OPENBLAS_CORETYPE=%q (birnn does not use OpenBLAS); %s=%q\n", os.Getenv("OPENBLAS_CORETYPE"), kernel.EnvKernel, os.Getenv(kernel.EnvKernel))
	fmt.Fprintf(w, "- birnn kernels: %s (%s): fused LSTM/GRU steps and GEMM; %s\n", kernel.Current(), kernel.Float32Impl(), runtime.Version())
	fmt.Fprintf(w, "- load average before/after: %s / %s\n\n", h.loadBefore, h.loadAfter)
	fmt.Fprintln(w, "Wall-clock figures decide the targets. The CPU column compares the CPU time")
	fmt.Fprintln(w, "each engine's process spent per run (birnn/ORT for latency, ORT/birnn for")
	fmt.Fprintln(w, "throughput): it hardly moves with other load on the machine, and with one")
	fmt.Fprintln(w, "thread it is what the wall-clock ratio would be on an idle machine.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| model | batch | threads | birnn | ONNX Runtime | birnn vs ORT | target | by CPU time | birnn B/op | allocs/op |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	eachCase(res, func(label string, batch, threads int, e, o *sample) {
		c := compare(e, o, batch)
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s%s | %s | %s | %s | %.0f |\n", label, batch, threads, c.engine, c.ort,
			c.ratio, c.mark, c.target, c.cpu, humanBytes(median(e.bytes)), median(e.allocs))
	})
}

// writeInt8 prints the engine's int8 speed-up over float32 on the Keras
// export (same run, medians).
func writeInt8(w io.Writer, res results) {
	header := false
	for _, batch := range []int{1, 32, 128} {
		for _, threads := range []int{1, 2} {
			f := res[fmt.Sprintf("KerasDeepBiLSTM/engine/batch=%d/procs=%d", batch, threads)]
			q := res[fmt.Sprintf("QuantizedDeepBiLSTM/engine/batch=%d/procs=%d", batch, threads)]
			if f == nil || q == nil {
				continue
			}
			if !header {
				fmt.Fprintln(w)
				fmt.Fprintln(w, "birnn int8 against birnn float32 (deep BiLSTM, Keras export; target ≥ 2×):")
				fmt.Fprintln(w)
				fmt.Fprintln(w, "| batch | threads | float32 | int8 | speed-up | by CPU time |")
				fmt.Fprintln(w, "|---|---|---|---|---|---|")
				header = true
			}
			tf, tq := median(f.nsPerOp), median(q.nsPerOp)
			cf, cq := median(f.cpuPerOp), median(q.cpuPerOp)
			cpu := ""
			if cf > 0 && cq > 0 {
				cpu = fmt.Sprintf("%.2f×", cf/cq)
			}
			fmt.Fprintf(w, "| %d | %d | %.0f µs | %.0f µs | %.2f× | %s |\n", batch, threads, tf/1e3, tq/1e3, tf/tq, cpu)
		}
	}
}

func humanBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// cpuInfo returns the CPU model and the vector flags that decide which
// kernels run (from /proc/cpuinfo; "unknown" elsewhere).
func cpuInfo() (model, flags string) {
	model, flags = "unknown", "unknown"
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "model name" && model == "unknown":
			model = v
		case k == "flags" && flags == "unknown":
			var keep []string
			for _, fl := range strings.Fields(v) {
				if strings.HasPrefix(fl, "avx") || fl == "fma" || fl == "f16c" || strings.HasPrefix(fl, "amx") {
					keep = append(keep, fl)
				}
			}
			flags = strings.Join(keep, " ")
			if !slices.ContainsFunc(keep, func(s string) bool { return strings.HasPrefix(s, "avx512") }) {
				flags += " (no AVX-512)"
			}
		}
	}
	return
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
