package main

import (
	"fmt"
	"os"
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
	}
	show := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a resolved configuration (defaults < file < BIRNN_* env < flags)",
		Long: "Print the configuration a run would use, with every default filled in.\n\n" +
			"NAME is one of the study's runs (" + strings.Join(configs.Runs(), ", ") + ") or a YAML file.\n" +
			"Any scalar key can be overridden by the environment (train.epochs → BIRNN_TRAIN_EPOCHS)\n" +
			"or by --set key=value; flags win over the environment.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd, args[0])
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
			for _, r := range configs.Runs() {
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
// that take a config call it and then loadConfig.
func addConfigFlags(cmd *cobra.Command) {
	cmd.Flags().StringArray("set", nil, "override a config key, e.g. --set train.epochs=2 (repeatable)")
}

// loadConfig resolves a run: embedded defaults < NAME|FILE < BIRNN_* env <
// --data and --set flags; the result is validated.
func loadConfig(cmd *cobra.Command, nameOrFile string) (*configs.Config, error) {
	c, err := configs.Load(nameOrFile)
	if err != nil {
		return nil, err
	}
	if err := c.ApplyEnv(os.Environ()); err != nil {
		return nil, err
	}
	if f := cmd.Flags().Lookup("data"); f != nil && f.Changed {
		c.Data.Dir = f.Value.String()
	}
	if f := cmd.Flags().Lookup("set"); f != nil {
		sets, err := cmd.Flags().GetStringArray("set")
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			k, v, ok := strings.Cut(s, "=")
			if !ok {
				return nil, usagef("--set %q: want key=value", s)
			}
			if err := c.Set(strings.TrimSpace(k), v); err != nil {
				return nil, err
			}
		}
	}
	if err := c.Resolve(); err != nil {
		return nil, err
	}
	return c, nil
}
