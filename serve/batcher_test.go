package serve

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestBatcherWaitsForPreviousBatchSize checks the closed-loop rule: with
// nothing arriving, a worker still waits (up to maxWait) until as many
// rows are queued as its previous batch had.
//
// It runs in a synctest bubble: time is virtual, and synctest.Wait returns
// once every goroutine is blocked, so "the worker did not run" is observed
// exactly instead of after a sleep.
func TestBatcherWaitsForPreviousBatchSize(t *testing.T) {
	synctest.Test(t, testBatcherWaitsForPreviousBatchSize)
}

func testBatcherWaitsForPreviousBatchSize(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	ran := make(chan struct{}, 8)
	b := newBatcher(8, time.Hour, 100, 1, func(items []item) {
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		for _, it := range items {
			it.j.complete(it.i, 0, "m", nil)
		}
		ran <- struct{}{}
	}, nil, nil)
	defer b.close()
	submit := func(n int) *job {
		j := newJob(context.Background(), make([]string, n), nil)
		if err := b.submit(j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	submit(1) // previous batch: none, so a lone row runs at once
	<-ran
	b.mu.Lock()
	b.last = 3
	b.mu.Unlock()
	submit(1)
	submit(1)
	start := time.Now()
	synctest.Wait() // the worker is blocked: on its timer, or on a wake-up
	select {
	case <-ran:
		t.Fatal("ran 2 rows while the previous batch had 3 and max_wait is an hour")
	default:
	}
	time.Sleep(59 * time.Minute) // virtual: still short of max_wait
	synctest.Wait()
	select {
	case <-ran:
		t.Fatal("ran 2 rows before max_wait")
	default:
	}
	submit(1)
	<-ran
	if waited := time.Since(start); waited != 59*time.Minute {
		t.Errorf("the third row waited %v of virtual time after the sleep, want none", waited-59*time.Minute)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 3 {
		t.Errorf("batches %v, want [1 3]", sizes)
	}
}

// TestBatcherRunsAtMaxWait: rows short of the previous batch's size run
// once the oldest has waited max_wait, measured on synctest's virtual
// clock, to the nanosecond.
func TestBatcherRunsAtMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ran := make(chan int, 8)
		var at time.Time
		b := newBatcher(8, 10*time.Millisecond, 100, 1, func(items []item) {
			at = time.Now()
			for _, it := range items {
				it.j.complete(it.i, 0, "m", nil)
			}
			ran <- len(items)
		}, nil, nil)
		defer b.close()
		b.mu.Lock()
		b.last = 3
		b.mu.Unlock()
		start := time.Now()
		for range 2 {
			if err := b.submit(newJob(context.Background(), make([]string, 1), nil)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(9 * time.Millisecond)
		synctest.Wait()
		if len(ran) != 0 {
			t.Fatal("a partial batch ran before max_wait")
		}
		if n := <-ran; n != 2 || at.Sub(start) != 10*time.Millisecond {
			t.Errorf("batch of %d after %v, want 2 rows after exactly 10ms", n, at.Sub(start))
		}
	})
}
