package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// A model repository is a folder of <name>/<version>/model.onnx files, the
// layout of Triton and KServe: every version found is loaded, warmed up
// with a probe inference and only then marked READY; a request naming no
// version goes to the newest READY one, so a new version takes over only
// once it can serve. Polling (Config.RepositoryPoll) and the repository
// extension's load route pick up new, changed and removed versions.

// Version states of the repository extension's index.
const (
	StateReady       = "READY"
	StateLoading     = "LOADING"
	StateUnavailable = "UNAVAILABLE"
)

// repoModelName is what a model folder may be called: the name is a URL
// path segment of /v2/models/{name} and a Prometheus label.
var repoModelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// RepoEntry is one model version found in a repository.
type RepoEntry struct {
	Name    string
	Version int64
	// Path is the model file, slash-separated and relative to the
	// repository: Name/Version/model.onnx.
	Path string
	// Size and ModTime tell a changed file from the one loaded.
	Size    int64
	ModTime time.Time
}

// ScanRepository lists the model versions of fsys: every
// <name>/<version>/model.onnx where name matches [A-Za-z0-9][A-Za-z0-9_.-]*
// (at most 128 characters), version is a positive integer written without
// leading zeros and model.onnx is a regular file. Entries are sorted by
// name, then version. What does not fit is skipped, with one problem per
// skipped entry naming it: symbolic links (a repository never leads
// outside its folder), badly named model or version folders, version
// folders without a model.onnx, model folders without versions. Plain
// files at the top level (a README) and other files in a version folder
// are ignored. The error is fsys's root that cannot be read.
func ScanRepository(fsys fs.FS) (entries []RepoEntry, problems []string, err error) {
	top, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, err
	}
	for _, m := range top {
		name := m.Name()
		switch {
		case m.Type()&fs.ModeSymlink != 0:
			problems = append(problems, fmt.Sprintf("%s: a symbolic link, not followed", name))
			continue
		case !m.IsDir():
			continue
		case !repoModelName.MatchString(name):
			problems = append(problems, fmt.Sprintf("%q: not a model name (letters, digits, '_', '.', '-'; at most 128)", name))
			continue
		}
		vers, err := fs.ReadDir(fsys, name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		found := 0
		for _, v := range vers {
			vname := v.Name()
			if !v.IsDir() && v.Type()&fs.ModeSymlink == 0 {
				continue // config files and the like beside the versions
			}
			n, perr := strconv.ParseInt(vname, 10, 64)
			switch {
			case v.Type()&fs.ModeSymlink != 0:
				problems = append(problems, fmt.Sprintf("%s/%s: a symbolic link, not followed", name, vname))
				continue
			case perr != nil || n <= 0 || strconv.FormatInt(n, 10) != vname:
				problems = append(problems, fmt.Sprintf("%s/%q: not a version (a positive integer without leading zeros)", name, vname))
				continue
			}
			p := path.Join(name, vname, "model.onnx")
			st, err := fs.Stat(fsys, p)
			if err == nil && !st.Mode().IsRegular() {
				err = errors.New("not a regular file")
			}
			if err == nil {
				// fs.Stat follows links; refuse one in the last step too.
				if li, lerr := fs.Lstat(fsys, p); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
					err = errors.New("a symbolic link, not followed")
				}
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", p, trimPathError(err)))
				continue
			}
			entries = append(entries, RepoEntry{Name: name, Version: n, Path: p, Size: st.Size(), ModTime: st.ModTime()})
			found++
		}
		if found == 0 {
			problems = append(problems, fmt.Sprintf("%s: no version folder with a model.onnx", name))
		}
	}
	slices.SortFunc(entries, func(a, b RepoEntry) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		return int(a.Version - b.Version)
	})
	return entries, problems, nil
}

// trimPathError drops the *fs.PathError's path, which the caller names.
func trimPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// slot is one model version: its own generation holder, fed by the shared
// batcher like the single model of birnn serve --model.
type slot struct {
	name    string
	version int64
	path    string // OS path of the model file
	h       holder
	size    int64
	modTime time.Time

	state  string // guarded by repository.mu
	reason string
}

type repoModel struct {
	versions map[int64]*slot
	// unloaded is set by the repository extension's unload: polling
	// leaves the model alone until a load names it again.
	unloaded bool
}

// repository is the server's set of models when it serves a folder.
type repository struct {
	dir  string
	fsys fs.FS
	open func(path string) Loader

	ops sync.Mutex // one scan-and-load at a time

	mu     sync.Mutex
	models map[string]*repoModel
}

func newRepository(dir string, open func(path string) Loader) *repository {
	return &repository{dir: dir, fsys: os.DirFS(dir), open: open, models: map[string]*repoModel{}}
}

// NewRepository returns a server for the model repository dir, its
// batching workers started: Start (or Run) loads every model version in
// it, open(path) giving the Loader of each model file. cfg is validated.
func NewRepository(cfg Config, dir string, open func(path string) Loader, log *slog.Logger) (*Server, error) {
	if open == nil {
		return nil, errors.New("serve: nil model opener")
	}
	s, err := New(cfg, func(context.Context) (Model, error) {
		return nil, errors.New("serve: a model repository has no single model")
	}, log)
	if err != nil {
		return nil, err
	}
	s.repo = newRepository(dir, open)
	return s, nil
}

// syncOpts say what a repository sync does.
type syncOpts struct {
	only     string // one model's name; "" all
	explicit bool   // a load named the model: undo its unload
	force    bool   // reload versions whose file did not change
}

// sync brings the served versions in line with the folder: it loads new
// versions (warm-up first), reloads changed ones (all, with force) and
// unloads those gone. Errors: the folder cannot be read, or only names a
// model that is not in it (then nothing changes). A version that fails to
// load is UNAVAILABLE with the reason, and its previous generation, if
// any, keeps serving.
func (s *Server) syncRepository(ctx context.Context, o syncOpts) error {
	r := s.repo
	r.ops.Lock()
	defer r.ops.Unlock()
	entries, problems, err := ScanRepository(r.fsys)
	if err != nil {
		return fmt.Errorf("model repository %s: %w", r.dir, trimPathError(err))
	}
	for _, p := range problems {
		s.log.Warn("model repository: skipped", "repository", r.dir, "problem", p)
	}
	onDisk := map[string][]RepoEntry{}
	for _, e := range entries {
		onDisk[e.Name] = append(onDisk[e.Name], e)
	}
	if o.only != "" && len(onDisk[o.only]) == 0 {
		return fmt.Errorf("model %q: no version folder with a model.onnx in the repository", o.only)
	}

	var load, unload []*slot
	r.mu.Lock()
	for name, es := range onDisk {
		if o.only != "" && name != o.only {
			continue
		}
		m := r.models[name]
		if m == nil {
			m = &repoModel{versions: map[int64]*slot{}}
			r.models[name] = m
		}
		if o.explicit {
			m.unloaded = false
		}
		if m.unloaded {
			continue
		}
		keep := map[int64]bool{}
		for _, e := range es {
			keep[e.Version] = true
			sl := m.versions[e.Version]
			if sl == nil {
				sl = &slot{name: name, version: e.Version, path: filepath.Join(r.dir, filepath.FromSlash(e.Path)), state: StateLoading}
				m.versions[e.Version] = sl
			} else if !o.force && sl.size == e.Size && sl.modTime.Equal(e.ModTime) && sl.state != StateUnavailable {
				continue
			}
			sl.size, sl.modTime = e.Size, e.ModTime
			load = append(load, sl)
		}
		for v, sl := range m.versions {
			if !keep[v] {
				delete(m.versions, v)
				unload = append(unload, sl)
			}
		}
	}
	for name, m := range r.models {
		if _, ok := onDisk[name]; ok || o.only != "" && name != o.only {
			continue
		}
		for _, sl := range m.versions {
			unload = append(unload, sl)
		}
		delete(r.models, name)
	}
	r.mu.Unlock()

	for _, sl := range unload {
		s.unloadSlot(sl, "removed from the repository")
	}
	slices.SortFunc(load, func(a, b *slot) int { return int(b.version - a.version) }) // newest first
	for _, sl := range load {
		_, err := s.loadInto(ctx, &sl.h, r.loader(sl), sl.h.current() != nil)
		r.mu.Lock()
		if err != nil {
			sl.state, sl.reason = StateUnavailable, err.Error()
			if sl.h.current() != nil {
				sl.state, sl.reason = StateReady, "reload failed, the previous file keeps serving: "+err.Error()
			}
		} else {
			sl.state, sl.reason = StateReady, ""
		}
		r.mu.Unlock()
	}
	return nil
}

// loader loads sl's file, naming the model by its folders: the
// repository's name and version, not the file's.
func (r *repository) loader(sl *slot) Loader {
	open := r.open(sl.path)
	return func(ctx context.Context) (Model, error) {
		m, err := open(ctx)
		if err != nil {
			return nil, err
		}
		return versionedModel{Model: m, name: sl.name, version: strconv.FormatInt(sl.version, 10)}, nil
	}
}

// versionedModel is a repository model: Info names it by its folders.
type versionedModel struct {
	Model
	name, version string
}

func (m versionedModel) Info() ModelInfo {
	info := m.Model.Info()
	info.Name, info.Version = m.name, m.version
	return info
}

func (m versionedModel) Close() error {
	if c, ok := m.Model.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// unloadRepositoryModel unloads every version of name and keeps polling
// from loading it again. Errors: no such model.
func (s *Server) unloadRepositoryModel(name string) error {
	r := s.repo
	r.ops.Lock()
	defer r.ops.Unlock()
	r.mu.Lock()
	m := r.models[name]
	if m == nil {
		r.mu.Unlock()
		return fmt.Errorf("unknown model %q", name)
	}
	m.unloaded = true
	slots := make([]*slot, 0, len(m.versions))
	for _, sl := range m.versions {
		slots = append(slots, sl)
	}
	clear(m.versions)
	r.mu.Unlock()
	for _, sl := range slots {
		s.unloadSlot(sl, "unloaded")
	}
	return nil
}

// unloadSlot stops serving sl: rows still queued for it fail with
// ErrNoModel, batches running finish, then the model is closed.
func (s *Server) unloadSlot(sl *slot, why string) {
	l := sl.h.current()
	sl.h.swap(nil)
	s.repo.mu.Lock()
	sl.state, sl.reason = StateUnavailable, why
	s.repo.mu.Unlock()
	if l != nil {
		s.met.modelInfo.DeleteLabelValues(l.info.Name, l.info.SHA256)
		s.log.Info("model unloaded", "model", l.id, "version", sl.version, "reason", why)
	}
}

// IndexEntry is one row of POST /v2/repository/index.
type IndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// repositoryIndex lists the repository's models: every version the server
// knows with its state, and the models on disk it does not serve (never
// loaded or unloaded) without a version.
func (s *Server) repositoryIndex(readyOnly bool) ([]IndexEntry, error) {
	r := s.repo
	entries, _, err := ScanRepository(r.fsys)
	if err != nil {
		return nil, fmt.Errorf("model repository: %w", trimPathError(err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []IndexEntry{}
	listed := map[string]bool{}
	for _, e := range entries {
		m := r.models[e.Name]
		if m == nil || len(m.versions) == 0 {
			if !listed[e.Name] && !readyOnly {
				st := IndexEntry{Name: e.Name, State: StateUnavailable, Reason: "not loaded"}
				if m != nil && m.unloaded {
					st.Reason = "unloaded"
				}
				out = append(out, st)
			}
			listed[e.Name] = true
			continue
		}
		sl := m.versions[e.Version]
		if sl == nil || readyOnly && sl.state != StateReady {
			continue
		}
		out = append(out, IndexEntry{Name: e.Name, Version: strconv.FormatInt(e.Version, 10), State: sl.state, Reason: sl.reason})
	}
	return out, nil
}

// resolved is a model version a request goes to.
type resolved struct {
	h        *holder
	l        *loaded // its current generation, for metadata
	name     string
	version  string
	versions []string // the model's versions that are ready
}

// resolve finds the model version name/version (version "" the newest
// ready one) among those served. Errors (an *APIError): 404 for an unknown
// model or version, 503 for one that is not ready.
func (s *Server) resolve(name, version string) (*resolved, *APIError) {
	if s.repo == nil {
		l := s.models.current()
		if l == nil {
			return nil, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "no model loaded yet")
		}
		if name != l.info.Name {
			return nil, apiErrorf(http.StatusNotFound, CodeNotFound, "unknown model %q (this server serves %q)", name, l.info.Name)
		}
		v := v2Version(l.info)
		if version != "" && version != v {
			return nil, apiErrorf(http.StatusNotFound, CodeNotFound, "unknown version %q of model %q (it has %q)", version, name, v)
		}
		return &resolved{h: &s.models, l: l, name: name, version: v, versions: []string{v}}, nil
	}
	r := s.repo
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.models[name]
	if m == nil || len(m.versions) == 0 && !m.unloaded {
		return nil, apiErrorf(http.StatusNotFound, CodeNotFound, "unknown model %q", name)
	}
	var ready []int64
	for v, sl := range m.versions {
		if sl.state == StateReady && sl.h.current() != nil {
			ready = append(ready, v)
		}
	}
	slices.Sort(ready)
	res := &resolved{name: name}
	for _, v := range ready {
		res.versions = append(res.versions, strconv.FormatInt(v, 10))
	}
	var sl *slot
	if version == "" {
		if len(ready) == 0 {
			return nil, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "model %q has no version ready", name)
		}
		sl = m.versions[ready[len(ready)-1]]
	} else {
		n, err := strconv.ParseInt(version, 10, 64)
		if err == nil {
			sl = m.versions[n]
		}
		if sl == nil {
			return nil, apiErrorf(http.StatusNotFound, CodeNotFound, "unknown version %q of model %q", version, name)
		}
		if sl.state != StateReady || sl.h.current() == nil {
			return nil, apiErrorf(http.StatusServiceUnavailable, CodeModelNotLoaded, "version %s of model %q is %s: %s", version, name, sl.state, sl.reason)
		}
	}
	res.h, res.l, res.version = &sl.h, sl.h.current(), strconv.FormatInt(sl.version, 10)
	return res, nil
}

// v1Holder is the model /v1 scores on: the server's model, or in a
// repository the newest ready version of Config.DefaultModel (default: the
// repository's only model). nil when there is none.
func (s *Server) v1Holder() *holder {
	if s.repo == nil {
		return &s.models
	}
	name := s.cfg.DefaultModel
	if name == "" {
		s.repo.mu.Lock()
		if len(s.repo.models) == 1 {
			for n := range s.repo.models {
				name = n
			}
		}
		s.repo.mu.Unlock()
	}
	if name == "" {
		return nil
	}
	res, e := s.resolve(name, "")
	if e != nil {
		return nil
	}
	return res.h
}

// anyReady reports whether some version is ready.
func (r *repository) anyReady() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.models {
		for _, sl := range m.versions {
			if sl.state == StateReady {
				return true
			}
		}
	}
	return false
}

// Rescan brings a repository server's models in line with its folder, as
// a poll does: new versions are loaded and warmed up, changed ones
// reloaded, removed ones unloaded; models unloaded through the repository
// extension are left alone. Errors: the server serves no repository, or
// its folder cannot be read.
func (s *Server) Rescan(ctx context.Context) error {
	if s.repo == nil {
		return errors.New("serve: no model repository")
	}
	return s.syncRepository(ctx, syncOpts{})
}

// poll rescans the repository every d until ctx is done.
func (s *Server) poll(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.syncRepository(ctx, syncOpts{}); err != nil {
				s.log.Error("model repository poll", "error", err.Error())
			}
		}
	}
}
