package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// contended is a processor whose last step is a compare-and-set on a real
// stored document that another writer keeps changing, as a replica's
// detection does while another replica after a rebalance writes the same
// employee. Like the pipeline's own steps it re-reads and tries five times,
// then gives up with the store's ErrConflict.
type contended struct {
	inner     ingest.Processor
	store     *mongostore.EmployeeStore
	conflicts atomic.Int64
	// stormSaves counts the other writer's saves; storming says it runs.
	stormSaves atomic.Int64
	storming   atomic.Bool
}

func (c *contended) Process(ctx context.Context, batch []event.Received) (int, error) {
	n, err := c.inner.Process(ctx, batch)
	if err != nil {
		return n, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		e, err := c.store.Get(ctx, "STORM")
		if err != nil {
			return n, err
		}
		// The window another writer wins in: while the storm runs, wait
		// until the stored version has moved past the one just read, so this
		// save loses however busy the machine is.
		for wait := time.Now().Add(30 * time.Second); c.storming.Load() && time.Now().Before(wait); {
			cur, err := c.store.Get(ctx, "STORM")
			if err == nil && cur.Version > e.Version {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if _, err = c.store.Save(ctx, e); err == nil {
			return n, nil
		} else if !errors.Is(err, employee.ErrConflict) {
			return n, err
		}
	}
	c.conflicts.Add(1)
	return n, fmt.Errorf("stage: still conflicting after 5 attempts: %w", employee.ErrConflict)
}

// A conflict storm longer than PoisonAttempts batches never dead-letters a
// valid event: conflicts are transient, so the batch waits them out.
func TestConflictStormDoesNotDeadLetterValidEvents(t *testing.T) {
	r := newRig(t)
	store := mongostore.NewEmployeeStore(r.db)
	ctx := context.Background()
	if _, err := store.Save(ctx, employee.Employee{ID: "STORM"}); err != nil {
		t.Fatal(err)
	}
	proc := &contended{store: store}
	proc.storming.Store(true)
	var consumed atomic.Bool
	stormDone := make(chan struct{})
	go func() { // the other writer: changes STORM until the stage lost 8 times
		defer close(stormDone)
		defer proc.storming.Store(false)
		deadline := time.Now().Add(60 * time.Second)
		for proc.conflicts.Load() < 8 && !consumed.Load() && time.Now().Before(deadline) {
			e, err := store.Get(ctx, "STORM")
			if err != nil {
				continue
			}
			if _, err := store.Save(ctx, e); err == nil {
				proc.stormSaves.Add(1)
			}
		}
	}()
	r.produce(r.msg(claim(t, "c1", "E1")), r.msg(claim(t, "c2", "E2")))
	run := r.startWith(nil, func(p ingest.Processor) ingest.Processor { proc.inner = p; return proc })
	waitUntil(t, "both events consumed", 120*time.Second, func() bool { return run.consumed(r.topics) >= 2 })
	consumed.Store(true)
	run.stop(t)
	<-stormDone

	r.readDLQ(0) // fails on any dead letter
	if n := proc.conflicts.Load(); n < 8 {
		t.Fatalf("only %d conflicted batches: the storm did not outlast PoisonAttempts", n)
	}
	if got := r.storedIDs(); len(got) != 2 || !got["c1"] || !got["c2"] {
		t.Fatalf("stored %v, want c1 and c2", got)
	}
	if n := testutil.ToFloat64(run.metrics.Retried.WithLabelValues("store")); n < 8 {
		t.Fatalf("store retried %v times, want at least 8", n)
	}
}
