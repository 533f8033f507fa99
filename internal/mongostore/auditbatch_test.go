package mongostore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// Concurrent requests' audit entries reach the database in a few inserts,
// each Append returning only once its entry is stored; Close waits for the
// write in flight. The inserts are counted by the driver's command monitor.
func TestAuditAppendsOfConcurrentRequestsShareInserts(t *testing.T) {
	var inserts atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "insert" {
			if c, ok := e.Command.Lookup("insert").StringValueOK(); ok && c == auditCollection {
				inserts.Add(1)
			}
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)).SetMonitor(mon).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(testenv.UniqueName("t"))
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	s := NewAuditStore(Use(db))
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := entry(fmt.Sprintf("b-%02d", i), i, audit.ActionCaseRead, "C1", "E1", "case-1")
			if err := s.Append(t.Context(), e); err != nil {
				t.Errorf("append %s: %v", e.ID, err)
				return
			}
			// Stored when Append returns.
			if err := db.Collection(auditCollection).FindOne(t.Context(), bson.D{{Key: "_id", Value: e.ID}}).Err(); err != nil {
				t.Errorf("%s after Append: %v", e.ID, err)
			}
		}()
	}
	wg.Wait()
	if got := inserts.Load(); got > n/4 {
		t.Errorf("%d concurrent appends took %d inserts, want far fewer", n, got)
	}
	t.Logf("%d concurrent appends, %d inserts", n, inserts.Load())
	// A redelivered entry is still no error, an invalid one still is.
	mustAppend(t, s, entry("b-00", 0, audit.ActionCaseRead, "C1", "E1", "case-1"))
	if err := s.Append(t.Context(), audit.Entry{ID: "bad"}); err == nil {
		t.Error("invalid entry appended")
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(t.Context(), entry("b-late", 0, audit.ActionCaseRead, "C1", "E1", "case-1")); err == nil {
		t.Error("Append after Close succeeded")
	}
	count, err := db.Collection(auditCollection).CountDocuments(t.Context(), bson.D{})
	if err != nil || count != n {
		t.Errorf("stored %d entries, %v; want %d", count, err, n)
	}
}
