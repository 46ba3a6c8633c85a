// Package configs decodes birnn's run configurations: the study's five runs
// as YAML files embedded in the binary, and the defaults beneath them.
//
//	defaults.yaml < run file (an embedded name or a path)
//
// Decoding is strict: yaml's KnownFields refuses a key the schema has no
// field for, and a value its field cannot hold, as an *Error naming the
// dotted key and its line ("configs: model.layers[1].unit: unknown key
// (line 4)"). Validate checks the ranges of the data and train settings.
//
// What it does not do: judge the layers (model.Resolve owns their schema
// and defaults), the optimizer (package train owns it), or read the
// environment and flags — birnn's CLI layers BIRNN_<SECTION>_<KEY>
// variables and flags over the file with viper, in one order for every
// command: defaults < file < environment < flags.
package configs
