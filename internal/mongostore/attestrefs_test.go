package mongostore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/civil"
	mevent "github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// recordedDB is a fresh database whose commands are recorded by name.
func recordedDB(t *testing.T) (*DB, func(name string) []bson.Raw) {
	t.Helper()
	var mu sync.Mutex
	cmds := map[string][]bson.Raw{}
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		mu.Lock()
		cmds[e.CommandName] = append(cmds[e.CommandName], append(bson.Raw(nil), e.Command...))
		mu.Unlock()
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
	return d, func(name string) []bson.Raw {
		mu.Lock()
		defer mu.Unlock()
		out := cmds[name]
		delete(cmds, name)
		return out
	}
}

// onColl keeps the commands on collection coll.
func onColl(cmds []bson.Raw, name, coll string) []bson.Raw {
	var out []bson.Raw
	for _, c := range cmds {
		if s, _ := c.Lookup(name).StringValueOK(); s == coll {
			out = append(out, c)
		}
	}
	return out
}

func testTask(emp, project string, cycle int, status string) attest.Task {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	start := civil.MustParse("2026-01-05")
	return attest.Task{ID: attest.TaskID(emp, project, start, cycle), EmployeeID: emp, ProjectCode: project, Sensitivity: "secret",
		AssignedOn: start, Cycle: cycle, EventRef: mevent.Ref{Source: "hris/t", ID: emp + project}, Status: status, Version: 1,
		ReceivedAt: at, DueAt: at.AddDate(0, 0, 14), CreatedAt: at, UpdatedAt: at}
}

// An employee's attestations are read by key (their refs, then the tasks by
// _id), never by a query on employee_id, on every server; the answer is the
// same list, in _id order, and a ref whose task was never stored (a crash
// between the two writes) or is someone else's is left out.
func TestAttestationsByEmployeeReadByID(t *testing.T) {
	db, cmds := recordedDB(t)
	ctx := t.Context()
	s := NewAttestationStore(db)
	var want []string
	for _, give := range []attest.Task{testTask("E1", "MS11", 0, attest.StatusPending), testTask("E1", "MS12", 0, attest.StatusOverdue),
		testTask("E1", "MS11", 1, attest.StatusPending), testTask("E2", "MS11", 0, attest.StatusPending)} {
		created, err := s.Insert(ctx, give)
		if err != nil || !created {
			t.Fatalf("Insert %s: %v, %v", give.ID, created, err)
		}
		if give.EmployeeID == "E1" {
			want = append(want, give.ID)
		}
	}
	if created, err := s.Insert(ctx, testTask("E1", "MS11", 0, attest.StatusPending)); err != nil || created {
		t.Fatalf("Insert again: %v, %v; want not created", created, err)
	}
	slices.Sort(want)
	// A ref without its task, and a ref naming another employee's task.
	if err := s.addRef(ctx, "E1", "never-stored"); err != nil {
		t.Fatal(err)
	}
	if err := s.addRef(ctx, "E1", testTask("E2", "MS11", 0, "").ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByEmployee(ctx, "E0"); err != nil { // this process's one check of the backfill marker
		t.Fatal(err)
	}
	for _, ferret := range []bool{true, false} {
		forceFlavor(db, ferret)
		cmds("find")
		got, err := s.ByEmployee(ctx, "E1")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ferret=%v: ByEmployee(E1) = %v, want %v", ferret, ids, want)
		}
		if got, err := s.ByEmployee(ctx, "E9"); err != nil || len(got) != 0 {
			t.Errorf("ferret=%v: ByEmployee(E9) = %v, %v; want none", ferret, got, err)
		}
		finds := cmds("find")
		if len(finds) == 0 {
			t.Fatal("no find recorded")
		}
		for _, cmd := range finds {
			filter, _ := cmd.Lookup("filter").DocumentOK()
			elems, _ := filter.Elements()
			if len(elems) != 1 || elems[0].Key() != "_id" {
				t.Errorf("ferret=%v: find on %s with filter %s, want a filter on _id only", ferret, cmd.Lookup("find"), filter)
			}
		}
	}
}

// Tasks stored before the refs existed are found: the first ByEmployee of a
// process fills the refs once (a marker says so) and later ones read by key.
func TestAttestationRefsBackfill(t *testing.T) {
	db, cmds := recordedDB(t)
	ctx := t.Context()
	old := testTask("E1", "MS11", 0, attest.StatusOverdue)
	if _, err := db.DB.Collection(attestationsCollection).InsertOne(ctx, toAttestationDoc(old)); err != nil {
		t.Fatal(err)
	}
	s := NewAttestationStore(db)
	got, err := s.ByEmployee(ctx, "E1")
	if err != nil || len(got) != 1 || got[0].ID != old.ID || got[0].Status != attest.StatusOverdue {
		t.Fatalf("ByEmployee after the upgrade = %+v, %v; want the task stored before", got, err)
	}
	if _, found, err := findByID[attestRefsDoc](ctx, db.DB.Collection(attestRefsCollection), attestRefsMarker); err != nil || !found {
		t.Fatalf("marker: found %v, %v", found, err)
	}
	cmds("find")
	fresh := NewAttestationStore(db) // another process: sees the marker, scans nothing
	if got, err := fresh.ByEmployee(ctx, "E1"); err != nil || len(got) != 1 {
		t.Fatalf("ByEmployee in another process = %v, %v", got, err)
	}
	if scans := onColl(cmds("find"), "find", attestationsCollection); len(scans) != 1 {
		t.Errorf("another process sent %d finds on attestations, want 1 (the task by _id)", len(scans))
	}
}
