package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
)

// dataDir resolves the data folder of commands that take no config: the
// --data flag, then $BIRNN_DATA, then ./data.
func dataDir(cmd *cobra.Command) string { return runDataDir(cmd, nil) }

// runDataDir resolves the data folder of a run: the --data flag, then
// $BIRNN_DATA, then the config's data.dir (when cfg is not nil), then ./data.
func runDataDir(cmd *cobra.Command, cfg *configs.Config) string {
	if f := cmd.Flags().Lookup("data"); f != nil && f.Changed {
		return f.Value.String()
	}
	if d := os.Getenv("BIRNN_DATA"); d != "" {
		return d
	}
	if cfg != nil && cfg.Data.Dir != "" {
		return cfg.Data.Dir
	}
	return "data"
}
