package review_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// racingStore changes the case behind the caller's back before the first
// update, as detection would between a reviewer's read and write.
type racingStore struct {
	review.Store
	raced bool
}

func (s *racingStore) Update(ctx context.Context, c review.Case, entries ...audit.Entry) error {
	if !s.raced {
		s.raced = true
		fresh, err := s.Store.Get(ctx, c.ID)
		if err != nil {
			return err
		}
		fresh.History = append(fresh.History, review.Change{At: fresh.UpdatedAt, Actor: review.System, Action: review.ActionFindingsUpdated})
		if err := s.Store.Update(ctx, fresh); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, c, entries...)
}

func TestServiceAuditsReadsAndDecisions(t *testing.T) {
	w := evaluatetest.New(t)
	w.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.Claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费"),
		evaluatetest.Hired(t, "C1", "2015-01-01"))
	c, ok := w.Open("E1")
	if !ok {
		t.Fatal("no case")
	}
	racing := &racingStore{Store: w.Cases}
	svc := &review.Service{Cases: racing, Audit: w.Audit, Now: func() time.Time { return w.Now }}
	ctx := t.Context()
	reviewer := review.Actor{ID: "C1", Roles: []string{"compliance", "employee"}, RequestID: "req-1", Purpose: "case review"}
	subject := review.Actor{ID: "E1", Roles: []string{"compliance", "employee"}, RequestID: "req-2"}

	// Recusal: the subject holds compliance, and still neither reads nor
	// lists their own case; each refusal is audited.
	if _, err := svc.Get(ctx, subject, c.ID); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("subject reads own case: err = %v, want ErrForbidden", err)
	}
	if _, _, err := svc.List(ctx, subject, review.Filter{EmployeeID: "E1"}, 10, ""); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("subject lists own cases: err = %v, want ErrForbidden", err)
	}
	if got, _, err := svc.List(ctx, subject, review.Filter{}, 10, ""); err != nil || len(got) != 0 {
		t.Fatalf("subject's queue = %d cases, %v; want their own case left out", len(got), err)
	}
	denied, _, err := w.Audit.List(ctx, audit.Filter{Action: audit.ActionAccessDenied}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) != 2 || denied[1].Actor != "E1" || denied[1].ResourceID != c.ID || denied[1].OwnerID != "E1" ||
		denied[1].Reason == "" || denied[1].Details["attempt"] != "case.read" {
		t.Fatalf("access.denied entries = %+v, want the read and the list by E1", denied)
	}
	if _, err := svc.Get(ctx, reviewer, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.List(ctx, reviewer, review.Filter{}, 10, ""); err != nil {
		t.Fatal(err)
	}
	reads, _, err := w.Audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 2 {
		t.Fatalf("%d case.read entries, want 2 (get and list by C1; none for the subject's own read)", len(reads))
	}
	for _, e := range reads {
		// One entry per read: the get names the case, the listed page
		// names every case and person it showed.
		one := e.OwnerID == "E1" && e.ResourceID == c.ID
		many := slices.Equal(e.OwnerIDs, []string{"E1"}) && slices.Equal(e.ResourceIDs, []string{c.ID}) && e.Details["count"] == "1"
		if e.Actor != "C1" || !one && !many || e.RequestID != "req-1" || e.Reason != "case review" {
			t.Errorf("read entry = %+v", e)
		}
	}

	for _, tt := range []struct {
		name    string
		actor   review.Actor
		outcome string
		reason  string
		wantErr error
	}{
		{"about oneself", subject, review.StatusCleared, "mine", review.ErrForbidden},
		{"bad outcome", reviewer, "closed", "x", review.ErrInvalid},
		{"no reason", reviewer, review.StatusConfirmed, "", review.ErrInvalid},
	} {
		if _, err := svc.Decide(ctx, tt.actor, c.ID, c.Version, tt.outcome, tt.reason); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if _, err := svc.Decide(ctx, reviewer, "case-none", 1, review.StatusCleared, "x"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("unknown case: err = %v, want ErrNotFound", err)
	}
	if _, err := svc.Decide(ctx, reviewer, c.ID, 0, review.StatusCleared, "x"); !errors.Is(err, review.ErrVersionRequired) {
		t.Errorf("no version: err = %v, want ErrVersionRequired", err)
	}

	// Detection changed the case between the reviewer's read and write: the
	// decision is for what they read, so it is refused as stale, not
	// applied to the new findings.
	if _, err := svc.Decide(ctx, reviewer, c.ID, c.Version, review.StatusConfirmed, "x"); !errors.Is(err, review.ErrStale) {
		t.Fatalf("decide during a change: err = %v, want ErrStale", err)
	}
	got, err := svc.Decide(ctx, reviewer, c.ID, c.Version+1, review.StatusConfirmed, "attended a paid brokerage seminar without approval")
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if !racing.raced || got.Status != review.StatusConfirmed || got.Version != c.Version+2 {
		t.Errorf("decided: raced %v status %s version %d (was %d)", racing.raced, got.Status, got.Version, c.Version)
	}
	stored, _ := w.Cases.Get(ctx, c.ID)
	if stored.Version != got.Version || stored.Status != review.StatusConfirmed {
		t.Errorf("stored: version %d status %s; returned version %d", stored.Version, stored.Status, got.Version)
	}
	if _, err := svc.Decide(ctx, reviewer, c.ID, got.Version, review.StatusCleared, "again"); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("second decision: err = %v, want ErrInvalidState", err)
	}
	decisions, _, err := w.Audit.List(ctx, audit.Filter{Action: audit.ActionCaseDecide, ResourceID: c.ID}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions) != 1 {
		t.Fatalf("%d case.decide entries, want 1 (the stale attempt leaves none)", len(decisions))
	}
	last := decisions[0]
	if last.Actor != "C1" || last.Reason != "attended a paid brokerage seminar without approval" ||
		last.Details["to"] != review.StatusConfirmed || last.OwnerID != "E1" {
		t.Errorf("decision entry = %+v", last)
	}

	// Assign and comment are closed with the case; on an open one they work.
	if _, err := svc.Comment(ctx, reviewer, c.ID, "noted"); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("comment on a closed case: err = %v, want ErrInvalidState", err)
	}
	if _, err := svc.Assign(ctx, reviewer, c.ID, ""); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("assign closed: err = %v, want ErrInvalidState", err)
	}
	if _, _, err := svc.List(ctx, reviewer, review.Filter{}, 0, ""); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
}
