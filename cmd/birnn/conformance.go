package main

import (
	"context"
	"fmt"
	"io"

	"github.com/birnn/birnn/infer/conformance"
	"github.com/spf13/cobra"
)

func newConformanceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "conformance DIR...",
		Short: "Run ONNX backend node tests against the inference engine",
		Long: long(`
			Run ONNX backend node tests (a folder with model.onnx and test_data_set_*/, or a
			folder of such folders) and print one line per test: PASS, FAIL with the reason,
			or UNSUPPORTED with the operator or type the engine lacks (or refuses: training-mode
			ops); then a count. The exit
			status is non-zero when a test failed.`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConformance(cmd.Context(), cmd.OutOrStdout(), args)
		},
	}
}

func runConformance(ctx context.Context, w io.Writer, dirs []string) error {
	sum, err := conformance.RunAll(ctx, dirs, func(r conformance.Result) {
		if r.Status == conformance.Passed {
			fmt.Fprintf(w, "PASS %s\n", r.Name)
			return
		}
		fmt.Fprintf(w, "%s %s: %s\n", r.Status, r.Name, r.Reason)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, sum)
	if sum.Failed > 0 {
		return fmt.Errorf("%d conformance tests failed", sum.Failed)
	}
	return nil
}
