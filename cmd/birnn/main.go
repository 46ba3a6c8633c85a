// Command birnn trains, exports and serves recurrent sentiment models
// through ONNX. Each subcommand lives in a file of its own, built by its
// new…Cmd function; the root command's init lists them (config and serve
// register themselves beside their settings); settings.go says how every
// command's flags, BIRNN_* variables and files combine.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// rootCmd is the birnn command; subcommands add themselves in init().
var rootCmd = &cobra.Command{
	Use:           "birnn",
	Short:         "Train, export and serve recurrent sentiment models through ONNX",
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
	PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
		if err := applySettings(cmd); err != nil {
			return err
		}
		return checkRequired(cmd)
	},
}

func init() {
	rootCmd.PersistentFlags().String("data", "data", "data folder: the IMDB archive (or aclImdb/) and imdb_word_index.json, or an imdb/ folder holding them (also BIRNN_DATA_DIR, BIRNN_DATA, a config's data.dir)")
	setKey(rootCmd, "data", "data.dir")
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	rootCmd.AddCommand(
		newConformanceCmd(),
		newCrosscheckCmd(),
		newDataCmd(),
		newEvaluateCmd(),
		newExportCmd(),
		newImportCmd(),
		newInspectCmd(),
		newPlotCmd(),
		newPredictCmd(),
		newQuantizeCmd(),
		newReproduceCmd(),
		newRunCmd(),
		newSummaryCmd(),
		newTrainCmd(),
	)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run executes birnn with args and returns the exit status: 0, 1 for a
// failure, 2 for a usage error (an unknown command or flag, a bad flag or
// setting value, a missing argument).
func run(ctx context.Context, args []string) int {
	markArgErrors(rootCmd)
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "birnn:", err)
	if isUsage(err) {
		return 2
	}
	return 1
}

// usageError marks an error in how the command was called (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error { return &usageError{err: err} }

func usagef(format string, args ...any) error { return usageErr(fmt.Errorf(format, args...)) }

func isUsage(err error) bool {
	var ue *usageError
	if errors.As(err, &ue) {
		return true
	}
	// cobra reports an unknown subcommand with a plain error.
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// markArgErrors makes every command's argument check a usage error; a
// runnable command that declares no check takes no arguments.
func markArgErrors(cmd *cobra.Command) {
	if cmd.Args == nil && cmd.RunE != nil && !cmd.HasSubCommands() {
		cmd.Args = cobra.NoArgs
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return err
				}
				return usageErr(err)
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		markArgErrors(c)
	}
}

// groupRun is the RunE of a command that only holds subcommands: help
// without arguments, a usage error naming an unknown subcommand otherwise
// (cobra would print the help and exit 0).
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// requiredAnnotation marks, on a flag, that its command cannot run without
// it; the value is how the usage error describes the flag's argument.
const requiredAnnotation = "birnn_required"

// require declares that cmd needs --flag; what describes its argument
// ("MODEL.onnx"). A missing one is a usage error, checked after the
// settings are applied, so a BIRNN_* variable or a settings file may give it.
func require(cmd *cobra.Command, flag, what string) {
	if err := cmd.Flags().SetAnnotation(flag, requiredAnnotation, []string{what}); err != nil {
		panic(err) // a programming error: the flag is not defined
	}
}

// checkRequired names, in one usage error, every required flag of cmd
// left empty: "run needs --model MODEL.onnx and --out DIR".
func checkRequired(cmd *cobra.Command) error {
	var missing []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if what, ok := f.Annotations[requiredAnnotation]; ok && f.Value.String() == "" {
			missing = append(missing, "--"+f.Name+" "+what[0])
		}
	})
	if len(missing) == 0 {
		return nil
	}
	return usagef("%s needs %s", cmd.Name(), strings.Join(missing, " and "))
}

// long is a command's Long help written as an indented raw string: the
// leading newline and the first line's indentation are removed from every
// line.
func long(s string) string {
	s = strings.TrimPrefix(s, "\n")
	indent := s[:len(s)-len(strings.TrimLeft(s, "\t"))]
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, indent)
	}
	return strings.Join(lines, "\n")
}
