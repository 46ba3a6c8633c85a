package serve

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// job is one request's rows: texts or ids (exactly one is set). Rows are
// scored in batches, possibly several, and written back by index.
type job struct {
	ctx   context.Context
	texts []string
	ids   [][]int32
	h     *holder // the model generation holder to score on; nil: the server's default

	mu     sync.Mutex
	scores []float32
	models []string // per row, the ID of the model that scored it
	left   int
	err    error
	done   chan struct{}
}

func newJob(ctx context.Context, texts []string, ids [][]int32) *job {
	n := len(texts) + len(ids)
	return &job{ctx: ctx, texts: texts, ids: ids, scores: make([]float32, n), models: make([]string, n), left: n, done: make(chan struct{})}
}

func (j *job) len() int { return len(j.scores) }

// complete records row i's score (or the batch's error).
func (j *job) complete(i int, score float32, model string, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.err == nil {
		j.err = err
	}
	j.scores[i] = score
	j.models[i] = model
	j.left--
	if j.left == 0 {
		close(j.done)
	}
}

// item is one queued row.
type item struct {
	j   *job
	i   int
	enq time.Time
}

// batcher gathers rows of concurrent requests into batches of at most
// maxBatch rows. A worker takes a batch as soon as maxBatch rows wait, or
// when the oldest waiting row has waited maxWait, or earlier when no more
// rows are expected: no request is on its way (arriving: being read or
// checked, not yet queued) and at least as many rows wait as the previous
// batch had. The previous batch's clients, just answered, are the ones
// likely to come back; waiting for them keeps a closed loop of c clients
// at batches of c, while a lone client never waits for company. Rows of
// requests whose context is done are dropped instead of scored.
//
//	submit ─► queue (≤ capacity rows) ─► workers ─► run(batch) ─► job.complete
type batcher struct {
	maxBatch int
	maxWait  time.Duration
	capacity int
	run      func([]item)
	observe  func(depth int) // queue depth, after every change
	dropped  func(n int)     // rows skipped because their request was gone

	// arriving counts requests between arrival and submit (see arrive).
	arriving atomic.Int64

	mu     sync.Mutex
	queue  []item
	wake   chan struct{} // closed and replaced on every change
	closed bool
	last   int // rows of the previous batch
	wg     sync.WaitGroup
}

func newBatcher(maxBatch int, maxWait time.Duration, capacity, workers int, run func([]item), observe, dropped func(int)) *batcher {
	if observe == nil {
		observe = func(int) {}
	}
	if dropped == nil {
		dropped = func(int) {}
	}
	b := &batcher{maxBatch: maxBatch, maxWait: maxWait, capacity: capacity, run: run, observe: observe, dropped: dropped, wake: make(chan struct{}), last: 1}
	b.wg.Add(workers)
	for range workers {
		go b.work()
	}
	return b
}

// broadcast wakes every waiting worker; b.mu must be held.
func (b *batcher) broadcast() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// arrive notes a request that will probably submit rows soon; workers
// holding a partial batch wait for it (up to maxWait). The returned func
// ends the note and must be called once, after submit or instead of it.
func (b *batcher) arrive() (done func()) {
	b.arriving.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			if b.arriving.Add(-1) == 0 {
				// Workers waiting for this request can go now.
				b.mu.Lock()
				b.broadcast()
				b.mu.Unlock()
			}
		})
	}
}

// submit queues all of j's rows, or none: ErrQueueFull when they do not
// fit, ErrDraining after close.
func (b *batcher) submit(j *job) error {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrDraining
	}
	if len(b.queue)+j.len() > b.capacity {
		return ErrQueueFull
	}
	for i := range j.len() {
		b.queue = append(b.queue, item{j: j, i: i, enq: now})
	}
	b.observe(len(b.queue))
	b.broadcast()
	return nil
}

// close stops accepting rows and returns when every queued row has been
// scored or dropped.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		b.broadcast()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *batcher) work() {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, ok := b.next(timer)
		if !ok {
			return
		}
		if len(batch) > 0 {
			b.run(batch)
		}
	}
}

// next waits for a batch; ok is false when the batcher is closed and
// empty. The batch may be empty when every row taken was cancelled.
func (b *batcher) next(timer *time.Timer) (batch []item, ok bool) {
	b.mu.Lock()
	for {
		if len(b.queue) == 0 {
			if b.closed {
				b.mu.Unlock()
				return nil, false
			}
			w := b.wake
			b.mu.Unlock()
			<-w
			b.mu.Lock()
			continue
		}
		if len(b.queue) >= b.maxBatch || b.closed || len(b.queue) >= b.last && b.arriving.Load() == 0 {
			break
		}
		wait := time.Until(b.queue[0].enq.Add(b.maxWait))
		if wait <= 0 {
			break
		}
		w := b.wake
		b.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-w:
			// Go ≥ 1.23 timers: Stop leaves no stale tick behind.
			timer.Stop()
		case <-timer.C:
		}
		b.mu.Lock()
	}
	// Take up to maxBatch live rows, dropping cancelled ones on the way.
	k, skipped := 0, 0
	for k < len(b.queue) && len(batch) < b.maxBatch {
		it := b.queue[k]
		k++
		if it.j.ctx.Err() != nil {
			skipped++
			continue
		}
		batch = append(batch, it)
	}
	if len(batch) > 0 {
		b.last = len(batch)
	}
	clear(b.queue[:k])
	b.queue = b.queue[k:]
	if len(b.queue) == 0 {
		b.queue = b.queue[:0:0] // let the backing array go
	}
	b.observe(len(b.queue))
	b.mu.Unlock()
	if skipped > 0 {
		b.dropped(skipped)
	}
	return batch, true
}
