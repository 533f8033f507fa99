package audit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Batcher groups the audit entries of concurrent requests into one write:
// the first entry of a burst waits Window for others, then everything
// queued goes to the database in one insert (at most MaxBatch entries);
// entries that arrive during that insert go in the next. Append returns
// only once its entry's write has succeeded or failed, so a request that
// must not proceed without its audit entry never does, and nothing is
// queued but not waited for: Close only has to wait for the write in
// flight.
type Batcher struct {
	write    func(ctx context.Context, es []Entry) error
	window   time.Duration
	maxBatch int
	timeout  time.Duration

	mu       sync.Mutex
	pending  []waiter
	flushing bool
	closed   bool
	idle     chan struct{} // closed when no flush runs; replaced when one starts
}

type waiter struct {
	e    Entry
	done chan error
}

// BatcherConfig tunes a Batcher; zero values take the defaults.
type BatcherConfig struct {
	Window   time.Duration // default 1 ms
	MaxBatch int           // default 500
	Timeout  time.Duration // of one write, default 10 s
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit batcher closed")

// NewBatcher returns a Batcher that stores entries with write (one insert
// of many entries; entries already stored must be skipped, as Append skips
// them).
func NewBatcher(write func(ctx context.Context, es []Entry) error, cfg BatcherConfig) *Batcher {
	if cfg.Window <= 0 {
		cfg.Window = time.Millisecond
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 500
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	idle := make(chan struct{})
	close(idle)
	return &Batcher{write: write, window: cfg.Window, maxBatch: cfg.MaxBatch, timeout: cfg.Timeout, idle: idle}
}

// Append queues e for the next write and waits for that write. If ctx ends
// first it returns ctx's error; the entry is still written (an audit entry
// too many is harmless, one missing is not).
func (b *Batcher) Append(ctx context.Context, e Entry) error {
	w := waiter{e: e, done: make(chan error, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.pending = append(b.pending, w)
	if !b.flushing {
		b.flushing = true
		b.idle = make(chan struct{})
		go b.run()
	}
	b.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes batches until nothing is queued.
func (b *Batcher) run() {
	time.Sleep(b.window)
	for {
		b.mu.Lock()
		n := min(len(b.pending), b.maxBatch)
		if n == 0 {
			b.flushing = false
			close(b.idle)
			b.mu.Unlock()
			return
		}
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()

		es := make([]Entry, len(batch))
		for i, w := range batch {
			es[i] = w.e
		}
		// Not any one request's context: its end must not fail the others.
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		err := b.write(ctx, es)
		cancel()
		for _, w := range batch {
			w.done <- err
		}
	}
}

// Close refuses new entries and waits until every queued entry is written
// (or ctx ends).
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
