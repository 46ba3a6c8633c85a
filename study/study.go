package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/crosscheck"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/atomicfile"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/plot"
	"github.com/birnn/birnn/train"
)

// Reference is a run's outcome as the study reports it: test accuracy and
// loss, and seconds per epoch from the notebook's logs ("" where the logs
// are cut).
type Reference struct {
	Accuracy, Loss float64
	Seconds        string
}

// References returns the study's results per run (the notebook's
// model.evaluate on the test split after 4 epochs).
func References() map[string]Reference {
	return map[string]Reference{
		"deep_lstm":                   {0.8348, 0.3869, "39"},
		"bilstm":                      {0.8414, 0.3747, "34"},
		"deep_bilstm":                 {0.8279, 0.3867, "85"},
		"deep_bilstm_rmsprop_dropout": {0.8500, 0.3590, ""},
		"deep_bilstm_adam_dropout":    {0.8361, 0.4126, "126"},
	}
}

// Compared returns the three deep-BiLSTM runs of the study's comparison
// figure, in its order.
func Compared() []string {
	return []string{"deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"}
}

// ReportFile and CompareFile are written in the output folder.
const (
	ReportFile  = "report.md"
	CompareFile = "compare.png"
	CurvesFile  = "curves.png" // in each run's folder
)

// Options control Reproduce.
type Options struct {
	// Runs are the study runs to train, in order; empty: all five
	// (configs.Runs). Each must be one of them.
	Runs []string
	// Config resolves a run's configuration; nil: configs.Load. The CLI
	// passes one that applies BIRNN_* variables and flags.
	Config func(name string) (*configs.Config, error)
	// Out is the output folder: Out/<run>/… and Out/report.md.
	Out string
	// DataDir is the IMDB data folder (dataset.Locate): training data, the
	// test split of the cross-check, the word index whose digest the
	// exports record.
	DataDir string
	// Keras is the folder of Keras exports to cross-check against.
	Keras string
	// Force redoes runs that are done (their metrics.json exists) and
	// re-exports their models; without it they are skipped. A run that
	// was interrupted (a checkpoint, no metrics.json) always resumes.
	Force bool
	// Version is recorded in the exports (birnn.version).
	Version string
	// Progress receives progress and one line per run; Live redraws bars
	// in place (a terminal). Nil: silent.
	Progress io.Writer
	Live     bool
}

// Result is what Reproduce did.
type Result struct {
	Trained, Skipped []string           // run names
	Test             map[string]float64 // test accuracy of the runs trained now
	CrossCheck       *crosscheck.Report
}

// orDefaults is the configuration loader and progress writer of a
// pipeline's options: configs.Load and io.Discard where they are nil.
func orDefaults(load func(string) (*configs.Config, error), progress io.Writer) (func(string) (*configs.Config, error), io.Writer) {
	if load == nil {
		load = configs.Load
	}
	if progress == nil {
		progress = io.Discard
	}
	return load, progress
}

// Reproduce runs the study: for each run, train it (or skip it when done,
// or resume it when interrupted) into Out/<run>/ — checkpoint.ckpt,
// history.json, metrics.json, curves.png — then export every run to
// Out/<run>/model.onnx, cross-check the exports against the Keras ones,
// and write Out/report.md (WriteReport).
//
// Errors: an unknown run name, and those of training, exporting, the
// cross-check and the report, prefixed with the run's name.
func Reproduce(ctx context.Context, o Options) (*Result, error) {
	runs := o.Runs
	if len(runs) == 0 {
		runs = configs.Runs()
	}
	for _, r := range runs {
		if !slices.Contains(configs.Runs(), r) {
			return nil, fmt.Errorf("study: unknown run %q (want some of %s)", r, strings.Join(configs.Runs(), ", "))
		}
	}
	load, progress := orDefaults(o.Config, o.Progress)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	res := &Result{Test: map[string]float64{}}
	for _, name := range runs {
		cfg, err := load(name)
		if err != nil {
			return nil, err
		}
		done, err := o.trainRun(ctx, name, cfg, progress)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if done == nil {
			res.Skipped = append(res.Skipped, name)
			continue
		}
		res.Trained = append(res.Trained, name)
		res.Test[name] = done.Test.Accuracy
	}
	for _, name := range runs {
		if err := o.exportRun(filepath.Join(o.Out, name), progress); err != nil {
			return nil, fmt.Errorf("%s: export: %w", name, err)
		}
	}
	fmt.Fprintf(progress, "== cross-check: the ONNX exports on the test split, against %s\n", o.Keras)
	cc, err := crosscheck.Run(ctx, crosscheck.Options{Keras: o.Keras, Runs: o.Out, Data: o.DataDir, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	res.CrossCheck = cc
	return res, WriteReport(o.Out, cc)
}

// trainRun trains one run into Out/name, unless it is done and Force is
// off (nil result). With Force the old checkpoint and history go first,
// so the run starts over; otherwise an interrupted run resumes.
func (o Options) trainRun(ctx context.Context, name string, cfg *configs.Config, progress io.Writer) (*train.Result, error) {
	dir := filepath.Join(o.Out, name)
	if _, err := os.Stat(filepath.Join(dir, model.MetricsFile)); err == nil && !o.Force {
		fmt.Fprintf(progress, "%s: done already (%s); --force to redo\n", name, dir)
		return nil, nil
	}
	if o.Force {
		for _, f := range []string{model.CheckpointFile, model.HistoryFile, model.MetricsFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	fmt.Fprintf(progress, "== %s: %s\n", name, cfg.Description)
	res, err := train.Run(ctx, cfg, train.RunOptions{
		Data: dataset.IMDB{Dir: o.DataDir}, OutDir: dir, Resume: true, Progress: o.Progress, Live: o.Live,
	})
	if err != nil {
		return nil, err
	}
	if err := plot.Curves(res.History, name, filepath.Join(dir, CurvesFile)); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "%s: test loss %.4f, accuracy %.4f\n", name, res.Test.Loss, res.Test.Accuracy)
	return res, nil
}

// exportRun writes dir/model.onnx from dir's checkpoint, unless it is
// there already and Force is off.
func (o Options) exportRun(dir string, progress io.Writer) error {
	dst := filepath.Join(dir, model.ModelFile)
	if _, err := os.Stat(dst); err == nil && !o.Force {
		return nil
	}
	_, err := export.Checkpoint(filepath.Join(dir, model.CheckpointFile), dst, export.CheckpointOptions{
		Options: export.Options{Version: o.Version}, DefaultWordIndex: dataset.WordIndexIn(o.DataDir),
	})
	if err == nil {
		fmt.Fprintf(progress, "wrote %s\n", dst)
	}
	return err
}

// WriteReport writes out/report.md from whatever runs out holds: each
// study run's test accuracy, loss and seconds per epoch beside the study's,
// "not run" for the missing ones, and the comparison figure (out/
// compare.png) when the three deep-BiLSTM runs are there. cc, when not
// nil, adds each ONNX export's test accuracy computed by the engine and
// ends the report with the cross-check against Keras. The file is written
// atomically: several processes may share an output folder.
func WriteReport(out string, cc *crosscheck.Report) error {
	onnxAcc := map[string]float64{}
	if cc != nil {
		for _, r := range cc.Rows {
			onnxAcc[r.Name] = r.GoLabelAccuracy
		}
	}
	refs := References()
	var b strings.Builder
	b.WriteString("# birnn reproduction of the Keras deep/bidirectional LSTM study\n\n")
	b.WriteString("Test split of IMDB (25,000 reviews), 4 epochs unless stated. Study values from its notebook.\n\n")
	b.WriteString("| run | epochs | test acc (birnn) | test acc (study) | Δ acc | test loss (birnn) | test loss (study) | s/epoch (birnn) | s/epoch (study) | test acc (model.onnx, infer) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	var series []plot.Series
	for _, name := range configs.Runs() {
		s := refs[name]
		met, h, secs, err := readRun(filepath.Join(out, name))
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&b, "| %s | – | not run | %.4f | | | %.4f | | %s |\n", name, s.Accuracy, s.Loss, dash(s.Seconds))
			continue
		}
		if err != nil {
			return err
		}
		inferAcc := "–"
		if v, ok := onnxAcc[name]; ok && !math.IsNaN(v) {
			inferAcc = fmt.Sprintf("%.4f", v)
		}
		fmt.Fprintf(&b, "| %s | %d | %.4f | %.4f | %+.2f pt | %.4f | %.4f | %.0f | %s | %s |\n",
			name, h.Epochs(), met.Accuracy, s.Accuracy, 100*(met.Accuracy-s.Accuracy), met.Loss, s.Loss, secs, dash(s.Seconds), inferAcc)
		if slices.Contains(Compared(), name) {
			series = append(series, plot.Series{Label: name, History: h})
		}
	}
	b.WriteString("\nSeconds per epoch are wall-clock, validation included, on the machine that ran them " +
		"(on a shared machine they overstate the cost; `go test ./train -bench TrainStep` reports CPU seconds too).\n")
	b.WriteString("Per-run curves: `<run>/curves.png`. Per-epoch histories: `<run>/history.json`.\n")
	if len(series) == len(Compared()) {
		if err := plot.Compare(series, plot.MetricValidation, filepath.Join(out, CompareFile)); err != nil {
			return err
		}
		b.WriteString("\n## The three deep-BiLSTM runs (validation)\n\n![comparison of the deep-BiLSTM runs](compare.png)\n")
	}
	if cc != nil {
		b.WriteString("\n" + cc.Markdown())
	}
	return atomicfile.WriteFile(filepath.Join(out, ReportFile), []byte(b.String()))
}

// readRun reads a finished run folder: its metrics.json (an error matching
// fs.ErrNotExist when the run is not done), its history and the mean
// seconds per epoch.
func readRun(dir string) (model.Metrics, *model.History, float64, error) {
	met, err := model.ReadMetrics(filepath.Join(dir, model.MetricsFile))
	if err != nil {
		return met, nil, 0, err
	}
	h, err := model.ReadHistory(filepath.Join(dir, model.HistoryFile))
	if err != nil {
		return met, nil, 0, err
	}
	var secs float64
	for _, v := range h.Seconds {
		secs += v / float64(len(h.Seconds))
	}
	return met, h, secs, nil
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
