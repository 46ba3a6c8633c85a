package serve

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestRepositoryPolling: a version written into the folder is loaded,
// warmed up and made the default by the next poll, not before.
func TestRepositoryPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		write := func(v string) {
			if err := os.MkdirAll(filepath.Join(dir, "m", v), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "m", v, "model.onnx"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("1")
		var opened []string
		cfg := DefaultConfig()
		cfg.RepositoryPoll = 30 * time.Second
		s, err := NewRepository(cfg, dir, func(path string) Loader {
			return func(context.Context) (Model, error) {
				opened = append(opened, filepath.Base(filepath.Dir(path)))
				return &fakeModel{name: "ignored", sha: "s" + filepath.Base(filepath.Dir(path))}, nil
			}
		}, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Drain)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		version := func() string {
			res, e := s.resolve("m", "")
			if e != nil {
				t.Fatal(e)
			}
			return res.version
		}
		if v := version(); v != "1" {
			t.Fatalf("version %s at start", v)
		}
		write("2")
		time.Sleep(29 * time.Second)
		synctest.Wait()
		if v := version(); v != "1" {
			t.Errorf("version %s before the poll", v)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if v := version(); v != "2" {
			t.Errorf("version %s after the poll, want 2", v)
		}
		if res, _ := s.resolve("m", ""); res.l.info.Name != "m" || res.l.info.Version != "2" {
			t.Errorf("model info names %s version %s, want the folders' m and 2", res.l.info.Name, res.l.info.Version)
		}
		if len(opened) != 2 {
			t.Errorf("files opened %v, want each version once", opened)
		}
	})
}
