// Package review is the case domain: what a case is and how it changes. A
// case is the reviewer's unit of work: it gathers an employee's uncovered
// findings; at most one case per employee is open (open or in_review) at a
// time and new findings join it (Sync). Reviewers clear or confirm it; a
// case whose findings all become covered by approved disclosures is cleared
// automatically. The package owns the case's lifecycle, its Store, the
// notices of its changes and the reviewers' Service (queue, assignment,
// views, unmasking), where authorisation is decided once.
//
// It does not gather inputs or run detection: the evaluation engine
// (internal/evaluate) does, and imports this package, never the other way round.
package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/explain"
)

// Statuses.
const (
	StatusOpen      = "open"
	StatusInReview  = "in_review"
	StatusCleared   = "cleared"
	StatusConfirmed = "confirmed"
)

// Actions in a case's history.
const (
	ActionOpened          = "opened"
	ActionFindingsUpdated = "findings_updated"
	ActionAssigned        = "assigned"
	ActionCommented       = "commented"
	ActionDecided         = "decided"
	ActionAutoCleared     = "auto_cleared"
	// Four eyes on confirmed outcomes.
	ActionConfirmRequested = "confirmation_requested"
	ActionConfirmDeclined  = "confirmation_declined"
	ActionConfirmDropped   = "confirmation_dropped"
	ActionReassigned       = "reassigned"
	ActionUnassigned       = "unassigned"
	ActionReopened         = "reopened"
)

// System is the actor of automatic changes.
const System = "system"

// Sentinel errors; the HTTP layer maps them.
var (
	ErrNotFound     = errors.New("case not found")
	ErrConflict     = errors.New("case changed concurrently")
	ErrInvalidState = errors.New("case is not in a state that allows this")
	ErrInvalid      = errors.New("invalid case request")
)

// Case is one employee's case.
type Case struct {
	ID           string
	EmployeeID   string
	EmployeeName string
	Department   string
	Status       string
	Severity     string
	Score        int
	// Scoring is how Score and Severity were made, with the thresholds in
	// force then; zero for cases stored before it was recorded.
	Scoring   detect.Scoring
	Findings  []detect.Finding
	Assignee  string
	Decision  *Decision
	Comments  []Comment
	History   []Change
	OpenedAt  time.Time
	UpdatedAt time.Time
	Version   int64

	// Subject is the pseudonym of EmployeeID (stored, so a search by it is
	// a key match); JobFamily the coarse family of the subject's title.
	Subject   string
	JobFamily string
	// Confirmation is a confirmed outcome waiting for a second reviewer
	// (review.confirm_requires_second_reviewer); nil otherwise.
	Confirmation *Confirmation

	// Set by the service's view for the one who reads (see view.go).
	viewState
}

// Decision is how a case was closed.
type Decision struct {
	Outcome string // StatusCleared or StatusConfirmed
	By      string // employee id, or System
	Reason  string
	At      time.Time
	// SecondBy agreed to a confirmed outcome (four eyes), with SecondReason.
	SecondBy     string
	SecondReason string
}

// Confirmation is a first reviewer's confirmed outcome awaiting a second.
type Confirmation struct {
	By     string
	Reason string
	At     time.Time
}

// Comment is a reviewer's note.
type Comment struct {
	At   time.Time
	By   string
	Text string
}

// Change is one line of a case's history.
type Change struct {
	At     time.Time
	Actor  string
	Action string
	From   string
	To     string
	// Reason is what a person wrote, or for the system's lines the English
	// text of Note (kept for the audit log and older readers).
	Reason string
	// Note is the system's reason as data, rendered in the reader's
	// language (internal/explain); no Code on a person's line.
	Note explain.Clause
}

// IsOpen reports whether the case still needs a decision.
func (c Case) IsOpen() bool { return c.Status == StatusOpen || c.Status == StatusInReview }

// Rules lists the distinct rules of the case's findings.
func (c Case) Rules() []string {
	var out []string
	for _, f := range c.Findings {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// Counterparties lists the distinct counterparties of the case's findings.
func (c Case) Counterparties() []string {
	var out []string
	for _, f := range c.Findings {
		if f.Counterparty != "" && !slices.Contains(out, f.Counterparty) {
			out = append(out, f.Counterparty)
		}
	}
	sort.Strings(out)
	return out
}

// Subject is the employee a case is about, as the list shows them.
type Subject struct {
	EmployeeID string
	Name       string
	Department string
}

// SyncResult says what Sync did.
type SyncResult struct {
	Case        Case
	Created     bool
	Changed     bool
	AutoCleared bool
}

// Sync brings an employee's case in line with their current findings. open is
// the employee's open case, or nil; handled holds ids of findings a person
// already decided in an earlier case (they do not come back). It is pure and
// idempotent: the same findings give no change.
func Sync(cfg detect.Config, open *Case, handled map[string]bool, findings []detect.Finding, who Subject, now time.Time) SyncResult {
	var current []detect.Finding
	for _, f := range findings {
		if !handled[f.ID] {
			current = append(current, f)
		}
	}
	uncovered := 0
	for _, f := range current {
		if !f.Covered() {
			uncovered++
		}
	}
	if open == nil {
		if uncovered == 0 {
			return SyncResult{}
		}
		c := Case{
			ID: caseID(who.EmployeeID, current), EmployeeID: who.EmployeeID, EmployeeName: who.Name, Department: who.Department,
			Status: StatusOpen, Findings: current, OpenedAt: now, UpdatedAt: now,
		}
		c.Scoring = detect.Explain(cfg, current)
		c.Score, c.Severity = c.Scoring.Score, c.Scoring.Severity
		note := explain.C(explain.CodeHistoryOpened).With("uncovered", explain.Int(uncovered))
		c.History = []Change{{At: now, Actor: System, Action: ActionOpened, To: StatusOpen,
			Reason: fmt.Sprintf("%d finding(s) without an approved disclosure", uncovered), Note: note}}
		return SyncResult{Case: c, Created: true, Changed: true}
	}
	c := *open
	c.Findings = slices.Clone(c.Findings)
	c.History = slices.Clone(c.History)
	changed := false
	if who.Name != "" && (c.EmployeeName != who.Name || c.Department != who.Department) {
		c.EmployeeName, c.Department = who.Name, who.Department
		changed = true
	}
	if !SameFindings(c.Findings, current) {
		c.Findings = current
		c.Scoring = detect.Explain(cfg, current)
		c.Score, c.Severity = c.Scoring.Score, c.Scoring.Severity
		if c.Severity == "" {
			c.Severity = open.Severity // keep the last severity on record when auto-clearing
		}
		c.History = appendFindingsUpdated(c.History, Change{At: now, Actor: System, Action: ActionFindingsUpdated,
			Reason: fmt.Sprintf("%d finding(s), %d without an approved disclosure", len(current), uncovered),
			Note:   explain.C(explain.CodeHistoryUpdated).With("findings", explain.Int(len(current))).With("uncovered", explain.Int(uncovered))})
		if c.Confirmation != nil {
			// The first reviewer confirmed other findings: the second must
			// not agree to what the first never read.
			c.Confirmation = nil
			c.History = append(c.History, Change{At: now, Actor: System, Action: ActionConfirmDropped,
				Reason: "the findings changed after the confirmation was requested"})
		}
		changed = true
	}
	res := SyncResult{Case: c}
	if uncovered == 0 && !reopenedSinceFindings(c.History) {
		reason, note := "every finding is covered by an approved disclosure", explain.C(explain.CodeHistoryAllCovered)
		if len(current) == 0 {
			reason, note = "no finding remains once all information arrived", explain.C(explain.CodeHistoryNoneRemains)
		}
		res.Case.History = append(res.Case.History, Change{At: now, Actor: System, Action: ActionAutoCleared, From: c.Status, To: StatusCleared,
			Reason: reason, Note: note})
		res.Case.Status = StatusCleared
		res.Case.Confirmation = nil
		res.Case.Decision = &Decision{Outcome: StatusCleared, By: System, Reason: reason, At: now}
		res.AutoCleared, changed = true, true
	}
	if changed {
		res.Case.UpdatedAt = now
	}
	res.Changed = changed
	return res
}

// appendFindingsUpdated adds ch to h, or, when the last line already says
// the same (detection refined a finding's details, its counts stayed), moves
// that line's time instead: the history showed the same "Findings updated"
// line twice in a row otherwise (issue 14).
func appendFindingsUpdated(h []Change, ch Change) []Change {
	if n := len(h); n > 0 && h[n-1].Action == ch.Action && h[n-1].Actor == ch.Actor && h[n-1].Reason == ch.Reason {
		h[n-1].At = ch.At
		return h
	}
	return append(h, ch)
}

// reopenedSinceFindings reports whether a person reopened the case after
// its findings last changed: it then stays open, even when every finding is
// covered, until a reviewer decides it or new findings arrive (a reviewer
// reopens an auto-cleared case because they doubt the cover).
func reopenedSinceFindings(h []Change) bool {
	for i := len(h) - 1; i >= 0; i-- {
		switch h[i].Action {
		case ActionReopened:
			return true
		case ActionFindingsUpdated, ActionOpened:
			return false
		}
	}
	return false
}

// SameFindings reports whether two finding lists are equal in everything a
// case shows of them (ids, cover, severity, score, texts, disclosures and
// evidence refs; not the rule-set version): Sync rewrites a case's findings
// only when they differ, and the engine keeps a finding's rule-set version
// while it stays the same.
func SameFindings(a, b []detect.Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.CoveredBy != y.CoveredBy || x.Severity != y.Severity || x.Score != y.Score ||
			x.Summary != y.Summary || x.Employment != y.Employment || x.Project != y.Project ||
			!slices.Equal(x.DisclosureIDs, y.DisclosureIDs) || len(x.EventRefs) != len(y.EventRefs) {
			return false
		}
		for j := range x.EventRefs {
			if x.EventRefs[j] != y.EventRefs[j] {
				return false
			}
		}
	}
	return true
}

// caseID is deterministic, so replaying the events that opened a case does
// not open a second one.
func caseID(employeeID string, fs []detect.Finding) string {
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		if !f.Covered() {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	h := sha256.Sum256([]byte(employeeID + "\x00" + strings.Join(ids, "\x00")))
	return "case-" + hex.EncodeToString(h[:8])
}

// Assign puts an open case in review with an assignee.
func (c *Case) Assign(actor, assignee string, now time.Time) error {
	if !c.IsOpen() {
		return fmt.Errorf("assign case %s (%s): %w", c.ID, c.Status, ErrInvalidState)
	}
	if assignee == "" {
		assignee = actor
	}
	from := c.Status
	c.Assignee, c.Status, c.UpdatedAt = assignee, StatusInReview, now
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionAssigned, From: from, To: StatusInReview, Reason: "assigned to " + assignee,
		Note: explain.C(explain.CodeHistoryAssigned).With("assignee", explain.Name(assignee))})
	return nil
}

// AddComment records a reviewer's note on an open case; a closed case is
// ErrInvalidState (reopening it is a change of its own).
func (c *Case) AddComment(actor, text string, now time.Time) error {
	if !c.IsOpen() {
		return fmt.Errorf("comment on case %s (%s): %w", c.ID, c.Status, ErrInvalidState)
	}
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 4000 {
		return fmt.Errorf("comment must have 1 to 4000 characters: %w", ErrInvalid)
	}
	c.Comments = append(c.Comments, Comment{At: now, By: actor, Text: text})
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionCommented})
	c.UpdatedAt = now
	return nil
}

// Decide closes an open case as cleared or confirmed, with a reason.
func (c *Case) Decide(actor, outcome, reason string, now time.Time) error {
	if outcome != StatusCleared && outcome != StatusConfirmed {
		return fmt.Errorf("outcome must be cleared or confirmed, got %q: %w", outcome, ErrInvalid)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 4000 {
		return fmt.Errorf("reason must have 1 to 4000 characters: %w", ErrInvalid)
	}
	if outcome == StatusConfirmed && (actor == System || strings.TrimSpace(actor) == "") {
		// No adverse decision is automated (issue 15): software opens and
		// may clear cases, only a person confirms one.
		return fmt.Errorf("case %s: a breach is confirmed by a person, never by %q: %w", c.ID, actor, ErrForbidden)
	}
	if !c.IsOpen() {
		return fmt.Errorf("decide case %s (%s): %w", c.ID, c.Status, ErrInvalidState)
	}
	if c.Confirmation != nil {
		return fmt.Errorf("decide case %s: a confirmation awaits a second reviewer: %w", c.ID, ErrInvalidState)
	}
	from := c.Status
	c.Status, c.UpdatedAt = outcome, now
	c.Decision = &Decision{Outcome: outcome, By: actor, Reason: reason, At: now}
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionDecided, From: from, To: outcome, Reason: reason})
	return nil
}

// RequestConfirmation records a confirmed outcome that takes effect only
// when a second reviewer agrees (Confirm): the case stays open, in review.
func (c *Case) RequestConfirmation(actor, reason string, now time.Time) error {
	probe := *c
	if err := probe.Decide(actor, StatusConfirmed, reason, now); err != nil {
		return err
	}
	from := c.Status
	c.Confirmation = &Confirmation{By: actor, Reason: strings.TrimSpace(reason), At: now}
	if c.Assignee == "" {
		c.Assignee = actor
	}
	c.Status, c.UpdatedAt = StatusInReview, now
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionConfirmRequested, From: from, To: StatusInReview, Reason: c.Confirmation.Reason})
	return nil
}

// Confirm is the second reviewer's answer to a pending confirmation: agree
// closes the case as confirmed (decided by the first, agreed by actor);
// otherwise the confirmation is withdrawn and the case stays in review.
// The caller has checked actor is neither the subject nor the first reviewer.
func (c *Case) Confirm(actor string, agree bool, reason string, now time.Time) error {
	if !c.IsOpen() || c.Confirmation == nil {
		return fmt.Errorf("case %s has no confirmation awaiting a second reviewer: %w", c.ID, ErrInvalidState)
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 4000 || (!agree && reason == "") {
		return fmt.Errorf("reason must have 1 to 4000 characters (it may be empty only when agreeing): %w", ErrInvalid)
	}
	first := *c.Confirmation
	from := c.Status
	c.Confirmation, c.UpdatedAt = nil, now
	if !agree {
		c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionConfirmDeclined, Reason: reason})
		return nil
	}
	c.Status = StatusConfirmed
	c.Decision = &Decision{Outcome: StatusConfirmed, By: first.By, Reason: first.Reason, At: now, SecondBy: actor, SecondReason: reason}
	c.History = append(c.History, Change{At: now, Actor: actor, Action: ActionDecided, From: from, To: StatusConfirmed, Reason: reason})
	return nil
}

// HandledBy returns the ids of findings a person decided in closed cases.
func HandledBy(closed []Case) map[string]bool {
	out := map[string]bool{}
	for _, c := range closed {
		if c.IsOpen() || c.Decision == nil || c.Decision.By == System {
			continue
		}
		for _, f := range c.Findings {
			out[f.ID] = true
		}
	}
	return out
}

// Filter selects cases for the queue.
type Filter struct {
	Status       string
	Severity     string
	EmployeeID   string
	Department   string
	Rule         string
	Counterparty string
	// Subject is a pseudonym (privacy.IsSubject): the cases of that person.
	Subject string

	// The queue's search (issue 14), matched by Filter.Match. Statuses is
	// a set of statuses (the default queue: open and in review); Status,
	// when set too, must be among them.
	Statuses []string
	// Assignee selects the cases of one reviewer; Unassigned those of none.
	Assignee   string
	Unassigned bool
	// Project is a confidential project a finding names.
	Project string
	// OpenedFrom (inclusive) and OpenedTo (exclusive) bound when the case
	// was opened.
	OpenedFrom, OpenedTo time.Time
}

// Store persists cases.
type Store interface {
	// OpenFor returns the employee's open case, or ErrNotFound.
	OpenFor(ctx context.Context, employeeID string) (Case, error)
	// ClosedFor returns the employee's closed cases.
	ClosedFor(ctx context.Context, employeeID string) ([]Case, error)
	// Create stores a new case; ErrConflict when the employee already has an
	// open case or the id exists.
	Create(ctx context.Context, c Case) error
	// Update writes c if its version is unchanged (then bumps it), else
	// ErrConflict. Of concurrent updates of one version exactly one
	// succeeds, and only it appends entries (the audit of the change).
	Update(ctx context.Context, c Case, entries ...audit.Entry) error
	Get(ctx context.Context, id string) (Case, error)
	// List returns a page of cases, highest score first, and the next cursor ("" at the end).
	List(ctx context.Context, f Filter, limit int, cursor string) ([]Case, string, error)
	// CasesOf returns every case of the employees among ids, by employee:
	// what OpenFor and ClosedFor would return, read by key for a batch.
	CasesOf(ctx context.Context, ids []string) (map[string][]Case, error)
	// Queue returns the open and in-review cases without history and
	// comments (what a queue row shows), highest score first, bounded;
	// truncated says there were more than it returned.
	Queue(ctx context.Context) (rows []Case, truncated bool, err error)
	// Counts returns the number of cases by status.
	Counts(ctx context.Context) (map[string]int, error)
	// Stats returns the counts the dashboard and the queue's filter
	// choices show, in a few bounded reads whatever the number of cases.
	Stats(ctx context.Context) (QueueStats, error)
	// Count returns how many cases match f, counting at most max (a
	// result of max means "max or more").
	Count(ctx context.Context, f Filter, max int) (int, error)
}

// QueueStats counts cases: all of them by status, and the open and
// in-review ones (the queue) by the facts the queue filters on.
type QueueStats struct {
	ByStatus map[string]int
	// Of the open and in-review cases only:
	BySeverity     map[string]int
	ByDepartment   map[string]int // "" for none
	ByRule         map[string]int // a case counts once per rule it has
	ByCounterparty map[string]int // once per counterparty
	// ByMonth is month ("2006-01" of the earliest finding, else of the
	// opening in UTC) -> severity -> cases.
	ByMonth map[string]map[string]int
}

// NewQueueStats returns empty stats with every map made.
func NewQueueStats() QueueStats {
	return QueueStats{ByStatus: map[string]int{}, BySeverity: map[string]int{}, ByDepartment: map[string]int{},
		ByRule: map[string]int{}, ByCounterparty: map[string]int{}, ByMonth: map[string]map[string]int{}}
}
