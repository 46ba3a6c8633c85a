package crosscheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/score"
)

// DefaultBatchSize is the number of rows per inference run.
const DefaultBatchSize = 250

// Options say where Run finds the two sides.
type Options struct {
	// Keras is the folder of Keras exports: Keras/<run>/{metrics.json,
	// model.onnx, predictions.json, test_labels.txt}, e.g. testdata/keras.
	Keras string
	// Runs is the folder of birnn runs: Runs/<run>/{metrics.json,
	// model.onnx or checkpoint.ckpt}, as `birnn reproduce` writes it.
	Runs string
	// Data is the IMDB data folder (dataset.Locate); read only when a run
	// has labels on both sides to compare.
	Data string
	// Names are the runs to compare; nil means the study's five
	// (configs.Runs()).
	Names []string
	// BatchSize is rows per inference run; 0 means DefaultBatchSize.
	BatchSize int
	// Progress, when set, receives a line per model being scored.
	Progress io.Writer
}

// Row compares one run across the two sides. A figure whose inputs are
// missing is NaN (accuracies, MaxDiff) or has N == 0 (agreement), and
// Missing says what was not there.
type Row struct {
	Name          string
	KerasAccuracy float64 // Keras metrics.json: model.evaluate on the test split
	GoAccuracy    float64 // birnn metrics.json
	GoN           int     // reviews behind GoAccuracy (metrics.json n)
	// Agree of N test rows got the same label (p > 0.5) from both models.
	Agree, N int
	// GoModel is the birnn model file that gave the Go labels, and
	// GoLabelAccuracy those labels' accuracy on the test split (NaN when
	// not computed): it should be GoAccuracy, which the trainer measured.
	GoModel         string
	GoLabelAccuracy float64
	// MaxDiff is max |infer − Keras| over every output of DiffRows rows
	// of the Keras export's predictions.json.
	MaxDiff  float64
	DiffRows int
	// Missing lists the files or folders that were absent.
	Missing []string
}

// Agreement returns Agree/N, the fraction of test rows both models label
// alike; NaN when there was nothing to compare.
func (r Row) Agreement() float64 {
	if r.N == 0 {
		return math.NaN()
	}
	return float64(r.Agree) / float64(r.N)
}

// Report is the outcome of Run: one Row per run, in Options.Names order.
type Report struct {
	Rows []Row
}

// Run compares, for every run in o.Names, the Keras export under o.Keras
// with the birnn run under o.Runs: both test accuracies, the agreement of
// the two models' labels on the test split, and max |infer − Keras| on the
// Keras export's predictions.json.
//
// Keras labels come from test_labels.txt; the birnn labels are computed
// on the test reviews (read from o.Data in Keras's order, seed 113) by the
// engine: from the run's model.onnx when there is one, else from its
// checkpoint exported in memory with export.Model.
//
// A run folder or file missing on either side is listed in Row.Missing, not
// an error. Errors: a malformed file (ErrFormat or the decoder's error,
// naming it), test_labels.txt whose length is not the test split's, data
// missing when labels must be computed, a model the engine cannot run,
// ctx.Err().
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Names == nil {
		o.Names = configs.Runs()
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	c := &checker{o: o}
	rep := &Report{}
	for _, name := range o.Names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := c.row(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("crosscheck: %s: %w", name, err)
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// checker holds what Run reads once: the test split.
type checker struct {
	o    Options
	test *dataset.Split
}

// exists reports whether path exists; other stat errors are returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (c *checker) row(ctx context.Context, name string) (Row, error) {
	r := Row{Name: name, KerasAccuracy: math.NaN(), GoAccuracy: math.NaN(), GoLabelAccuracy: math.NaN(), MaxDiff: math.NaN()}
	missing := func(p string) { r.Missing = append(r.Missing, p) }

	var kerasLabels []int8
	kdir := filepath.Join(c.o.Keras, name)
	if ok, err := exists(kdir); err != nil {
		return r, err
	} else if !ok {
		missing(kdir)
	} else {
		p := filepath.Join(kdir, model.MetricsFile)
		if m, err := model.ReadMetrics(p); err == nil {
			r.KerasAccuracy = m.Accuracy
		} else if errors.Is(err, fs.ErrNotExist) {
			missing(p)
		} else {
			return r, err
		}
		if err := c.maxDiff(ctx, kdir, &r, missing); err != nil {
			return r, err
		}
		p = filepath.Join(kdir, TestLabelsFile)
		if kerasLabels, err = ReadLabels(p); errors.Is(err, fs.ErrNotExist) {
			missing(p)
		} else if err != nil {
			return r, err
		}
	}

	gdir := filepath.Join(c.o.Runs, name)
	if ok, err := exists(gdir); err != nil {
		return r, err
	} else if !ok {
		missing(gdir)
		return r, nil
	}
	p := filepath.Join(gdir, model.MetricsFile)
	if m, err := model.ReadMetrics(p); err == nil {
		r.GoAccuracy, r.GoN = m.Accuracy, m.N
	} else if errors.Is(err, fs.ErrNotExist) {
		missing(p)
	} else {
		return r, err
	}
	onnxPath, ckptPath := filepath.Join(gdir, model.ModelFile), filepath.Join(gdir, model.CheckpointFile)
	hasONNX, err := exists(onnxPath)
	if err != nil {
		return r, err
	}
	hasCkpt, err := exists(ckptPath)
	if err != nil {
		return r, err
	}
	switch {
	case hasONNX:
		r.GoModel = onnxPath
	case hasCkpt:
		r.GoModel = ckptPath
	default:
		missing(onnxPath + " or " + model.CheckpointFile)
		return r, nil
	}
	if kerasLabels == nil {
		return r, nil
	}
	goLabels, err := c.goLabels(ctx, r.GoModel)
	if err != nil {
		return r, err
	}
	truth := make([]int8, len(c.test.Y))
	for i, y := range c.test.Y {
		truth[i] = int8(y)
	}
	r.GoLabelAccuracy = float64(Agreement(goLabels, truth)) / float64(len(truth))
	if len(kerasLabels) != len(goLabels) {
		return r, formatErr(filepath.Join(kdir, TestLabelsFile), "%d labels, but the test split has %d reviews", len(kerasLabels), len(goLabels))
	}
	r.Agree, r.N = Agreement(kerasLabels, goLabels), len(goLabels)
	return r, nil
}

// Agreement counts the positions where a and b hold the same label; it
// compares min(len(a), len(b)) positions.
func Agreement(a, b []int8) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// maxDiff runs the Keras export on its predictions.json through infer.
func (c *checker) maxDiff(ctx context.Context, kdir string, r *Row, missing func(string)) error {
	mp, pp := filepath.Join(kdir, model.ModelFile), filepath.Join(kdir, PredictionsFile)
	for _, p := range []string{mp, pp} {
		if ok, err := exists(p); err != nil {
			return err
		} else if !ok {
			missing(p)
			return nil
		}
	}
	pred, err := ReadPredictions(pp)
	if err != nil {
		return err
	}
	sess, err := infer.Load(mp)
	if err != nil {
		return err
	}
	c.progress("running %s on the %d rows of %s", mp, len(pred.X), pp)
	got, err := RunRows(ctx, sess, pred.X, c.o.BatchSize)
	if err != nil {
		return fmt.Errorf("%s: %w", mp, err)
	}
	d, err := MaxAbsDiff(got, pred.Outputs)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", mp, pp, err)
	}
	r.MaxDiff, r.DiffRows = d, len(pred.X)
	return nil
}

func (c *checker) progress(format string, args ...any) {
	if c.o.Progress != nil {
		fmt.Fprintf(c.o.Progress, format+"\n", args...)
	}
}

// goLabels scores the test split with the birnn model at path (model.onnx
// or a checkpoint) and returns its labels, p > 0.5.
func (c *checker) goLabels(ctx context.Context, path string) ([]int8, error) {
	var sess *infer.Session
	var err error
	if filepath.Ext(path) == ".onnx" {
		sess, err = infer.Load(path)
	} else {
		sess, err = checkpointSession(path)
	}
	if err != nil {
		return nil, err
	}
	sc, err := score.New(sess, nil, score.Options{BatchSize: c.o.BatchSize})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.test == nil {
		c.progress("reading the test split from %s", c.o.Data)
		if _, c.test, err = dataset.LoadData(c.o.Data, dataset.DefaultLoadOptions()); err != nil {
			return nil, err
		}
	}
	c.progress("scoring the %d test reviews with %s", c.test.Len(), path)
	p, err := sc.ScoreIDs(ctx, c.test.X)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Labels(p), nil
}

// checkpointSession exports a checkpoint's model in memory and loads it
// into the engine, so a checkpoint is scored by the same code as an
// exported model.
func checkpointSession(path string) (*infer.Session, error) {
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	mp, err := export.Model(ck.Model, export.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sess, err := infer.LoadModel(mp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sess, nil
}

// Labels turns P(positive) into 0/1 labels with birnn's label rule
// (model.Positive at model.DefaultThreshold), as Keras's `predict > 0.5`.
func Labels(p []float32) []int8 {
	out := make([]int8, len(p))
	for i, v := range p {
		if model.Positive(float64(v), model.DefaultThreshold) {
			out[i] = 1
		}
	}
	return out
}

// RunRows runs sess on x [rows, seq] (ids, given to the model's only
// input in its dtype) in batches of batch rows and returns its first
// output as [rows, width].
//
// Errors: a model without exactly one input or with a non-numeric input,
// a run error, an output that is not [batch, width] floats.
func RunRows(ctx context.Context, sess *infer.Session, x [][]int32, batch int) ([][]float32, error) {
	ins, outs := sess.Inputs(), sess.Outputs()
	if len(ins) != 1 || len(outs) == 0 {
		return nil, fmt.Errorf("crosscheck: model has %d inputs and %d outputs, want 1 and ≥ 1", len(ins), len(outs))
	}
	in, out := ins[0], outs[0]
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	res := make([][]float32, 0, len(x))
	for lo := 0; lo < len(x); lo += batch {
		hi := min(lo+batch, len(x))
		seq := len(x[lo])
		flat := make([]int32, 0, (hi-lo)*seq)
		for i, row := range x[lo:hi] {
			if len(row) != seq {
				return nil, fmt.Errorf("crosscheck: row %d has %d ids, row %d has %d", lo+i, len(row), lo, seq)
			}
			flat = append(flat, row...)
		}
		t, err := score.IDs(in, []int{hi - lo, seq}, flat)
		if err != nil {
			return nil, err
		}
		got, err := sess.Run(ctx, map[string]*infer.Tensor{in.Name: t})
		if err != nil {
			return nil, err
		}
		y := got[out.Name]
		var vals []float32
		switch d := y.Data.(type) {
		case []float32:
			vals = d
		case []float64:
			for _, v := range d {
				vals = append(vals, float32(v))
			}
		default:
			return nil, fmt.Errorf("crosscheck: output %s is %s, want floats", out.Name, y)
		}
		if len(y.Shape) != 2 || y.Shape[0] != hi-lo {
			return nil, fmt.Errorf("crosscheck: output %s has shape %v for %d rows", out.Name, y.Shape, hi-lo)
		}
		w := y.Shape[1]
		for i := range hi - lo {
			res = append(res, append([]float32(nil), vals[i*w:(i+1)*w]...))
		}
	}
	return res, nil
}

// MaxAbsDiff returns max |a − b| over two [rows, width] tables (in
// float64). Errors: the shapes differ; a NaN on either side.
func MaxAbsDiff(a, b [][]float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("crosscheck: %d rows against %d", len(a), len(b))
	}
	d := 0.0
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return 0, fmt.Errorf("crosscheck: row %d has %d values against %d", i, len(a[i]), len(b[i]))
		}
		for j := range a[i] {
			x := math.Abs(float64(a[i][j]) - float64(b[i][j]))
			if math.IsNaN(x) {
				return 0, fmt.Errorf("crosscheck: row %d, column %d: NaN", i, j)
			}
			d = max(d, x)
		}
	}
	return d, nil
}

// cells formats a row for the tables: accuracies with 4 decimals (birnn's
// with its review count when that is not the test split's), the accuracy
// difference (birnn − Keras), the agreement as a percentage with its
// counts, and the max difference with its row count; "–" where a figure is
// missing.
func (r Row) cells() []string {
	acc := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return fmt.Sprintf("%.4f", v)
	}
	delta := "–"
	if d := r.GoAccuracy - r.KerasAccuracy; !math.IsNaN(d) {
		delta = fmt.Sprintf("%+.4f", d)
	}
	agree := "–"
	if r.N > 0 {
		agree = fmt.Sprintf("%.2f %% (%s / %s)", 100*r.Agreement(), commas(r.Agree), commas(r.N))
	}
	diff := "–"
	if r.DiffRows > 0 {
		diff = fmt.Sprintf("%.2g (%s rows)", r.MaxDiff, commas(r.DiffRows))
	}
	goAcc := acc(r.GoAccuracy)
	if r.N > 0 && r.GoN > 0 && r.GoN != r.N {
		goAcc += fmt.Sprintf(" (%s reviews)", commas(r.GoN))
	}
	return []string{r.Name, acc(r.KerasAccuracy), goAcc, delta, agree, diff}
}

var header = []string{"run", "test acc (Keras)", "test acc (birnn)", "Δ acc", "label agreement", "max |infer − Keras|"}

// missingLines lists what was missing, one line per run.
func (rep *Report) missingLines() []string {
	var out []string
	for _, r := range rep.Rows {
		if len(r.Missing) > 0 {
			out = append(out, r.Name+": "+strings.Join(r.Missing, ", "))
		}
	}
	return out
}

// Inconsistent reports whether the labels computed from the birnn model
// disagree with its metrics.json, measured on the same N reviews, by more
// than two reviews: the model file scored is then not the one that was
// evaluated (or the engine and the trainer differ).
func (r Row) Inconsistent() bool {
	if r.N == 0 || r.GoN != r.N || math.IsNaN(r.GoAccuracy) || math.IsNaN(r.GoLabelAccuracy) {
		return false
	}
	return math.Abs(r.GoLabelAccuracy-r.GoAccuracy) > 2/float64(r.N)
}

// noteLines lists the runs whose birnn labels disagree with their metrics.
func (rep *Report) noteLines() []string {
	var out []string
	for _, r := range rep.Rows {
		if r.Inconsistent() {
			out = append(out, fmt.Sprintf("%s: the labels of %s give accuracy %.4f, its metrics.json says %.4f",
				r.Name, r.GoModel, r.GoLabelAccuracy, r.GoAccuracy))
		}
	}
	return out
}

// WriteTable writes the report as an aligned text table, then the missing
// files per run.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rep.Rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m := rep.missingLines(); len(m) > 0 {
		if _, err := fmt.Fprintf(w, "\nmissing:\n  %s\n", strings.Join(m, "\n  ")); err != nil {
			return err
		}
	}
	if m := rep.noteLines(); len(m) > 0 {
		if _, err := fmt.Fprintf(w, "\ninconsistent:\n  %s\n", strings.Join(m, "\n  ")); err != nil {
			return err
		}
	}
	return nil
}

// Markdown returns the report as a markdown section: a table with a row
// per run, then the missing files per run.
func (rep *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("## birnn against Keras\n\n")
	b.WriteString("Test split of IMDB (25,000 reviews). Label agreement: both models' `p > 0.5` on each test review. " +
		"max |infer − Keras|: birnn's engine on the Keras export against Keras's `model.predict`.\n\n")
	row := func(cells []string) {
		for i := range cells {
			cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	row(append([]string(nil), header...))
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		row(r.cells())
	}
	if m := rep.missingLines(); len(m) > 0 {
		b.WriteString("\nMissing:\n\n")
		for _, l := range m {
			b.WriteString("- " + l + "\n")
		}
	}
	if m := rep.noteLines(); len(m) > 0 {
		b.WriteString("\nInconsistent:\n\n")
		for _, l := range m {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

// commas writes n with thousands separators: 25000 → "25,000".
func commas(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
