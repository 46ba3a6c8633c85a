package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/train"
)

func newEvaluateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evaluate --checkpoint FILE [--split test|train|val] [--out metrics.json]",
		Short: "Loss and accuracy of a checkpoint on an IMDB split",
		Long: long(`
			Evaluate a checkpoint on the test split (25,000 reviews), the training rows (the first
			70%: train) or the validation rows (the last 30%: val), with the data settings the model
			was trained with. Prints the loss and accuracy; --out writes them as JSON
			{"loss":…, "accuracy":…, "split":"test", "n":25000}.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := cmd.Flags().GetString("checkpoint")
			split, _ := cmd.Flags().GetString("split")
			out, _ := cmd.Flags().GetString("out")
			if split != "test" && split != "train" && split != "val" {
				return usagef("--split %q: want test, train or val", split)
			}
			ck, err := model.LoadCheckpoint(path)
			if err != nil {
				return err
			}
			// The data settings the model was trained with; the folder
			// and the row limit follow the usual order, the checkpoint's
			// configuration being the file.
			cfg := ck.Model.Config
			yml, err := cfg.YAML()
			if err != nil {
				return err
			}
			rc, err := runConfig(cmd, path, yml)
			if err != nil {
				return err
			}
			cfg.Data.Dir, cfg.Data.Limit = rc.Data.Dir, rc.Data.Limit
			src, err := train.SourceOf(cfg)
			if err != nil {
				return err
			}
			sp, err := train.LoadSplits(cmd.Context(), src, cfg)
			if err != nil {
				return err
			}
			trainD, d := sp.Train, sp.Test
			switch {
			case split == "val" && sp.Validation.Len() > 0:
				d = sp.Validation // the source's own validation split
			case split == "train" && sp.Validation.Len() > 0:
				d = trainD
			case split != "test":
				at := int(float64(trainD.Len()) * (1 - cfg.Train.ValidationSplit))
				if split == "train" {
					d = trainD.Slice(0, at)
				} else {
					d = trainD.Slice(at, trainD.Len())
				}
			}
			loss, acc, err := train.Evaluate(cmd.Context(), ck.Model, d, cfg.Train.BatchSize)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: loss %.4f, accuracy %.4f (%d reviews)\n", split, loss, acc, d.Len())
			if out != "" {
				return model.WriteMetrics(out, train.MetricsOf(cfg, split, d.Len(), loss, acc))
			}
			return nil
		},
	}
	cmd.Flags().String("checkpoint", "", "checkpoint file (from birnn train)")
	require(cmd, "checkpoint", "FILE")
	cmd.Flags().String("split", "test", "test, train or val")
	cmd.Flags().String("out", "", "write the metrics JSON here")
	cmd.Flags().Int("limit", 0, "use only the first N reviews of each split (data.limit)")
	setKey(cmd, "limit", "data.limit")
	return cmd
}
