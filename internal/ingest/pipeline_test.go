package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	mevent "go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// readingStage reads the batch's employees the way the real stages do
// (attestations, corroboration, evaluation: each its own GetMany) and
// records what it saw.
type readingStage struct {
	emps  employee.Store
	finds func() int
	saw   map[string]employee.Employee
	later int // finds sent by the second and third reads
}

func (s *readingStage) Process(ctx context.Context, _ []event.Received, _ []string) error {
	ids := []string{"E1", "E2", "E3"}
	var after int
	for i := range 3 {
		got, err := s.emps.GetMany(ctx, ids)
		if err != nil {
			return err
		}
		if i == 0 {
			after = s.finds()
		}
		s.saw = got
	}
	s.later = s.finds() - after
	return nil
}

// The stages of a batch see what applyHR stored in it (a new hire, a
// department change), and each employee is read from the database once per
// batch however many stages read it; the next batch reads anew.
func TestStagesSeeTheBatchsHRChangesReadOnce(t *testing.T) {
	var mu sync.Mutex
	finds := 0
	mon := &mevent.CommandMonitor{Started: func(_ context.Context, e *mevent.CommandStartedEvent) {
		if c, _ := e.Command.Lookup("find").StringValueOK(); c == "employees" {
			mu.Lock()
			finds++
			mu.Unlock()
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)).SetMonitor(mon).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	raw := client.Database(testenv.UniqueName("t"))
	t.Cleanup(func() {
		_ = raw.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	db := mongostore.Use(raw)
	ctx := t.Context()
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	emps := mongostore.NewEmployeeStore(db)
	stage := &readingStage{emps: emps, finds: func() int {
		mu.Lock()
		defer mu.Unlock()
		return finds
	}}
	p := &ingest.Pipeline{Events: mongostore.NewEventStore(db), Employees: emps, Stages: []ingest.Stage{stage}}
	batch := func(evs ...event.Event) []event.Received {
		out := make([]event.Received, len(evs))
		for i, e := range evs {
			out[i] = event.Received{Event: e, Topic: "hr", Offset: int64(i)}
		}
		return out
	}
	hire := func(id, dept string) event.Event {
		return mustNew(t, "hris/t", "h-"+id, &event.EmployeeHired{EmployeeID: id, Name: "N" + id, Department: dept, HireDate: civil.MustParse("2022-01-10")})
	}
	if _, err := p.Process(ctx, batch(hire("E1", "Design"), hire("E2", "Design"))); err != nil {
		t.Fatal(err)
	}
	moved := mustNew(t, "hris/t", "u-E1", &event.EmployeeUpdated{EmployeeID: "E1", EffectiveDate: civil.MustParse("2023-01-02"), Department: strPtr("Battery Systems")})
	for _, tc := range []struct {
		name      string
		give      []event.Received
		wantDepts map[string]string
	}{
		{"a move and a new hire", batch(moved, hire("E3", "Sales")), map[string]string{"E1": "Battery Systems", "E2": "Design", "E3": "Sales"}},
		{"redelivered", batch(moved, hire("E3", "Sales")), map[string]string{"E1": "Battery Systems", "E2": "Design", "E3": "Sales"}},
	} {
		mu.Lock()
		finds = 0
		mu.Unlock()
		if _, err := p.Process(ctx, tc.give); err != nil {
			t.Fatal(err)
		}
		for id, want := range tc.wantDepts {
			if got := stage.saw[id].Department; got != want {
				t.Errorf("%s: the stage saw %s in %q, want %q", tc.name, id, got, want)
			}
		}
		mu.Lock()
		n := finds
		mu.Unlock()
		// applyHR reads E1 and E3, the stage's first read E2 (one find
		// each on FerretDB, fewer with $in on MongoDB); the later reads none.
		if n == 0 || n > 3 || stage.later != 0 {
			t.Errorf("%s: %d finds on employees for 3 employees, %d by the stage's later reads; want 1-3, 0", tc.name, n, stage.later)
		}
	}
}

// gatedEvents is an event store whose insert waits until the stages have
// started: a pipeline that writes the raw events before running the stages
// never gets there.
type gatedEvents struct {
	started chan struct{}
	fail    error
}

func (g *gatedEvents) InsertMany(ctx context.Context, evs []event.Received) (int, error) {
	select {
	case <-g.started:
		return len(evs), g.fail
	case <-time.After(5 * time.Second):
		return 0, errors.New("the stages did not start while the raw events were written")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

type startedStage struct {
	started chan struct{}
	once    sync.Once
	err     error
}

func (s *startedStage) Process(ctx context.Context, _ []event.Received, _ []string) error {
	s.once.Do(func() { close(s.started) })
	return s.err
}

// The raw events are written while the projection and the stages run, and
// the batch succeeds only when both did: an error of either fails it (the
// consumer then retries the whole batch, every step idempotent).
func TestRawEventsAreWrittenWhileTheStagesRun(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name               string
		eventsErr, stageEr error
		wantErr            error
	}{
		{"both succeed", nil, nil, nil},
		{"the insert fails", boom, nil, boom},
		{"a stage fails", nil, boom, boom},
	} {
		started := make(chan struct{})
		p := &ingest.Pipeline{Events: &gatedEvents{started: started, fail: tc.eventsErr}, Employees: mongostore.NewEmployeeStore(db),
			Stages: []ingest.Stage{&startedStage{started: started, err: tc.stageEr}}}
		e := mustNew(t, "expense/t", fmt.Sprint("c-", tc.name), &event.ExpenseClaim{ClaimID: "C1", EmployeeID: "E1", IncurredOn: civil.MustParse("2024-02-20"),
			Amount: event.Money{Amount: "1.00", Currency: "CNY"}, Merchant: "M"})
		n, err := p.Process(t.Context(), []event.Received{{Event: e}})
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && n != 1) {
			t.Errorf("%s: Process = %d, %v; want %v", tc.name, n, err, tc.wantErr)
		}
	}
}
