package mongostore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

var caseT0 = time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC)

// testCase is an open case of employee with score, one finding of rule with
// counterparty.
func testCase(id, employee, dept, severity string, score int, rule, counterparty string) review.Case {
	f := detect.Finding{
		ID: "f-" + id, EmployeeID: employee, Rule: rule, Severity: severity, Score: score,
		Summary: "Expense claim at " + counterparty, OccurredOn: civil.MustParse("2024-01-10"),
		Counterparty: counterparty, CounterpartyType: "brokerage",
		EventRefs:  []event.Ref{{Source: "expense/concur-cn", ID: "X-" + id}},
		Employment: detect.EmploymentEmployed, Project: "MS11",
	}
	return review.Case{
		ID: id, EmployeeID: employee, EmployeeName: "Name " + employee, Department: dept,
		Status: review.StatusOpen, Severity: severity, Score: score, Findings: []detect.Finding{f},
		History:  []review.Change{{At: caseT0, Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen, Reason: "1 finding"}},
		OpenedAt: caseT0, UpdatedAt: caseT0,
	}
}

func TestCaseStoreRoundTripAndOneOpenCase(t *testing.T) {
	s := NewCaseStore(newTestDB(t))
	ctx := t.Context()

	c := testCase("case-1", "E1001", "EV", "high", 70, detect.RuleExpense, "CITIC Securities")
	c.Findings[0].DisclosureIDs = []string{"D-1"}
	c.Findings[0].Points = []detect.Point{{Part: detect.PartWeight, Points: 30}, {Part: detect.PartBlackout, Points: 20}, {Part: detect.PartVocabulary, Points: 20}}
	c.Scoring = detect.Scoring{Sum: 70, MaxScore: 100, Score: 70, Medium: 30, High: 70, FindingsSeverity: "high", Severity: "high"}
	c.Findings[0].EventRefs = append(c.Findings[0].EventRefs, event.Ref{Source: "intel/feed", ID: "S-88"})
	if err := s.Create(ctx, c); err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := s.Get(ctx, "case-1")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	c.Version = 1
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got  %+v\n want %+v", got, c)
	}
	if open, err := s.OpenFor(ctx, "E1001"); err != nil || open.ID != "case-1" {
		t.Errorf("OpenFor = %s, %v; want case-1", open.ID, err)
	}
	if _, err := s.OpenFor(ctx, "E9999"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("OpenFor(unknown) err = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "case-none"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("Get(unknown) err = %v, want ErrNotFound", err)
	}

	// A second open case for the same employee is refused, whatever its id;
	// so is the same id again.
	second := testCase("case-2", "E1001", "EV", "low", 5, detect.RuleExpense, "GLG")
	if err := s.Create(ctx, second); !errors.Is(err, review.ErrConflict) {
		t.Errorf("second open case: err = %v, want ErrConflict", err)
	}
	if err := s.Create(ctx, c); !errors.Is(err, review.ErrConflict) {
		t.Errorf("same id again: err = %v, want ErrConflict", err)
	}

	// Optimistic update: the version read must still be current.
	stale := got
	if err := got.Decide("C0001", review.StatusConfirmed, "attended without approval", caseT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, got); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := stale.AddComment("C0002", "late note", caseT0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, stale); !errors.Is(err, review.ErrConflict) {
		t.Errorf("stale update: err = %v, want ErrConflict", err)
	}
	decided, err := s.Get(ctx, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	if decided.Version != 2 || decided.Status != review.StatusConfirmed || decided.Decision == nil ||
		decided.Decision.Reason != "attended without approval" || len(decided.Comments) != 0 {
		t.Errorf("after update: version %d status %s decision %+v comments %d", decided.Version, decided.Status, decided.Decision, len(decided.Comments))
	}

	// Once closed, the employee may have a new open case.
	if err := s.Create(ctx, second); err != nil {
		t.Errorf("new case after the first closed: %v", err)
	}
	closed, err := s.ClosedFor(ctx, "E1001")
	if err != nil || len(closed) != 1 || closed[0].ID != "case-1" {
		t.Errorf("ClosedFor = %d cases, %v; want case-1", len(closed), err)
	}
}

func TestCaseStoreListFiltersAndPages(t *testing.T) {
	s := NewCaseStore(newTestDB(t))
	ctx := t.Context()
	all := []review.Case{
		testCase("case-a", "E1", "EV", "high", 90, detect.RuleExpense, "CITIC Securities"),
		testCase("case-b", "E2", "EV", "high", 70, detect.RuleUnapproved, "GLG"),
		testCase("case-c", "E3", "Battery", "medium", 50, detect.RuleExpense, "Capvision"),
		testCase("case-d", "E4", "Battery", "medium", 50, detect.RuleExpense, "CITIC Securities"),
		testCase("case-e", "E5", "Design", "low", 5, detect.RuleExpense, "GLG"),
	}
	closed := testCase("case-f", "E6", "EV", "high", 80, detect.RuleExpense, "GLG")
	closed.Status = review.StatusCleared
	closed.Decision = &review.Decision{Outcome: review.StatusCleared, By: "C1", Reason: "ok", At: caseT0}
	all = append(all, closed)
	for _, c := range all {
		if err := s.Create(ctx, c); err != nil {
			t.Fatalf("create %s: %v", c.ID, err)
		}
	}
	ids := func(cs []review.Case) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		give review.Filter
		want []string
	}{
		{review.Filter{}, []string{"case-a", "case-f", "case-b", "case-d", "case-c", "case-e"}},
		{review.Filter{Status: review.StatusOpen}, []string{"case-a", "case-b", "case-d", "case-c", "case-e"}},
		{review.Filter{Status: review.StatusCleared}, []string{"case-f"}},
		{review.Filter{Severity: "medium"}, []string{"case-d", "case-c"}},
		{review.Filter{EmployeeID: "E2"}, []string{"case-b"}},
		{review.Filter{Department: "Battery"}, []string{"case-d", "case-c"}},
		{review.Filter{Rule: detect.RuleUnapproved}, []string{"case-b"}},
		{review.Filter{Counterparty: "CITIC Securities"}, []string{"case-a", "case-d"}},
		{review.Filter{Counterparty: "GLG", Status: review.StatusOpen}, []string{"case-b", "case-e"}},
		{review.Filter{EmployeeID: "E404"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.give), func(t *testing.T) {
			got, next, err := s.List(ctx, tt.give, 50, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tt.want) || next != "" {
				t.Errorf("List = %v (next %q), want %v", ids(got), next, tt.want)
			}
		})
	}

	// Pages of two walk the whole list once, in order, ties broken by id.
	var walked []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		got, next, err := s.List(ctx, review.Filter{}, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(got)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if want := []string{"case-a", "case-f", "case-b", "case-d", "case-c", "case-e"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("paged walk = %v, want %v", walked, want)
	}

	for _, bad := range []string{"???", "Zm9v", encodeCaseCursorRaw("x1:5:case-a"), encodeCaseCursorRaw("c1:five:case-a")} {
		if _, _, err := s.List(ctx, review.Filter{}, 2, bad); !errors.Is(err, review.ErrInvalid) {
			t.Errorf("List(cursor %q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func encodeCaseCursorRaw(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
