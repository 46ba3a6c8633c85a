package main

import (
	"fmt"

	"github.com/birnn/birnn/quantize"
	"github.com/spf13/cobra"
)

func newQuantizeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quantize IN.onnx OUT.onnx [--per-tensor] [--reduce-range]",
		Short: "Write an int8 (dynamically quantized) copy of an ONNX model",
		Long: long(`
			Quantize the recurrent weights of a float32 ONNX model to int8 as ONNX Runtime's
			quantize_dynamic does: every LSTM with constant weights becomes a com.microsoft
			DynamicQuantizeLSTM with symmetric int8 weights and a scale per output column
			(--per-tensor: one per direction). The result runs in birnn and in ONNX Runtime.
			--reduce-range keeps weights to 7 bits, which ONNX Runtime needs for accurate results
			on x86 CPUs without VNNI; birnn does not.`),
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			perTensor, _ := cmd.Flags().GetBool("per-tensor")
			reduce, _ := cmd.Flags().GetBool("reduce-range")
			rep, err := quantize.File(args[0], args[1], quantize.Options{PerTensor: perTensor, ReduceRange: reduce})
			for _, s := range rep.Skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "left float32: %s\n", s)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d LSTM node(s) quantized, recurrent weights %d → %d bytes\n",
				args[1], len(rep.Quantized), rep.WeightBytesBefore, rep.WeightBytesAfter)
			return nil
		},
	}
	cmd.Flags().Bool("per-tensor", false, "one scale per weight tensor and direction instead of per output column")
	cmd.Flags().Bool("reduce-range", false, "7-bit weights (for ONNX Runtime on x86 CPUs without VNNI)")
	return cmd
}
