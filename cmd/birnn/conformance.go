package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/infer"
)

func init() { rootCmd.AddCommand(newConformanceCmd()) }

func newConformanceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "conformance DIR...",
		Short: "Run ONNX backend node tests against the inference engine",
		Long: "Run ONNX backend node tests (a folder with model.onnx and test_data_set_*/, or a\n" +
			"folder of such folders) and print one line per test: PASS, FAIL with the reason,\n" +
			"or UNSUPPORTED with the operator or type the engine lacks; then a count. The exit\n" +
			"status is non-zero when a test failed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConformance(cmd.Context(), cmd.OutOrStdout(), args)
		},
	}
}

func runConformance(ctx context.Context, w io.Writer, dirs []string) error {
	var tests []string
	for _, d := range dirs {
		t, err := infer.NodeTests(d)
		if err != nil {
			return err
		}
		tests = append(tests, t...)
	}
	var passed, failed, unsupported int
	for _, dir := range tests {
		name := filepath.Base(dir)
		err := infer.RunNodeTestContext(ctx, dir)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *infer.UnsupportedOpError
		var te *infer.UnsupportedTypeError
		switch {
		case err == nil:
			passed++
			fmt.Fprintf(w, "PASS %s\n", name)
		case errors.As(err, &ue):
			unsupported++
			fmt.Fprintf(w, "UNSUPPORTED %s: op %s (opset %d)\n", name, ue.Op, ue.Opset)
		case errors.As(err, &te):
			unsupported++
			fmt.Fprintf(w, "UNSUPPORTED %s: type %s of %s\n", name, te.Type, te.Value)
		case errors.Is(err, infer.ErrUnsupported):
			unsupported++
			fmt.Fprintf(w, "UNSUPPORTED %s: %v\n", name, err)
		default:
			failed++
			fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d unsupported\n", passed, failed, unsupported)
	if failed > 0 {
		return fmt.Errorf("%d conformance tests failed", failed)
	}
	return nil
}
