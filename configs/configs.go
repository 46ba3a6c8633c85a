package configs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// runs are the study's runs in the study's order.
var runs = []string{"deep_lstm", "bilstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"}

// exercises are the embedded runs beyond the study's: its exercises (another
// dataset, better accuracy).
var exercises = []string{"sst2_deep_bilstm", "sst2_bilstm", "sst2_best", "imdb_best", "imdb_long", "sst2_gru_masked"}

// Runs returns the names of the study's five runs, in the study's order.
func Runs() []string { return slices.Clone(runs) }

// Names returns every embedded run: the study's five, then the exercises'.
func Names() []string { return slices.Concat(runs, exercises) }

// Config is one training run: data, architecture and optimisation.
type Config struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Data        Data   `yaml:"data"`
	Model       Model  `yaml:"model"`
	Train       Train  `yaml:"train"`
}

// Data selects and shapes the dataset, as keras.datasets.imdb.load_data and
// pad_sequences do.
type Data struct {
	Dir        string `yaml:"dir"`        // data folder; default ./data
	NumWords   int    `yaml:"num_words"`  // vocabulary size; 0 keeps every word
	SkipTop    int    `yaml:"skip_top"`   // most frequent words mapped to oov
	MaxLen     int    `yaml:"maxlen"`     // padded length
	Padding    string `yaml:"padding"`    // pre | post
	Truncating string `yaml:"truncating"` // pre | post
	Seed       int64  `yaml:"seed"`       // load_data shuffle seed (113)
	IndexFrom  int    `yaml:"index_from"` // word ids start here (3)
	Limit      int    `yaml:"limit"`      // 0 = all rows; else the first N train and N test rows

	// Source is imdb (the study's data in Dir) or a labelled text dataset
	// of the user's: tsv, csv, jsonl (a file per split) or folder (a folder
	// per split, a folder per class inside). Text sources build their
	// vocabulary from the training split as keras Tokenizer does.
	Source      string `yaml:"source"`
	Name        string `yaml:"name"`         // what reports call the data; "" = imdb, or the train path
	Train       string `yaml:"train"`        // text sources: training split, under Dir unless absolute
	Validation  string `yaml:"validation"`   // optional split that replaces train.validation_split
	Test        string `yaml:"test"`         // test split
	TextColumn  string `yaml:"text_column"`  // column or key of the text; "a|b" = the first present
	LabelColumn string `yaml:"label_column"` // column or key of the label
	Labels      string `yaml:"labels"`       // "negative=0,positive=1"; "" = integer labels / sorted class folders
	OOVToken    string `yaml:"oov_token"`    // Tokenizer oov_token; "" = None (unknown words dropped)
}

// Data sources (Data.Source).
const (
	SourceIMDB   = "imdb"
	SourceTSV    = "tsv"
	SourceCSV    = "csv"
	SourceJSONL  = "jsonl"
	SourceFolder = "folder"
)

// Model is the architecture: an embedding followed by layers. The layers'
// schema (which keys a layer takes, their defaults and their checks) is
// package model's (model.Resolve); this package only decodes them.
type Model struct {
	Embedding Embedding `yaml:"embedding"`
	Layers    []Layer   `yaml:"layers"`
}

// Embedding is the input layer mapping word ids to vectors.
type Embedding struct {
	Dim         int    `yaml:"dim"`
	Initializer string `yaml:"initializer"`
	MaskZero    bool   `yaml:"mask_zero,omitempty"` // id 0 is padding the recurrent layers skip
	// Dropout on the embedding's output vectors: shorthand for a first
	// layer {type: dropout, rate: Dropout} (Keras Embedding → Dropout),
	// which train.Resolve writes out.
	Dropout float64 `yaml:"dropout,omitempty"`
}

// Layer is one layer after the embedding; package model owns its schema.
type Layer struct {
	Type                 string  `yaml:"type"` // lstm | gru | simple_rnn | dense | dropout | spatial_dropout1d | global_max_pool | global_average_pool
	Units                int     `yaml:"units"`
	Rate                 float64 `yaml:"rate,omitempty"`    // dropout and spatial_dropout1d layers
	Dropout              float64 `yaml:"dropout,omitempty"` // recurrent layers: dropout on their input
	Bidirectional        bool    `yaml:"bidirectional,omitempty"`
	MergeMode            string  `yaml:"merge_mode,omitempty"` // concat | sum | mul | ave
	ReturnSequences      bool    `yaml:"return_sequences,omitempty"`
	RecurrentDropout     float64 `yaml:"recurrent_dropout,omitempty"`
	KernelInitializer    string  `yaml:"kernel_initializer,omitempty"`
	RecurrentInitializer string  `yaml:"recurrent_initializer,omitempty"`
	BiasInitializer      string  `yaml:"bias_initializer,omitempty"`
	UnitForgetBias       *bool   `yaml:"unit_forget_bias,omitempty"`
	Activation           string  `yaml:"activation,omitempty"` // dense: sigmoid | linear | relu | tanh | softmax
}

// Train holds the optimisation settings of Keras's compile and fit.
type Train struct {
	Optimizer       Optimizer `yaml:"optimizer"`
	BatchSize       int       `yaml:"batch_size"`
	Epochs          int       `yaml:"epochs"`
	ValidationSplit float64   `yaml:"validation_split"`
	Seed            int64     `yaml:"seed"` // weights, shuffles and dropout masks
	Shuffle         *bool     `yaml:"shuffle,omitempty"`

	// Callbacks and schedules (package train: callbacks.go).
	LRSchedule        LRSchedule        `yaml:"lr_schedule"`
	ReduceLROnPlateau ReduceLROnPlateau `yaml:"reduce_lr_on_plateau"`
	EarlyStopping     EarlyStopping     `yaml:"early_stopping"`
}

// LRSchedule is a learning-rate schedule over optimizer steps: "" (none) or
// cosine (Keras CosineDecay(learning_rate, decay_steps, alpha)).
type LRSchedule struct {
	Name       string  `yaml:"name"`
	DecaySteps int     `yaml:"decay_steps"` // 0 = the whole run (epochs × steps per epoch)
	Alpha      float64 `yaml:"alpha"`       // final fraction of the learning rate
}

// ReduceLROnPlateau is Keras's callback of that name; Monitor "" turns it off.
type ReduceLROnPlateau struct {
	Monitor  string  `yaml:"monitor"` // val_loss | val_accuracy | loss | accuracy
	Factor   float64 `yaml:"factor"`
	Patience int     `yaml:"patience"`
	MinDelta float64 `yaml:"min_delta"`
	Cooldown int     `yaml:"cooldown"`
	MinLR    float64 `yaml:"min_lr"`
}

// EarlyStopping is Keras's callback of that name; Monitor "" turns it off.
type EarlyStopping struct {
	Monitor            string  `yaml:"monitor"`
	Patience           int     `yaml:"patience"`
	MinDelta           float64 `yaml:"min_delta"`
	RestoreBestWeights bool    `yaml:"restore_best_weights"`
}

// Optimizer names a Keras optimizer and its hyper-parameters. Fields left at
// zero take Keras 2.15's default for that optimizer (package train owns the
// optimizers and their defaults).
type Optimizer struct {
	Name               string  `yaml:"name"`
	LearningRate       float64 `yaml:"learning_rate,omitempty"`
	Beta1              float64 `yaml:"beta_1,omitempty"`
	Beta2              float64 `yaml:"beta_2,omitempty"`
	Epsilon            float64 `yaml:"epsilon,omitempty"`
	Rho                float64 `yaml:"rho,omitempty"`
	Momentum           float64 `yaml:"momentum,omitempty"`
	Nesterov           bool    `yaml:"nesterov,omitempty"`
	InitialAccumulator float64 `yaml:"initial_accumulator_value,omitempty"`
	// Decoupled weight decay (Keras 2.15 optimizers' weight_decay: w −=
	// lr·weight_decay·w before each update); adamw defaults to 0.004.
	WeightDecay float64 `yaml:"weight_decay,omitempty"`
	// Gradient clipping, at most one of them: each weight's gradient to
	// norm clipnorm, all of them to global norm global_clipnorm, or each
	// value into ±clipvalue.
	ClipNorm       float64 `yaml:"clipnorm,omitempty"`
	GlobalClipNorm float64 `yaml:"global_clipnorm,omitempty"`
	ClipValue      float64 `yaml:"clipvalue,omitempty"`
}

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// Error is a configuration error tied to one key.
type Error struct {
	Key  string // dotted path, e.g. model.layers[0].units
	Msg  string
	Line int // line in the YAML source; 0 when the value came from elsewhere
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("configs: %s: %s (line %d)", e.Key, e.Msg, e.Line)
	}
	return "configs: " + e.Key + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errf(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Load reads nameOrFile — one of Runs() or a path to a YAML file — over the
// defaults (see Parse). The name defaults to the file's base name.
func Load(nameOrFile string) (*Config, error) {
	src, data, err := Source(nameOrFile)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if c.Name == "" {
		c.Name = strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	}
	return c, nil
}

// DefaultsYAML is the embedded defaults.yaml every run starts from: every
// scalar key with its default value.
func DefaultsYAML() []byte {
	b, err := files.ReadFile("defaults.yaml")
	if err != nil {
		panic("configs: embedded defaults missing: " + err.Error())
	}
	return b
}

// Defaults returns the configuration every run starts from (no layers).
func Defaults() *Config {
	c := &Config{}
	if err := Decode(DefaultsYAML(), c); err != nil {
		panic("configs: embedded defaults invalid: " + err.Error())
	}
	return c
}

// Parse decodes YAML over the defaults. Every key is checked against the
// schema and every value against its key's type: an unknown key or an
// ill-typed value is an *Error naming the key and the line. Values are not
// judged (Validate does that for the data and train sections, model.Resolve
// for the layers).
func Parse(data []byte) (*Config, error) {
	c := Defaults()
	if err := Decode(data, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Source returns the YAML of nameOrFile — an embedded run or a file — and
// the name to report it by. Errors: an unknown run name that is not a file
// either (listing the runs), an unreadable file.
func Source(nameOrFile string) (name string, data []byte, err error) {
	if slices.Contains(Names(), nameOrFile) {
		b, err := files.ReadFile(nameOrFile + ".yaml")
		return nameOrFile, b, err
	}
	b, err := os.ReadFile(nameOrFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && filepath.Ext(nameOrFile) == "" {
			return "", nil, fmt.Errorf("configs: no run named %q and no such file (runs: %s): %w", nameOrFile, strings.Join(Names(), ", "), ErrInvalid)
		}
		return "", nil, fmt.Errorf("configs: %w", err)
	}
	return nameOrFile, b, nil
}

// Decode decodes YAML onto out (a pointer to a struct with yaml tags) with
// yaml's KnownFields: keys out has no field for and values its fields
// cannot hold are errors. The first one is returned as an *Error naming
// its dotted key path (model.layers[0].unit) and line. An empty document
// changes nothing.
func Decode(data []byte, out any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("configs: malformed YAML: %w: %w", err, ErrInvalid)
	}
	if len(root.Content) == 0 {
		return nil // empty document: defaults only
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(out)
	var te *yaml.TypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && len(te.Errors) > 0:
		return typeError(root.Content[0], te.Errors[0])
	}
	return fmt.Errorf("configs: %w: %w", err, ErrInvalid)
}

// typeError turns one of yaml's messages ("line 3: field unit not found in
// type configs.Layer", "line 1: cannot unmarshal !!str `many` into int")
// into an *Error naming the key, found in the document by its line.
func typeError(doc *yaml.Node, msg string) error {
	var line int
	var rest string
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return &Error{Key: "(document)", Msg: msg}
	}
	_, rest, _ = strings.Cut(msg, ": ")
	if field, ok := strings.CutPrefix(rest, "field "); ok {
		name, _, _ := strings.Cut(field, " not found")
		if name == "" {
			return &Error{Key: "(document)", Msg: "an empty key", Line: line}
		}
		key := findKey(doc, "", func(k, _ *yaml.Node) bool { return k.Line == line && k.Value == name })
		if key == "" {
			key = name
		}
		return &Error{Key: key, Msg: "unknown key", Line: line}
	}
	unmarshal, ok := strings.CutPrefix(rest, "cannot unmarshal ")
	if !ok { // e.g. a key given twice
		return &Error{Key: "(document)", Msg: rest, Line: line}
	}
	what, into, _ := strings.Cut(unmarshal, " into ")
	tag, value, _ := strings.Cut(what, " ")
	value = strings.Trim(value, "`")
	prefix := strings.TrimSuffix(value, "...")
	key := findKey(doc, "", func(_, v *yaml.Node) bool {
		if v.Line != line {
			return false
		}
		switch tag {
		case "!!seq":
			return v.Kind == yaml.SequenceNode
		case "!!map":
			return v.Kind == yaml.MappingNode
		}
		return v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, prefix)
	})
	if key == "" {
		key = "(document)"
	}
	got := map[string]string{"!!seq": "a list", "!!map": "a mapping"}[tag]
	if got == "" {
		got = fmt.Sprintf("%q", value)
	}
	return &Error{Key: key, Msg: fmt.Sprintf("want %s, got %s", want(into), got), Line: line}
}

// want names what a Go type of yaml's message holds.
func want(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool", goType == "*bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case goType == "time.Duration":
		return "a duration such as 2ms or 1m"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}

// findKey walks the mappings and lists under n and returns the dotted path
// of the first, innermost entry (key node, value node) match accepts; ""
// if none.
// List items are matched with a nil key node.
func findKey(n *yaml.Node, path string, match func(k, v *yaml.Node) bool) string {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if p := findKey(v, join(k.Value), match); p != "" {
				return p // the innermost match: a mapping's line is its first key's
			}
			if match(k, v) {
				return join(k.Value)
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if q := findKey(v, p, match); q != "" {
				return q
			}
			if match(&yaml.Node{}, v) {
				return p
			}
		}
	}
	return ""
}

// YAML renders the configuration as YAML.
func (c *Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
