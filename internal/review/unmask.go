package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// Unmasking: a compliance reviewer asks, with a reason, to see the identity
// of one case's subject. With privacy.unmask "self" the grant is immediate;
// with "two_person" a privacy officer (not the requester, not the subject)
// approves or rejects the request, at the version they read. A grant lasts
// privacy.unmask_ttl and is a document in MongoDB (shared by replicas),
// checked against now at every read. Every step is audited with the reason.

// Statuses of an unmask request, and of a reader's state of a case.
const (
	UnmaskPending  = "pending"
	UnmaskApproved = "approved"
	UnmaskRejected = "rejected"
	// UnmaskExpired is a grant (or a pending request) past its time; only
	// ever computed, never stored.
	UnmaskExpired = "expired"
)

// Audit actions of unmasking and of four eyes.
const (
	ActionAuditUnmask         audit.Action = "case.unmask"
	ActionAuditUnmaskRequest  audit.Action = "unmask.request"
	ActionAuditUnmaskDecide   audit.Action = "unmask.decide"
	ActionAuditConfirmRequest audit.Action = "case.confirm_request"
	ActionAuditConfirm        audit.Action = "case.confirm"
	ActionAuditConfirmDecline audit.Action = "case.confirm_decline"
	ResourceUnmaskRequest                  = "unmask_request"
	rolePrivacyOfficer                     = "privacy_officer"
	maxUnmaskReason                        = 1000
	unmaskRequestLimit                     = 200
	unmaskDecisionApprove                  = "approve"
	unmaskDecisionReject                   = "reject"
)

// ErrUnmaskNotFound: no such unmask request (or not one the caller may see).
var ErrUnmaskNotFound = errors.New("unmask request not found")

// UnmaskRequest is one reviewer's request to see one case's subject.
type UnmaskRequest struct {
	ID     string
	CaseID string
	// EmployeeID is the subject; never shown under pseudonymisation
	// (Subject is), but checked: nobody decides a request about themselves.
	EmployeeID  string
	Subject     string
	Requester   string
	Reason      string
	Status      string
	RequestedAt time.Time
	// ExpiresAt: a pending request not decided by then lapses.
	ExpiresAt time.Time
	DecidedBy string
	Comment   string
	DecidedAt time.Time
	// Until is when the grant of an approved request ends.
	Until   time.Time
	Version int64
}

// UnmaskState is one reviewer's state of one case: their latest request
// and, when approved, until when they see the identity.
type UnmaskState struct {
	CaseID    string
	Reviewer  string
	RequestID string
	Status    string
	ExpiresAt time.Time // of a pending request
	Until     time.Time // of a grant
}

// UnmaskStore keeps unmask requests and the reviewers' states.
type UnmaskStore interface {
	// Create stores a new request (version 1), its state for the
	// requester and e (its audit entry).
	Create(ctx context.Context, r UnmaskRequest, e audit.Entry) error
	Get(ctx context.Context, id string) (UnmaskRequest, error)
	// List returns requests of a status ("" for all), oldest first, at most limit.
	List(ctx context.Context, status string, limit int) ([]UnmaskRequest, error)
	// Decide writes r (read at r.Version) through the transition arbiter:
	// of concurrent decisions of one version exactly one wins (else
	// ErrConflict), and only it appends entries and updates the state.
	Decide(ctx context.Context, r UnmaskRequest, entries ...audit.Entry) error
	// StatesOf returns reviewer's states of the cases among caseIDs, by case id.
	StatesOf(ctx context.Context, reviewer string, caseIDs []string) (map[string]UnmaskState, error)
}

func (s *Service) unmaskMode() string {
	if s.Privacy != nil && s.Privacy.Config.Unmask != "" {
		return s.Privacy.Config.Unmask
	}
	return privacy.UnmaskSelf
}

// RequestUnmask asks to see the identity of case id's subject, for reason.
// In self mode it is granted at once; in two-person mode it waits for a
// privacy officer. It returns the case as the reader now sees it.
func (s *Service) RequestUnmask(ctx context.Context, actor Actor, id, reason string) (Case, UnmaskRequest, error) {
	c, err := s.Cases.Get(ctx, id)
	if err != nil {
		return Case{}, UnmaskRequest{}, err
	}
	if !actor.has(roleCompliance) {
		return Case{}, UnmaskRequest{}, s.deny(ctx, actor, c, string(ActionAuditUnmaskRequest), "needs compliance")
	}
	if c.EmployeeID == actor.ID {
		return Case{}, UnmaskRequest{}, s.deny(ctx, actor, c, string(ActionAuditUnmaskRequest), "nobody reads a case about themselves")
	}
	if !s.Privacy.On() || s.Unmasks == nil {
		return Case{}, UnmaskRequest{}, fmt.Errorf("identities are not pseudonymised, nothing to unmask: %w", ErrInvalidState)
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > maxUnmaskReason {
		return Case{}, UnmaskRequest{}, fmt.Errorf("reason must have 1 to %d characters: %w", maxUnmaskReason, ErrInvalid)
	}
	now := s.Now()
	states, err := s.Unmasks.StatesOf(ctx, actor.ID, []string{id})
	if err != nil {
		return Case{}, UnmaskRequest{}, err
	}
	if st, ok := states[id]; ok {
		live := (st.Status == UnmaskApproved && now.Before(st.Until)) || (st.Status == UnmaskPending && now.Before(st.ExpiresAt))
		if live {
			return Case{}, UnmaskRequest{}, fmt.Errorf("case %s already has your %s unmask request: %w", id, st.Status, ErrInvalidState)
		}
	}
	r := UnmaskRequest{ID: "unm-" + audit.NewID(), CaseID: id, EmployeeID: c.EmployeeID, Subject: s.Privacy.Subject(c.EmployeeID),
		Requester: actor.ID, Reason: reason, Status: UnmaskPending, RequestedAt: now, ExpiresAt: now.Add(s.unmaskTTL()), Version: 1}
	action := ActionAuditUnmaskRequest
	if s.unmaskMode() == privacy.UnmaskSelf {
		r.Status, r.DecidedBy, r.DecidedAt, r.Until, r.ExpiresAt = UnmaskApproved, actor.ID, now, now.Add(s.unmaskTTL()), time.Time{}
		action = ActionAuditUnmask
	}
	e := audit.Entry{ID: audit.NewID(), At: now, Actor: actor.ID, ActorRoles: actor.Roles, Action: action,
		ResourceType: audit.ResourceCase, ResourceID: id, OwnerID: c.EmployeeID, Reason: reason,
		Details: map[string]string{"request": r.ID, "mode": s.unmaskMode(), "status": r.Status}, RequestID: actor.RequestID}
	if !r.Until.IsZero() {
		e.Details["until"] = r.Until.UTC().Format(time.RFC3339)
	}
	if err := s.Unmasks.Create(ctx, r, e); err != nil {
		return Case{}, UnmaskRequest{}, err
	}
	v, err := s.Get(ctx, actor, id)
	return v, r, err
}

// UnmaskRequests lists requests for privacy officers (status "" for all).
func (s *Service) UnmaskRequests(ctx context.Context, actor Actor, status string) ([]UnmaskRequest, error) {
	if !actor.has(rolePrivacyOfficer) {
		return nil, s.denyUnmask(ctx, actor, UnmaskRequest{}, "list", "needs privacy_officer")
	}
	switch status {
	case "", UnmaskPending, UnmaskApproved, UnmaskRejected:
	default:
		return nil, fmt.Errorf("status must be pending, approved or rejected: %w", ErrInvalid)
	}
	if s.Unmasks == nil {
		return nil, nil
	}
	rs, err := s.Unmasks.List(ctx, status, unmaskRequestLimit)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if r.EmployeeID == actor.ID {
			continue // a request about the officer is not theirs to see
		}
		out = append(out, r)
	}
	return out, nil
}

// DecideUnmask is a privacy officer's approval or rejection of request id
// at the version they read.
func (s *Service) DecideUnmask(ctx context.Context, actor Actor, id, decision, comment string, version int64) (UnmaskRequest, error) {
	if s.Unmasks == nil {
		return UnmaskRequest{}, ErrUnmaskNotFound
	}
	r, err := s.Unmasks.Get(ctx, id)
	if err != nil {
		return UnmaskRequest{}, err
	}
	switch {
	case !actor.has(rolePrivacyOfficer):
		return UnmaskRequest{}, s.denyUnmask(ctx, actor, r, "decide", "needs privacy_officer")
	case r.Requester == actor.ID:
		return UnmaskRequest{}, s.denyUnmask(ctx, actor, r, "decide", "nobody decides their own unmask request")
	case r.EmployeeID == actor.ID:
		return UnmaskRequest{}, s.denyUnmask(ctx, actor, r, "decide", "nobody decides an unmask request about themselves")
	}
	if decision != unmaskDecisionApprove && decision != unmaskDecisionReject {
		return UnmaskRequest{}, fmt.Errorf("decision must be approve or reject: %w", ErrInvalid)
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > maxUnmaskReason {
		return UnmaskRequest{}, fmt.Errorf("comment must have at most %d characters: %w", maxUnmaskReason, ErrInvalid)
	}
	if version <= 0 {
		return UnmaskRequest{}, fmt.Errorf("decide unmask request %s: %w", id, ErrVersionRequired)
	}
	if r.Version != version {
		return UnmaskRequest{}, fmt.Errorf("unmask request %s: read version %d, now %d: %w", id, version, r.Version, ErrStale)
	}
	now := s.Now()
	if r.Status != UnmaskPending {
		return UnmaskRequest{}, fmt.Errorf("unmask request %s is %s: %w", id, r.Status, ErrInvalidState)
	}
	if !now.Before(r.ExpiresAt) {
		return UnmaskRequest{}, s.denyUnmask(ctx, actor, r, "decide", "the request lapsed undecided; the reviewer may ask again")
	}
	next := r
	next.DecidedBy, next.DecidedAt, next.Comment = actor.ID, now, comment
	next.Status = UnmaskRejected
	if decision == unmaskDecisionApprove {
		next.Status, next.Until = UnmaskApproved, now.Add(s.unmaskTTL())
	}
	e := audit.Entry{ID: "unm-" + r.ID + "-" + fmt.Sprint(r.Version), At: now, Actor: actor.ID, ActorRoles: actor.Roles, Action: ActionAuditUnmaskDecide,
		ResourceType: ResourceUnmaskRequest, ResourceID: r.ID, OwnerID: r.EmployeeID, Reason: comment,
		Details: map[string]string{"decision": decision, "case": r.CaseID, "requester": r.Requester, "version": fmt.Sprint(r.Version)}, RequestID: actor.RequestID}
	if !next.Until.IsZero() {
		e.Details["until"] = next.Until.UTC().Format(time.RFC3339)
	}
	if err := s.Unmasks.Decide(ctx, next, e); err != nil {
		if errors.Is(err, ErrConflict) {
			return UnmaskRequest{}, fmt.Errorf("decide unmask request %s: %w: %w", id, ErrStale, err)
		}
		return UnmaskRequest{}, err
	}
	next.Version++
	return next, nil
}

// denyUnmask audits a refused act on an unmask request (ErrForbidden).
func (s *Service) denyUnmask(ctx context.Context, actor Actor, r UnmaskRequest, attempt, why string) error {
	actorID := actor.ID
	if actorID == "" {
		actorID = "anonymous"
	}
	e := audit.Entry{ID: audit.NewID(), At: s.Now(), Actor: actorID, ActorRoles: actor.Roles, Action: audit.ActionAccessDenied,
		ResourceType: ResourceUnmaskRequest, ResourceID: r.ID, OwnerID: r.EmployeeID, Reason: why,
		Details: map[string]string{"attempt": "unmask." + attempt}, RequestID: actor.RequestID}
	if r.CaseID != "" {
		e.Details["case"] = r.CaseID
	}
	refusal := fmt.Errorf("%s unmask request %s: %s: %w", attempt, r.ID, why, ErrForbidden)
	if err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit refusal (%v): %w", refusal, err)
	}
	return refusal
}
