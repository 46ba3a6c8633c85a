package serve

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestBatcherWaitsForPreviousBatchSize checks the closed-loop rule: with
// nothing arriving, a worker still waits (up to maxWait) until as many
// rows are queued as its previous batch had.
func TestBatcherWaitsForPreviousBatchSize(t *testing.T) {
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
	select {
	case <-ran:
		t.Fatal("ran 2 rows while the previous batch had 3 and max_wait is an hour")
	case <-time.After(30 * time.Millisecond):
	}
	submit(1)
	<-ran
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 3 {
		t.Errorf("batches %v, want [1 3]", sizes)
	}
}
