package review

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The reviewers' queue (issue 14): the default queue is the work still to
// do, open and in review; a case can be handed to another reviewer, given
// back, or reopened after a decision, each a versioned change with a reason.

// ActiveStatuses are the statuses of the default queue.
func ActiveStatuses() []string { return []string{StatusOpen, StatusInReview} }

// Extended reports whether f uses the queue's search fields (beyond the
// indexed Status, Severity, EmployeeID, Department, Rule, Counterparty).
func (f Filter) Extended() bool {
	return len(f.Statuses) > 0 || f.Assignee != "" || f.Unassigned || f.Project != "" ||
		!f.OpenedFrom.IsZero() || !f.OpenedTo.IsZero()
}

// OnlyActive reports whether f selects only open and in-review cases (the
// store then reads the queue rows, never the closed cases).
func (f Filter) OnlyActive() bool {
	if f.Status != "" {
		return f.Status == StatusOpen || f.Status == StatusInReview
	}
	if len(f.Statuses) == 0 {
		return false
	}
	for _, s := range f.Statuses {
		if s != StatusOpen && s != StatusInReview {
			return false
		}
	}
	return true
}

// Match reports whether c passes every field of f. Stores may apply the
// indexed fields in their query and Match for the rest.
func (f Filter) Match(c Case) bool {
	switch {
	case f.Status != "" && c.Status != f.Status,
		len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status),
		f.Severity != "" && c.Severity != f.Severity,
		f.EmployeeID != "" && c.EmployeeID != f.EmployeeID,
		f.Department != "" && c.Department != f.Department,
		f.Rule != "" && !slices.Contains(c.Rules(), f.Rule),
		f.Counterparty != "" && !slices.Contains(c.Counterparties(), f.Counterparty),
		f.Assignee != "" && c.Assignee != f.Assignee,
		f.Unassigned && c.Assignee != "",
		f.Project != "" && !slices.Contains(c.Projects(), f.Project),
		!f.OpenedFrom.IsZero() && c.OpenedAt.Before(f.OpenedFrom),
		!f.OpenedTo.IsZero() && !c.OpenedAt.Before(f.OpenedTo),
		f.Subject != "" && c.Subject != f.Subject:
		return false
	}
	return true
}

// Projects lists the distinct projects of the case's findings.
func (c Case) Projects() []string {
	var out []string
	for _, f := range c.Findings {
		if f.Project != "" && !slices.Contains(out, f.Project) {
			out = append(out, f.Project)
		}
	}
	slices.Sort(out)
	return out
}

// checkReason is the rule of reasons of queue changes: 1 to 2000 characters.
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 2000 {
		return "", fmt.Errorf("reason must have 1 to 2000 characters: %w", ErrInvalid)
	}
	return reason, nil
}

// Reassign hands an open or in-review case to assignee (in review), or
// gives it back to the queue when assignee is empty (open, nobody's).
func (c *Case) Reassign(actor, assignee, reason string, now time.Time) error {
	if !c.IsOpen() {
		return fmt.Errorf("reassign case %s (%s): %w", c.ID, c.Status, ErrInvalidState)
	}
	if assignee == c.Assignee {
		return fmt.Errorf("case %s is already assigned to %q: %w", c.ID, assignee, ErrInvalidState)
	}
	from, prev := c.Status, c.Assignee
	ch := Change{At: now, Actor: actor, From: from, Reason: reason}
	if assignee == "" {
		c.Assignee, c.Status = "", StatusOpen
		ch.Action = ActionUnassigned
	} else {
		c.Assignee, c.Status = assignee, StatusInReview
		ch.Action = ActionReassigned
	}
	ch.To = c.Status
	if prev != "" {
		ch.Reason = "from " + prev + ": " + reason
	}
	c.UpdatedAt = now
	c.History = append(c.History, ch)
	return nil
}

// Reopen puts a cleared or confirmed case back in the queue, unassigned,
// with its decision kept in the history only.
func (c *Case) Reopen(actor, reason string, now time.Time) error {
	if c.IsOpen() {
		return fmt.Errorf("reopen case %s (%s): %w", c.ID, c.Status, ErrInvalidState)
	}
	from := c.Status
	c.Status, c.Assignee, c.Decision, c.UpdatedAt = StatusOpen, "", nil, now
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionReopened, From: from, To: StatusOpen, Reason: reason})
	return nil
}

// SavedFilter is a reviewer's named filter of the queue, kept as the
// page's query string.
type SavedFilter struct {
	ID    string
	Name  string
	Query string
	At    time.Time
}
