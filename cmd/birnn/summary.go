package main

import (
	"github.com/spf13/cobra"

	"github.com/birnn/birnn/model"
)

func newSummaryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "summary [--config NAME|FILE | --checkpoint FILE]",
		Short: "Print a model's layers, output shapes and parameter counts (Keras model.summary)",
		Long: long(`
			Print the Keras-style summary table of a run's architecture.

			--config is one of the embedded runs (birnn config list) or a YAML file (it may also
			be given as the only argument); --checkpoint reads the architecture stored in a
			checkpoint instead.`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("config")
			ckpt, _ := cmd.Flags().GetString("checkpoint")
			if len(args) == 1 {
				if name != "" {
					return usagef("give the config either as an argument or with --config, not both")
				}
				name = args[0]
			}
			var m *model.Model
			switch {
			case name != "" && ckpt != "":
				return usagef("--config and --checkpoint exclude each other")
			case ckpt != "":
				c, err := model.LoadCheckpoint(ckpt)
				if err != nil {
					return err
				}
				m = c.Model
			case name != "":
				c, err := loadRunConfig(cmd, name)
				if err != nil {
					return err
				}
				// The table needs the architecture only, not initialised weights.
				m = &model.Model{Config: c}
			default:
				return usagef("summary needs --config NAME|FILE or --checkpoint FILE")
			}
			return model.WriteSummary(cmd.OutOrStdout(), m)
		},
	}
	cmd.Flags().String("config", "", "run name or YAML file")
	cmd.Flags().String("checkpoint", "", "checkpoint file to read the architecture from")
	addConfigFlags(cmd)
	return cmd
}
