package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// Audit actions of the queue's changes (issue 14).
const (
	ActionAuditCaseReassign audit.Action = "case.reassign"
	ActionAuditCaseReopen   audit.Action = "case.reopen"
)

// Bounds of the queue's bulk actions and exports.
const (
	// MaxBulk is the most cases one bulk action changes.
	MaxBulk = MaxLimit
	// MaxExport is the most rows one export holds; it is read in pages.
	MaxExport = 10000
	// MaxCount is the most matches Count counts ("10,000 or more").
	MaxCount = 10000
)

// listEntry is the one audit entry of actor reading the cases cs at once
// (a queue page, an export): every case and person it showed, the actor's
// own left out. False when there is nothing to record.
func (s *Service) listEntry(actor Actor, cs []Case, via string) (audit.Entry, bool) {
	var ids, owners []string
	for _, c := range cs {
		if !audit.NeedsReadAudit(c.EmployeeID, actor.ID) {
			continue
		}
		ids = append(ids, c.ID)
		if !slices.Contains(owners, c.EmployeeID) {
			owners = append(owners, c.EmployeeID)
		}
	}
	if len(ids) == 0 {
		return audit.Entry{}, false
	}
	reason := actor.Purpose
	if reason == "" {
		reason = "case queue"
	}
	action := audit.ActionCaseRead
	if via == "export" {
		action = audit.ActionCaseExport
	}
	return audit.Entry{
		ID: audit.NewID(), At: s.Now(), Actor: actor.ID, ActorRoles: actor.Roles, Action: action,
		ResourceType: audit.ResourceCase, ResourceIDs: ids, OwnerIDs: owners, Reason: reason,
		Details: map[string]string{"via": via, "count": strconv.Itoa(len(ids))}, RequestID: actor.RequestID,
	}, true
}

// checkAssignee refuses an assignee who is not a compliance reviewer (the
// actor themselves always is, having the role).
func (s *Service) checkAssignee(ctx context.Context, actor Actor, assignee string) error {
	if len(assignee) > 128 {
		return fmt.Errorf("assignee is too long: %w", ErrInvalid)
	}
	if assignee == "" || assignee == actor.ID {
		return nil
	}
	ok := false
	if s.Reviewers != nil {
		var err error
		if ok, err = s.Reviewers.SeenSince(ctx, assignee, s.Now().Add(-reviewerMemory)); err != nil {
			return err
		}
	}
	if !ok {
		return fmt.Errorf("assignee %s is not a compliance reviewer (nobody seen acting as one under that id): %w", assignee, ErrInvalid)
	}
	return nil
}

// Reassign gives an open or in-review case to assignee, or back to the
// queue when assignee is "", at the version the reviewer read, with a
// reason. Nobody is given a case about themselves.
func (s *Service) Reassign(ctx context.Context, actor Actor, id string, version int64, assignee, reason string) (Case, error) {
	if version <= 0 {
		version = versionMissing
	}
	reason, err := checkReason(reason)
	if err != nil {
		return Case{}, err
	}
	if err := s.noteReviewer(ctx, actor); err != nil {
		return Case{}, err
	}
	if err := s.checkAssignee(ctx, actor, assignee); err != nil {
		return Case{}, err
	}
	c, err := s.change(ctx, actor, id, version, ActionAuditCaseReassign, func(c *Case, now time.Time) (string, map[string]string, error) {
		if assignee != "" && assignee == c.EmployeeID {
			return "", nil, fmt.Errorf("case %s cannot be assigned to its subject: %w", c.ID, ErrForbidden)
		}
		from, prev := c.Status, c.Assignee
		if err := c.Reassign(actor.ID, assignee, reason, now); err != nil {
			return "", nil, err
		}
		return reason, map[string]string{"from": from, "to": c.Status, "assignee": assignee, "previous_assignee": prev}, nil
	})
	if errors.Is(err, ErrConflict) {
		return Case{}, fmt.Errorf("reassign case %s: %w: %w", id, ErrStale, err)
	}
	return c, err
}

// Reopen puts a decided case back in the queue at the version the reviewer
// read, with a reason. The employee's other open case, if any, makes it
// ErrConflict (one open case per employee).
func (s *Service) Reopen(ctx context.Context, actor Actor, id string, version int64, reason string) (Case, error) {
	if version <= 0 {
		version = versionMissing
	}
	reason, err := checkReason(reason)
	if err != nil {
		return Case{}, err
	}
	// A second open case of the employee would be refused by the store's
	// unique open key after the transition was claimed, leaving that
	// version claimed: ask first (a race is then the rare conflict).
	if cur, err := s.Cases.Get(ctx, id); err == nil && !cur.IsOpen() && version == cur.Version {
		other, err := s.Cases.OpenFor(ctx, cur.EmployeeID)
		switch {
		case err == nil && other.ID != id:
			return Case{}, fmt.Errorf("reopen case %s: the employee has another open case %s: %w", id, other.ID, ErrInvalidState)
		case err != nil && !errors.Is(err, ErrNotFound):
			return Case{}, err
		}
	}
	c, err := s.change(ctx, actor, id, version, ActionAuditCaseReopen, func(c *Case, now time.Time) (string, map[string]string, error) {
		from := c.Status
		if err := c.Reopen(actor.ID, reason, now); err != nil {
			return "", nil, err
		}
		return reason, map[string]string{"from": from, "to": c.Status}, nil
	})
	return c, err
}

// Count returns how many cases match f (at most MaxCount) for the queue's
// result count. It shows no case, so it is not audited as a read.
func (s *Service) Count(ctx context.Context, actor Actor, f Filter) (int, error) {
	if !actor.has(roleCompliance) && !actor.has(roleAuditor) {
		return 0, s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "count", "needs compliance or auditor")
	}
	if f.EmployeeID != "" && f.EmployeeID == actor.ID {
		return 0, s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "count", "nobody reads cases about themselves")
	}
	if err := normalizeSubject(&f); err != nil {
		return 0, err
	}
	return s.Cases.Count(ctx, f, MaxCount)
}

// Export returns the cases matching f, highest score first, at most
// MaxExport (truncated says there were more), read in pages, the actor's
// own left out; one audit entry records the export with every case in it.
func (s *Service) Export(ctx context.Context, actor Actor, f Filter) (cs []Case, truncated bool, err error) {
	if !actor.has(roleCompliance) && !actor.has(roleAuditor) {
		return nil, false, s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "export", "needs compliance or auditor")
	}
	if f.EmployeeID != "" && f.EmployeeID == actor.ID {
		return nil, false, s.deny(ctx, actor, Case{EmployeeID: f.EmployeeID}, "export", "nobody reads cases about themselves")
	}
	if err := normalizeSubject(&f); err != nil {
		return nil, false, err
	}
	if f.EmployeeID != "" {
		if err := s.recordLookup(ctx, actor, f.EmployeeID, "case export"); err != nil {
			return nil, false, err
		}
	}
	cursor := ""
	for {
		page, next, err := s.Cases.List(ctx, f, MaxLimit, cursor)
		if err != nil {
			return nil, false, err
		}
		for _, c := range page {
			if c.EmployeeID == actor.ID {
				continue
			}
			if len(cs) == MaxExport {
				truncated = true
				break
			}
			cs = append(cs, c)
		}
		if truncated || next == "" {
			break
		}
		cursor = next
	}
	if e, ok := s.listEntry(actor, cs, "export"); ok {
		if truncated {
			e.Details["truncated"] = "true"
		}
		if err := s.Audit.Append(ctx, e); err != nil {
			return nil, false, fmt.Errorf("record export of %d cases: %w", len(cs), err)
		}
	}
	// The file shows what the queue shows (pseudonyms per the privacy settings).
	if cs, err = s.viewAll(ctx, actor, cs, viewOpts{}); err != nil {
		return nil, false, err
	}
	return cs, truncated, nil
}

// Bulk actions.
const (
	BulkAssign = "assign"
	BulkClear  = "clear"
)

// BulkItem is one case of a bulk action, at the version the reviewer saw.
type BulkItem struct {
	ID      string
	Version int64
}

// BulkResult is what happened to one case: its new state, or why not.
type BulkResult struct {
	ID   string
	Case Case
	Err  error
}

// Bulk applies one action to many cases, each its own versioned, audited
// change under the same rules as one at a time (a case about the actor is
// refused and audited as such, a changed case is stale): "assign" gives
// them to assignee (Reassign), "clear" clears them with one reason
// (Decide). It fails as a whole only on a bad request; per-case refusals
// are in the results.
func (s *Service) Bulk(ctx context.Context, actor Actor, action string, items []BulkItem, assignee, reason string) ([]BulkResult, error) {
	if len(items) == 0 || len(items) > MaxBulk {
		return nil, fmt.Errorf("cases must list 1 to %d cases: %w", MaxBulk, ErrInvalid)
	}
	if action != BulkAssign && action != BulkClear {
		return nil, fmt.Errorf("action must be assign or clear, got %q: %w", action, ErrInvalid)
	}
	if _, err := checkReason(reason); err != nil {
		return nil, err
	}
	if action == BulkAssign {
		if err := s.checkAssignee(ctx, actor, assignee); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	out := make([]BulkResult, 0, len(items))
	for _, it := range items {
		if seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		var c Case
		var err error
		if action == BulkAssign {
			c, err = s.Reassign(ctx, actor, it.ID, it.Version, assignee, reason)
		} else {
			c, err = s.Decide(ctx, actor, it.ID, it.Version, StatusCleared, reason)
		}
		if err != nil && !isCaseRefusal(err) {
			return out, err // the database failed: stop, say how far it got
		}
		out = append(out, BulkResult{ID: it.ID, Case: c, Err: err})
	}
	return out, nil
}

// isCaseRefusal reports whether err is about one case (answered per case)
// rather than a failure of the service.
func isCaseRefusal(err error) bool {
	for _, e := range []error{ErrNotFound, ErrForbidden, ErrStale, ErrConflict, ErrInvalidState, ErrInvalid, ErrVersionRequired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// normalizeSubject checks and normalises a search by pseudonym, as List does.
func normalizeSubject(f *Filter) error {
	if f.Subject == "" {
		return nil
	}
	if !privacy.IsSubject(f.Subject) {
		return fmt.Errorf("subject must be a pseudonym like P-7K3Q-M2XD: %w", ErrInvalid)
	}
	f.Subject = privacy.NormalizeSubject(f.Subject)
	return nil
}
