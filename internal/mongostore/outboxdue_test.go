package mongostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// findLog records the filter keys of every find on the given collections.
type findLog struct {
	mu      sync.Mutex
	watch   map[string]bool
	on      bool
	filters map[string][][]string // collection → filter keys of each find
}

func (l *findLog) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "find" {
			return
		}
		coll, _ := e.Command.Lookup("find").StringValueOK()
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.on || !l.watch[coll] {
			return
		}
		var keys []string
		if f, ok := e.Command.Lookup("filter").DocumentOK(); ok {
			els, _ := f.Elements()
			for _, el := range els {
				keys = append(keys, el.Key())
			}
		}
		l.filters[coll] = append(l.filters[coll], keys)
	}}
}

// TestDuePollsReadOnlyWhatIsPending: the dispatcher's polls read the small
// outbox_due markers and then each marked notice or delivery by _id, never
// a filtered (scanning, on FerretDB) find over every notice or delivery
// ever sent; stale markers are removed as the polls meet them.
func TestDuePollsReadOnlyWhatIsPending(t *testing.T) {
	log := &findLog{watch: map[string]bool{"outbox": true, "outbox_deliveries": true}, filters: map[string][][]string{}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)).SetTimeout(30 * time.Second).SetMonitor(log.monitor()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	raw := client.Database(testenv.UniqueName("t"))
	t.Cleanup(func() { _ = raw.Drop(context.Background()); _ = client.Disconnect(context.Background()) })
	db := mongostore.Use(raw)
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	s := mongostore.NewOutboxStore(db)
	now := time.Now().UTC().Truncate(time.Millisecond)
	const n = 12
	var ns []notify.Notice
	for i := range n {
		ns = append(ns, notify.Notice{ID: fmt.Sprintf("notice-%02d", i), Kind: "case.opened", Recipient: "C9001", CreatedAt: now.Add(-time.Minute)})
	}
	if err := s.Enqueue(ctx, ns...); err != nil {
		t.Fatal(err)
	}
	delivery := func(i int) notify.Delivery {
		return notify.Delivery{ID: fmt.Sprintf("notice-%02d/mail", i), NoticeID: ns[i].ID, Channel: notify.ChannelMail,
			Target: "c@example.test", Language: "en", State: notify.DeliveryPending, NextAt: now.Add(-time.Minute)}
	}
	// All but the last two are dispatched and their mail sent; notice 10 is
	// dispatched with its mail still pending; notice 11 is postponed.
	for i := range n - 1 {
		if err := s.Expand(ctx, ns[i].ID, []notify.Delivery{delivery(i)}, ""); err != nil {
			t.Fatal(err)
		}
		if i < n-2 {
			d := delivery(i)
			d.State, d.Attempts, d.SentAt = notify.DeliverySent, 1, now
			if err := s.Record(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Postpone(ctx, ns[n-1].ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A redelivered enqueue of a dispatched notice leaves a stale marker.
	if err := s.Enqueue(ctx, ns[0]); err != nil {
		t.Fatal(err)
	}

	log.mu.Lock()
	log.on = true
	log.mu.Unlock()
	due, err := s.DueNotices(ctx, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 0 {
		t.Errorf("due notices now: %v, want none (notice 11 is postponed)", due)
	}
	due, err = s.DueNotices(ctx, now.Add(2*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].ID != ns[n-1].ID {
		t.Errorf("due notices in two hours: %v, want only %s", due, ns[n-1].ID)
	}
	ds, err := s.DueDeliveries(ctx, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != delivery(n-2).ID {
		t.Errorf("due deliveries: %v, want only %s", ds, delivery(n-2).ID)
	}
	log.mu.Lock()
	for coll, fs := range log.filters {
		for _, keys := range fs {
			if len(keys) != 1 || keys[0] != "_id" {
				t.Errorf("a poll read %s with filter keys %v, want only {_id}", coll, keys)
			}
		}
	}
	log.mu.Unlock()
	// The stale marker of notice 0 is gone; what is pending keeps its own.
	left, err := raw.Collection("outbox_due").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if left != 2 {
		t.Errorf("%d markers left, want 2 (notice 11, delivery 10)", left)
	}
}
