package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Tasker is work cut into numbered, independent tasks for Parallel.
type Tasker interface {
	// Task runs task i. Tasks of one Parallel call may run concurrently.
	Task(i int)
}

// Parallel runs t.Task(i) for every i in [0, n) on at most threads
// goroutines — the caller's and idle goroutines of a persistent pool — and
// returns when all tasks have returned. threads ≤ 0 means GOMAXPROCS.
//
// The caller always takes part, and a pool goroutine that is busy is
// simply not asked, so nested or concurrent calls never wait on each other:
// with no idle helper the caller runs every task itself. Which goroutine
// runs a task is not fixed; results must not depend on it. A task's panic
// is re-raised in the caller once every goroutine has stopped (tasks not
// yet started by the panicking goroutine may be left undone).
func Parallel(threads, n int, t Tasker) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if n <= 0 {
		return
	}
	if n == 1 || threads == 1 {
		for i := range n {
			t.Task(i)
		}
		return
	}
	j := jobs.Get().(*job)
	j.t, j.n = t, int64(n)
	j.next.Store(0)
	helpers := min(threads, n) - 1
	workers.grow(helpers)
	for range helpers {
		j.wg.Add(1)
		select {
		case workers.ch <- j:
		default:
			j.wg.Done() // nobody idle: the caller does the work
		}
	}
	j.run()
	j.wg.Wait()
	p := j.panicked
	j.t, j.panicked = nil, nil
	jobs.Put(j)
	if p != nil {
		panic(p)
	}
}

// job is one Parallel call: tasks are claimed from next in order.
type job struct {
	t    Tasker
	n    int64
	next atomic.Int64
	wg   sync.WaitGroup // the helpers that took the job

	mu       sync.Mutex
	panicked any // the first panic of a task, re-raised in the caller
}

// run claims and runs tasks until none is left. A panicking task stops
// this goroutine's share; the panic is kept for the caller, so that it
// surfaces where a recover can see it instead of killing a pool goroutine.
func (j *job) run() {
	defer func() {
		if p := recover(); p != nil {
			j.mu.Lock()
			if j.panicked == nil {
				j.panicked = p
			}
			j.mu.Unlock()
		}
	}()
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.t.Task(int(i))
	}
}

var jobs = sync.Pool{New: func() any { return new(job) }}

// workers is the persistent pool: goroutines parked on an unbuffered
// channel, so a send succeeds only when one is idle. It grows to the
// largest helper count asked for and never shrinks.
var workers = &workerPool{ch: make(chan *job)}

type workerPool struct {
	mu sync.Mutex
	n  int
	ch chan *job
}

// grow starts goroutines until the pool has at least n.
func (w *workerPool) grow(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ; w.n < n; w.n++ {
		go func() {
			for j := range w.ch {
				j.run()
				j.wg.Done()
			}
		}()
	}
}
