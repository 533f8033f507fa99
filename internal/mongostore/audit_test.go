package mongostore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

var auditT0 = time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC)

func entry(id string, minute int, action audit.Action, actor, owner, resourceID string) audit.Entry {
	return audit.Entry{
		ID: id, At: auditT0.Add(time.Duration(minute) * time.Minute), Actor: actor, ActorRoles: []string{"compliance"},
		Action: action, ResourceType: audit.ResourceDisclosure, ResourceID: resourceID, OwnerID: owner,
		Details: map[string]string{"status": "pending"}, RequestID: "req-" + id,
	}
}

func entryIDs(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func mustAppend(t *testing.T, s *AuditStore, es ...audit.Entry) {
	t.Helper()
	for _, e := range es {
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatalf("append %s: %v", e.ID, err)
		}
	}
}

func TestAuditStoreAppendRoundTrip(t *testing.T) {
	s := NewAuditStore(newTestDB(t))
	ctx := t.Context()
	e := entry("A1", 0, audit.ActionDisclosureDecide, "C1", "E1", "D1")
	e.At = e.At.Add(1500 * time.Microsecond) // kept to the millisecond
	e.Reason = "conflicts with project 星火"
	mustAppend(t, s, e)
	// A retried append of the same entry is absorbed, not duplicated.
	mustAppend(t, s, e)

	got, next, err := s.List(ctx, audit.Filter{}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	want := e
	want.At = auditT0.Add(time.Millisecond)
	if len(got) != 1 || next != "" || !reflect.DeepEqual(got[0], want) {
		t.Errorf("List = %+v (next %q), want [%+v]", got, next, want)
	}

	minimal := audit.Entry{ID: "A2", At: auditT0, Actor: audit.SystemActor, Action: audit.ActionRescan}
	mustAppend(t, s, minimal)
	got, _, err = s.List(ctx, audit.Filter{Action: audit.ActionRescan}, 0, "")
	if err != nil || len(got) != 1 || got[0].ID != "A2" || got[0].Details != nil || len(got[0].ActorRoles) != 0 {
		t.Errorf("minimal entry = %+v, %v", got, err)
	}
}

func TestAuditStoreAppendRejectsInvalid(t *testing.T) {
	s := NewAuditStore(newTestDB(t))
	ctx := t.Context()
	bad := entry("A1", 0, audit.ActionDisclosureRead, "C1", "E1", "D1")
	bad.Details = map[string]string{"$set": "x"}
	if err := s.Append(ctx, bad); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("append with $ key err = %v, want ErrInvalid", err)
	}
	if err := s.Append(ctx, audit.Entry{ID: "A2", Action: audit.ActionRescan}); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("append without actor and time err = %v, want ErrInvalid", err)
	}
	if got, _, err := s.List(ctx, audit.Filter{}, 0, ""); err != nil || len(got) != 0 {
		t.Errorf("after rejected appends: %v, %v; want empty", entryIDs(got), err)
	}
}

func TestAuditStoreListFilters(t *testing.T) {
	s := NewAuditStore(newTestDB(t))
	ctx := t.Context()
	mustAppend(t, s,
		entry("A1", 1, audit.ActionDisclosureCreate, "E1", "E1", "D1"),
		entry("A2", 2, audit.ActionDisclosureRead, "C1", "E1", "D1"),
		entry("A3", 3, audit.ActionDisclosureDecide, "C1", "E1", "D1"),
		entry("A4", 4, audit.ActionDisclosureCreate, "E2", "E2", "D2"),
		entry("A5", 5, audit.ActionDisclosureRead, "M1", "E2", "D2"),
	)
	caseRead := entry("A6", 6, audit.ActionCaseRead, "C1", "E2", "K1")
	caseRead.ResourceType = audit.ResourceCase
	mustAppend(t, s, caseRead)

	tests := []struct {
		name string
		give audit.Filter
		want []string
	}{
		{name: "all, newest first", want: []string{"A6", "A5", "A4", "A3", "A2", "A1"}},
		{name: "actor", give: audit.Filter{Actor: "C1"}, want: []string{"A6", "A3", "A2"}},
		{name: "action", give: audit.Filter{Action: audit.ActionDisclosureRead}, want: []string{"A5", "A2"}},
		{name: "owner", give: audit.Filter{OwnerID: "E2"}, want: []string{"A6", "A5", "A4"}},
		{name: "resource", give: audit.Filter{ResourceType: audit.ResourceDisclosure, ResourceID: "D2"}, want: []string{"A5", "A4"}},
		{name: "resource type", give: audit.Filter{ResourceType: audit.ResourceCase}, want: []string{"A6"}},
		{name: "time window, To exclusive", give: audit.Filter{From: auditT0.Add(2 * time.Minute), To: auditT0.Add(5 * time.Minute)}, want: []string{"A4", "A3", "A2"}},
		{name: "from only", give: audit.Filter{From: auditT0.Add(5 * time.Minute)}, want: []string{"A6", "A5"}},
		{name: "combined", give: audit.Filter{Actor: "C1", OwnerID: "E1", Action: audit.ActionDisclosureDecide}, want: []string{"A3"}},
		{name: "no match", give: audit.Filter{Actor: "nobody"}, want: []string{}},
		{name: "operator as actor", give: audit.Filter{Actor: `{"$ne": null}`}, want: []string{}},
		{name: "operator as owner", give: audit.Filter{OwnerID: `{"$gt": ""}`}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := s.List(ctx, tt.give, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(entryIDs(got), tt.want) || next != "" {
				t.Errorf("List = %v (next %q), want %v", entryIDs(got), next, tt.want)
			}
		})
	}
}

func TestAuditStoreCursor(t *testing.T) {
	s := NewAuditStore(newTestDB(t))
	ctx := t.Context()
	// Eleven entries, several in the same millisecond (ties broken by id).
	for i := range 11 {
		mustAppend(t, s, entry(fmt.Sprintf("A%02d", i), i/3, audit.ActionDisclosureRead, "C1", "E1", "D1"))
	}
	var all []string
	pages := 0
	cursor := ""
	for {
		got, next, err := s.List(ctx, audit.Filter{Actor: "C1"}, 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, entryIDs(got)...)
		if next == "" || pages > 10 {
			break
		}
		cursor = next
	}
	want := []string{"A10", "A09", "A08", "A07", "A06", "A05", "A04", "A03", "A02", "A01", "A00"}
	if pages != 3 || !slices.Equal(all, want) {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, all, want)
	}

	// A new entry does not shift a page already being walked.
	first, next, err := s.List(ctx, audit.Filter{}, 4, "")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, entry("B1", 60, audit.ActionDisclosureRead, "C1", "E1", "D1"))
	second, _, err := s.List(ctx, audit.Filter{}, 4, next)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(entryIDs(first), want[:4]) || !slices.Equal(entryIDs(second), want[4:8]) {
		t.Errorf("pages around an append = %v, %v", entryIDs(first), entryIDs(second))
	}

	for _, bad := range []string{"x", "ZDE6MTpB", "bm90IGEgY3Vyc29y", `{"$ne":null}`} {
		if _, _, err := s.List(ctx, audit.Filter{}, 4, bad); !errors.Is(err, audit.ErrBadCursor) {
			t.Errorf("cursor %q err = %v, want ErrBadCursor", bad, err)
		}
	}
}
