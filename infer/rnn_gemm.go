package infer

import (
	"sync"
	"unsafe"

	"github.com/birnn/birnn/internal/kernel"
)

// recurrentMat is a recurrent weight block R [n, k] used as Rᵀ in one
// product per time step, h [batch, k] · Rᵀ. For float32 it is packed once
// per run (kernel.PackB), or once per session when R is constant (see
// matCache), so the steps skip re-laying it out.
type recurrentMat[T rnnFloat] struct {
	r      []T
	n, k   int
	packed *kernel.PackedB
}

func newRecurrentMat[T rnnFloat](r []T, n, k int) *recurrentMat[T] {
	m := &recurrentMat[T]{r: r, n: n, k: k}
	if r32, ok := any(r).([]float32); ok {
		m.packed = kernel.PackB(true, k, n, r32, k)
	}
	return m
}

// matFunc builds the recurrentMat of a block r [n, k] of R.
type matFunc[T rnnFloat] func(r []T, n, k int) *recurrentMat[T]

// matCache keeps the packed blocks of an R fixed for a session's life, so
// that runs after the first skip packing. Keys are the block's address and
// shape: valid only because the tensor behind them never changes.
type matCache struct{ m sync.Map }

type matKey struct {
	p    uintptr
	n, k int
}

// cachedMats returns a matFunc that packs each block of R once.
func cachedMats[T rnnFloat](c *matCache) matFunc[T] {
	return func(r []T, n, k int) *recurrentMat[T] {
		if len(r) == 0 {
			return newRecurrentMat(r, n, k)
		}
		key := matKey{uintptr(unsafe.Pointer(&r[0])), n, k}
		if v, ok := c.m.Load(key); ok {
			return v.(*recurrentMat[T])
		}
		v, _ := c.m.LoadOrStore(key, newRecurrentMat(r, n, k))
		return v.(*recurrentMat[T])
	}
}

// mulAdd computes c = h·Rᵀ + beta·c for h [batch, k] (row stride k) and
// c [batch, n] (row stride ldc).
func (m *recurrentMat[T]) mulAdd(batch int, h []T, beta T, c []T, ldc int) {
	if m.packed != nil {
		kernel.GemmPacked(false, batch, 1, any(h).([]float32), m.k, m.packed, float32(beta), any(c).([]float32), ldc)
		return
	}
	kernel.Gemm(false, true, batch, m.n, m.k, 1, h, m.k, m.r, m.k, beta, c, ldc)
}

// Scratch buffers of recurrent runs (the x-projection of a whole sequence
// is the largest: [seq*batch, gates*H]) are recycled between runs so that
// large batches do not allocate and zero tens of megabytes each time.
var (
	scratch32 sync.Pool
	scratch64 sync.Pool
)

// getScratch returns a slice of n elements with unspecified contents.
func getScratch[T rnnFloat](n int) []T {
	var p *sync.Pool
	var z T
	if _, ok := any(z).(float32); ok {
		p = &scratch32
	} else {
		p = &scratch64
	}
	if v, ok := p.Get().(*[]T); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]T, n)
}

// putScratch hands s back for reuse; s must not be used afterwards.
func putScratch[T rnnFloat](s []T) {
	var z T
	if _, ok := any(z).(float32); ok {
		scratch32.Put(&s)
	} else {
		scratch64.Put(&s)
	}
}
