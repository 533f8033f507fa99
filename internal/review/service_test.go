package review_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// racingStore changes the case behind the caller's back before the first
// update, as detection would between a reviewer's read and write.
type racingStore struct {
	review.Store
	raced bool
}

func (s *racingStore) Update(ctx context.Context, c review.Case) error {
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
	return s.Store.Update(ctx, c)
}

func TestServiceAuditsReadsAndDecisions(t *testing.T) {
	w := newWorld(t)
	w.feed(hired(t, "E1", "2019-03-01"), claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费"),
		hired(t, "C1", "2015-01-01"))
	c, ok := w.open("E1")
	if !ok {
		t.Fatal("no case")
	}
	racing := &racingStore{Store: w.cases}
	svc := &review.Service{Cases: racing, Audit: w.audit, Now: func() time.Time { return w.now }}
	ctx := t.Context()
	reviewer := review.Actor{ID: "C1", Roles: []string{"compliance", "employee"}, RequestID: "req-1", Purpose: "case review"}
	subject := review.Actor{ID: "E1", Roles: []string{"compliance", "employee"}, RequestID: "req-2"}

	if _, err := svc.Get(ctx, subject, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, reviewer, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.List(ctx, reviewer, review.Filter{}, 10, ""); err != nil {
		t.Fatal(err)
	}
	reads, _, err := w.audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 2 {
		t.Fatalf("%d case.read entries, want 2 (get and list by C1; none for the subject's own read)", len(reads))
	}
	for _, e := range reads {
		if e.Actor != "C1" || e.OwnerID != "E1" || e.ResourceID != c.ID || e.RequestID != "req-1" || e.Reason != "case review" {
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
		if _, err := svc.Decide(ctx, tt.actor, c.ID, tt.outcome, tt.reason); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if _, err := svc.Decide(ctx, reviewer, "case-none", review.StatusCleared, "x"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("unknown case: err = %v, want ErrNotFound", err)
	}

	// The decision survives a concurrent change by retrying on the fresh case.
	got, err := svc.Decide(ctx, reviewer, c.ID, review.StatusConfirmed, "attended a paid brokerage seminar without approval")
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if !racing.raced || got.Status != review.StatusConfirmed || got.Version != c.Version+2 {
		t.Errorf("decided: raced %v status %s version %d (was %d)", racing.raced, got.Status, got.Version, c.Version)
	}
	stored, _ := w.cases.Get(ctx, c.ID)
	if stored.Version != got.Version || stored.Status != review.StatusConfirmed {
		t.Errorf("stored: version %d status %s; returned version %d", stored.Version, stored.Status, got.Version)
	}
	if _, err := svc.Decide(ctx, reviewer, c.ID, review.StatusCleared, "again"); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("second decision: err = %v, want ErrInvalidState", err)
	}
	decisions, _, err := w.audit.List(ctx, audit.Filter{Action: audit.ActionCaseDecide, ResourceID: c.ID}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	last := decisions[0]
	if last.Actor != "C1" || last.Reason != "attended a paid brokerage seminar without approval" ||
		last.Details["to"] != review.StatusConfirmed || last.OwnerID != "E1" {
		t.Errorf("decision entry = %+v", last)
	}

	// Assign and comment are closed with the case; on an open one they work.
	if _, err := svc.Comment(ctx, reviewer, c.ID, "noted"); err != nil {
		t.Errorf("comment on a closed case: %v (comments stay possible)", err)
	}
	if _, err := svc.Assign(ctx, reviewer, c.ID, ""); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("assign closed: err = %v, want ErrInvalidState", err)
	}
	if _, _, err := svc.List(ctx, reviewer, review.Filter{}, 0, ""); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
}
