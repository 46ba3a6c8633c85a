package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/model"
)

func newExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export --checkpoint FILE --out MODEL.onnx [--opset 15] [--input-dtype int32|float32]",
		Short: "Write a checkpoint's model as an ONNX file",
		Long: long(`
			Export a checkpoint as ONNX with the structure tf2onnx gives the same Keras model:
			input_ids [batch, sequence] (int32, or float32 like Keras exports) → Gather → LSTM
			nodes → MatMul + Add → activation → probability [batch, units].

			The metadata records the data settings (num_words, maxlen, padding, …), the config,
			the test metrics (--metrics, else those carried by an imported checkpoint, else
			metrics.json beside the checkpoint) and the SHA-256 of the word index (--word-index,
			else the one recorded in the checkpoint, else imdb_word_index.json in the data folder).`),
		RunE: func(cmd *cobra.Command, args []string) error {
			ckPath, _ := cmd.Flags().GetString("checkpoint")
			out, _ := cmd.Flags().GetString("out")
			opset, _ := cmd.Flags().GetInt("opset")
			dtype, _ := cmd.Flags().GetString("input-dtype")
			metricsPath, _ := cmd.Flags().GetString("metrics")
			wordIndex, _ := cmd.Flags().GetString("word-index")
			switch {
			case opset < export.MinOpset || opset > export.MaxOpset:
				return usagef("--opset %d: want %d to %d", opset, export.MinOpset, export.MaxOpset)
			case dtype != "int32" && dtype != "float32":
				return usagef("--input-dtype %q: want int32 or float32", dtype)
			}
			ck, err := export.Checkpoint(ckPath, out, export.CheckpointOptions{
				Options:     export.Options{Opset: opset, InputDType: dtype, Version: version},
				MetricsFile: metricsPath, WordIndexFile: wordIndex,
				DefaultWordIndex: dataset.WordIndexIn(checkpointDataDir(cmd, ckPath)),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s, opset %d, %s input, %d parameters\n",
				out, ck.Model.Config.Name, opset, dtype, ck.Model.NumParams())
			return nil
		},
	}
	cmd.Flags().String("checkpoint", "", "checkpoint file (from birnn train or birnn import)")
	cmd.Flags().String("out", "", "ONNX file to write")
	require(cmd, "checkpoint", "FILE")
	require(cmd, "out", "MODEL.onnx")
	cmd.Flags().Int("opset", export.DefaultOpset, fmt.Sprintf("ai.onnx opset, %d to %d", export.MinOpset, export.MaxOpset))
	cmd.Flags().String("input-dtype", "int32", "input_ids element type: int32, or float32 as Keras exports take")
	cmd.Flags().String("metrics", "", "test metrics JSON to record (default: the checkpoint's, or metrics.json beside it)")
	cmd.Flags().String("word-index", "", "word index file whose SHA-256 to record (default: the checkpoint's, or the data folder's)")
	return cmd
}

// checkpointDataDir is the data folder of a command on a checkpoint: --data,
// else BIRNN_DATA_DIR (BIRNN_DATA), else the data.dir the model was trained
// with, else ./data. An unreadable checkpoint leaves it to the defaults;
// the command reports the checkpoint's error itself.
func checkpointDataDir(cmd *cobra.Command, ckPath string) string {
	ck, err := model.LoadCheckpoint(ckPath)
	if err != nil {
		return dataDir(cmd)
	}
	yml, err := ck.Model.Config.YAML()
	if err != nil {
		return dataDir(cmd)
	}
	v, _, err := runSettings(cmd, ckPath, yml)
	if err != nil {
		return dataDir(cmd)
	}
	return v.GetString("data.dir")
}
