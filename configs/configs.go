package configs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// runs are the study's runs in the order of DESIGN.md §1.
var runs = []string{"deep_lstm", "bilstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout", "deep_bilstm_adam_dropout"}

// Runs returns the names of the study's five runs, in the study's order.
func Runs() []string { return append([]string(nil), runs...) }

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
}

// Model is the architecture: an embedding followed by layers.
type Model struct {
	Embedding Embedding `yaml:"embedding"`
	Layers    []Layer   `yaml:"layers"`
}

// Embedding is the input layer mapping word ids to vectors.
type Embedding struct {
	Dim         int    `yaml:"dim"`
	Initializer string `yaml:"initializer"`
}

// Layer is an LSTM (optionally bidirectional) or a Dense layer.
type Layer struct {
	Type                 string  `yaml:"type"` // lstm | dense
	Units                int     `yaml:"units"`
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
}

// Optimizer names a Keras optimizer and its hyper-parameters. Fields left at
// zero take Keras 2.15's default for that optimizer.
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
}

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// Error is a configuration error tied to one key.
type Error struct {
	Key string // dotted path, e.g. model.layers[0].units
	Msg string
}

func (e *Error) Error() string { return "configs: " + e.Key + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errf(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Load resolves nameOrFile — one of Runs() or a path to a YAML file — on top
// of the defaults, fills optimizer defaults and validates the result.
func Load(nameOrFile string) (*Config, error) {
	src, data, err := source(nameOrFile)
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

// Defaults returns the configuration every run starts from (no layers).
func Defaults() *Config {
	c := &Config{}
	b, err := files.ReadFile("defaults.yaml")
	if err != nil {
		panic("configs: embedded defaults missing: " + err.Error())
	}
	if err := decode(b, c); err != nil {
		panic("configs: embedded defaults invalid: " + err.Error())
	}
	return c
}

// Parse layers YAML over the defaults, then resolves and validates it.
func Parse(data []byte) (*Config, error) {
	c := Defaults()
	if err := decode(data, c); err != nil {
		return nil, err
	}
	if err := c.Resolve(); err != nil {
		return nil, err
	}
	return c, nil
}

func source(nameOrFile string) (string, []byte, error) {
	for _, r := range runs {
		if r == nameOrFile {
			b, err := files.ReadFile(r + ".yaml")
			return r, b, err
		}
	}
	b, err := os.ReadFile(nameOrFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && filepath.Ext(nameOrFile) == "" {
			return "", nil, fmt.Errorf("configs: no run named %q and no such file (runs: %s)", nameOrFile, strings.Join(runs, ", "))
		}
		return "", nil, fmt.Errorf("configs: %w", err)
	}
	return nameOrFile, b, nil
}

// decode overlays YAML on c after checking every key against the schema.
func decode(data []byte, c *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("configs: malformed YAML: %w: %w", err, ErrInvalid)
	}
	if len(root.Content) == 0 {
		return nil // empty document: defaults only
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return errf("(document)", "want a mapping of keys, got %s", kindName(doc))
	}
	if err := checkKeys(doc, reflect.TypeOf(*c), ""); err != nil {
		return err
	}
	if err := doc.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("configs: %s: %w", strings.Join(te.Errors, "; "), ErrInvalid)
		}
		return fmt.Errorf("configs: %w: %w", err, ErrInvalid)
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return "a scalar"
	}
}

func yamlName(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("yaml"), ",")[0]
}

// checkKeys reports the first key in n that t has no field for, with its full path.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errf(strings.TrimPrefix(path, "."), "want a mapping, got %s (line %d)", kindName(n), n.Line)
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			fields[yamlName(t.Field(i))] = t.Field(i)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := strings.TrimPrefix(path+"."+k.Value, ".")
			f, ok := fields[k.Value]
			if !ok {
				return errf(key, "unknown key (line %d)", k.Line)
			}
			if err := checkKeys(v, f.Type, "."+key); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return errf(strings.TrimPrefix(path, "."), "want a list, got %s (line %d)", kindName(n), n.Line)
		}
		for i, e := range n.Content {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return errf(strings.TrimPrefix(path, "."), "want a single value, got %s (line %d)", kindName(n), n.Line)
		}
	}
	return nil
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

// Keys lists every settable scalar key (dotted paths, layers excluded), sorted.
func Keys() []string {
	var keys []string
	walkScalars(reflect.TypeOf(Config{}), "", func(key string, _ []int) { keys = append(keys, key) })
	sort.Strings(keys)
	return keys
}

func walkScalars(t reflect.Type, prefix string, fn func(key string, index []int)) {
	var rec func(t reflect.Type, prefix string, index []int)
	rec = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := prefix + yamlName(f)
			idx := append(append([]int(nil), index...), i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				rec(ft, key+".", idx)
			case reflect.Slice:
				// lists (model.layers) are set from files, not single keys
			default:
				fn(key, idx)
			}
		}
	}
	rec(t, prefix, nil)
}

// Set overrides one scalar key (e.g. "train.epochs") from its text form.
// Call Resolve afterwards to re-validate.
func (c *Config) Set(key, value string) error {
	var found bool
	var setErr error
	walkScalars(reflect.TypeOf(*c), "", func(k string, index []int) {
		if k != key {
			return
		}
		found = true
		v := reflect.ValueOf(c).Elem()
		for _, i := range index {
			v = v.Field(i)
			if v.Kind() == reflect.Pointer {
				if v.IsNil() {
					v.Set(reflect.New(v.Type().Elem()))
				}
				v = v.Elem()
			}
		}
		setErr = setScalar(v, key, value)
	})
	if !found {
		return errf(key, "unknown key (known: %s)", strings.Join(Keys(), ", "))
	}
	return setErr
}

func setScalar(v reflect.Value, key, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return errf(key, "want an integer, got %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return errf(key, "want a number, got %q", s)
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errf(key, "want true or false, got %q", s)
		}
		v.SetBool(b)
	default:
		return errf(key, "cannot be set from text")
	}
	return nil
}

// EnvName is the environment variable that overrides key: BIRNN_ followed by
// the key upper-cased with dots as underscores (train.epochs →
// BIRNN_TRAIN_EPOCHS). data.dir is also read from BIRNN_DATA.
func EnvName(key string) string {
	return "BIRNN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// ApplyEnv overrides keys from BIRNN_* variables in environ (os.Environ()
// form). Variables that name no key are left alone: other parts of birnn
// read their own BIRNN_* settings.
func (c *Config) ApplyEnv(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if v, ok := env["BIRNN_DATA"]; ok && v != "" {
		c.Data.Dir = v
	}
	for _, key := range Keys() {
		if v, ok := env[EnvName(key)]; ok {
			if err := c.Set(key, v); err != nil {
				return fmt.Errorf("%s: %w", EnvName(key), err)
			}
		}
	}
	return nil
}
