// Package configs holds birnn's run configurations: the study's five runs as
// YAML files embedded in the binary, the defaults beneath them, and the code
// that layers, overrides and validates them.
//
//	defaults.yaml < run file (embedded name or path) < BIRNN_* environment < flags (Set)
//
// Every key is checked: an unknown key or an invalid value is an *Error that
// names the key, e.g. "configs: model.layers[1].merge_mode: unknown value
// "foo" (want concat, sum, mul or ave)".
package configs
