package model

import "testing"

// FuzzDecodeMetrics: arbitrary metrics JSON never panics, and what is
// accepted holds an accuracy in [0, 1] and a non-negative n.
func FuzzDecodeMetrics(f *testing.F) {
	for _, s := range []string{`{"loss": 0.3867, "accuracy": 0.8279, "split": "test", "n": 25000}`,
		`{"loss": 0.4, "accuracy": 0.8414, "n": 10}`, `{`, `{"accuracy": 1.5}`, `[]`, `null`, `{"n": -1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMetrics(b, "fuzz")
		if err != nil {
			return
		}
		if !(m.Accuracy >= 0 && m.Accuracy <= 1) || m.N < 0 {
			t.Fatalf("accepted %+v", m)
		}
		_ = m.Numbers()
	})
}
