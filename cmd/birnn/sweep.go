package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/study"
)

func init() { rootCmd.AddCommand(newSweepCmd()) }

func newSweepCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep FILE [--out runs/sweep] [--set key=value] [--force]",
		Short: "Train a grid or a list of runs that differ in some config keys, and report them",
		Long: "FILE is a sweep: a base run configuration, keys fixed for every run, and a grid (every\n" +
			"combination) or a list of runs over any config keys:\n\n" +
			"  name: optimizers\n  base: deep_bilstm\n  set: {train.epochs: 2}\n  grid:\n" +
			"    - {key: train.optimizer.name, values: [adam, rmsprop, sgd]}\n" +
			"    - {key: 'model.layers[*].recurrent_dropout', values: [0, 0.2]}\n  runs:\n" +
			"    - {train.optimizer.name: adamw, train.optimizer.weight_decay: 0.01}\n\n" +
			"model.layers[i].KEY sets layer i, model.layers[*].KEY every recurrent layer. Each run\n" +
			"trains in OUT/<run>/ (config.yaml, checkpoint, history, metrics.json of the test split,\n" +
			"curves.png); finished runs are skipped, interrupted ones resume from their checkpoint.\n" +
			"OUT/report.md ranks the runs by validation accuracy, with test accuracy, and\n" +
			"OUT/compare_val.png and compare_train.png compare their curves. --set fixes more keys for\n" +
			"every run (a reduced sweep: --set train.epochs=1 --set data.limit=5000); --data sets data.dir.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := study.LoadSweep(args[0])
			if err != nil {
				return usageErr(err)
			}
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				out = filepath.Join("runs", strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0])))
			}
			return runSweep(cmd, s, out)
		},
	}
	cmd.Flags().String("out", "", "output folder (default runs/<sweep file name>)")
	addSweepFlags(cmd)
	return cmd
}

// addSweepFlags adds the flags sweep and reproduce --exercises share.
func addSweepFlags(cmd *cobra.Command) {
	cmd.Flags().StringArray("set", nil, "fix a config key for every run, e.g. --set train.epochs=1 (repeatable)")
	if cmd.Flags().Lookup("force") == nil {
		cmd.Flags().Bool("force", false, "redo runs that are already done")
	}
}

// sweepSets parses --set key=value pairs, each value a YAML scalar, and
// the --epochs and --limit of reproduce.
func sweepSets(cmd *cobra.Command) (map[string]any, error) {
	pairs, _ := cmd.Flags().GetStringArray("set")
	for flag, key := range map[string]string{"epochs": "train.epochs", "limit": "data.limit"} {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			pairs = append(pairs, key+"="+f.Value.String())
		}
	}
	out := map[string]any{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--set %q: want key=value", p)
		}
		var val any
		if err := yaml.Unmarshal([]byte(v), &val); err != nil {
			return nil, usagef("--set %s: %v", k, err)
		}
		out[k] = val
	}
	return out, nil
}

func runSweep(cmd *cobra.Command, s *study.Sweep, out string) error {
	set, err := sweepSets(cmd)
	if err != nil {
		return err
	}
	// --data (or BIRNN_DATA_DIR) sets every run's data.dir; without them
	// the configurations' own data.dir stands.
	if d := dataDir(cmd); d != configs.Defaults().Data.Dir {
		set["data.dir"] = d
	}
	force, _ := cmd.Flags().GetBool("force")
	err = study.RunSweep(cmd.Context(), s, study.SweepOptions{
		Out: out, Set: set, Force: force, Config: configs.Load,
		Progress: cmd.ErrOrStderr(), Live: isTerminal(cmd.ErrOrStderr()),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(out, study.SweepReportFile))
	return nil
}
