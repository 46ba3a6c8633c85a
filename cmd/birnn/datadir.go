package main

import (
	"os"

	"github.com/spf13/cobra"
)

// dataDir resolves the data folder: the --data flag, then $BIRNN_DATA, then
// the config's data.dir, then ./data.
func dataDir(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("data"); f != nil && f.Changed {
		return f.Value.String()
	}
	if d := os.Getenv("BIRNN_DATA"); d != "" {
		return d
	}
	return "data"
}
