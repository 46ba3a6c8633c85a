package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/study"
)

func newReproduceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reproduce [--runs a,b] [--out runs] [--epochs N] [--limit N] [--force]",
		Short: "Run the study's five trainings and write a report beside its results",
		Long: long(`
			Train the study's five runs (the first five of birnn config list) on the full IMDB data.
			Each run writes OUT/<run>/{checkpoint.ckpt, history.json, metrics.json, curves.png,
			model.onnx}; then OUT/report.md compares test loss, accuracy and seconds per epoch with
			the study's, gives the test accuracy of each ONNX export computed by birnn's engine, shows
			OUT/compare.png (the three deep-BiLSTM runs) and ends with the cross-check against the
			Keras exports in --keras (birnn crosscheck). Runs whose metrics.json exists are skipped
			unless --force; an interrupted run resumes from its last checkpoint.

			On a 2-core machine the five runs take about 15 minutes.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ex, _ := cmd.Flags().GetBool("exercises"); ex {
				out, _ := cmd.Flags().GetString("out")
				if !cmd.Flags().Changed("out") {
					out = filepath.Join("runs", "exercises")
				}
				return runSweep(cmd, study.Exercises(), out)
			}
			list, _ := cmd.Flags().GetString("runs")
			runs, err := studyRuns("runs", list)
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("out")
			force, _ := cmd.Flags().GetBool("force")
			keras, _ := cmd.Flags().GetString("keras")
			res, err := study.Reproduce(cmd.Context(), study.Options{
				Runs: runs, Out: out, DataDir: dataDir(cmd), Keras: keras, Force: force, Version: version,
				Config:   func(name string) (*configs.Config, error) { return loadRunConfig(cmd, name) },
				Progress: cmd.ErrOrStderr(), Live: isTerminal(cmd.ErrOrStderr()),
			})
			if err != nil {
				return err
			}
			for _, name := range res.Trained {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: test accuracy %.4f\n", name, res.Test[name])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out+"/"+study.ReportFile)
			return nil
		},
	}
	cmd.Flags().String("keras", "testdata/keras", "folder of the Keras exports to cross-check against")
	cmd.Flags().String("runs", "", "comma-separated subset of the runs (default: all five)")
	cmd.Flags().String("out", "runs", "output folder")
	cmd.Flags().Bool("force", false, "redo runs that are already done")
	cmd.Flags().Bool("exercises", false, "run the study's exercise instead: the deep BiLSTM with every other optimizer,\n"+
		"recurrent_dropout 0.1–0.5, every other recurrent_initializer and a few learning rates,\n"+
		"as a sweep into --out (default runs/exercises)")
	addRunFlags(cmd)
	addSweepFlags(cmd)
	return cmd
}
