package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
)

func init() {
	rootCmd.AddCommand(newConfigCmd())
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show run configurations",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	show := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a resolved configuration (defaults < file < BIRNN_* env < flags)",
		Long: "Print the configuration a run would use, with every default filled in.\n\n" +
			"NAME is one of the study's runs (" + strings.Join(configs.Runs(), ", ") + ") or a YAML file.\n" +
			"Any scalar key can be overridden by the environment (train.epochs → BIRNN_TRAIN_EPOCHS,\n" +
			"data.dir → BIRNN_DATA_DIR or BIRNN_DATA) or by --set key=value; flags win over the\n" +
			"environment, which wins over the file. An unknown key or a value of the wrong type is\n" +
			"an error naming the key (and its line in the file).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadRunConfig(cmd, args[0])
			if err != nil {
				return err
			}
			b, err := c.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	addConfigFlags(show)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the embedded study runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, r := range configs.Names() {
				c, err := configs.Load(r)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-28s %s\n", r, c.Description)
			}
			return nil
		},
	}
	cmd.AddCommand(show, list)
	return cmd
}

// addConfigFlags adds --set, the generic override of any config key; commands
// that take a config call it and then loadRunConfig.
func addConfigFlags(cmd *cobra.Command) {
	cmd.Flags().StringArray("set", nil, "override a config key, e.g. --set train.epochs=2 (repeatable)")
}
