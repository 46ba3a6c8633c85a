package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/train"
)

// Every command reads its settings one way, in one order:
//
//	defaults < the file (--config) < BIRNN_<SECTION>_<KEY> environment < flags
//
// A setting's key is SECTION.KEY. The run configuration's keys are its own
// (data.num_words, train.epochs, train.optimizer.learning_rate: the file is
// the run's YAML, the defaults configs/defaults.yaml); every flag of a
// command sets <command>.<flag> (serve.max_batch ← --max-batch ←
// BIRNN_SERVE_MAX_BATCH, predict.batch ← --batch ← BIRNN_PREDICT_BATCH),
// except the flags that set a run configuration key: --data (data.dir,
// also read from BIRNN_DATA), --epochs (train.epochs), --limit
// (data.limit) and the data commands' --num-words, --maxlen, … (data.*).
// The flags are bound to viper, which decides the order; a value from the
// environment or a file is checked as the flag would check it, and an
// error names where it came from. Repeatable flags (--text, --input, --set)
// are flags only.

// keyAnnotation is the flag annotation naming the key a flag sets when it
// is not <command>.<flag>.
const keyAnnotation = "birnn.key"

// fileAnnotation marks a command whose --config flag is a settings file of
// its own section's keys (serve), rather than a run configuration.
const fileAnnotation = "birnn.settings-file"

// setKey makes flag of cmd set key.
func setKey(cmd *cobra.Command, flag, key string) {
	fs := cmd.Flags()
	if fs.Lookup(flag) == nil {
		fs = cmd.PersistentFlags()
	}
	if err := fs.SetAnnotation(flag, keyAnnotation, []string{key}); err != nil {
		panic(err) // a flag name misspelt in a command's file
	}
}

// settingKey is the key flag f of cmd sets; "" for flags that are none.
func settingKey(cmd *cobra.Command, f *pflag.Flag) string {
	if k := f.Annotations[keyAnnotation]; len(k) == 1 {
		return k[0]
	}
	switch f.Name {
	case "help", "version", "set":
		return ""
	}
	if t := f.Value.Type(); t == "stringArray" {
		return "" // repeatable: flags only
	}
	return section(cmd) + "." + strings.ReplaceAll(f.Name, "-", "_")
}

// section is the top-level command's name: predict for birnn predict, data
// for birnn data info.
func section(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd.Name()
}

// envName is the environment variable of key: BIRNN_ and the key upper
// case, dots and dashes as underscores (train.epochs → BIRNN_TRAIN_EPOCHS).
func envName(key string) string {
	return "BIRNN_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// envNames are the variables of key, first first: envName(key), and for
// data.dir also BIRNN_DATA, its older name.
func envNames(key string) []string {
	if key == "data.dir" {
		return []string{envName(key), "BIRNN_DATA"}
	}
	return []string{envName(key)}
}

// bindEnv makes v read key from its variables. Keys are bound one by one
// rather than with viper's AutomaticEnv, which would take BIRNN_DATA for a
// value of the whole data section and hide data.*.
func bindEnv(v *viper.Viper, key string) {
	_ = v.BindEnv(append([]string{key}, envNames(key)...)...)
}

// envValue is the set variable of key and its value; ok is false if none.
func envValue(key string) (name, value string, ok bool) {
	for _, n := range envNames(key) {
		if v := os.Getenv(n); v != "" {
			return n, v, true
		}
	}
	return "", "", false
}

// envSource names the variable a key's value came from (with the value,
// unless it is a secret such as admin_token), "" if none.
func envSource(key string) string {
	name, value, ok := envValue(key)
	switch {
	case !ok:
		return ""
	case strings.Contains(key, "token"):
		return name
	}
	return name + "=" + value
}

// applySettings gives every flag of cmd that the command line left unset
// the value of its setting from the environment, else from the command's
// settings file, each checked as the flag would check it. It runs before
// every command.
func applySettings(cmd *cobra.Command) error {
	v := viper.New()
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	flags := cmd.Flags()
	var file *settingsFile
	if cmd.Annotations[fileAnnotation] != "" {
		f := flags.Lookup("config")
		if _, val, ok := envValue(section(cmd) + ".config"); ok && !f.Changed {
			_ = f.Value.Set(val)
		}
		if path := f.Value.String(); path != "" {
			var err error
			if file, err = readSettingsFile(cmd, path); err != nil {
				return err
			}
			if err := v.MergeConfigMap(file.values); err != nil {
				return usageErr(fmt.Errorf("%s: %w", path, err))
			}
		}
	}
	flags.VisitAll(func(f *pflag.Flag) {
		key := settingKey(cmd, f)
		if key == "" || f.Changed || (file != nil && f.Name == "config") {
			return
		}
		if err := v.BindPFlag(key, f); err != nil {
			fail(err)
			return
		}
		bindEnv(v, key)
		if !v.IsSet(key) {
			return
		}
		src := envSource(key)
		if src == "" && file != nil {
			src = fmt.Sprintf("%s: %s (line %d)", file.path, strings.TrimPrefix(key, section(cmd)+"."), file.lines[key])
		}
		if err := setFlag(f, v.Get(key)); err != nil {
			fail(usagef("%s: %v for --%s", src, err, f.Name))
		}
	})
	return firstErr
}

// setFlag sets f from a setting's value: a string from the environment, or
// a YAML scalar or list from a file.
func setFlag(f *pflag.Flag, val any) error {
	if list, ok := val.([]any); ok {
		for _, x := range list {
			if err := f.Value.Set(fmt.Sprint(x)); err != nil {
				return err
			}
		}
		return nil
	}
	return f.Value.Set(fmt.Sprint(val))
}

// settingsFile is a command's YAML settings file: its keys are the
// command's flags with _ for -, under the command's section.
type settingsFile struct {
	path   string
	values map[string]any // {section: {key: value}}
	lines  map[string]int // section.key → line
}

// readSettingsFile reads path as cmd's settings. Unknown keys and values
// that are not a scalar (or a list, for a list flag) are errors naming the
// key and the line.
func readSettingsFile(cmd *cobra.Command, path string) (*settingsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s: config: %w", section(cmd), err))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, usagef("%s: malformed YAML: %v", path, err)
	}
	sec := section(cmd)
	f := &settingsFile{path: path, values: map[string]any{}, lines: map[string]int{}}
	inner := map[string]any{}
	f.values[sec] = inner
	if len(root.Content) == 0 {
		return f, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, usagef("%s: want a mapping of settings (line %d)", path, doc.Line)
	}
	known := map[string]*pflag.Flag{}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if k := settingKey(cmd, fl); strings.HasPrefix(k, sec+".") && fl.Name != "config" {
			known[strings.TrimPrefix(k, sec+".")] = fl
		}
	})
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, val := doc.Content[i], doc.Content[i+1]
		fl, ok := known[k.Value]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			slices.Sort(names)
			return nil, usagef("%s: %s: unknown key (line %d; known: %s)", path, k.Value, k.Line, strings.Join(names, ", "))
		}
		var x any
		if err := val.Decode(&x); err != nil {
			return nil, usagef("%s: %s: %v (line %d)", path, k.Value, err, val.Line)
		}
		if _, isList := x.([]any); (isList && !strings.Contains(fl.Value.Type(), "Slice")) || val.Kind == yaml.MappingNode {
			return nil, usagef("%s: %s: want a single value (line %d)", path, k.Value, val.Line)
		}
		inner[k.Value] = x
		f.lines[sec+"."+k.Value] = val.Line
	}
	return f, nil
}

// dataDir is the data folder: --data, else BIRNN_DATA_DIR (BIRNN_DATA),
// else data.dir of the defaults (./data). Commands with a run
// configuration read it from there (runConfig), with the same order.
func dataDir(cmd *cobra.Command) string {
	v, _, err := runSettings(cmd, "defaults", nil)
	if err != nil {
		return configs.Defaults().Data.Dir
	}
	return v.GetString("data.dir")
}

// loadRunConfig resolves a run given as NAME|FILE: see runConfig.
func loadRunConfig(cmd *cobra.Command, nameOrFile string) (*configs.Config, error) {
	src, data, err := configs.Source(nameOrFile)
	if err != nil {
		return nil, usageErr(err)
	}
	cfg, err := runConfig(cmd, src, data)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	}
	return cfg, nil
}

// runConfig resolves a run configuration: configs/defaults.yaml < data (the
// run's YAML, from src; nil for none) < BIRNN_* variables < the flags that
// set configuration keys < --set key=value; then train.Resolve checks it.
// Unknown keys in data are errors with their line (configs.Parse); every
// other error names the key and where its value came from. All are usage
// errors (exit status 2).
func runConfig(cmd *cobra.Command, src string, data []byte) (*configs.Config, error) {
	v, source, err := runSettings(cmd, src, data)
	if err != nil {
		return nil, err
	}
	var cfg configs.Config
	err = v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.TagName = "yaml"
		dc.WeaklyTypedInput = true
	})
	var de *mapstructure.DecodeError
	switch {
	case errors.As(err, &de):
		return nil, usageErr(&configs.Error{Key: de.Name(), Msg: fmt.Sprintf("%v (from %s)", de.Unwrap(), source(de.Name()))})
	case err != nil:
		return nil, usageErr(fmt.Errorf("%s: %w", src, err))
	}
	if err := train.Resolve(&cfg); err != nil {
		var ce *configs.Error
		var se *model.SpecError
		switch {
		case errors.As(err, &ce) && source(ce.Key) != src:
			err = fmt.Errorf("%s: %w", source(ce.Key), err)
		case errors.As(err, &se) && source(se.Key) != src:
			err = fmt.Errorf("%s: %w", source(se.Key), err)
		default:
			err = fmt.Errorf("%s: %w", src, err)
		}
		return nil, usageErr(err)
	}
	return &cfg, nil
}

// runSettings is the viper of a run configuration (see runConfig), and
// the source of each key's value: the flag, the variable, else src.
func runSettings(cmd *cobra.Command, src string, data []byte) (*viper.Viper, func(key string) string, error) {
	if _, err := configs.Parse(data); err != nil {
		return nil, nil, usageErr(fmt.Errorf("%s: %w", src, err))
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(configs.DefaultsYAML())); err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := v.MergeConfig(bytes.NewReader(data)); err != nil {
			return nil, nil, usageErr(fmt.Errorf("%s: %w", src, err))
		}
	}
	known := map[string]bool{}
	for _, k := range v.AllKeys() {
		if _, isList := v.Get(k).([]any); !isList {
			known[k] = true
			bindEnv(v, k)
		}
	}
	from := map[string]string{} // key → the flag that set it
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if k := settingKey(cmd, f); known[k] {
			v.Set(k, f.Value.String())
			from[k] = "--" + f.Name + " " + f.Value.String()
		}
	})
	if f := cmd.Flags().Lookup("set"); f != nil {
		sets, err := cmd.Flags().GetStringArray("set")
		if err != nil {
			return nil, nil, err
		}
		for _, s := range sets {
			k, val, ok := strings.Cut(s, "=")
			k = strings.TrimSpace(k)
			switch {
			case !ok:
				return nil, nil, usagef("--set %q: want key=value", s)
			case !known[k]:
				return nil, nil, usageErr(&configs.Error{Key: k, Msg: "unknown key (--set takes the scalar keys `birnn config show` prints; layers are set in a file)"})
			}
			v.Set(k, val)
			from[k] = "--set " + s
		}
	}
	source := func(key string) string {
		if s, ok := from[key]; ok {
			return s
		}
		if s := envSource(key); s != "" {
			return s
		}
		return src
	}
	return v, source, nil
}
