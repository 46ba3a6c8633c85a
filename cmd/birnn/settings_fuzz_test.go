package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSettingsFile feeds arbitrary YAML as birnn serve's --config file:
// reading it never panics, and a refused file is a usage error.
func FuzzSettingsFile(f *testing.F) {
	for _, s := range []string{"max_batch: 3\nmax_wait: 4ms\naccess_log: false\n", "max_batchh: 3\n", "- 1\n",
		"model: [a, b]\n", "addr: {host: x}\n", "", "threshold: 0.7\nthreshold: 0.8\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "serve.yaml")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := newServeCmd()
		if _, err := readSettingsFile(cmd, p); err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not a usage error", err)
			}
		}
	})
}
