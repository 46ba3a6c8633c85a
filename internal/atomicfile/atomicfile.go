// Package atomicfile writes files so that a reader — or a crash — sees
// either the old file or the whole new one: the data goes to a temporary
// file in the same folder, is fsynced, made 0644 and renamed over the
// destination, and the folder is fsynced. Models, checkpoints, histories,
// metrics, reports, plots and the dataset files copied by `birnn data fetch
// --from` are all written through it.
//
// What it does not do: lock (two writers race; the last rename wins) or
// keep the old file's mode (new files are 0644).
package atomicfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// Write creates path with what write writes. On any error the temporary
// file is removed and path is left as it was.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; these files are meant to be shared,
	// like any file written with os.WriteFile.
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: not every file system syncs folders
		d.Close()
	}
	return nil
}

// WriteFile creates path holding b.
func WriteFile(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(b))
		return err
	})
}
