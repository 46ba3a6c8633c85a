package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/train"
)

func newTrainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train --config NAME|FILE [--out runs/NAME] [--resume] [--epochs N] [--limit N]",
		Short: "Train a model natively in Go",
		Long: long(`
			Train a run on its data.source (IMDB, or a TSV/CSV/JSONL file or class folders per
			split): the study's validation split (or data.validation), per-epoch shuffles, Keras
			optimizers. After every epoch OUT/history.json and OUT/checkpoint.ckpt are written;
			--resume continues from the checkpoint and ends with the same weights as an
			uninterrupted run. Ctrl-C stops at the next batch and saves the position inside the
			epoch. At the end the test split is evaluated into OUT/metrics.json.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("config")
			cfg, err := loadRunConfig(cmd, name)
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				out = filepath.Join("runs", cfg.Name)
			}
			resume, _ := cmd.Flags().GetBool("resume")
			res, err := train.Run(cmd.Context(), cfg, train.RunOptions{
				OutDir: out, Resume: resume,
				Epochs: cfg.Train.Epochs, Progress: cmd.ErrOrStderr(), Live: isTerminal(cmd.ErrOrStderr()),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "test loss %.4f, accuracy %.4f (%d reviews); run in %s\n",
				res.Test.Loss, res.Test.Accuracy, res.Test.N, out)
			return nil
		},
	}
	cmd.Flags().String("config", "", "run name ("+fmt.Sprint(configs.Runs())+") or YAML file")
	require(cmd, "config", "NAME|FILE (one of "+fmt.Sprint(configs.Runs())+" or a YAML file)")
	cmd.Flags().String("out", "", "run folder (default runs/NAME)")
	cmd.Flags().Bool("resume", false, "continue from the run folder's checkpoint")
	addRunFlags(cmd)
	addConfigFlags(cmd)
	return cmd
}

// addRunFlags adds the flags shared by train and reproduce; they set the
// run configuration's train.epochs and data.limit.
func addRunFlags(cmd *cobra.Command) {
	cmd.Flags().Int("epochs", 0, "epochs (default: the config's train.epochs)")
	cmd.Flags().Int("limit", 0, "use only the first N train and N test reviews (smoke runs; data.limit)")
	setKey(cmd, "epochs", "train.epochs")
	setKey(cmd, "limit", "data.limit")
}
