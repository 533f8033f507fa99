package mongostore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// The batch reads must answer exactly what the one-employee reads answer.

func TestSignalsOfEqualsSignals(t *testing.T) {
	s := NewSignalStore(newTestDB(t))
	ctx := t.Context()
	sig := func(emp, id, day string) detect.Signal {
		return detect.Signal{Ref: event.Ref{Source: "card/x", ID: id}, Kind: detect.KindCardTransaction, EmployeeID: emp,
			Date: civil.MustParse(day), Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Merchant: "GLG", Counterparty: "GLG", CounterpartyID: "glg"}
	}
	if err := s.AddSignals(ctx, "E1", []detect.Signal{sig("E1", "a", "2024-01-02"), sig("E1", "b", "2024-01-01")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSignals(ctx, "E2", []detect.Signal{sig("E2", "c", "2024-02-02")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SignalsOf(ctx, []string{"E1", "E2", "E3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["E3"]; ok || len(got) != 2 {
		t.Errorf("SignalsOf keys = %v, want E1 and E2 only", keys(got))
	}
	// Both query shapes (one find per _id for FerretDB, one $in for the
	// others) give the same answer, on whichever server runs the test.
	for _, ferret := range []bool{false, true} {
		forceFlavor(s.db, ferret)
		if again, err := s.SignalsOf(ctx, []string{"E1", "E2", "E3"}); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ferret=%v: SignalsOf = %v, %v; want %v", ferret, again, err, got)
		}
	}
	for _, id := range []string{"E1", "E2"} {
		want, err := s.Signals(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[id], want) {
			t.Errorf("SignalsOf[%s] = %+v, want %+v", id, got[id], want)
		}
	}
}

func TestCasesOfEqualsOpenForAndClosedFor(t *testing.T) {
	s := NewCaseStore(newTestDB(t))
	ctx := t.Context()
	closed := testCase("K1", "E1", "R&D", "high", 70, detect.RuleExpense, "GLG")
	if err := closed.Decide("C1", review.StatusCleared, "approved late", caseT0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []review.Case{closed, testCase("K2", "E1", "R&D", "medium", 30, detect.RuleExpense, "GLG"), testCase("K3", "E2", "Sales", "high", 80, detect.RuleBlackout, "CICC")} {
		if err := s.Create(ctx, c); err != nil {
			t.Fatalf("create %s: %v", c.ID, err)
		}
	}
	got, err := s.CasesOf(ctx, []string{"E1", "E2", "E9"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		give       string
		wantOpen   string
		wantClosed []string
	}{
		{give: "E1", wantOpen: "K2", wantClosed: []string{"K1"}},
		{give: "E2", wantOpen: "K3"},
		{give: "E9"},
	} {
		var open string
		var closedIDs []string
		for _, c := range got[tc.give] {
			if c.IsOpen() {
				open = c.ID
				one, err := s.OpenFor(ctx, tc.give)
				if err != nil || !reflect.DeepEqual(one, c) {
					t.Errorf("%s: open case from CasesOf differs from OpenFor (%v)", tc.give, err)
				}
			} else {
				closedIDs = append(closedIDs, c.ID)
			}
		}
		if open != tc.wantOpen || !slices.Equal(closedIDs, tc.wantClosed) {
			t.Errorf("CasesOf[%s]: open %q closed %v, want %q %v", tc.give, open, closedIDs, tc.wantOpen, tc.wantClosed)
		}
	}
}

func TestListForDetectionManyEqualsListForDetection(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	for i, x := range []struct{ emp, start string }{{"E1", "2023-12-01"}, {"E1", "2023-10-05"}, {"E2", "2023-11-20"}, {"E1", "2023-11-20"}} {
		in := sampleInput()
		in.StartDate, in.EndDate = civil.MustParse(x.start), civil.MustParse(x.start)
		mustCreate(t, s, disclosure.New(fmt.Sprintf("D%d", i), x.emp, in, disclosure.DefaultPolicy(), disclosureT0))
	}
	got, err := s.ListForDetectionMany(ctx, []string{"E1", "E2", "E3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"E1", "E2", "E3"} {
		want, err := s.ListForDetection(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got[id]), ids(want)) {
			t.Errorf("ListForDetectionMany[%s] = %v, want %v", id, ids(got[id]), ids(want))
		}
	}
}

func TestAuditAppendManySkipsStoredAndRejectsInvalid(t *testing.T) {
	s := NewAuditStore(newTestDB(t))
	ctx := t.Context()
	mustAppend(t, s, entry("A1", 0, audit.ActionCaseRead, "C1", "E1", "K1"))
	if err := s.AppendMany(ctx, []audit.Entry{entry("A1", 0, audit.ActionCaseRead, "C1", "E1", "K1"), entry("A2", 1, audit.ActionCaseRead, "C1", "E2", "K2")}); err != nil {
		t.Fatalf("AppendMany with one entry already stored: %v", err)
	}
	bad := entry("A4", 3, audit.ActionCaseRead, "", "E1", "K1") // no actor
	if err := s.AppendMany(ctx, []audit.Entry{entry("A3", 2, audit.ActionCaseRead, "C1", "E1", "K1"), bad}); err == nil {
		t.Error("AppendMany with an invalid entry: no error")
	}
	got, _, err := s.List(ctx, audit.Filter{}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A2", "A1"}; !slices.Equal(entryIDs(got), want) {
		t.Errorf("stored %v, want %v (nothing of a batch with an invalid entry)", entryIDs(got), want)
	}
}

func TestEmployeeInsertNewAndAddFacts(t *testing.T) {
	s := NewEmployeeStore(newTestDB(t))
	ctx := t.Context()
	fact := func(id string, data any) employee.Fact {
		e, err := event.New("hris/x", id, caseT0, data)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := employee.FactOf(e)
		if !ok {
			t.Fatalf("%T is not an HR fact", data)
		}
		return f
	}
	hire := func(emp string) employee.Fact {
		return fact("h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Email: emp + "@x", Department: "R&D", HireDate: civil.MustParse("2020-01-01")})
	}
	build := func(id string, fs ...employee.Fact) employee.Employee {
		e := employee.Employee{ID: id}
		for _, f := range fs {
			e.Add(f)
		}
		return e
	}
	if _, err := s.Save(ctx, build("E1", hire("E1"))); err != nil {
		t.Fatal(err)
	}
	taken, err := s.InsertNew(ctx, []employee.Employee{build("E1", hire("E1")), build("E2", hire("E2"))})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(taken, map[string]bool{"E1": true}) {
		t.Errorf("InsertNew taken = %v, want E1 (stored before)", taken)
	}

	for _, ferret := range []bool{true, false} { // one find per _id, then one $in
		forceFlavor(s.db, ferret)
		ask := []string{"E1", "E2", "X1", "X2"}
		got, err := s.GetMany(ctx, ask)
		if err != nil || len(got) != 2 || got["E1"].Name != "N E1" || got["E2"].Name != "N E2" {
			t.Errorf("ferret=%v: GetMany = %v, %v; want E1 and E2", ferret, keys(got), err)
		}
	}
	stored, err := s.Get(ctx, "E2")
	if err != nil || stored.Version != 1 || stored.Name != "N E2" {
		t.Fatalf("E2 after InsertNew = %+v, %v", stored, err)
	}
	moved := fact("u-E2", &event.EmployeeUpdated{EmployeeID: "E2", EffectiveDate: civil.MustParse("2021-01-01"), Department: ptr("Sales")})
	e := stored
	e.Add(moved)
	if err := s.AddFacts(ctx, e, []employee.Fact{moved}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFacts(ctx, e, []employee.Fact{moved}); err != nil { // redelivered: nothing more
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "E2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Department != "Sales" || len(got.Facts) != 2 || got.Version != 3 {
		t.Errorf("after AddFacts: department %q, %d facts, version %d; want Sales, 2, 3", got.Department, len(got.Facts), got.Version)
	}
	if reports, err := s.ListReports(ctx, ""); err != nil || len(reports) != 0 {
		t.Errorf("manager_id set although empty: %v %v", reports, err)
	}
	// A Save from the version read before AddFacts conflicts.
	if _, err := s.Save(ctx, stored); !errors.Is(err, employee.ErrConflict) {
		t.Errorf("Save at a stale version after AddFacts = %v, want ErrConflict", err)
	}
	if err := s.AddFacts(ctx, build("E9", hire("E9")), []employee.Fact{hire("E9")}); !errors.Is(err, employee.ErrNotFound) {
		t.Errorf("AddFacts to an unknown employee = %v, want ErrNotFound", err)
	}
}

func ptr(s string) *string { return &s }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// forceFlavor makes db use FerretDB's query shapes or MongoDB's, whatever
// the server is (both are correct on every server; only speed differs).
func forceFlavor(db *DB, ferret bool) {
	db.kindMu.Lock()
	defer db.kindMu.Unlock()
	db.kindKnown, db.ferret = true, ferret
}
