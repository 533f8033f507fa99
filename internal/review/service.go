package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// ErrForbidden: the actor may not act on this case (it is about them).
var ErrForbidden = errors.New("not allowed to act on this case")

// Audit actions of reviewers' changes (reads and decisions are in package audit).
const (
	ActionAuditCaseAssign  audit.Action = "case.assign"
	ActionAuditCaseComment audit.Action = "case.comment"
)

// AuditAppenderMany is an audit store that appends many entries in one write.
type AuditAppenderMany interface {
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
// change is recorded in the audit log.
type Service struct {
	Cases Store
	Audit audit.Store
	Now   func() time.Time
}

// List returns a page of cases, highest score first, recording a read of
// each case listed: the queue shows findings, so it is a read of them.
func (s *Service) List(ctx context.Context, actor Actor, f Filter, limit int, cursor string) ([]Case, string, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, "", fmt.Errorf("limit must be 1..%d, got %d: %w", MaxLimit, limit, ErrInvalid)
	}
	cs, next, err := s.Cases.List(ctx, f, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	if many, ok := s.Audit.(AuditAppenderMany); ok {
		// One write for the page instead of one per case listed.
		var es []audit.Entry
		for _, c := range cs {
			if e, ok := s.readEntry(actor, c, "list"); ok {
				es = append(es, e)
			}
		}
		if err := many.AppendMany(ctx, es); err != nil {
			return nil, "", fmt.Errorf("record reads of %d cases: %w", len(es), err)
		}
		return cs, next, nil
	}
	for _, c := range cs {
		if err := s.recordRead(ctx, actor, c, "list"); err != nil {
			return nil, "", err
		}
	}
	return cs, next, nil
}

// Get returns one case, recording the read.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Case, error) {
	c, err := s.Cases.Get(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if err := s.recordRead(ctx, actor, c, "get"); err != nil {
		return Case{}, err
	}
	return c, nil
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

// Decide closes an open case as cleared or confirmed.
func (s *Service) Decide(ctx context.Context, actor Actor, id, outcome, reason string) (Case, error) {
	return s.change(ctx, actor, id, audit.ActionCaseDecide, func(c *Case, now time.Time) (string, map[string]string, error) {
		from := c.Status
		if err := c.Decide(actor.ID, outcome, reason, now); err != nil {
			return "", nil, err
		}
		return c.Decision.Reason, map[string]string{"from": from, "to": c.Status, "severity": c.Severity, "score": strconv.Itoa(c.Score)}, nil
	})
}

// Assign puts a case in review with assignee (the actor when empty).
func (s *Service) Assign(ctx context.Context, actor Actor, id, assignee string) (Case, error) {
	if len(assignee) > 128 {
		return Case{}, fmt.Errorf("assignee is too long: %w", ErrInvalid)
	}
	return s.change(ctx, actor, id, ActionAuditCaseAssign, func(c *Case, now time.Time) (string, map[string]string, error) {
		if assignee != "" && assignee == c.EmployeeID {
			return "", nil, fmt.Errorf("case %s cannot be assigned to its subject: %w", c.ID, ErrForbidden)
		}
		from := c.Status
		if err := c.Assign(actor.ID, assignee, now); err != nil {
			return "", nil, err
		}
		return "", map[string]string{"from": from, "to": c.Status, "assignee": c.Assignee}, nil
	})
}

// Comment adds a reviewer's note. The audit entry does not repeat the text.
func (s *Service) Comment(ctx context.Context, actor Actor, id, text string) (Case, error) {
	return s.change(ctx, actor, id, ActionAuditCaseComment, func(c *Case, now time.Time) (string, map[string]string, error) {
		if err := c.AddComment(actor.ID, text, now); err != nil {
			return "", nil, err
		}
		return "", map[string]string{"comments": strconv.Itoa(len(c.Comments))}, nil
	})
}

// change reads the case, applies fn and writes it back with its audit entry,
// starting again from a fresh read when detection changed the case meanwhile
// (fn is then applied to the new state, so it is checked again).
func (s *Service) change(ctx context.Context, actor Actor, id string, action audit.Action,
	fn func(c *Case, now time.Time) (reason string, details map[string]string, err error)) (Case, error) {
	for attempt := 0; attempt < 5; attempt++ {
		c, err := s.Cases.Get(ctx, id)
		if err != nil {
			return Case{}, err
		}
		if c.EmployeeID == actor.ID {
			// Nobody reviews a case about themselves.
			return Case{}, fmt.Errorf("case %s is about %s: %w", id, actor.ID, ErrForbidden)
		}
		now := s.Now()
		reason, details, err := fn(&c, now)
		if err != nil {
			return Case{}, err
		}
		// The entry goes first, with an id derived from the change, as the
		// engine does: a change is never stored without its entry, and a
		// retried append adds nothing.
		if err := s.Audit.Append(ctx, changeEntry(actor, action, c, reason, details, now)); err != nil {
			return Case{}, fmt.Errorf("%s %s: %w", action, id, err)
		}
		err = s.Cases.Update(ctx, c)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Case{}, err
		}
		c.Version++
		return c, nil
	}
	return Case{}, fmt.Errorf("%s %s: still conflicting after 5 attempts: %w", action, id, ErrConflict)
}

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
