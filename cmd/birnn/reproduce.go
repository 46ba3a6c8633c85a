package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/crosscheck"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/atomicfile"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/plot"
	"github.com/birnn/birnn/train"
)

func init() { rootCmd.AddCommand(newReproduceCmd()) }

// studyResult is a run's outcome in the study (DESIGN.md §1; seconds per
// epoch from the notebook's logs, "" where the logs are cut).
type studyResult struct {
	Accuracy, Loss float64
	Seconds        string
}

var study = map[string]studyResult{
	"deep_lstm":                   {0.8348, 0.3869, "39"},
	"bilstm":                      {0.8414, 0.3747, "34"},
	"deep_bilstm":                 {0.8279, 0.3867, "85"},
	"deep_bilstm_rmsprop_dropout": {0.8500, 0.3590, ""},
	"deep_bilstm_adam_dropout":    {0.8361, 0.4126, "126"},
}

// compared are the three deep-BiLSTM runs of the study's comparison figure.
var compared = []string{"deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"}

func newReproduceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reproduce [--runs a,b] [--out runs] [--epochs N] [--limit N] [--force]",
		Short: "Run the study's five trainings and write a report beside its results",
		Long: "Train the study's runs (" + strings.Join(configs.Runs(), ", ") + ") on the full IMDB data.\n" +
			"Each run writes OUT/<run>/{checkpoint.ckpt, history.json, metrics.json, curves.png,\n" +
			"model.onnx}; then OUT/report.md compares test loss, accuracy and seconds per epoch with\n" +
			"the study's, gives the test accuracy of each ONNX export computed by birnn's engine, shows\n" +
			"OUT/compare.png (the three deep-BiLSTM runs) and ends with the cross-check against the\n" +
			"Keras exports in --keras (birnn crosscheck). Runs whose metrics.json exists are skipped\n" +
			"unless --force; an interrupted run resumes from its last checkpoint.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			runs := configs.Runs()
			if s, _ := cmd.Flags().GetString("runs"); s != "" {
				runs = nil
				for _, r := range strings.Split(s, ",") {
					r = strings.TrimSpace(r)
					if _, ok := study[r]; !ok {
						return usagef("--runs: unknown run %q (want some of %s)", r, strings.Join(configs.Runs(), ","))
					}
					runs = append(runs, r)
				}
			}
			out, _ := cmd.Flags().GetString("out")
			force, _ := cmd.Flags().GetBool("force")
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for _, name := range runs {
				cfg, err := configs.Load(name)
				if err != nil {
					return err
				}
				if err := applyRunFlags(cmd, cfg); err != nil {
					return err
				}
				dir := filepath.Join(out, name)
				if _, err := os.Stat(filepath.Join(dir, model.MetricsFile)); err == nil && !force {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: done already (%s); --force to redo\n", name, dir)
					continue
				}
				if force {
					os.Remove(filepath.Join(dir, model.CheckpointFile))
					os.Remove(filepath.Join(dir, model.HistoryFile))
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "== %s: %s\n", name, cfg.Description)
				res, err := train.Run(cmd.Context(), cfg, train.RunOptions{
					Data: dataset.IMDB{Dir: runDataDir(cmd, cfg)}, OutDir: dir, Resume: true,
					Progress: cmd.ErrOrStderr(), Live: isTerminal(cmd),
				})
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if err := plot.Curves(res.History, name, filepath.Join(dir, "curves.png")); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: test loss %.4f, accuracy %.4f\n", name, res.Test.Loss, res.Test.Accuracy)
			}
			for _, name := range runs {
				if err := exportRun(cmd, filepath.Join(out, name), force); err != nil {
					return fmt.Errorf("%s: export: %w", name, err)
				}
			}
			keras, _ := cmd.Flags().GetString("keras")
			cfg, err := configs.Load(configs.Runs()[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "== cross-check: the ONNX exports on the test split, against %s\n", keras)
			cc, err := crosscheck.Run(cmd.Context(), crosscheck.Options{
				Keras: keras, Runs: out, Data: runDataDir(cmd, cfg), Progress: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			return writeReport(out, cc)
		},
	}
	cmd.Flags().String("keras", "testdata/keras", "folder of the Keras exports to cross-check against")
	cmd.Flags().String("runs", "", "comma-separated subset of the runs (default: all five)")
	cmd.Flags().String("out", "runs", "output folder")
	cmd.Flags().Bool("force", false, "redo runs that are already done")
	addRunFlags(cmd)
	return cmd
}

// exportRun writes dir/model.onnx from dir's checkpoint, unless it is there
// already and force is off.
func exportRun(cmd *cobra.Command, dir string, force bool) error {
	dst := filepath.Join(dir, model.ModelFile)
	if _, err := os.Stat(dst); err == nil && !force {
		return nil
	}
	_, err := export.Checkpoint(filepath.Join(dir, model.CheckpointFile), dst, export.CheckpointOptions{
		Options: export.Options{Version: version}, DefaultWordIndex: dataset.WordIndexIn(dataDir(cmd)),
	})
	if err == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", dst)
	}
	return err
}

// writeReport writes out/report.md from whatever runs out holds, and the
// comparison figure when the three deep-BiLSTM runs are there. cc, when
// not nil, adds each ONNX export's test accuracy computed by the engine and
// ends the report with the cross-check against Keras.
func writeReport(out string, cc *crosscheck.Report) error {
	onnxAcc := map[string]float64{}
	if cc != nil {
		for _, r := range cc.Rows {
			onnxAcc[r.Name] = r.GoLabelAccuracy
		}
	}
	var b strings.Builder
	b.WriteString("# birnn reproduction of the Keras deep/bidirectional LSTM study\n\n")
	b.WriteString("Test split of IMDB (25,000 reviews), 4 epochs unless stated. Study values from its notebook.\n\n")
	b.WriteString("| run | epochs | test acc (birnn) | test acc (study) | Δ acc | test loss (birnn) | test loss (study) | s/epoch (birnn) | s/epoch (study) | test acc (model.onnx, infer) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	var series []plot.Series
	for _, name := range configs.Runs() {
		s := study[name]
		dir := filepath.Join(out, name)
		met, err := model.ReadMetrics(filepath.Join(dir, model.MetricsFile))
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&b, "| %s | – | not run | %.4f | | | %.4f | | %s |\n", name, s.Accuracy, s.Loss, dash(s.Seconds))
			continue
		}
		if err != nil {
			return err
		}
		h, err := model.ReadHistory(filepath.Join(dir, model.HistoryFile))
		if err != nil {
			return err
		}
		var secs float64
		for _, v := range h.Seconds {
			secs += v
		}
		if len(h.Seconds) > 0 {
			secs /= float64(len(h.Seconds))
		}
		inferAcc := "–"
		if v, ok := onnxAcc[name]; ok && !math.IsNaN(v) {
			inferAcc = fmt.Sprintf("%.4f", v)
		}
		fmt.Fprintf(&b, "| %s | %d | %.4f | %.4f | %+.2f pt | %.4f | %.4f | %.0f | %s | %s |\n",
			name, h.Epochs(), met.Accuracy, s.Accuracy, 100*(met.Accuracy-s.Accuracy), met.Loss, s.Loss, secs, dash(s.Seconds), inferAcc)
		for _, c := range compared {
			if c == name {
				series = append(series, plot.Series{Label: name, History: h})
			}
		}
	}
	b.WriteString("\nSeconds per epoch are wall-clock, validation included, on the machine that ran them " +
		"(on a shared machine they overstate the cost; `go test ./train -bench TrainStep` reports CPU seconds too).\n")
	b.WriteString("Per-run curves: `<run>/curves.png`. Per-epoch histories: `<run>/history.json`.\n")
	if len(series) == len(compared) {
		if err := plot.Compare(series, plot.MetricValidation, filepath.Join(out, "compare.png")); err != nil {
			return err
		}
		b.WriteString("\n## The three deep-BiLSTM runs (validation)\n\n![comparison of the deep-BiLSTM runs](compare.png)\n")
	}
	if cc != nil {
		b.WriteString("\n" + cc.Markdown())
	}
	// Atomic: several reproduce processes may share an output folder.
	return atomicfile.WriteFile(filepath.Join(out, "report.md"), []byte(b.String()))
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
