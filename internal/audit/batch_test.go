package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recorder is the write function under the Batcher: it keeps what each
// call wrote, after a delay like a database insert's.
type recorder struct {
	mu    sync.Mutex
	calls [][]string
	delay time.Duration
	err   error
}

func (r *recorder) write(_ context.Context, es []Entry) error {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	r.calls = append(r.calls, ids)
	return r.err
}

func TestBatcherGroupsConcurrentEntriesAndWaits(t *testing.T) {
	r := &recorder{delay: 5 * time.Millisecond}
	b := NewBatcher(r.write, BatcherConfig{Window: 5 * time.Millisecond})
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Append(context.Background(), Entry{ID: fmt.Sprintf("e%02d", i)})
		}()
	}
	wg.Wait()
	stored := map[string]bool{}
	for _, c := range r.calls {
		for _, id := range c {
			stored[id] = true
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Append %d: %v", i, err)
		}
		// Append returned, so its entry was written before.
		if !stored[fmt.Sprintf("e%02d", i)] {
			t.Errorf("entry %d not written when Append returned", i)
		}
	}
	if len(r.calls) > 5 {
		t.Errorf("%d concurrent entries took %d writes, want a few", n, len(r.calls))
	}
}

func TestBatcherReportsTheWriteErrorToEveryWaiter(t *testing.T) {
	boom := errors.New("boom")
	r := &recorder{err: boom}
	b := NewBatcher(r.write, BatcherConfig{})
	if err := b.Append(context.Background(), Entry{ID: "a"}); !errors.Is(err, boom) {
		t.Fatalf("Append = %v, want the write's error", err)
	}
}

func TestBatcherCloseWaitsForTheWriteInFlight(t *testing.T) {
	r := &recorder{delay: 50 * time.Millisecond}
	b := NewBatcher(r.write, BatcherConfig{MaxBatch: 1})
	done := make(chan error, 3)
	for i := range 3 {
		go func() { done <- b.Append(context.Background(), Entry{ID: fmt.Sprint(i)}) }()
	}
	time.Sleep(10 * time.Millisecond)
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	got := len(r.calls)
	r.mu.Unlock()
	if got != 3 {
		t.Errorf("after Close %d of 3 queued entries written", got)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Errorf("Append: %v", err)
		}
	}
	if err := b.Append(context.Background(), Entry{ID: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
}

func TestBatcherAppendReturnsWhenItsContextEnds(t *testing.T) {
	r := &recorder{delay: 200 * time.Millisecond}
	b := NewBatcher(r.write, BatcherConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Append(ctx, Entry{ID: "a"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append = %v, want the deadline", err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 1 {
		t.Errorf("the entry of a caller that gave up was not written: %v", r.calls)
	}
}
