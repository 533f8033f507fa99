package mongostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// newTestDB returns a fresh database with every index in place.
func newTestDB(t *testing.T) *DB {
	t.Helper()
	db := Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatalf("ensure indexes: %v", err)
	}
	return db
}

var disclosureT0 = time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC)

func sampleInput() disclosure.Input {
	return disclosure.Input{
		Kind: disclosure.KindPaidSeminar, Counterparty: "凯盛融英 Capvision",
		CounterpartyType: disclosure.CounterpartyExpertNetwork, Topic: "EV supply chain outlook",
		StartDate: civil.MustParse("2023-11-20"), EndDate: civil.MustParse("2023-11-20"), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "3000.00", Currency: "CNY"}, Notes: "first call",
	}
}

// newDisclosure makes a pending disclosure created i minutes after disclosureT0.
func newDisclosure(id, employeeID string, i int) disclosure.Disclosure {
	return disclosure.New(id, employeeID, sampleInput(), disclosure.DefaultPolicy(), disclosureT0.Add(time.Duration(i)*time.Minute))
}

func mustCreate(t *testing.T, s *DisclosureStore, ds ...disclosure.Disclosure) {
	t.Helper()
	for _, d := range ds {
		if err := s.Create(t.Context(), d); err != nil {
			t.Fatalf("create %s: %v", d.ID, err)
		}
	}
}

func TestDisclosureStoreRoundTrip(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()

	d := newDisclosure("D1", "E1001", 0)
	t1 := disclosureT0.Add(90 * time.Minute).Add(123456 * time.Nanosecond) // sub-millisecond part is dropped by BSON
	if err := d.Decide("C0001", disclosure.ApproverCompliance, disclosure.OutcomeApprove, "ok", []string{"no MNPI", "no slides"}, t1); err != nil {
		t.Fatal(err)
	}
	if err := d.Edit("E1001", sampleInput(), disclosure.DefaultPolicy(), t1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, d)

	got, err := s.Get(ctx, "D1")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	want := d
	want.UpdatedAt = storedTime(want.UpdatedAt)
	want.History = slices.Clone(want.History)
	for i := range want.History {
		want.History[i].At = storedTime(want.History[i].At)
		if p := want.History[i].PreviousDecision; p != nil {
			c := *p
			c.At = storedTime(c.At)
			want.History[i].PreviousDecision = &c
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if prev := got.History[2].PreviousDecision; prev == nil || !slices.Equal(prev.Conditions, []string{"no MNPI", "no slides"}) {
		t.Errorf("kept decision = %+v", prev)
	}

	// A pre-approved, unpaid disclosure has a current decision and no compensation.
	in := sampleInput()
	in.Kind, in.CounterpartyType, in.Paid, in.Compensation, in.Notes = disclosure.KindSpeaking, disclosure.CounterpartyAcademic, false, nil, ""
	pre := disclosure.New("D2", "E1001", in, disclosure.DefaultPolicy(), disclosureT0)
	mustCreate(t, s, pre)
	got, err = s.Get(ctx, "D2")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, pre) {
		t.Errorf("pre-approved round trip:\n got %+v\nwant %+v", got, pre)
	}
}

func TestDisclosureStoreErrors(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	mustCreate(t, s, newDisclosure("D1", "E1001", 0))

	if err := s.Create(ctx, newDisclosure("D1", "E2002", 1)); !errors.Is(err, disclosure.ErrConflict) {
		t.Errorf("duplicate create err = %v, want ErrConflict", err)
	}
	if _, err := s.Get(ctx, "D404"); !errors.Is(err, disclosure.ErrNotFound) {
		t.Errorf("get missing err = %v, want ErrNotFound", err)
	}
	// Operator-looking ids are plain strings to the store.
	for _, id := range []string{`{"$ne": null}`, "$ne", `{"$gt": ""}`} {
		if _, err := s.Get(ctx, id); !errors.Is(err, disclosure.ErrNotFound) {
			t.Errorf("get %q err = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.Update(ctx, newDisclosure("D404", "E1001", 0)); !errors.Is(err, disclosure.ErrNotFound) {
		t.Errorf("update missing err = %v, want ErrNotFound", err)
	}
}

func TestDisclosureStoreUpdateConflict(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	mustCreate(t, s, newDisclosure("D1", "E1001", 0))

	// Two reviewers read version 1; the first decision wins, the second conflicts.
	a, err := s.Get(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.History = slices.Clone(a.History)
	if err := a.Decide("C0001", disclosure.ApproverCompliance, disclosure.OutcomeApprove, "", nil, disclosureT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.Decide("C0002", disclosure.ApproverCompliance, disclosure.OutcomeReject, "no", nil, disclosureT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, err := s.Update(ctx, a)
	if err != nil || v != 2 {
		t.Fatalf("first update = %d, %v; want 2, nil", v, err)
	}
	if _, err := s.Update(ctx, b); !errors.Is(err, disclosure.ErrConflict) {
		t.Fatalf("second update err = %v, want ErrConflict", err)
	}
	got, err := s.Get(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != disclosure.StatusApproved || got.Version != 2 || got.Decision.By != "C0001" {
		t.Errorf("stored = status %s version %d decision %+v; want approved v2 by C0001", got.Status, got.Version, got.Decision)
	}
	// The winner can go on from the version it got back.
	if err := got.Withdraw("E1001", "", disclosureT0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Update(ctx, got); err != nil || v != 3 {
		t.Errorf("third update = %d, %v; want 3, nil", v, err)
	}
}

func ids(ds []disclosure.Disclosure) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func TestDisclosureStoreListByEmployeePages(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	// Seven of E1's, two sharing a creation time (the id breaks the tie), and one of E2's.
	mustCreate(t, s,
		newDisclosure("D1", "E1", 1), newDisclosure("D2", "E1", 2), newDisclosure("D3", "E1", 3),
		newDisclosure("D4a", "E1", 4), newDisclosure("D4b", "E1", 4), newDisclosure("D5", "E1", 5),
		newDisclosure("D6", "E1", 6), newDisclosure("X1", "E2", 7))

	var pages [][]string
	cursor := ""
	for range 10 {
		got, next, err := s.ListByEmployee(ctx, "E1", disclosure.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", len(pages), err)
		}
		pages = append(pages, ids(got))
		if next == "" {
			break
		}
		cursor = next
	}
	want := [][]string{{"D6", "D5", "D4b"}, {"D4a", "D3", "D2"}, {"D1"}}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages = %v, want %v", pages, want)
	}

	// An exact last page has no next cursor.
	got, next, err := s.ListByEmployee(ctx, "E2", disclosure.Page{Limit: 1})
	if err != nil || !slices.Equal(ids(got), []string{"X1"}) || next != "" {
		t.Errorf("E2 = %v, next %q, %v; want [X1], no cursor", ids(got), next, err)
	}
	got, _, err = s.ListByEmployee(ctx, `{"$ne": null}`, disclosure.Page{})
	if err != nil || len(got) != 0 {
		t.Errorf("operator employee id = %v, %v; want nothing", ids(got), err)
	}
	if _, _, err := s.ListByEmployee(ctx, "E1", disclosure.Page{Cursor: "bogus"}); !errors.Is(err, disclosure.ErrBadCursor) {
		t.Errorf("bad cursor err = %v, want ErrBadCursor", err)
	}
}

func TestDisclosureStoreListFilters(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	unpaidMedia := sampleInput()
	unpaidMedia.Kind, unpaidMedia.CounterpartyType, unpaidMedia.Paid, unpaidMedia.Compensation = disclosure.KindMediaInterview, disclosure.CounterpartyMedia, false, nil

	approved := newDisclosure("A1", "E1", 1)
	if err := approved.Decide("C1", disclosure.ApproverCompliance, disclosure.OutcomeApprove, "", nil, disclosureT0); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s,
		approved,
		newDisclosure("P1", "E1", 2),
		newDisclosure("P2", "E2", 3),
		disclosure.New("M1", "E3", unpaidMedia, disclosure.DefaultPolicy(), disclosureT0.Add(4*time.Minute)),
	)
	tests := []struct {
		name string
		give disclosure.Filter
		want []string
	}{
		{name: "all", give: disclosure.Filter{}, want: []string{"M1", "P2", "P1", "A1"}},
		{name: "pending", give: disclosure.Filter{Status: disclosure.StatusPending}, want: []string{"M1", "P2", "P1"}},
		{name: "approved", give: disclosure.Filter{Status: disclosure.StatusApproved}, want: []string{"A1"}},
		{name: "compliance inbox", give: disclosure.Filter{Status: disclosure.StatusPending, Approver: disclosure.ApproverCompliance}, want: []string{"P2", "P1"}},
		{name: "manager inbox", give: disclosure.Filter{Status: disclosure.StatusPending, Approver: disclosure.ApproverManager, EmployeeIDs: []string{"E3", "E1"}}, want: []string{"M1"}},
		{name: "reports", give: disclosure.Filter{EmployeeIDs: []string{"E1", "E2"}}, want: []string{"P2", "P1", "A1"}},
		{name: "no reports sees nothing", give: disclosure.Filter{EmployeeIDs: []string{}}, want: []string{}},
		{name: "unknown employee", give: disclosure.Filter{EmployeeIDs: []string{"E9"}}, want: []string{}},
		{name: "operator as employee id", give: disclosure.Filter{EmployeeIDs: []string{`{"$ne": null}`}}, want: []string{}},
		{name: "operator as status", give: disclosure.Filter{Status: `{"$ne": null}`}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := s.List(ctx, tt.give, disclosure.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) || next != "" {
				t.Errorf("List = %v (next %q), want %v", ids(got), next, tt.want)
			}
		})
	}

	// Filters hold across pages.
	first, next, err := s.List(ctx, disclosure.Filter{Status: disclosure.StatusPending}, disclosure.Page{Limit: 2})
	if err != nil || !slices.Equal(ids(first), []string{"M1", "P2"}) || next == "" {
		t.Fatalf("page 1 = %v, %q, %v", ids(first), next, err)
	}
	second, next, err := s.List(ctx, disclosure.Filter{Status: disclosure.StatusPending}, disclosure.Page{Limit: 2, Cursor: next})
	if err != nil || !slices.Equal(ids(second), []string{"P1"}) || next != "" {
		t.Errorf("page 2 = %v, %q, %v; want [P1]", ids(second), next, err)
	}
}

func TestDisclosureStoreListForDetection(t *testing.T) {
	s := NewDisclosureStore(newTestDB(t))
	ctx := t.Context()
	for i, start := range []string{"2023-12-01", "2023-10-05", "2023-11-20"} {
		in := sampleInput()
		in.StartDate, in.EndDate = civil.MustParse(start), civil.MustParse(start)
		id := fmt.Sprintf("D%d", i)
		mustCreate(t, s, disclosure.New(id, "E1", in, disclosure.DefaultPolicy(), disclosureT0))
	}
	mustCreate(t, s, newDisclosure("X", "E2", 0))
	got, err := s.ListForDetection(ctx, "E1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"D1", "D2", "D0"}; !slices.Equal(ids(got), want) {
		t.Errorf("ListForDetection = %v, want %v (by start date)", ids(got), want)
	}
}

// TestEnsureIndexesTwice: start-up runs it every time.
func TestEnsureIndexesTwice(t *testing.T) {
	db := newTestDB(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Errorf("second EnsureIndexes: %v", err)
	}
}
