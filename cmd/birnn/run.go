package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/onnx"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run --model MODEL.onnx --input NAME=FILE.pb ... --out DIR",
		Short: "Run an ONNX model on serialized TensorProto inputs",
		Long: long(`
			Run any ONNX model the engine supports. Each --input is NAME=FILE.pb, a serialized
			onnx.TensorProto for the graph input NAME (or just FILE.pb: inputs without a name
			fill the model's inputs in order). Each output is written to DIR/<output name>.pb,
			with '/', '\' and ':' in the name replaced by '_'.`),
		RunE: func(cmd *cobra.Command, args []string) error {
			model, _ := cmd.Flags().GetString("model")
			specs, _ := cmd.Flags().GetStringArray("input")
			out, _ := cmd.Flags().GetString("out")
			s, err := infer.Load(model)
			if err != nil {
				return err
			}
			feed, err := readInputs(s, specs)
			if err != nil {
				return err
			}
			res, err := s.Run(cmd.Context(), feed)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for _, o := range s.Outputs() {
				tp, err := infer.ToProto(o.Name, res[o.Name])
				if err != nil {
					return err
				}
				path := filepath.Join(out, outputFileName(o.Name))
				if err := onnx.WriteTensor(path, tp); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s → %s\n", o.Name, res[o.Name], path)
			}
			return nil
		},
	}
	cmd.Flags().String("model", "", "ONNX model file")
	cmd.Flags().StringArray("input", nil, "NAME=FILE.pb (repeatable)")
	cmd.Flags().String("out", "", "folder for the outputs (created if missing)")
	require(cmd, "model", "MODEL.onnx")
	require(cmd, "out", "DIR")
	return cmd
}

func outputFileName(name string) string {
	return strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(name) + ".pb"
}

// readInputs maps --input specs to the session's inputs.
func readInputs(s *infer.Session, specs []string) (map[string]*infer.Tensor, error) {
	infos := s.Inputs()
	feed := map[string]*infer.Tensor{}
	next := 0
	for _, spec := range specs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok {
			file = name
			for next < len(infos) && feed[infos[next].Name] != nil {
				next++
			}
			if next >= len(infos) {
				return nil, usagef("--input %s: the model has only %d inputs", spec, len(infos))
			}
			name = infos[next].Name
		}
		if name == "" || file == "" {
			return nil, usagef("--input %q: want NAME=FILE.pb", spec)
		}
		if feed[name] != nil {
			return nil, usagef("--input %s given twice", name)
		}
		t, err := readTensor(name, file)
		if err != nil {
			return nil, err
		}
		feed[name] = t
	}
	return feed, nil
}

// readTensor reads the TensorProto file of the value name as an engine
// tensor; an element type the engine lacks is an error naming the value.
func readTensor(name, file string) (*infer.Tensor, error) {
	tp, err := onnx.ReadTensor(file)
	if err != nil {
		return nil, err
	}
	t, err := infer.FromProto(tp)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", name, err)
	}
	return t, nil
}
