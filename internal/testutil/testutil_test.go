package testutil

import (
	"math"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestAllClose(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		got, want  []float64
		atol, rtol float64
		ok         bool
	}{
		{[]float64{1, 2}, []float64{1, 2}, 0, 0, true},
		{[]float64{1.0005}, []float64{1}, 0, 1e-3, true},
		{[]float64{1.002}, []float64{1}, 0, 1e-3, false},
		{[]float64{1e-8}, []float64{0}, 1e-7, 0, true},
		{[]float64{nan}, []float64{nan}, 0, 0, true},
		{[]float64{nan}, []float64{1}, 1, 1, false},
		{[]float64{math.Inf(1)}, []float64{math.Inf(1)}, 0, 0, true},
		{[]float64{1}, []float64{1, 2}, 1, 1, false},
	}
	for i, c := range cases {
		r := &recorder{TB: t}
		AllClose(r, c.got, c.want, c.atol, c.rtol)
		if r.failed == c.ok {
			t.Errorf("case %d: AllClose(%v, %v, %g, %g) failed=%v, want %v", i, c.got, c.want, c.atol, c.rtol, r.failed, !c.ok)
		}
	}
}
