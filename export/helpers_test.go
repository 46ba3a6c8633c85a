package export_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/model"
)

// sample is one input batch and the reference forward pass's output on it.
type sample struct {
	batch, seq int
	ids        []int32
	want       []float64
}

// parityCase is an architecture with random weights and reference outputs
// at several batch sizes and sequence lengths.
type parityCase struct {
	modeltest.Arch
	m       *model.Model
	samples []sample
}

var (
	parityOnce  sync.Once
	parityCache []parityCase
)

// parityCases builds every architecture's case once per test process: the
// float64 reference is the slow part of the parity tests.
func parityCases(t testing.TB) []parityCase {
	parityOnce.Do(func() {
		for i, a := range modeltest.Architectures(t) {
			c := parityCase{Arch: a, m: modeltest.RandomModel(t, a.Cfg, uint64(i+1))}
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			for _, bs := range [][2]int{{1, 1}, {3, 7}, {17, 100}, {2, 130}} {
				ids := modeltest.PostPad(c.m, modeltest.RandomIDs(rng, bs[0], bs[1], a.Cfg.Data.NumWords), bs[0], bs[1])
				c.samples = append(c.samples, sample{bs[0], bs[1], ids, modeltest.RefForward(c.m, ids, bs[0], bs[1])})
			}
			parityCache = append(parityCache, c)
		}
	})
	if len(parityCache) == 0 {
		t.Fatal("no parity cases")
	}
	return parityCache
}
