package crosscheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/birnn/birnn/model"
)

// File names inside a Keras export folder (testdata/keras/README.md),
// beside model.ModelFile and model.MetricsFile, which it shares with a
// birnn run folder.
const (
	PredictionsFile = "predictions.json"
	InfoFile        = "info.json"
	TestLabelsFile  = "test_labels.txt"
)

// ErrFormat is wrapped by every error about a file that exists but does not
// hold what its format says; the error names the file.
var ErrFormat = errors.New("crosscheck: malformed file")

func formatErr(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrFormat, path, fmt.Sprintf(format, args...))
}

// Predictions is a predictions.json: X [rows, maxlen] the padded ids Keras
// was given, Outputs [rows, 1] (sigmoid) or [rows, 2] (softmax: p(neg),
// p(pos)) what its model.predict returned, as float32.
type Predictions struct {
	Rows    []int       `json:"rows"`
	Inputs  string      `json:"inputs"`
	X       [][]int32   `json:"x"`
	Outputs [][]float32 `json:"-"`
}

// ReadPredictions reads and checks a predictions.json. Keras's float32
// outputs are written as the shortest decimal of their float64 value, so
// parsing as float64 and rounding to float32 gives Keras's bits.
//
// Errors: the file's; ErrFormat naming it when it is not JSON, has no rows,
// ragged or negative ids, or outputs that are not one row of 1 or 2
// values per input row.
func ReadPredictions(path string) (*Predictions, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Predictions
		Outputs [][]float64 `json:"outputs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, formatErr(path, "%v", err)
	}
	p := raw.Predictions
	switch {
	case len(p.X) == 0:
		return nil, formatErr(path, "no rows in x")
	case len(raw.Outputs) != len(p.X):
		return nil, formatErr(path, "%d rows in x but %d in outputs", len(p.X), len(raw.Outputs))
	}
	seq, width := len(p.X[0]), len(raw.Outputs[0])
	if seq == 0 {
		return nil, formatErr(path, "x rows are empty")
	}
	if width != 1 && width != 2 {
		return nil, formatErr(path, "outputs rows have %d values, want 1 (sigmoid) or 2 (softmax)", width)
	}
	p.Outputs = make([][]float32, len(raw.Outputs))
	for i := range p.X {
		if len(p.X[i]) != seq {
			return nil, formatErr(path, "x row %d has %d ids, row 0 has %d", i, len(p.X[i]), seq)
		}
		if j := slices.IndexFunc(p.X[i], func(v int32) bool { return v < 0 }); j >= 0 {
			return nil, formatErr(path, "x row %d holds the negative id %d", i, p.X[i][j])
		}
		if len(raw.Outputs[i]) != width {
			return nil, formatErr(path, "outputs row %d has %d values, row 0 has %d", i, len(raw.Outputs[i]), width)
		}
		p.Outputs[i] = make([]float32, width)
		for j, v := range raw.Outputs[i] {
			p.Outputs[i][j] = float32(v)
		}
	}
	return &p, nil
}

// Width returns the number of outputs per row: 1 (sigmoid) or 2 (softmax).
func (p *Predictions) Width() int { return len(p.Outputs[0]) }

// Positive returns P(positive) of row i: the sigmoid output, or the
// softmax's second column.
func (p *Predictions) Positive(i int) float32 { return p.Outputs[i][p.Width()-1] }

// Layer is one Keras layer as info.json records it.
type Layer struct {
	Class  string         `json:"class"` // "Embedding", "LSTM", "Bidirectional", "GRU", "Dense", …
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
}

// Info is the part of an info.json that the checks read: how the inputs
// were encoded and which layers the model has. A zero IndexFrom in the file
// (absent) means Keras's default 3.
type Info struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"` // "study" or "extra"
	NumWords   int     `json:"num_words"`
	MaxLen     int     `json:"maxlen"`
	Padding    string  `json:"padding"`
	Truncating string  `json:"truncating"`
	IndexFrom  int     `json:"index_from"`
	Layers     []Layer `json:"layers"`
	ONNX       struct {
		Ops []string `json:"ops"`
	} `json:"onnx"`
}

// ReadInfo reads an info.json. Errors: the file's; ErrFormat naming it for
// bad JSON, a num_words below 3, a non-positive maxlen or padding values
// other than "pre"/"post".
func ReadInfo(path string) (*Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var in Info
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, formatErr(path, "%v", err)
	}
	if in.IndexFrom == 0 {
		in.IndexFrom = 3
	}
	switch {
	case in.NumWords < 3:
		return nil, formatErr(path, "num_words %d (want ≥ 3)", in.NumWords)
	case in.MaxLen <= 0:
		return nil, formatErr(path, "maxlen %d (want > 0)", in.MaxLen)
	case in.Padding != "pre" && in.Padding != "post":
		return nil, formatErr(path, "padding %q (want pre or post)", in.Padding)
	case in.Truncating != "pre" && in.Truncating != "post":
		return nil, formatErr(path, "truncating %q (want pre or post)", in.Truncating)
	}
	return &in, nil
}

// Trainable reports whether birnn imports every layer of the Keras
// model into its trainer: an Embedding without mask_zero, LSTMs and GRUs
// (reset_after, Keras 2's default; plain or Bidirectional) with tanh and a
// sigmoid recurrent activation, global pooling over time and Dense layers.
// When it does not, why names the first layer that has no birnn equivalent.
func (in *Info) Trainable() (ok bool, why string) {
	cell := func(c map[string]any) string {
		if r, ok := c["reset_after"].(bool); ok && !r {
			return "reset_after=False"
		}
		if a, _ := c["activation"].(string); a != "" && a != "tanh" {
			return "activation " + a
		}
		if a, _ := c["recurrent_activation"].(string); a != "" && a != "sigmoid" {
			return "recurrent_activation " + a
		}
		return ""
	}
	for _, l := range in.Layers {
		switch l.Class {
		case "Embedding":
			if m, _ := l.Config["mask_zero"].(bool); m {
				return false, l.Name + ": Embedding with mask_zero"
			}
		case "LSTM", "GRU":
			if w := cell(l.Config); w != "" {
				return false, l.Name + ": " + l.Class + " " + w
			}
		case "Bidirectional":
			inner, _ := l.Config["layer"].(map[string]any)
			c, _ := inner["class"].(string)
			if c != "LSTM" && c != "GRU" {
				return false, fmt.Sprintf("%s: Bidirectional(%v)", l.Name, inner["class"])
			}
			if cfg, _ := inner["config"].(map[string]any); cfg != nil {
				inner = cfg
			}
			if w := cell(inner); w != "" {
				return false, l.Name + ": Bidirectional " + c + " " + w
			}
		case "Dense", "GlobalAveragePooling1D", "GlobalMaxPooling1D":
		default:
			return false, l.Name + ": " + l.Class
		}
	}
	return true, ""
}

// Export is one Keras model folder: the tf2onnx export and what Keras said
// about it.
type Export struct {
	Name        string // folder name, e.g. "deep_bilstm"
	Dir         string
	Info        *Info
	Predictions *Predictions
	Metrics     model.Metrics
}

// Model returns the path of the export's model.onnx.
func (e *Export) Model() string { return filepath.Join(e.Dir, model.ModelFile) }

// ReadExport reads the info.json, predictions.json and metrics.json of the
// Keras export folder dir and checks that they agree (maxlen, row count).
// Errors: a missing file (fs.ErrNotExist), ErrFormat naming a malformed
// one.
func ReadExport(dir string) (*Export, error) {
	e := &Export{Name: filepath.Base(dir), Dir: dir}
	var err error
	if e.Info, err = ReadInfo(filepath.Join(dir, InfoFile)); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, PredictionsFile)
	if e.Predictions, err = ReadPredictions(path); err != nil {
		return nil, err
	}
	if got := len(e.Predictions.X[0]); got != e.Info.MaxLen {
		return nil, formatErr(path, "rows of %d ids, but info.json says maxlen %d", got, e.Info.MaxLen)
	}
	if e.Metrics, err = model.ReadMetrics(filepath.Join(dir, model.MetricsFile)); err != nil {
		return nil, err
	}
	if _, err := os.Stat(e.Model()); err != nil {
		return nil, err
	}
	return e, nil
}

// Exports returns the folders under root that hold a model.onnx, sorted by
// name. Errors: root unreadable.
func Exports(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		p := filepath.Join(root, d.Name())
		if _, err := os.Stat(filepath.Join(p, model.ModelFile)); err == nil {
			dirs = append(dirs, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return dirs, nil
}

// ReadLabels reads a test_labels.txt: one line of '0'/'1' characters, one
// per test row in Keras order (a final newline is allowed). Errors: the
// file's; ErrFormat naming it and the first position of another byte.
func ReadLabels(path string) ([]int8, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, formatErr(path, "no labels")
	}
	out := make([]int8, len(b))
	for i, c := range b {
		switch c {
		case '0', '1':
			out[i] = int8(c - '0')
		default:
			return nil, formatErr(path, "byte %d is %q, want '0' or '1'", i, c)
		}
	}
	return out, nil
}
