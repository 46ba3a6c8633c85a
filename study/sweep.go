package study

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/internal/atomicfile"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/plot"
	"github.com/birnn/birnn/train"
)

// A Sweep is a set of training runs that differ in a few configuration
// keys: a base run configuration, keys fixed for every run (Set), and the
// runs — the cartesian product of Grid, or the explicit list Runs (or
// both: every Runs entry, then the grid).
//
//	name: optimizers
//	base: deep_bilstm            # an embedded run or a YAML file
//	set: {train.epochs: 2}
//	grid:
//	  - {key: train.optimizer.name, values: [adam, rmsprop, sgd]}
//	  - {key: model.layers[*].recurrent_dropout, values: [0, 0.2]}
//	runs:
//	  - {train.optimizer.name: adamw, train.optimizer.weight_decay: 0.01}
//
// Keys are the dotted configuration keys of --set (train.optimizer.name,
// data.maxlen); model.layers[i].key sets a key of layer i and
// model.layers[*].key the key of every recurrent (lstm, gru, simple_rnn)
// layer. Each value is a YAML scalar, list or mapping.
type Sweep struct {
	Name string           `yaml:"name"`
	Base string           `yaml:"base"`
	Set  map[string]any   `yaml:"set"`
	Grid []Axis           `yaml:"grid"`
	Runs []map[string]any `yaml:"runs"`
}

// Axis is one key of a grid and its values.
type Axis struct {
	Key    string `yaml:"key"`
	Values []any  `yaml:"values"`
}

//go:embed exercises.yaml
var exercisesYAML []byte

// Exercises is the study's exercise as a sweep (exercises.yaml): the deep
// BiLSTM at the study's settings with each other optimizer, recurrent
// dropout and recurrent initializer, one factor at a time.
func Exercises() *Sweep {
	s, err := ParseSweep(exercisesYAML)
	if err != nil {
		panic("study: embedded exercises.yaml: " + err.Error())
	}
	return s
}

// SweepRun is one run of a sweep: its folder name and the values it sets
// (Set excluded), in key order.
type SweepRun struct {
	Name   string
	Keys   []string
	Values map[string]any
}

// MaxSweepRuns bounds a grid's product: a sweep file cannot ask for more.
const MaxSweepRuns = 1000

// Sweep files inside its output folder and each run's folder.
const (
	SweepReportFile = "report.md"
	SweepConfigFile = "config.yaml" // the run's resolved configuration
)

// ParseSweep reads a sweep file: unknown fields, a grid axis without values
// and an empty sweep are errors.
func ParseSweep(b []byte) (*Sweep, error) {
	var s Sweep
	if err := configs.Decode(b, &s); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if s.Base == "" {
		return nil, errors.New("sweep: no base configuration (base: NAME|FILE)")
	}
	for i, a := range s.Grid {
		if a.Key == "" || len(a.Values) == 0 {
			return nil, fmt.Errorf("sweep: grid[%d]: want {key: KEY, values: [...]} with at least one value", i)
		}
	}
	if len(s.Grid) == 0 && len(s.Runs) == 0 {
		return nil, errors.New("sweep: neither a grid nor runs")
	}
	return &s, nil
}

// LoadSweep reads a sweep file from path.
func LoadSweep(path string) (*Sweep, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s, err := ParseSweep(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Expand lists the sweep's runs: Runs in order, then the grid's product
// (the last axis varying fastest). Names are key=value pairs, the keys'
// last components, joined by commas; duplicates are an error.
func (s *Sweep) Expand() ([]SweepRun, error) {
	var out []SweepRun
	add := func(vals map[string]any, keys []string) {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = shortKey(k) + "=" + valueName(vals[k])
		}
		name := strings.Join(parts, ",")
		if name == "" {
			name = "base"
		}
		out = append(out, SweepRun{Name: safeName(name), Keys: keys, Values: vals})
	}
	for _, r := range s.Runs {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		add(r, keys)
	}
	total := 1
	for _, a := range s.Grid {
		if total *= len(a.Values); total > MaxSweepRuns {
			return nil, fmt.Errorf("sweep: the grid has more than %d runs", MaxSweepRuns)
		}
	}
	if len(s.Grid) > 0 {
		keys := make([]string, len(s.Grid))
		for i, a := range s.Grid {
			keys[i] = a.Key
		}
		idx := make([]int, len(s.Grid))
		for {
			vals := map[string]any{}
			for i, a := range s.Grid {
				vals[a.Key] = a.Values[idx[i]]
			}
			add(vals, keys)
			i := len(idx) - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < len(s.Grid[i].Values) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range out {
		if seen[r.Name] {
			return nil, fmt.Errorf("sweep: run %s is listed twice", r.Name)
		}
		seen[r.Name] = true
	}
	return out, nil
}

func shortKey(k string) string {
	k = strings.ReplaceAll(k, "[*]", "")
	if i := strings.LastIndex(k, "."); i >= 0 {
		return k[i+1:]
	}
	return k
}

func valueName(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._=,+-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

var layerKey = regexp.MustCompile(`^model\.layers\[(\d+|\*)\]\.(\w+)$`)

// Apply returns base with the values set (configs.Parse checks every key
// and type; train.Resolve the values).
func Apply(base *configs.Config, vals map[string]any) (*configs.Config, error) {
	y, err := base.YAML()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(y, &doc); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := setKey(doc, k, vals[k]); err != nil {
			return nil, err
		}
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c, err := configs.Parse(b)
	if err != nil {
		return nil, err
	}
	if err := train.Resolve(c); err != nil {
		return nil, err
	}
	return c, nil
}

func setKey(doc map[string]any, key string, v any) error {
	if m := layerKey.FindStringSubmatch(key); m != nil {
		mod, _ := doc["model"].(map[string]any)
		layers, _ := mod["layers"].([]any)
		hit := false
		for i, l := range layers {
			lm, ok := l.(map[string]any)
			if !ok {
				continue
			}
			if m[1] == "*" {
				switch lm["type"] {
				case "lstm", "gru", "simple_rnn":
				default:
					continue
				}
			} else if strconv.Itoa(i) != m[1] {
				continue
			}
			lm[m[2]] = v
			hit = true
		}
		if !hit {
			return &configs.Error{Key: key, Msg: "no such layer in the base configuration"}
		}
		return nil
	}
	parts := strings.Split(key, ".")
	cur := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
	return nil
}

// SweepOptions control RunSweep.
type SweepOptions struct {
	Out string // output folder: Out/<run>/… and Out/report.md
	// Set are keys fixed for every run after the sweep's own Set (the
	// CLI's --set): a reduced sweep (fewer epochs, data.limit) of the same
	// grid. The report lists them.
	Set map[string]any
	// Config loads the base configuration, not resolved (a resolved one
	// has the base optimizer's defaults filled in, which would stay when a
	// run changes the optimizer); nil: configs.Load.
	Config   func(nameOrFile string) (*configs.Config, error)
	Force    bool // redo finished runs
	Progress io.Writer
	Live     bool
}

// RunSweep trains every run of s into o.Out/<run>/ (checkpoint, history,
// metrics.json of the test split, config.yaml, curves.png) and writes
// o.Out/report.md. A run whose metrics.json exists is skipped (unless
// Force); a run with a checkpoint but no metrics resumes from it. A run
// folder holding another configuration is an error (rather than mixing
// two runs). The report is rewritten after every run, so an interrupted
// sweep leaves an up-to-date one.
func RunSweep(ctx context.Context, s *Sweep, o SweepOptions) error {
	runs, err := s.Expand()
	if err != nil {
		return err
	}
	load, progress := orDefaults(o.Config, o.Progress)
	base, err := load(s.Base)
	if err != nil {
		return err
	}
	fixed := maps.Clone(s.Set)
	if fixed == nil {
		fixed = map[string]any{}
	}
	maps.Copy(fixed, o.Set)
	s = &Sweep{Name: s.Name, Base: s.Base, Set: fixed, Grid: s.Grid, Runs: s.Runs}
	if base, err = Apply(base, fixed); err != nil {
		return fmt.Errorf("sweep set: %w", err)
	}
	cfgs := make([]*configs.Config, len(runs))
	for i, r := range runs {
		if cfgs[i], err = Apply(base, r.Values); err != nil {
			return fmt.Errorf("sweep run %s: %w", r.Name, err)
		}
		cfgs[i].Name = r.Name
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	for i, r := range runs {
		if err := o.sweepRun(ctx, r, cfgs[i], progress); err != nil {
			return fmt.Errorf("sweep run %s: %w", r.Name, err)
		}
		if err := WriteSweepReport(o.Out, s, runs); err != nil {
			return err
		}
	}
	return WriteSweepReport(o.Out, s, runs)
}

func (o SweepOptions) sweepRun(ctx context.Context, r SweepRun, cfg *configs.Config, progress io.Writer) error {
	dir := filepath.Join(o.Out, r.Name)
	want, err := cfg.YAML()
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(filepath.Join(dir, SweepConfigFile)); err == nil && string(old) != string(want) && !o.Force {
		return fmt.Errorf("%s holds a run of another configuration; remove it or use --force", dir)
	}
	_, err = os.Stat(filepath.Join(dir, model.MetricsFile))
	switch {
	case err == nil && !o.Force:
		fmt.Fprintf(progress, "%s: done already\n", r.Name)
		return nil
	case o.Force:
		for _, f := range []string{model.CheckpointFile, model.HistoryFile, model.MetricsFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	fmt.Fprintf(progress, "== %s\n", r.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, SweepConfigFile), want); err != nil {
		return err
	}
	res, err := train.Run(ctx, cfg, train.RunOptions{OutDir: dir, Resume: true, Progress: o.Progress, Live: o.Live})
	if err != nil {
		return err
	}
	if err := plot.Curves(res.History, r.Name, filepath.Join(dir, CurvesFile)); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%s: test accuracy %.4f\n", r.Name, res.Test.Accuracy)
	return nil
}

type sweepRow struct {
	run            SweepRun
	met            model.Metrics
	hist           *model.History
	valAcc, valMax float64
	secs           float64
}

// WriteSweepReport writes out/report.md from the runs' folders: a table of
// the finished runs sorted by the final validation accuracy (ties: test
// accuracy), with the best validation accuracy of any epoch, the test
// accuracy and loss, epochs and seconds per epoch; the runs not finished;
// and plots comparing the validation curves (out/compare_val.png) and the
// training curves (out/compare_train.png).
func WriteSweepReport(out string, s *Sweep, runs []SweepRun) error {
	var rows []sweepRow
	var pending []string
	for _, r := range runs {
		met, h, secs, err := readRun(filepath.Join(out, r.Name))
		if errors.Is(err, fs.ErrNotExist) {
			pending = append(pending, r.Name)
			continue
		}
		if err != nil {
			return err
		}
		row := sweepRow{run: r, met: met, hist: h, valAcc: math.NaN(), valMax: math.NaN(), secs: secs}
		if n := len(h.ValAccuracy); n > 0 {
			row.valAcc, row.valMax = h.ValAccuracy[n-1], slices.Max(h.ValAccuracy)
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.valAcc != b.valAcc && !math.IsNaN(a.valAcc) && !math.IsNaN(b.valAcc) {
			return a.valAcc > b.valAcc
		}
		return a.met.Accuracy > b.met.Accuracy
	})
	var b strings.Builder
	name := s.Name
	if name == "" {
		name = "sweep"
	}
	fmt.Fprintf(&b, "# %s\n\nBase configuration: `%s`", name, s.Base)
	if len(s.Set) > 0 {
		keys := make([]string, 0, len(s.Set))
		for k := range s.Set {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = "`" + k + "=" + valueName(s.Set[k]) + "`"
		}
		b.WriteString(", with " + strings.Join(parts, ", "))
	}
	b.WriteString(".\n")
	if len(s.Grid) > 0 {
		b.WriteString("\nGrid:\n\n")
		for _, a := range s.Grid {
			vs := make([]string, len(a.Values))
			for i, v := range a.Values {
				vs[i] = valueName(v)
			}
			fmt.Fprintf(&b, "- `%s`: %s\n", a.Key, strings.Join(vs, ", "))
		}
	}
	fmt.Fprintf(&b, "\n%d of %d runs finished. Sorted by the last epoch's validation accuracy.\n\n", len(rows), len(runs))
	b.WriteString("| # | run | dataset | epochs | val acc (last) | val acc (best epoch) | test acc | test loss | test n | s/epoch |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	var series []plot.Series
	for i, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %.4f | %.4f | %.4f | %.4f | %d | %.0f |\n", i+1, r.run.Name, r.met.Dataset,
			r.hist.Epochs(), r.valAcc, r.valMax, r.met.Accuracy, r.met.Loss, r.met.N, r.secs)
		series = append(series, plot.Series{Label: r.run.Name, History: r.hist})
	}
	if len(pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished: %s.\n", strings.Join(pending, ", "))
	}
	if len(series) > 0 {
		if err := plot.Compare(series, plot.MetricValidation, filepath.Join(out, "compare_val.png")); err != nil {
			return err
		}
		if err := plot.Compare(series, plot.MetricTrain, filepath.Join(out, "compare_train.png")); err != nil {
			return err
		}
		b.WriteString("\n![validation curves](compare_val.png)\n\n![training curves](compare_train.png)\n")
	}
	b.WriteString("\nEach run's folder holds its resolved `config.yaml`, `history.json`, `metrics.json` and `curves.png`.\n")
	return atomicfile.WriteFile(filepath.Join(out, SweepReportFile), []byte(b.String()))
}
