package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import --model MODEL.onnx --out FILE.ckpt [--name NAME]",
		Short: "Read an ONNX model (birnn's or a Keras/tf2onnx export) into a checkpoint",
		Long: long(`
			Import an ONNX sentiment model as a trainable birnn checkpoint: the embedding Gather,
			the LSTM nodes (forward or bidirectional) and the Dense layers are found by walking the
			graph; the configuration is the model's birnn.config metadata, or is built from the
			weights and the merge pattern over the study's defaults. A graph that does not map
			(a GRU, a Loop, peepholes, …) is refused with an error naming the node.

			The checkpoint starts at epoch 0 with fresh optimizer state and keeps the model's test
			metrics and word-index hash, so birnn export writes them back.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, _ := cmd.Flags().GetString("model")
			out, _ := cmd.Flags().GetString("out")
			mp, err := onnx.ReadModel(in)
			if err != nil {
				return err
			}
			m, err := onnximport.Import(mp)
			if err != nil {
				return err
			}
			if name, _ := cmd.Flags().GetString("name"); name != "" {
				m.Config.Name = name
			}
			opts, err := export.OptionsOf(mp)
			if err != nil {
				return err
			}
			ck := &model.Checkpoint{Model: m, State: map[string]string{}}
			if len(opts.TestMetrics) > 0 {
				b, err := json.Marshal(opts.TestMetrics)
				if err != nil {
					return err
				}
				ck.State[model.StateTestMetrics] = string(b)
			}
			if opts.WordIndexSHA256 != "" {
				ck.State[model.StateWordIndexSHA256] = opts.WordIndexSHA256
			}
			if opts.Vocabulary != "" {
				ck.State[model.StateVocabulary] = opts.Vocabulary
			}
			if opts.Labels != "" {
				ck.State[model.StateLabels] = opts.Labels
			}
			if err := model.SaveCheckpoint(out, ck); err != nil {
				return err
			}
			if err := model.WriteSummary(cmd.OutOrStdout(), m); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().String("model", "", "ONNX file to read")
	cmd.Flags().String("out", "", "checkpoint file to write")
	require(cmd, "model", "MODEL.onnx")
	require(cmd, "out", "FILE.ckpt")
	cmd.Flags().String("name", "", "run name for the imported config (default: the model's own, else \"imported\")")
	return cmd
}
