package serve_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

func TestScanRepository(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("onnx")}
	fsys := fstest.MapFS{
		"README.md":                                file,
		"b/1/model.onnx":                           file,
		"b/10/model.onnx":                          file,
		"b/2/model.onnx":                           file,
		"b/2/config.pbtxt":                         file,
		"b/config.pbtxt":                           file,
		"a/3/model.onnx":                           file,
		"a/01/model.onnx":                          file,
		"a/0/model.onnx":                           file,
		"a/x/model.onnx":                           file,
		"a/4/weights.bin":                          file,
		"a/5/model.onnx/inner":                     file,
		"bad name/1/model.onnx":                    file,
		"empty/latest/model.onnx":                  file,
		"link/1/model.onnx":                        &fstest.MapFile{Data: []byte("../../b/1/model.onnx"), Mode: fs.ModeSymlink},
		"linkdir":                                  &fstest.MapFile{Data: []byte("b"), Mode: fs.ModeSymlink},
		"c.d-e_f/7/model.onnx":                     file,
		strings.Repeat("m", 129) + "/1/model.onnx": file,
	}
	entries, problems, err := serve.ScanRepository(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Path)
		if e.Path != e.Name+"/"+strconv.FormatInt(e.Version, 10)+"/model.onnx" || e.Size != 4 {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{"a/3/model.onnx", "b/1/model.onnx", "b/2/model.onnx", "b/10/model.onnx", "c.d-e_f/7/model.onnx"}
	if !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	for _, p := range []string{`a/"01": not a version`, `a/"0": not a version`, `a/"x": not a version`,
		"a/4/model.onnx: file does not exist", "a/5/model.onnx: not a regular file", `"bad name": not a model name`,
		"empty: no version folder", "link/1/model.onnx: a symbolic link", "linkdir: a symbolic link", `"mmmm`} {
		found := false
		for _, q := range problems {
			found = found || strings.Contains(q, p)
		}
		if !found {
			t.Errorf("no problem %q in %q", p, problems)
		}
	}
	if _, _, err := serve.ScanRepository(os.DirFS(filepath.Join(t.TempDir(), "missing"))); err == nil {
		t.Error("a missing repository: no error")
	}
}

// FuzzScanRepository builds a repository from fuzzed paths: the scanner
// never panics, and every entry it returns is a well-formed
// name/version/model.onnx of the folder, in order, once.
func FuzzScanRepository(f *testing.F) {
	f.Add("a/1/model.onnx\nb/2/model.onnx\nb/x/model.onnx")
	f.Add("m/01/model.onnx\nm/1/model.onnx/x\n./1/model.onnx")
	f.Add("q/9223372036854775807/model.onnx\nq/9223372036854775808/model.onnx")
	f.Fuzz(func(t *testing.T, paths string) {
		fsys := fstest.MapFS{}
		for _, p := range strings.Split(paths, "\n") {
			if fs.ValidPath(p) && p != "." {
				fsys[p] = &fstest.MapFile{Data: []byte("x")}
			}
		}
		entries, _, err := serve.ScanRepository(fsys)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for i, e := range entries {
			if e.Version <= 0 || e.Path != e.Name+"/"+strconv.FormatInt(e.Version, 10)+"/model.onnx" || seen[e.Path] {
				t.Fatalf("entry %+v", e)
			}
			if st, err := fs.Stat(fsys, e.Path); err != nil || !st.Mode().IsRegular() {
				t.Fatalf("entry %s is not a file of the folder", e.Path)
			}
			seen[e.Path] = true
			if i > 0 {
				p := entries[i-1]
				if p.Name > e.Name || p.Name == e.Name && p.Version >= e.Version {
					t.Fatalf("entries out of order: %s before %s", p.Path, e.Path)
				}
			}
		}
	})
}

// writeVersion writes servetest.Tiny(seed) as dir/name/version/model.onnx.
func writeVersion(t *testing.T, dir, name string, version int, seed uint64) *servetest.Params {
	t.Helper()
	p := servetest.Tiny(seed)
	vdir := filepath.Join(dir, name, strconv.Itoa(version))
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Write(vdir, "model"); err != nil {
		t.Fatal(err)
	}
	return p
}

func repoServer(t *testing.T, dir string, edit func(*serve.Config)) *serve.Server {
	t.Helper()
	wi, err := dataset.LoadWordIndex(filepath.Join(dir, "a", "1", "word_index.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := serve.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	s, err := serve.NewRepository(cfg, dir, func(path string) serve.Loader {
		return serve.FileLoader(path, wi, score.Options{})
	}, quiet())
	return servetest.Started(t, s, err)
}

// inferIDs scores one row of ids through /v2 (version "" the default)
// and returns the score, or the status and body of a failure.
func inferIDs(t *testing.T, s *serve.Server, name, version string, ids []float32) (float64, int, string) {
	t.Helper()
	path := "/v2/models/" + name
	if version != "" {
		path += "/versions/" + version
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "embedding_input", "datatype": "FP32", "shape": []int{1, len(ids)}, "data": ids}}})
	rec := do(t, s.Handler(), "POST", path+"/infer", "", string(body))
	if rec.Code != 200 {
		return 0, rec.Code, rec.Body.String()
	}
	var r struct {
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Data json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if version != "" && r.ModelVersion != version {
		t.Errorf("answered by version %q, asked %q", r.ModelVersion, version)
	}
	var scores []float64
	if err := json.Unmarshal(r.Outputs[0].Data, &scores); err != nil || len(scores) != 1 {
		t.Fatalf("scores %s: %v", r.Outputs[0].Data, err)
	}
	return scores[0], 200, ""
}

func index(t *testing.T, s *serve.Server) string {
	t.Helper()
	rec := do(t, s.Handler(), "POST", "/v2/repository/index", "", "")
	if rec.Code != 200 {
		t.Fatalf("index: %d %s", rec.Code, rec.Body)
	}
	var idx []serve.IndexEntry
	if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range idx {
		parts = append(parts, e.Name+"/"+e.Version+":"+e.State)
	}
	return strings.Join(parts, " ")
}

func TestRepositoryVersionsLoadUnloadRescan(t *testing.T) {
	{
		dir := t.TempDir()
		p1 := writeVersion(t, dir, "a", 1, 11)
		p2 := writeVersion(t, dir, "a", 2, 12)
		writeVersion(t, dir, "b", 1, 13)
		s := repoServer(t, dir, func(c *serve.Config) { c.DefaultModel = "a" })
		row := []float32{1, 4, 7, 10, 13, 16, 19, 22}
		ids := []int32{1, 4, 7, 10, 13, 16, 19, 22}
		ref := func(p *servetest.Params) float64 { r, _ := p.Reference(ids); return r }
		near := func(what string, got, want float64) {
			t.Helper()
			if math.Abs(got-want) > 1e-5 {
				t.Errorf("%s: %v, reference %v", what, got, want)
			}
		}
		got, code, body := inferIDs(t, s, "a", "", row)
		if code != 200 {
			t.Fatalf("default version: %d %s", code, body)
		}
		near("newest version by default", got, ref(p2))
		got, _, _ = inferIDs(t, s, "a", "1", row)
		near("version 1", got, ref(p1))
		if g := index(t, s); g != "a/1:READY a/2:READY b/1:READY" {
			t.Errorf("index %q", g)
		}
		// /v1 scores on the default model's newest version.
		var v1 serve.ScoreResponse
		rec := do(t, s.Handler(), "POST", "/v1/score/ids", "application/json", `{"ids": [[1,4,7,10,13,16,19,22]]}`)
		if err := json.Unmarshal(rec.Body.Bytes(), &v1); err != nil || len(v1.Scores) != 1 || !strings.HasPrefix(v1.Model, "a@") {
			t.Fatalf("/v1: %d %s", rec.Code, rec.Body)
		}
		near("/v1", float64(v1.Scores[0]), ref(p2))

		// Unload: the model stops serving and polling leaves it alone.
		if rec := do(t, s.Handler(), "POST", "/v2/repository/models/a/unload", "", `{"parameters":{"unload_dependents":false}}`); rec.Code != 200 {
			t.Fatalf("unload: %d %s", rec.Code, rec.Body)
		}
		if _, code, body := inferIDs(t, s, "a", "", row); code != 503 || !strings.Contains(body, "no version ready") {
			t.Errorf("unloaded: %d %s", code, body)
		}
		if rec := do(t, s.Handler(), "GET", "/v2/models/a/ready", "", ""); rec.Code != 503 {
			t.Errorf("ready of an unloaded model: %d", rec.Code)
		}
		if err := s.Rescan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if g := index(t, s); g != "a/:UNAVAILABLE b/1:READY" {
			t.Errorf("index after unload and a poll %q", g)
		}
		if rec := do(t, s.Handler(), "POST", "/v2/repository/models/a/load", "", ""); rec.Code != 200 {
			t.Fatalf("load: %d %s", rec.Code, rec.Body)
		}
		got, _, _ = inferIDs(t, s, "a", "", row)
		near("reloaded", got, ref(p2))
		for name, want := range map[string]int{"nope": 400, "b": 200} {
			if rec := do(t, s.Handler(), "POST", "/v2/repository/models/"+name+"/load", "", ""); rec.Code != want {
				t.Errorf("load %s: %d %s, want %d", name, rec.Code, rec.Body, want)
			}
		}
		if rec := do(t, s.Handler(), "POST", "/v2/repository/models/nope/unload", "", ""); rec.Code != 400 {
			t.Errorf("unload of an unknown model: %d", rec.Code)
		}

		// Polling: a new version is warmed up and takes over; a broken
		// one is UNAVAILABLE and does not; a removed one goes away.
		p3 := writeVersion(t, dir, "a", 3, 14)
		if err := os.MkdirAll(filepath.Join(dir, "a", "4"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a", "4", "model.onnx"), []byte("not onnx"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, "b")); err != nil {
			t.Fatal(err)
		}
		if err := s.Rescan(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _, _ = inferIDs(t, s, "a", "", row)
		near("after a rescan", got, ref(p3))
		if _, code, body := inferIDs(t, s, "a", "4", row); code != 503 || !strings.Contains(body, "UNAVAILABLE") {
			t.Errorf("broken version: %d %s", code, body)
		}
		if _, code, _ := inferIDs(t, s, "b", "", row); code != 404 {
			t.Errorf("removed model: %d", code)
		}
		if g := index(t, s); g != "a/1:READY a/2:READY a/3:READY a/4:UNAVAILABLE" {
			t.Errorf("index after polling %q", g)
		}
		var md serve.V2ModelMetadata
		rec = do(t, s.Handler(), "GET", "/v2/models/a", "", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || !slices.Equal(md.Versions, []string{"1", "2", "3"}) {
			t.Errorf("metadata %s", rec.Body)
		}
		var sm serve.V2ServerMetadata
		rec = do(t, s.Handler(), "GET", "/v2", "", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &sm); err != nil || !slices.Equal(sm.Extensions, []string{"model_repository"}) {
			t.Errorf("server metadata %s", rec.Body)
		}
		s.Drain()
	}
}
