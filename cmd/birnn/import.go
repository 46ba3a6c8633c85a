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

func init() { rootCmd.AddCommand(newImportCmd()) }

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import --model MODEL.onnx --out FILE.ckpt [--name NAME]",
		Short: "Read an ONNX model (birnn's or a Keras/tf2onnx export) into a checkpoint",
		Long: "Import an ONNX sentiment model as a trainable birnn checkpoint: the embedding Gather,\n" +
			"the LSTM nodes (forward or bidirectional) and the Dense layers are found by walking the\n" +
			"graph; the configuration is the model's birnn.config metadata, or is built from the\n" +
			"weights and the merge pattern over the study's defaults. A graph that does not map\n" +
			"(a GRU, a Loop, peepholes, …) is refused with an error naming the node.\n\n" +
			"The checkpoint starts at epoch 0 with fresh optimizer state and keeps the model's test\n" +
			"metrics and word-index hash, so birnn export writes them back.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, _ := cmd.Flags().GetString("model")
			out, _ := cmd.Flags().GetString("out")
			if in == "" {
				return usagef("import needs --model MODEL.onnx")
			}
			if out == "" {
				return usagef("import needs --out FILE.ckpt")
			}
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
	cmd.Flags().String("name", "", "run name for the imported config (default: the model's own, else \"imported\")")
	return cmd
}
