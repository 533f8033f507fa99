package mongostore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	mevent "github.com/moonlight-oss/moonlight/internal/event"
)

// Within a batch (employee.WithReads) an employee is read once: a second
// GetMany or Get of the same ids sends no find, a missing one is not asked
// again, and what AddFacts, InsertNew or Save stored is what later reads see.
// Outside a batch every read goes to the database.
func TestEmployeeReadsOncePerBatch(t *testing.T) {
	db, cmds := recordedDB(t)
	s := NewEmployeeStore(db)
	base := t.Context()
	hire := func(id, dept string) employee.Fact {
		f, ok := employee.FactOf(mustEvent(t, "hris/t", "h-"+id+dept, &mevent.EmployeeHired{EmployeeID: id, Name: "N " + id, Department: dept,
			HireDate: civil.MustParse("2020-01-02")}))
		if !ok {
			t.Fatal("no fact")
		}
		return f
	}
	e1 := employee.Employee{ID: "E1"}
	e1.Add(hire("E1", "R&D"))
	if _, err := s.InsertNew(base, []employee.Employee{e1}); err != nil {
		t.Fatal(err)
	}
	for _, ferret := range []bool{true, false} {
		forceFlavor(db, ferret)
		ctx := employee.WithReads(base)
		cmds("find")
		got, err := s.GetMany(ctx, []string{"E1", "E9"})
		if err != nil || len(got) != 1 {
			t.Fatalf("GetMany = %v, %v", got, err)
		}
		if n := len(onColl(cmds("find"), "find", employeesCollection)); n == 0 {
			t.Fatalf("ferret=%v: the first read sent no find", ferret)
		}
		if again, err := s.GetMany(ctx, []string{"E9", "E1"}); err != nil || len(again) != 1 || again["E1"].Department != got["E1"].Department {
			t.Fatalf("GetMany again = %v, %v", got, err)
		}
		if _, err := s.Get(ctx, "E9"); !errors.Is(err, employee.ErrNotFound) {
			t.Fatalf("Get(E9) = %v, want ErrNotFound", err)
		}
		if n := len(onColl(cmds("find"), "find", employeesCollection)); n != 0 {
			t.Errorf("ferret=%v: reads of employees already read sent %d finds, want none", ferret, n)
		}
		// A write of the batch: the next read sees it without asking.
		e, _ := s.Get(ctx, "E1")
		upd := e
		moved, _ := employee.FactOf(mustEvent(t, "hris/t", fmt.Sprintf("u-%v", ferret), &mevent.EmployeeUpdated{EmployeeID: "E1",
			EffectiveDate: civil.MustParse("2021-01-04"), Department: ptrTo(fmt.Sprintf("Dept %v", ferret))}))
		upd.Add(moved)
		if err := s.AddFacts(ctx, upd, []employee.Fact{moved}); err != nil {
			t.Fatal(err)
		}
		got2, err := s.Get(ctx, "E1")
		if err != nil || got2.Department != fmt.Sprintf("Dept %v", ferret) || got2.Version != e.Version+1 {
			t.Errorf("ferret=%v: Get after AddFacts = %s v%d, %v; want the new department at v%d", ferret, got2.Department, got2.Version, err, e.Version+1)
		}
		if n := len(onColl(cmds("find"), "find", employeesCollection)); n != 0 {
			t.Errorf("ferret=%v: reads after the batch's write sent %d finds, want none", ferret, n)
		}
		stored, err := s.Get(base, "E1") // outside the batch: from the database
		if err != nil || stored.Version != got2.Version || stored.Department != got2.Department {
			t.Errorf("ferret=%v: stored E1 = %s v%d, %v; the batch remembered %s v%d", ferret, stored.Department, stored.Version, err, got2.Department, got2.Version)
		}
		if n := len(onColl(cmds("find"), "find", employeesCollection)); n != 1 {
			t.Errorf("ferret=%v: a read outside the batch sent %d finds, want 1", ferret, n)
		}
		// A Save on a stale version conflicts and forgets: the retry reads anew.
		if _, err := s.Save(ctx, e); !errors.Is(err, employee.ErrConflict) {
			t.Fatalf("Save of a stale version = %v, want ErrConflict", err)
		}
		if again, err := s.Get(ctx, "E1"); err != nil || again.Version != stored.Version {
			t.Errorf("ferret=%v: Get after a conflict = v%d, %v; want v%d", ferret, again.Version, err, stored.Version)
		}
		if n := len(onColl(cmds("find"), "find", employeesCollection)); n != 1 {
			t.Errorf("ferret=%v: the read after a conflict sent %d finds, want 1", ferret, n)
		}
	}
}

func mustEvent(t *testing.T, source, id string, data any) mevent.Event {
	t.Helper()
	e, err := mevent.New(source, id, time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC), data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ptrTo(s string) *string { return &s }
