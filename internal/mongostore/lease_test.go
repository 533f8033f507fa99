package mongostore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/lease"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestLeaseTakeoverHasOneWinner: when a term expires, of many replicas
// taking over at once exactly one gets the next epoch; the old holder's
// renewal then fails, and its own re-acquire before expiry keeps its epoch.
func TestLeaseTakeoverHasOneWinner(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	leases := mongostore.NewLeases(db, clock)
	first, ok, err := leases.Acquire(t.Context(), "job", "a", time.Minute)
	if err != nil || !ok || first.Epoch() != 1 {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	if again, ok, err := leases.Acquire(t.Context(), "job", "a", time.Minute); err != nil || !ok || again.Epoch() != 1 {
		t.Fatalf("holder's re-acquire: %v %v, want its epoch 1", ok, err)
	}
	if err := first.Renew(t.Context()); err != nil {
		t.Fatalf("renew in time: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			l, ok, err := leases.Acquire(t.Context(), "job", fmt.Sprintf("r%d", i), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
				if l.Epoch() != 2 {
					t.Errorf("winner has epoch %d, want 2", l.Epoch())
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d replicas took the lease over, want 1", wins.Load())
	}
	if err := first.Renew(t.Context()); !errors.Is(err, lease.ErrLost) {
		t.Errorf("old holder renewed: %v, want ErrLost", err)
	}
}
