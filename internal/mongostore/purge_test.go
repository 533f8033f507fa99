package mongostore

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/retention"
)

// TestStaleWriterLosesAfterItsClaimWasPurged: the retention purge removes
// old transitions; a writer still holding a version whose claim is gone
// must lose (409), change nothing, append no audit entry and leave no
// claim behind that a later writer could finish for it.
func TestStaleWriterLosesAfterItsClaimWasPurged(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	s := NewDisclosureStore(db)
	d := newDisclosure("D-stale", "E1", 0)
	if err := s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	stale := d // a form opened at version 1 and left open
	for v := int64(1); v <= 2; v++ {
		cur, err := s.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		cur.Topic = "edit " + string(rune('0'+v))
		if _, err := s.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
	// The purge removes the transitions (they are older than its period).
	p := NewPurge(db, 10)
	if _, err := p.Purge(ctx, retention.Transitions, map[retention.Kind]time.Time{retention.Transitions: time.Now().Add(time.Hour)}, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.DB.Collection(transitionsCollection).CountDocuments(ctx, bson.D{}); n != 0 {
		t.Fatalf("%d transitions left after the purge", n)
	}
	stale.Topic = "the stale edit"
	e := audit.Entry{ID: "au-stale", At: time.Now(), Actor: "E1", Action: audit.ActionDisclosureEdit, ResourceType: audit.ResourceDisclosure, ResourceID: d.ID}
	_, err := s.Update(ctx, stale, e)
	if !errors.Is(err, disclosure.ErrConflict) {
		t.Fatalf("stale update = %v, want a conflict", err)
	}
	got, err := s.Get(ctx, d.ID)
	if err != nil || got.Topic != "edit 2" || got.Version != 3 {
		t.Fatalf("after the stale update: %q version %d (%v), want the second edit at version 3", got.Topic, got.Version, err)
	}
	if n, _ := db.DB.Collection(auditCollection).CountDocuments(ctx, bson.D{{Key: "_id", Value: "au-stale"}}); n != 0 {
		t.Fatal("the lost change's audit entry was appended")
	}
	if n, _ := db.DB.Collection(transitionsCollection).CountDocuments(ctx, bson.D{{Key: "_id", Value: "disclosure/D-stale:1"}}); n != 0 {
		t.Fatal("the lost writer's claim was left behind")
	}
}
