package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/plot"
)

func newPlotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plot (--history FILE | --compare FILE,FILE,…)",
		Short: "Draw accuracy and loss per epoch from history.json files (PNG)",
		Long: long(`
			Draw the study's figures from training histories.

			  birnn plot --history runs/x/history.json [--out curves.png] [--title …]
			      accuracy (top) and loss (bottom) per epoch, train and validation, of one run;
			      --out defaults to curves.png beside the history, --title to the run's folder name.
			  birnn plot --compare a/history.json,b/history.json --labels "Adam simple,RMSProp dropout 0.2" --out cmp.png
			      one line per run: validation accuracy and loss (--metric train for the training ones);
			      labels default to the runs' folder names.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			hist, _ := cmd.Flags().GetString("history")
			cmpList, _ := cmd.Flags().GetStringSlice("compare")
			labels, _ := cmd.Flags().GetStringSlice("labels")
			out, _ := cmd.Flags().GetString("out")
			title, _ := cmd.Flags().GetString("title")
			metric, _ := cmd.Flags().GetString("metric")
			switch {
			case hist != "" && len(cmpList) > 0:
				return usagef("--history and --compare exclude each other")
			case hist != "":
				if len(labels) > 0 || cmd.Flags().Changed("metric") {
					return usagef("--labels and --metric go with --compare")
				}
				h, err := model.ReadHistory(hist)
				if err != nil {
					return err
				}
				if out == "" {
					out = filepath.Join(filepath.Dir(hist), "curves.png")
				}
				if !cmd.Flags().Changed("title") {
					title = runName(hist)
				}
				if err := plot.Curves(h, title, out); err != nil {
					return err
				}
			case len(cmpList) > 0:
				if len(labels) > 0 && len(labels) != len(cmpList) {
					return usagef("%d labels for %d histories", len(labels), len(cmpList))
				}
				if cmd.Flags().Changed("title") {
					return usagef("--title goes with --history (a comparison's panels are titled by --metric)")
				}
				runs := make([]plot.Series, len(cmpList))
				for i, path := range cmpList {
					h, err := model.ReadHistory(path)
					if err != nil {
						return err
					}
					runs[i] = plot.Series{Label: runName(path), History: h}
					if len(labels) > 0 {
						runs[i].Label = strings.TrimSpace(labels[i])
					}
				}
				if out == "" {
					out = "compare.png"
				}
				if err := plot.Compare(runs, metric, out); err != nil {
					return err
				}
			default:
				return usagef("plot needs --history FILE or --compare FILE,FILE,…")
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("history", "", "history.json of one run")
	f.StringSlice("compare", nil, "history.json files of the runs to compare, comma-separated")
	f.StringSlice("labels", nil, "legend labels for --compare, comma-separated, in the same order")
	f.String("out", "", "PNG to write (default: curves.png beside --history, compare.png for --compare)")
	f.String("title", "", "figure title for --history (default: the run's folder name)")
	f.String("metric", plot.MetricValidation, "what --compare draws: validation or train")
	return cmd
}

// runName names a run after the folder its history.json sits in
// (runs/deep_bilstm/history.json → deep_bilstm), or the file's base name.
func runName(path string) string {
	if filepath.Base(path) == "history.json" {
		if d := filepath.Base(filepath.Dir(path)); d != "." && d != string(filepath.Separator) {
			return d
		}
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}
