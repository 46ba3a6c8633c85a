package kernel

import (
	"sync"
	"sync/atomic"
	"testing"
)

type countTasks struct {
	hits  []atomic.Int32
	inner int // > 0: each task runs a nested Parallel of inner tasks
	sum   atomic.Int64
}

func (c *countTasks) Task(i int) {
	c.hits[i].Add(1)
	if c.inner > 0 {
		n := &countTasks{hits: make([]atomic.Int32, c.inner)}
		Parallel(3, c.inner, n)
		for j := range n.hits {
			c.sum.Add(int64(n.hits[j].Load()))
		}
	}
}

// TestParallel checks that every task runs exactly once for thread counts
// below, at and above the task count, with nested and concurrent calls.
func TestParallel(t *testing.T) {
	for _, threads := range []int{0, 1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 5, 64} {
			c := &countTasks{hits: make([]atomic.Int32, n)}
			Parallel(threads, n, c)
			for i := range c.hits {
				if h := c.hits[i].Load(); h != 1 {
					t.Fatalf("threads %d, %d tasks: task %d ran %d times", threads, n, i, h)
				}
			}
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &countTasks{hits: make([]atomic.Int32, 7), inner: 5}
			Parallel(2, 7, c)
			if got := c.sum.Load(); got != 7*5 {
				t.Errorf("nested tasks ran %d times, want %d", got, 7*5)
			}
		}()
	}
	wg.Wait()
}

type panicTasks struct{}

func (panicTasks) Task(i int) {
	if i == 3 {
		panic("task 3")
	}
}

// TestParallelPanic checks that a task's panic reaches the caller.
func TestParallelPanic(t *testing.T) {
	for range 20 {
		func() {
			defer func() {
				if r := recover(); r != "task 3" {
					t.Fatalf("recovered %v, want the task's panic", r)
				}
			}()
			Parallel(2, 8, panicTasks{})
		}()
	}
}
