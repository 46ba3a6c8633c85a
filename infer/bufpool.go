package infer

import (
	"context"
	"sync"
	"unsafe"
)

// floatPool recycles the large float32 buffers of a session's intermediate
// tensors between runs, so that a steady state allocates almost nothing:
// an op that makes a big output (a recurrent layer's Y) takes its buffer
// from the pool, and the run gives it back when the tensor's last reader
// has run and no live value shares its memory (a view of it). Buffers
// that end a run still in use (outputs handed to the caller, values read
// by nobody) are forgotten, never reused.
//
// A served model runs at every batch size, so idle buffers are not kept by
// size: a run takes the smallest idle buffer that is large enough (and not
// more than twice too large), and the pool keeps at most maxPooled idle
// buffers.
type floatPool struct {
	mu   sync.Mutex
	free [][]float32     // idle buffers (full capacity)
	lent map[uintptr]int // first element's address → capacity, of buffers out
}

// minPooled is the smallest buffer worth pooling (floats): smaller ones
// cost less to allocate than to track.
const minPooled = 1 << 14

// maxPooled bounds the idle buffers (a run of a deep model holds a few,
// concurrent runs their own).
const maxPooled = 8

func newFloatPool() *floatPool {
	return &floatPool{lent: map[uintptr]int{}}
}

type poolKey struct{}

// withPool returns ctx carrying p for the ops of a run.
func withPool(ctx context.Context, p *floatPool) context.Context {
	return context.WithValue(ctx, poolKey{}, p)
}

// poolFrom returns the run's pool, or nil.
func poolFrom(ctx context.Context) *floatPool {
	if ctx == nil {
		return nil
	}
	p, _ := ctx.Value(poolKey{}).(*floatPool)
	return p
}

// get returns a buffer of n floats, not zeroed; from a nil pool or for a
// small n, a new one.
func (p *floatPool) get(n int) []float32 {
	if p == nil || n < minPooled {
		return make([]float32, n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		if c := cap(b); c >= n && c <= 2*n && (best < 0 || c < cap(p.free[best])) {
			best = i
		}
	}
	var b []float32
	if best >= 0 {
		b = p.free[best]
		p.free = append(p.free[:best], p.free[best+1:]...)
	} else {
		b = make([]float32, n)
	}
	p.lent[uintptr(unsafe.Pointer(&b[0]))] = cap(b)
	return b[:n]
}

// release takes back t's buffer if the pool lent it and no tensor of live
// overlaps it.
func (p *floatPool) release(t *Tensor, live []*Tensor) {
	ptr := dataPtr(t)
	if p == nil || ptr == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.lent[ptr]
	if !ok {
		return
	}
	end := ptr + uintptr(4*n)
	for _, v := range live {
		if v == nil {
			continue
		}
		if q := dataPtr(v); q >= ptr && q < end {
			return // a view still reads it; forgotten at the end of the run
		}
	}
	delete(p.lent, ptr)
	b := t.Data.([]float32)
	if len(p.free) < maxPooled {
		p.free = append(p.free, b[:n:n])
	}
}

// forget drops the pool's claim on the buffers of vals, which outlive the
// run.
func (p *floatPool) forget(vals []*Tensor) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lent) == 0 {
		return
	}
	for _, v := range vals {
		if v != nil {
			delete(p.lent, dataPtr(v))
		}
	}
}
