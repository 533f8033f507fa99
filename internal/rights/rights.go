// Package rights serves the rights of the people Moonlight watches: an
// employee sees what is held about them and who (by role, not name) read
// it when ("My data", GET /api/v1/me/data); a privacy officer exports every
// stored document about one employee to answer a subject-access request
// (GET /api/v1/privacy/employees/{id}/export). Both are audited.
//
// Whether an employee sees the cases about them is policy
// (privacy.employee_sees_findings): never, after_decision (the default) or
// always; a confirmed case is always shown to its subject with its
// findings and the reason given, because an adverse decision must be
// explained to the person it affects. No adverse decision is automated:
// software opens cases and may clear them, only a reviewer confirms
// (internal/review, internal/evaluate; TestNoAutomatedConfirmation guards it).
package rights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Errors of the package; the transports map them.
var (
	ErrForbidden = errors.New("not allowed")
	ErrNotFound  = errors.New("nothing is stored about this employee")
	ErrInvalid   = errors.New("invalid request")
)

// Audit actions.
const (
	// ActionAccess: an employee read (or downloaded) their own data.
	ActionAccess audit.Action = "rights.access"
	// ActionExport: a privacy officer exported all data about an employee.
	ActionExport audit.Action = "privacy.export"
	// ResourceEmployee is the resource type of both.
	ResourceEmployee = "employee"
)

// Bounds of what one answer carries.
const (
	MaxEvents = 5000
	MaxReads  = 5000
	maxDecls  = 2000
)

// EventRecord is one stored event about the employee, without its payload
// (the page lists them; the export carries them whole).
type EventRecord struct {
	Source, ID, Type, Topic string
	Time, ReceivedAt        time.Time
}

// Collection is every stored document of one collection about one
// employee, as JSON (MongoDB relaxed extended JSON).
type Collection struct {
	Name      string
	Documents []json.RawMessage
}

// Store reads what the pages need beyond the domain stores.
type Store interface {
	// EventsOf returns the stored events about employeeID, newest first, at most limit.
	EventsOf(ctx context.Context, employeeID string, limit int) ([]EventRecord, error)
	// Export returns every stored document about employeeID, and none about anyone else.
	Export(ctx context.Context, employeeID string) ([]Collection, error)
}

// Signals reads an employee's expense and card signals.
type Signals interface {
	Signals(ctx context.Context, employeeID string) ([]detect.Signal, error)
}

// Disclosures lists an employee's declarations.
type Disclosures interface {
	ListByEmployee(ctx context.Context, employeeID string, page disclosure.Page) ([]disclosure.Disclosure, string, error)
}

// Cases reads the cases of employees by key.
type Cases interface {
	CasesOf(ctx context.Context, ids []string) (map[string][]review.Case, error)
}

// Service answers the rights.
type Service struct {
	Employees   employee.Store
	Signals     Signals
	Disclosures Disclosures
	Cases       Cases
	Audit       audit.Store
	Store       Store
	// FindingsPolicy is privacy.employee_sees_findings.
	FindingsPolicy string
	// Retention is how long each kind is kept (shown on the page); zero
	// shows nothing.
	Retention retention.Config
	Now       func() time.Time
}

// KindPeriod is how long one kind of data is kept.
type KindPeriod struct {
	Kind   retention.Kind
	Period retention.Period
}

// Actor is who asks.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

// Data is what Moonlight holds about one employee, as they see it.
type Data struct {
	EmployeeID  string
	GeneratedAt time.Time
	// Employee is the HR record (Known false when HR sent nothing).
	Employee     employee.Employee
	Signals      []detect.Signal
	Events       []EventRecord
	Declarations []disclosure.Disclosure
	// Cases are the cases the policy shows; Hidden counts the others.
	Cases          []CaseView
	HiddenCases    int
	FindingsPolicy string
	// Reads are who read this employee's data, newest first.
	Reads          []Read
	ReadsTruncated bool
	EventsTrimmed  bool
	// Retention is how long each kind of data about people is kept.
	Retention []KindPeriod
}

// CaseView is a case as its subject sees it: what was found and how it was
// decided, without the reviewers' names.
type CaseView struct {
	ID        string
	Status    string
	OpenedAt  time.Time
	UpdatedAt time.Time
	Findings  []detect.Finding
	// Decision is nil while open; By is a role ("compliance") or "system".
	Decision *review.Decision
}

// Read is one access to the employee's data: when, by which roles, doing
// what (and the purpose given, for reads). Never who.
type Read struct {
	At      time.Time
	Roles   []string
	Action  string
	Purpose string
}

// Shows reports whether policy lets an employee see case c about them: a
// confirmed case always, and otherwise never, once decided
// (after_decision) or always.
func Shows(policy string, c review.Case) bool {
	if c.Status == review.StatusConfirmed {
		return true
	}
	switch policy {
	case privacy.FindingsAlways:
		return true
	case privacy.FindingsAfterDecision:
		return !c.IsOpen()
	}
	return false
}

// MyData returns what is held about the caller, and audits the access.
func (s *Service) MyData(ctx context.Context, a Actor, format string) (Data, error) {
	if a.ID == "" {
		return Data{}, fmt.Errorf("my data: %w", ErrForbidden)
	}
	d, err := s.gather(ctx, a.ID)
	if err != nil {
		return Data{}, err
	}
	e := audit.Entry{ID: audit.NewID(), At: d.GeneratedAt, Actor: a.ID, ActorRoles: a.Roles, Action: ActionAccess,
		ResourceType: ResourceEmployee, ResourceID: a.ID, OwnerID: a.ID, Reason: "the employee's access to their own data",
		Details: map[string]string{"format": format}, RequestID: a.RequestID}
	if err := s.Audit.Append(ctx, e); err != nil {
		return Data{}, fmt.Errorf("audit access to own data: %w", err)
	}
	return d, nil
}

func (s *Service) gather(ctx context.Context, id string) (Data, error) {
	d := Data{EmployeeID: id, GeneratedAt: s.Now().UTC(), FindingsPolicy: s.FindingsPolicy}
	for _, k := range []retention.Kind{retention.RawEvents, retention.Signals, retention.Declarations,
		retention.ClearedCases, retention.ConfirmedCases, retention.AuditLog, retention.Attestations, retention.FormerEmployees,
		retention.Notices, retention.Idempotency} {
		if p := s.Retention.Period(k); p != "" {
			d.Retention = append(d.Retention, KindPeriod{Kind: k, Period: p})
		}
	}
	e, err := s.Employees.Get(ctx, id)
	switch {
	case errors.Is(err, employee.ErrNotFound):
		e = employee.Employee{ID: id}
	case err != nil:
		return Data{}, fmt.Errorf("my data: %w", err)
	}
	d.Employee = e
	if d.Signals, err = s.Signals.Signals(ctx, id); err != nil {
		return Data{}, fmt.Errorf("my data: %w", err)
	}
	if d.Events, err = s.Store.EventsOf(ctx, id, MaxEvents+1); err != nil {
		return Data{}, fmt.Errorf("my data: %w", err)
	}
	if len(d.Events) > MaxEvents {
		d.Events, d.EventsTrimmed = d.Events[:MaxEvents], true
	}
	cursor := ""
	for len(d.Declarations) < maxDecls {
		page, next, err := s.Disclosures.ListByEmployee(ctx, id, disclosure.Page{Limit: disclosure.MaxLimit, Cursor: cursor})
		if err != nil {
			return Data{}, fmt.Errorf("my data: %w", err)
		}
		d.Declarations = append(d.Declarations, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	cases, err := s.Cases.CasesOf(ctx, []string{id})
	if err != nil {
		return Data{}, fmt.Errorf("my data: %w", err)
	}
	for _, c := range cases[id] {
		if !Shows(s.FindingsPolicy, c) {
			d.HiddenCases++
			continue
		}
		d.Cases = append(d.Cases, viewOf(c))
	}
	slices.SortFunc(d.Cases, func(a, b CaseView) int { return b.OpenedAt.Compare(a.OpenedAt) })
	if d.Reads, d.ReadsTruncated, err = s.reads(ctx, id); err != nil {
		return Data{}, err
	}
	return d, nil
}

func viewOf(c review.Case) CaseView {
	v := CaseView{ID: c.ID, Status: c.Status, OpenedAt: c.OpenedAt, UpdatedAt: c.UpdatedAt, Findings: c.Findings}
	if c.Decision != nil {
		dec := *c.Decision
		if dec.By != review.System {
			dec.By = auth.RoleCompliance // reviewers decide; the subject learns the role, not the person
		}
		v.Decision = &dec
	}
	return v
}

// reads lists the audit entries about id by others, newest first, with
// the actors' roles only.
func (s *Service) reads(ctx context.Context, id string) ([]Read, bool, error) {
	var out []Read
	cursor := ""
	for {
		es, next, err := s.Audit.List(ctx, audit.Filter{OwnerID: id}, audit.MaxLimit, cursor)
		if err != nil {
			return nil, false, fmt.Errorf("who read the data of %s: %w", id, err)
		}
		for _, e := range es {
			if e.Actor == id {
				continue // the employee's own acts and reads
			}
			if len(out) == MaxReads {
				return out, true, nil
			}
			r := Read{At: e.At, Roles: shownRoles(e.ActorRoles), Action: string(e.Action)}
			if e.Actor == audit.SystemActor {
				r.Roles = []string{audit.SystemActor}
			}
			if strings.HasSuffix(string(e.Action), ".read") {
				r.Purpose = e.Reason
			}
			out = append(out, r)
		}
		if next == "" {
			return out, false, nil
		}
		cursor = next
	}
}

// shownRoles drops the employee role everyone has, unless it is the only one.
func shownRoles(roles []string) []string {
	var out []string
	for _, r := range roles {
		if r != auth.RoleEmployee {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return []string{auth.RoleEmployee}
	}
	return out
}

// Bundle is a privacy officer's export of one employee.
type Bundle struct {
	EmployeeID  string
	GeneratedAt time.Time
	Collections []Collection
}

// Export returns every stored document about employeeID for a privacy
// officer, and audits it (before anything is returned). Nobody exports
// themselves this way (their own data is /me/data, under the findings
// policy); refusals are audited.
func (s *Service) Export(ctx context.Context, a Actor, employeeID, reason string) (Bundle, error) {
	now := s.Now().UTC()
	deny := func(why string) error {
		e := audit.Entry{ID: audit.NewID(), At: now, Actor: orAnonymous(a.ID), ActorRoles: a.Roles, Action: audit.ActionAccessDenied,
			ResourceType: ResourceEmployee, ResourceID: employeeID, OwnerID: employeeID, Reason: why,
			Details: map[string]string{"attempt": string(ActionExport)}, RequestID: a.RequestID}
		if err := s.Audit.Append(ctx, e); err != nil {
			return fmt.Errorf("audit refusal (%s): %w", why, err)
		}
		return fmt.Errorf("export %s: %s: %w", employeeID, why, ErrForbidden)
	}
	if !slices.Contains(a.Roles, auth.RolePrivacyOfficer) {
		return Bundle{}, deny("needs privacy_officer")
	}
	if employeeID == a.ID {
		return Bundle{}, deny("nobody exports their own data this way (use /me/data)")
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 500 {
		return Bundle{}, fmt.Errorf("reason must have at most 500 characters: %w", ErrInvalid)
	}
	if reason == "" {
		reason = "subject-access request"
	}
	cs, err := s.Store.Export(ctx, employeeID)
	if err != nil {
		return Bundle{}, fmt.Errorf("export %s: %w", employeeID, err)
	}
	total := 0
	details := map[string]string{}
	for _, c := range cs {
		total += len(c.Documents)
		if len(c.Documents) > 0 && len(details) < 19 {
			details[c.Name] = fmt.Sprint(len(c.Documents))
		}
	}
	if total == 0 {
		return Bundle{}, fmt.Errorf("export %s: %w", employeeID, ErrNotFound)
	}
	e := audit.Entry{ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: a.Roles, Action: ActionExport,
		ResourceType: ResourceEmployee, ResourceID: employeeID, OwnerID: employeeID, Reason: reason,
		Details: details, RequestID: a.RequestID}
	if err := s.Audit.Append(ctx, e); err != nil {
		return Bundle{}, fmt.Errorf("audit export of %s: %w", employeeID, err)
	}
	return Bundle{EmployeeID: employeeID, GeneratedAt: now, Collections: cs}, nil
}

func orAnonymous(id string) string {
	if id == "" {
		return "anonymous"
	}
	return id
}
