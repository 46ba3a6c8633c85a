package configs

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the strict decoder: it must never
// panic, and every failure must be a configuration error (ErrInvalid),
// with a key when it is an *Error.
func FuzzParse(f *testing.F) {
	for _, r := range Runs() {
		_, b, err := Source(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "data: [1, 2]\n", "model:\n  layers: [{type: lstm, unit: 2}]\n", "train: {epochs: many}\n",
		"a: &x 1\nb: *x\n", "data: {num_words: [1]}\n", "- 1\n- 2\n", "train: {epochs: 1}\ntrain: {epochs: 2}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			var ce *Error
			if errors.As(err, &ce) && ce.Key == "" {
				t.Fatalf("*Error without a key: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("no config and no error")
		}
		_ = c.Validate()
	})
}
