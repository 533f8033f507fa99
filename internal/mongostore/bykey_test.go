package mongostore

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

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// monitoredDB is a fresh database whose find commands are recorded.
func monitoredDB(t *testing.T) (*DB, func() []bson.Raw) {
	t.Helper()
	var mu sync.Mutex
	var finds []bson.Raw
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" {
			mu.Lock()
			finds = append(finds, append(bson.Raw(nil), e.Command...))
			mu.Unlock()
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
	d := Use(db)
	if err := d.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d, func() []bson.Raw {
		mu.Lock()
		defer mu.Unlock()
		out := finds
		finds = nil
		return out
	}
}

// Detection's batch reads (cases, signals, employees near a seminar) send
// only finds whose filter is on _id: their cost follows the batch, not the
// size of the collections (on FerretDB, the only filter served by an index).
func TestDetectionReadsAreByID(t *testing.T) {
	db, finds := monitoredDB(t)
	ctx := t.Context()
	cases, signals := NewCaseStore(db), NewSignalStore(db)
	for i := range 5 {
		emp := fmt.Sprintf("E%d", i)
		if err := cases.Create(ctx, testCase("K"+emp, emp, "EV", "high", 50, detect.RuleExpense, "GLG")); err != nil {
			t.Fatal(err)
		}
		if err := signals.AddSignals(ctx, emp, []detect.Signal{nearSig(emp, "s"+emp, "glg", "2024-01-10")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ferret := range []bool{true, false} {
		forceFlavor(db, ferret)
		finds()
		ids := []string{"E0", "E1", "E2", "E9"}
		if got, err := cases.CasesOf(ctx, ids); err != nil || len(got) != 3 {
			t.Fatalf("CasesOf = %d employees, %v", len(got), err)
		}
		if _, err := cases.OpenFor(ctx, "E3"); err != nil {
			t.Fatal(err)
		}
		if got, err := signals.SignalsOf(ctx, ids); err != nil || len(got) != 3 {
			t.Fatalf("SignalsOf = %d, %v", len(got), err)
		}
		if got, err := signals.EmployeesNear(ctx, "glg", civil.MustParse("2024-01-01"), civil.MustParse("2024-01-31")); err != nil || len(got) != 5 {
			t.Fatalf("EmployeesNear = %v, %v", got, err)
		}
		for _, cmd := range finds() {
			filter, ok := cmd.Lookup("filter").DocumentOK()
			elems, _ := filter.Elements()
			if !ok || len(elems) != 1 || elems[0].Key() != "_id" {
				t.Errorf("ferret=%v: find on %s with filter %s, want a filter on _id only", ferret, cmd.Lookup("find"), filter)
			}
		}
	}
}
