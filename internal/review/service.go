package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// Sentinels of the reviewers' service.
var (
	// ErrForbidden: the actor may not read or act on this case (it is about
	// them, or their roles do not allow it).
	ErrForbidden = errors.New("not allowed to act on this case")
	// ErrVersionRequired: a decision must name the version it decides (428).
	ErrVersionRequired = errors.New("decision must name the case version it decides")
	// ErrStale: the case changed since the version the reviewer read (409).
	ErrStale = errors.New("case changed since the version read")
)

// Roles as tokens name them (see the API contract).
const (
	roleCompliance = "compliance"
	roleAuditor    = "auditor"
)

// Audit actions of reviewers' changes (reads and decisions are in package audit).
const (
	ActionAuditCaseAssign  audit.Action = "case.assign"
	ActionAuditCaseComment audit.Action = "case.comment"
)

// ActionAuditCaseOpen is the audit action of a case opened by detection (the
// engine, internal/evaluate, writes it; the audit log names it with the
// reviewers' actions).
const ActionAuditCaseOpen audit.Action = "case.open"

// AuditStore is the audit log the service writes: one entry at a time, or
// the reads of a listed page in one write.
type AuditStore interface {
	audit.Store
	// AppendMany stores es (each must pass Validate); ids already stored
	// are skipped, as Append skips them.
	AppendMany(ctx context.Context, es []audit.Entry) error
}

// Page sizes of List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Actor is who asks, as the audit log records them.
type Actor struct {
	ID    string
	Roles []string
	// RequestID ties the audit entry to the request's logs.
	RequestID string
	// Purpose says why the data is read ("case queue", "case review").
	Purpose string
}

// Service is the reviewers' use of cases: list, read, assign, comment and
// decide. Every read of a case by someone other than its subject and every
// change is recorded in the audit log. Authorisation is decided here, once
// for the API and the web UI: compliance and auditors read, compliance
// changes, and nobody, whatever their roles, reads, lists or acts on a case
// about themselves. Every refusal is audited as access.denied.
type Service struct {
	Cases Store
	Audit AuditStore
	Now   func() time.Time
	// Comments keeps reviewers' notes in their own collection (bounded by
	// MaxComments per case); nil keeps them in the case document (tests).
	Comments Comments
	// Reviewers records who acts with the compliance role, so a case is
	// assigned only to a compliance reviewer. Nil: cases can only be taken
	// by the reviewer themselves.
	Reviewers Reviewers
	// Privacy decides what readers see of subjects' identities (view.go);
	// nil shows identities as before issue 15.
	Privacy *privacy.Policy
	// Directory gives the view the subject's HR record (job family,
	// projects, and what to mask); nil uses what the case holds.
	Directory Directory
	// Names masks the names of other people in a case's texts; nil masks
	// only the subject and their manager.
	Names NameDirectory
	// Unmasks keeps unmask requests and grants (unmask.go).
	Unmasks UnmaskStore
	// ConfirmRequiresSecondReviewer: a confirmed outcome waits for a
	// second, different compliance reviewer (review.confirm_requires_second_reviewer).
	ConfirmRequiresSecondReviewer bool
	// Notices receives the notice to an assignee (notices.go); nil: none.
	Notices notify.Outbox

	seenMu sync.Mutex
	seen   map[string]time.Time // recorded recently by this process
	names  namesCache
}

// Comments keeps the reviewers' notes on cases, apart from the case
// document, which would otherwise grow without bound.
type Comments interface {
	Add(ctx context.Context, caseID, id string, c Comment) error
	Count(ctx context.Context, caseID string) (int, error)
	// List returns a case's comments, oldest first, at most limit.
	List(ctx context.Context, caseID string, limit int) ([]Comment, error)
}

// MaxComments bounds the notes on one case.
const MaxComments = 200

// Reviewers knows who the compliance reviewers are. Roles come from the
// identity provider's tokens, not from HR, so the service records everyone
// it sees acting with the compliance role.
type Reviewers interface {
	Seen(ctx context.Context, id string, at time.Time) error
	// SeenSince reports whether id acted as a reviewer at or after since.
	SeenSince(ctx context.Context, id string, since time.Time) (bool, error)
}

// reviewerMemory is how long a reviewer stays assignable after their last
// act with the compliance role; reviewerRecordEvery bounds the writes.
const (
	reviewerMemory      = 90 * 24 * time.Hour
	reviewerRecordEvery = time.Hour
)

// noteReviewer records a compliance actor (at most once an hour per process).
func (s *Service) noteReviewer(ctx context.Context, a Actor) error {
	if s.Reviewers == nil || !a.has(roleCompliance) || a.ID == "" {
		return nil
	}
	now := s.Now()
	s.seenMu.Lock()
	last, ok := s.seen[a.ID]
	if ok && now.Sub(last) < reviewerRecordEvery {
		s.seenMu.Unlock()
		return nil
	}
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	s.seen[a.ID] = now
	s.seenMu.Unlock()
	return s.Reviewers.Seen(ctx, a.ID, now)
}

// List returns a page of cases, highest score first, recording a read of
// each case listed: the queue shows findings, so it is a read of them.
func (s *Service) List(ctx context.Context, actor Actor, f Filter, limit int, cursor string) ([]Case, string, error) {
	if !actor.has(roleCompliance) && !actor.has(roleAuditor) {
		return nil, "", s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "list", "needs compliance or auditor")
	}
	if err := s.noteReviewer(ctx, actor); err != nil {
		return nil, "", err
	}
	if f.EmployeeID != "" && f.EmployeeID == actor.ID {
		return nil, "", s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "list", "nobody reads cases about themselves")
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", fmt.Errorf("limit must be 1..%d, got %d: %w", MaxLimit, limit, ErrInvalid)
	}
	if f.Subject != "" {
		if !privacy.IsSubject(f.Subject) {
			return nil, "", fmt.Errorf("subject must be a pseudonym like P-7K3Q-M2XD: %w", ErrInvalid)
		}
		f.Subject = privacy.NormalizeSubject(f.Subject)
	}
	if f.EmployeeID != "" {
		if err := s.recordLookup(ctx, actor, f.EmployeeID, "case list"); err != nil {
			return nil, "", err
		}
	}
	cs, next, err := s.Cases.List(ctx, f, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	// The actor's own cases are left out of every page (a page may then
	// hold fewer than limit, its cursor still goes on).
	cs = slices.DeleteFunc(cs, func(c Case) bool { return c.EmployeeID == actor.ID })
	// One entry for the page, naming every case and person it showed
	// (issue 14: one per case flooded the log).
	if e, ok := s.listEntry(actor, cs, "list"); ok {
		if err := s.Audit.Append(ctx, e); err != nil {
			return nil, "", fmt.Errorf("record read of %d cases: %w", len(cs), err)
		}
	}
	cs, err = s.viewAll(ctx, actor, cs, viewOpts{lookedUp: f.EmployeeID})
	if err != nil {
		return nil, "", err
	}
	return cs, next, nil
}

// Get returns one case, recording the read.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Case, error) {
	c, err := s.Cases.Get(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if !actor.has(roleCompliance) && !actor.has(roleAuditor) {
		return Case{}, s.deny(ctx, actor, c, "read", "needs compliance or auditor")
	}
	if c.EmployeeID == actor.ID {
		return Case{}, s.deny(ctx, actor, c, "read", "nobody reads a case about themselves")
	}
	if err := s.recordRead(ctx, actor, c, "get"); err != nil {
		return Case{}, err
	}
	c, err = s.withComments(ctx, c)
	if err != nil {
		return Case{}, err
	}
	return s.view(ctx, actor, c, viewOpts{full: true})
}

func (s *Service) recordRead(ctx context.Context, actor Actor, c Case, via string) error {
	e, ok := s.readEntry(actor, c, via)
	if !ok {
		return nil
	}
	if err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("record read of case %s: %w", c.ID, err)
	}
	return nil
}

// readEntry is the audit entry of actor reading c, when the read is audited.
func (s *Service) readEntry(actor Actor, c Case, via string) (audit.Entry, bool) {
	if !audit.NeedsReadAudit(c.EmployeeID, actor.ID) {
		return audit.Entry{}, false
	}
	reason := actor.Purpose
	if reason == "" {
		reason = "case review"
	}
	return audit.Entry{
		ID: audit.NewID(), At: s.Now(), Actor: actor.ID, ActorRoles: actor.Roles, Action: audit.ActionCaseRead,
		ResourceType: audit.ResourceCase, ResourceID: c.ID, OwnerID: c.EmployeeID, Reason: reason,
		Details: map[string]string{"via": via, "status": c.Status}, RequestID: actor.RequestID,
	}, true
}

// Decide closes an open case as cleared or confirmed, at the version the
// reviewer read: none is ErrVersionRequired, another is ErrStale (new
// findings arrived, or someone decided first).
func (s *Service) Decide(ctx context.Context, actor Actor, id string, version int64, outcome, reason string) (Case, error) {
	if version <= 0 {
		version = versionMissing
	}
	action := audit.ActionCaseDecide
	if outcome == StatusConfirmed && s.ConfirmRequiresSecondReviewer {
		action = ActionAuditConfirmRequest
	}
	c, err := s.change(ctx, actor, id, version, action, func(c *Case, now time.Time) (string, map[string]string, error) {
		from := c.Status
		if action == ActionAuditConfirmRequest {
			// Four eyes: the outcome waits for a second reviewer (Confirm).
			if err := c.RequestConfirmation(actor.ID, reason, now); err != nil {
				return "", nil, err
			}
			return c.Confirmation.Reason, map[string]string{"from": from, "to": c.Status, "outcome": StatusConfirmed,
				"severity": c.Severity, "score": strconv.Itoa(c.Score)}, nil
		}
		if err := c.Decide(actor.ID, outcome, reason, now); err != nil {
			return "", nil, err
		}
		return c.Decision.Reason, map[string]string{"from": from, "to": c.Status, "severity": c.Severity, "score": strconv.Itoa(c.Score)}, nil
	})
	if errors.Is(err, ErrConflict) {
		return Case{}, fmt.Errorf("decide case %s: %w: %w", id, ErrStale, err)
	}
	return c, err
}

// Confirm is a second compliance reviewer's answer to a pending confirmed
// outcome, at the version they read: agree closes the case as confirmed,
// otherwise the confirmation is withdrawn. The first reviewer (and the
// subject) may not answer: refused and audited.
func (s *Service) Confirm(ctx context.Context, actor Actor, id string, version int64, agree bool, reason string) (Case, error) {
	if version <= 0 {
		version = versionMissing
	}
	action := ActionAuditConfirm
	if !agree {
		action = ActionAuditConfirmDecline
	}
	c, err := s.change(ctx, actor, id, version, action, func(c *Case, now time.Time) (string, map[string]string, error) {
		if c.Confirmation != nil && c.Confirmation.By == actor.ID {
			return "", nil, s.deny(ctx, actor, *c, string(action), "the second reviewer must be someone other than the first")
		}
		from, first := c.Status, ""
		if c.Confirmation != nil {
			first = c.Confirmation.By
		}
		if err := c.Confirm(actor.ID, agree, reason, now); err != nil {
			return "", nil, err
		}
		return strings.TrimSpace(reason), map[string]string{"from": from, "to": c.Status, "first_reviewer": first,
			"agree": strconv.FormatBool(agree)}, nil
	})
	if errors.Is(err, ErrConflict) {
		return Case{}, fmt.Errorf("confirm case %s: %w: %w", id, ErrStale, err)
	}
	return c, err
}

// Assign puts a case in review with assignee (the actor when empty).
func (s *Service) Assign(ctx context.Context, actor Actor, id, assignee string) (Case, error) {
	if len(assignee) > 128 {
		return Case{}, fmt.Errorf("assignee is too long: %w", ErrInvalid)
	}
	if err := s.noteReviewer(ctx, actor); err != nil {
		return Case{}, err
	}
	if assignee != "" && assignee != actor.ID {
		ok := false
		if s.Reviewers != nil {
			var err error
			if ok, err = s.Reviewers.SeenSince(ctx, assignee, s.Now().Add(-reviewerMemory)); err != nil {
				return Case{}, err
			}
		}
		if !ok {
			return Case{}, fmt.Errorf("assignee %s is not a compliance reviewer (nobody seen acting as one under that id): %w", assignee, ErrInvalid)
		}
	}
	return s.change(ctx, actor, id, 0, ActionAuditCaseAssign, func(c *Case, now time.Time) (string, map[string]string, error) {
		if assignee != "" && assignee == c.EmployeeID {
			return "", nil, fmt.Errorf("case %s cannot be assigned to its subject: %w", c.ID, ErrForbidden)
		}
		from := c.Status
		if err := c.Assign(actor.ID, assignee, now); err != nil {
			return "", nil, err
		}
		if err := EnqueueNotices(ctx, s.Notices, assignNotice(*c, actor.ID, now)); err != nil {
			return "", nil, err
		}
		return "", map[string]string{"from": from, "to": c.Status, "assignee": c.Assignee}, nil
	})
}

// Comment adds a reviewer's note to an open case. The audit entry does not
// repeat the text. With a Comments store the note is not a change of the
// case (its version stays), and a case takes at most MaxComments.
func (s *Service) Comment(ctx context.Context, actor Actor, id, text string) (Case, error) {
	if s.Comments == nil {
		return s.change(ctx, actor, id, 0, ActionAuditCaseComment, func(c *Case, now time.Time) (string, map[string]string, error) {
			if err := c.AddComment(actor.ID, text, now); err != nil {
				return "", nil, err
			}
			return "", map[string]string{"comments": strconv.Itoa(len(c.Comments))}, nil
		})
	}
	c, err := s.Cases.Get(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if !actor.has(roleCompliance) {
		return Case{}, s.deny(ctx, actor, c, string(ActionAuditCaseComment), "needs compliance")
	}
	if c.EmployeeID == actor.ID {
		return Case{}, s.deny(ctx, actor, c, string(ActionAuditCaseComment), "nobody acts on a case about themselves")
	}
	now := s.Now()
	probe := c // AddComment checks the state and the text
	if err := probe.AddComment(actor.ID, text, now); err != nil {
		return Case{}, err
	}
	n, err := s.Comments.Count(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if n+len(c.Comments) >= MaxComments {
		return Case{}, fmt.Errorf("case %s has %d comments, the most it takes: %w", id, MaxComments, ErrInvalid)
	}
	note := probe.Comments[len(probe.Comments)-1]
	e := audit.Entry{
		ID: audit.NewID(), At: now, Actor: actor.ID, ActorRoles: actor.Roles, Action: ActionAuditCaseComment,
		ResourceType: audit.ResourceCase, ResourceID: c.ID, OwnerID: c.EmployeeID,
		Details: map[string]string{"comments": strconv.Itoa(n + len(c.Comments) + 1)}, RequestID: actor.RequestID,
	}
	if err := s.Comments.Add(ctx, id, e.ID, note); err != nil {
		return Case{}, err
	}
	if err := s.Audit.Append(ctx, e); err != nil {
		return Case{}, fmt.Errorf("%s %s: %w", ActionAuditCaseComment, id, err)
	}
	if c, err = s.withComments(ctx, c); err != nil {
		return Case{}, err
	}
	return s.view(ctx, actor, c, viewOpts{full: true})
}

// withComments adds the stored comments to those of older case documents
// (which embedded them).
func (s *Service) withComments(ctx context.Context, c Case) (Case, error) {
	if s.Comments == nil {
		return c, nil
	}
	more, err := s.Comments.List(ctx, c.ID, MaxComments)
	if err != nil {
		return Case{}, err
	}
	c.Comments = append(slices.Clone(c.Comments), more...)
	return c, nil
}

// change reads the case, applies fn and writes it back with its audit
// entry. With version 0 it starts again from a fresh read when detection
// changed the case meanwhile (fn is then applied to the new state, so it is
// checked again); with a version, the case must still be at it, and a lost
// race is ErrConflict. The store appends the entry only for the one writer
// that wins a version, so concurrent changes leave exactly one entry.
func (s *Service) change(ctx context.Context, actor Actor, id string, version int64, action audit.Action,
	fn func(c *Case, now time.Time) (reason string, details map[string]string, err error)) (Case, error) {
	for attempt := 0; attempt < 5; attempt++ {
		c, err := s.Cases.Get(ctx, id)
		if err != nil {
			return Case{}, err
		}
		if !actor.has(roleCompliance) {
			return Case{}, s.deny(ctx, actor, c, string(action), "needs compliance")
		}
		if c.EmployeeID == actor.ID {
			return Case{}, s.deny(ctx, actor, c, string(action), "nobody acts on a case about themselves")
		}
		if version == versionMissing {
			return Case{}, fmt.Errorf("%s %s: %w", action, id, ErrVersionRequired)
		}
		if version != 0 && c.Version != version {
			return Case{}, fmt.Errorf("%s %s: read version %d, now %d: %w", action, id, version, c.Version, ErrStale)
		}
		now := s.Now()
		reason, details, err := fn(&c, now)
		if err != nil {
			return Case{}, err
		}
		if c.Subject == "" {
			c.Subject = s.Privacy.Subject(c.EmployeeID) // cases stored before pseudonyms get theirs
		}
		err = s.Cases.Update(ctx, c, changeEntry(actor, action, c, reason, details, now))
		if errors.Is(err, ErrConflict) && version == 0 {
			continue
		}
		if err != nil {
			return Case{}, err
		}
		c.Version++
		if c, err = s.withComments(ctx, c); err != nil {
			return Case{}, err
		}
		return s.view(ctx, actor, c, viewOpts{full: true})
	}
	return Case{}, fmt.Errorf("%s %s: still conflicting after 5 attempts: %w", action, id, ErrConflict)
}

// versionMissing tells change that a version was required and not given,
// which is answered once authority has been checked (a caller without it
// learns nothing more than 403).
const versionMissing = -1

// deny records a refused attempt on c (access.denied) and returns
// ErrForbidden; if the entry cannot be written, that failure instead, so no
// refusal goes unrecorded.
func (s *Service) deny(ctx context.Context, actor Actor, c Case, attempt, why string) error {
	refusal := fmt.Errorf("%s case %s: %s: %w", attempt, c.ID, why, ErrForbidden)
	actorID := actor.ID
	if actorID == "" {
		actorID = "anonymous"
	}
	if !strings.Contains(attempt, ".") {
		attempt = "case." + attempt
	}
	e := audit.Entry{
		ID: audit.NewID(), At: s.Now(), Actor: actorID, ActorRoles: actor.Roles, Action: audit.ActionAccessDenied,
		ResourceType: audit.ResourceCase, ResourceID: c.ID, OwnerID: c.EmployeeID, Reason: why,
		Details: map[string]string{"attempt": attempt}, RequestID: actor.RequestID,
	}
	if err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit refusal (%v): %w", refusal, err)
	}
	return refusal
}

func (a Actor) has(role string) bool { return slices.Contains(a.Roles, role) }

func changeEntry(actor Actor, action audit.Action, c Case, reason string, details map[string]string, now time.Time) audit.Entry {
	h := sha256.Sum256([]byte(c.ID + "\x00" + string(action) + "\x00" + strconv.FormatInt(c.Version, 10) + "\x00" + actor.ID))
	if details == nil {
		details = map[string]string{}
	}
	details["version"] = strconv.FormatInt(c.Version, 10)
	return audit.Entry{
		ID: "rev-" + hex.EncodeToString(h[:12]), At: now, Actor: actor.ID, ActorRoles: actor.Roles, Action: action,
		ResourceType: audit.ResourceCase, ResourceID: c.ID, OwnerID: c.EmployeeID, Reason: clip(reason, 2000),
		Details: details, RequestID: actor.RequestID,
	}
}

// clip keeps the first n characters: a decision's reason may be longer than
// an audit entry allows; the case keeps it whole.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
