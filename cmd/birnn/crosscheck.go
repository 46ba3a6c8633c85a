package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/crosscheck"
)

func newCrosscheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "crosscheck [--keras DIR] [--runs DIR] [--only a,b] [--markdown]",
		Short: "Compare the study runs trained by birnn with the same runs trained in Keras",
		Long: long(`
			For each of the study's five runs (the first five of birnn config list), print Keras's test
			accuracy (KERAS/<run>/metrics.json) beside birnn's (RUNS/<run>/metrics.json), the share of
			the 25,000 test reviews both models label alike (Keras's test_labels.txt against birnn's
			model.onnx, or its checkpoint, run on the test split read from --data), and the largest
			difference between birnn's engine and Keras on the Keras export's predictions.json.
			Runs missing on either side are listed as missing; a malformed file is an error.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			keras, _ := cmd.Flags().GetString("keras")
			runs, _ := cmd.Flags().GetString("runs")
			md, _ := cmd.Flags().GetBool("markdown")
			only, _ := cmd.Flags().GetString("only")
			batch, _ := cmd.Flags().GetInt("batch")
			if batch < 0 {
				return usagef("--batch %d: want ≥ 0", batch)
			}
			names, err := studyRuns("only", only)
			if err != nil {
				return err
			}
			rep, err := crosscheck.Run(cmd.Context(), crosscheck.Options{
				Keras: keras, Runs: runs, Data: dataDir(cmd), Names: names,
				BatchSize: batch, Progress: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			if md {
				_, err = fmt.Fprint(cmd.OutOrStdout(), rep.Markdown())
				return err
			}
			return rep.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().String("keras", "testdata/keras", "folder of Keras exports, one sub-folder per run")
	cmd.Flags().String("runs", "runs", "folder of birnn runs, one sub-folder per run")
	require(cmd, "keras", "DIR")
	require(cmd, "runs", "DIR")
	cmd.Flags().String("only", "", "comma-separated subset of the study runs (default: all five)")
	cmd.Flags().Bool("markdown", false, "print a markdown table (as appended to runs/report.md)")
	cmd.Flags().Int("batch", 0, "reviews per inference run (0: the default)")
	return cmd
}

// studyRuns parses a comma-separated subset of the study's runs given to
// --flag; nil for "".
func studyRuns(flag, list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var names []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(configs.Runs(), n) {
			return nil, usagef("--%s: unknown run %q (want some of %s)", flag, n, strings.Join(configs.Runs(), ","))
		}
		names = append(names, n)
	}
	return names, nil
}
