package disclosure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// Actor is who calls the Service: the authenticated employee (or service
// account), their roles and the request id that ties audit entries to logs.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

func (a Actor) has(role string) bool { return slices.Contains(a.Roles, role) }

// Directory answers the reporting-line questions access rules need, at
// decision time. The HR projection (employee.Store) backs it.
type Directory interface {
	// ManagerOf returns who holds manager authority over employeeID on
	// day: their manager by the HR facts effective that day, or, when that
	// manager's employment has ended, the next manager up who is still
	// employed. "" means nobody (compliance decides): the employee is
	// unknown or no longer employed, or no manager up the line is.
	ManagerOf(ctx context.Context, employeeID string, day civil.Date) (string, error)
	// Reports returns the employees over whom managerID holds manager
	// authority on day (ManagerOf gives managerID): current direct reports,
	// and the reports of departed managers below them. Nothing when
	// managerID is not employed on day.
	Reports(ctx context.Context, managerID string, day civil.Date) ([]string, error)
}

// maxChain bounds walks up and down reporting lines (and breaks cycles in
// bad HR data).
const maxChain = 12

// EmployeeDirectory is the Directory of the HR projection.
type EmployeeDirectory struct{ Employees employee.Store }

// ManagerOf implements Directory.
func (d EmployeeDirectory) ManagerOf(ctx context.Context, employeeID string, day civil.Date) (string, error) {
	e, ok, err := d.get(ctx, employeeID)
	if err != nil || !ok || !e.EmployedOn(day) {
		return "", err
	}
	seen := map[string]bool{employeeID: true}
	for m := e.ManagerOn(day); m != "" && !seen[m] && len(seen) < maxChain; {
		seen[m] = true
		me, ok, err := d.get(ctx, m)
		if err != nil || !ok {
			return "", err
		}
		if me.EmployedOn(day) {
			return m, nil
		}
		m = me.ManagerOn(day) // a departed manager's authority goes up the line
	}
	return "", nil
}

// Reports implements Directory.
func (d EmployeeDirectory) Reports(ctx context.Context, managerID string, day civil.Date) ([]string, error) {
	m, ok, err := d.get(ctx, managerID)
	if err != nil || !ok || !m.EmployedOn(day) {
		return nil, err
	}
	var out []string
	seen := map[string]bool{managerID: true}
	level := []string{managerID}
	for depth := 0; len(level) > 0 && depth < maxChain; depth++ {
		var next []string
		for _, x := range level {
			ids, err := d.Employees.ListReports(ctx, x)
			if err != nil {
				return nil, err
			}
			emps, err := d.Employees.GetMany(ctx, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				r, ok := emps[id]
				if !ok || seen[id] || r.ManagerOn(day) != x {
					continue
				}
				seen[id] = true
				if r.EmployedOn(day) {
					out = append(out, id)
				} else {
					next = append(next, id) // their reports come up to managerID
				}
			}
		}
		level = next
	}
	return out, nil
}

func (d EmployeeDirectory) get(ctx context.Context, id string) (employee.Employee, bool, error) {
	e, err := d.Employees.Get(ctx, id)
	if errors.Is(err, employee.ErrNotFound) {
		return employee.Employee{}, false, nil
	}
	if err != nil {
		return employee.Employee{}, false, err
	}
	return e, true, nil
}

// Service is the declaration workflow as the API offers it: it loads,
// checks access, applies the state machine, stores, audits and triggers
// re-detection. Access rules, in one place:
//
//   - the owner reads, edits and withdraws their own disclosures;
//   - compliance and auditors read every disclosure; the owner's manager
//     (by the HR projection) reads their direct reports';
//   - compliance decides any disclosure, a manager only the manager-level
//     ones of their direct reports, nobody their own (DeciderRole);
//   - a disclosure the actor may not read is ErrNotFound, never
//     ErrForbidden, so ids do not reveal that someone declared something.
//
// Every create, change and decision appends an audit entry, and so does
// every read by someone other than the owner (lists included, one entry per
// disclosure shown); entries carry ids and statuses, never contents. A
// change is stored first and audited next: should the append fail, the call
// fails loudly (the change stays, the error is logged as a 500) rather than
// report success for an unaudited act; reads are audited before any data is
// returned, so a failing audit log shows nothing.
type Service struct {
	Store     Store
	Directory Directory
	Audit     audit.Store
	Policy    Policy
	Limits    Limits
	Now       func() time.Time
	// OnChange re-runs detection for the employee after a stored change, so
	// an approved disclosure covers its expenses at once. It may be nil.
	// Its failure does not undo or fail the change, which is already stored
	// and audited: it is logged, and the periodic sweep or the employee's
	// next event re-evaluates them anyway.
	OnChange func(ctx context.Context, employeeID string) error
	// Log receives OnChange failures; nil discards them.
	Log *slog.Logger
	// Validity sets each change's ValidUntil (zero: approvals never lapse).
	Validity Validity
	// Notices receives the notices a change causes, written just before
	// the change with it as their cause (see notices.go); nil: none.
	Notices notify.Outbox
	// Zone is the business time zone: "today" for the date limits and for
	// who manages whom is its calendar day. Nil is UTC. Instants are still
	// stamped in UTC.
	Zone *time.Location
}

// local is t in the business time zone, for calendar-day checks only.
func (s *Service) local(t time.Time) time.Time {
	if s.Zone == nil {
		return t.UTC()
	}
	return t.In(s.Zone)
}

// ListFilter narrows List. Zero fields do not filter.
type ListFilter struct {
	Status     Status
	EmployeeID string
	Approver   Approver
	// ExcludeIDs leaves these out of the page (and of its audit entry): the
	// inbox lists an employee's earlier declarations beside the pending
	// one it already read.
	ExcludeIDs []string
}

// Create declares an engagement for the actor. The result is pending, or
// approved when the policy pre-approves it.
func (s *Service) Create(ctx context.Context, a Actor, in Input) (Disclosure, error) {
	return s.CreateWithID(ctx, a, in, NewID())
}

// CreateWithID is Create with the id chosen by the caller (a retried
// request with an Idempotency-Key names the same id, so the store's unique
// _id makes it one declaration): an id that exists is ErrConflict.
func (s *Service) CreateWithID(ctx context.Context, a Actor, in Input, id string) (Disclosure, error) {
	if !ValidID(id) {
		return Disclosure{}, fmt.Errorf("disclosure id %q: %w", id, ErrConflict)
	}
	if a.ID == "" {
		return Disclosure{}, ErrForbidden
	}
	clock := s.Now()
	if err := in.Validate(s.local(clock), s.Limits); err != nil {
		return Disclosure{}, err
	}
	now := stamp(clock)
	if err := s.checkRenews(ctx, a, in); err != nil {
		return Disclosure{}, err
	}
	d := New(id, a.ID, in, s.Policy, now)
	d.ValidUntil = s.Validity.Until(d)
	if err := s.notify(ctx, d, 1, now); err != nil {
		return Disclosure{}, err
	}
	if err := s.Store.Create(ctx, d); err != nil {
		return Disclosure{}, fmt.Errorf("create disclosure: %w", err)
	}
	details := map[string]string{"status": string(d.Status), "approver": string(d.Approver), "version": "1"}
	if err := s.audit(ctx, a, audit.ActionDisclosureCreate, d, "", details, now); err != nil {
		return Disclosure{}, err
	}
	s.changed(ctx, a, d.EmployeeID)
	return d, nil
}

// ListMine returns the actor's own disclosures, newest first.
func (s *Service) ListMine(ctx context.Context, a Actor, page Page) ([]Disclosure, string, error) {
	if a.ID == "" {
		return nil, "", ErrForbidden
	}
	ds, next, err := s.Store.ListByEmployee(ctx, a.ID, page)
	if err != nil {
		return nil, "", fmt.Errorf("list own disclosures: %w", err)
	}
	return ds, next, nil
}

// Get returns one disclosure the actor may read (ErrNotFound otherwise). A
// read by anyone but the owner is audited before the data is returned, so a
// failing audit log means no data.
func (s *Service) Get(ctx context.Context, a Actor, id string) (Disclosure, error) {
	d, err := s.Store.Get(ctx, id)
	if err != nil {
		return Disclosure{}, err
	}
	isManager, err := s.isManagerOf(ctx, a, d.EmployeeID)
	if err != nil {
		return Disclosure{}, err
	}
	if !CanRead(d, a.ID, a.Roles, isManager) {
		return Disclosure{}, s.deny(ctx, a, d, "read", "not the owner, their manager, compliance or an auditor",
			fmt.Errorf("get disclosure %s: %w", id, ErrNotFound))
	}
	if err := s.auditRead(ctx, a, d, "get", readReason(a, isManager)); err != nil {
		return Disclosure{}, err
	}
	return d, nil
}

// Edit replaces the actor's own disclosure (see Disclosure.Edit). Someone
// else's id is ErrNotFound.
func (s *Service) Edit(ctx context.Context, a Actor, id string, in Input) (Disclosure, error) {
	clock := s.Now()
	if err := in.Validate(s.local(clock), s.Limits); err != nil {
		return Disclosure{}, err
	}
	now := stamp(clock)
	d, err := s.own(ctx, a, id)
	if err != nil {
		return Disclosure{}, err
	}
	from := d.Status
	if in.Renews == "" {
		in.Renews = d.Renews // an edit keeps the link to what it renews
	} else if err := s.checkRenews(ctx, a, in); err != nil {
		return Disclosure{}, err
	}
	if err := d.Edit(a.ID, in, s.Policy, now); err != nil {
		return Disclosure{}, fmt.Errorf("edit disclosure %s: %w", id, err)
	}
	d.ValidUntil = s.Validity.Until(d)
	if err := s.notify(ctx, d, d.Version+1, now); err != nil {
		return Disclosure{}, err
	}
	details := map[string]string{"from": string(from), "status": string(d.Status), "approver": string(d.Approver),
		"version": strconv.FormatInt(d.Version+1, 10)}
	if d, err = s.update(ctx, d, s.entry(a, audit.ActionDisclosureEdit, d, "", details, now)); err != nil {
		return Disclosure{}, err
	}
	s.changed(ctx, a, d.EmployeeID)
	return d, nil
}

// Withdraw cancels the actor's own pending or approved disclosure.
func (s *Service) Withdraw(ctx context.Context, a Actor, id, comment string) (Disclosure, error) {
	now := stamp(s.Now())
	d, err := s.own(ctx, a, id)
	if err != nil {
		return Disclosure{}, err
	}
	from := d.Status
	if err := d.Withdraw(a.ID, comment, now); err != nil {
		return Disclosure{}, fmt.Errorf("withdraw disclosure %s: %w", id, err)
	}
	d.ValidUntil = s.Validity.Until(d) // a withdrawn approval no longer lapses
	details := map[string]string{"from": string(from), "status": string(d.Status), "version": strconv.FormatInt(d.Version+1, 10)}
	if d, err = s.update(ctx, d, s.entry(a, audit.ActionDisclosureWithdraw, d, comment, details, now)); err != nil {
		return Disclosure{}, err
	}
	s.changed(ctx, a, d.EmployeeID)
	return d, nil
}

// DecisionInput is an approval or rejection as requested.
type DecisionInput struct {
	Outcome    Outcome
	Comment    string
	Conditions []string
	// Version is the version of the disclosure the decider read: the
	// decision applies to that content only. 0 means none was given.
	Version int64
}

// Decide approves or rejects a pending disclosure at the version the actor
// read. No version is ErrVersionRequired; another version (the employee
// edited it, or someone decided it first) is ErrStale. A disclosure the
// actor may not read is ErrNotFound; one they may read but not decide
// (their own, an auditor, a manager on a compliance-level one or without
// current authority) is ErrForbidden; a withdrawn or already decided one is
// ErrInvalidState. Refusals of authority are audited as access.denied.
func (s *Service) Decide(ctx context.Context, a Actor, id string, in DecisionInput) (Disclosure, error) {
	if err := ValidateDecision(in.Outcome, in.Comment, in.Conditions); err != nil {
		return Disclosure{}, err
	}
	now := stamp(s.Now())
	d, err := s.Store.Get(ctx, id)
	if err != nil {
		return Disclosure{}, err
	}
	isManager, err := s.isManagerOf(ctx, a, d.EmployeeID)
	if err != nil {
		return Disclosure{}, err
	}
	if !CanRead(d, a.ID, a.Roles, isManager) {
		return Disclosure{}, s.deny(ctx, a, d, "decide", "may not read this disclosure",
			fmt.Errorf("decide disclosure %s: %w", id, ErrNotFound))
	}
	role, err := DeciderRole(d, a.ID, a.Roles, isManager)
	if err != nil {
		return Disclosure{}, s.deny(ctx, a, d, "decide", denyDecideReason(d, a),
			fmt.Errorf("decide disclosure %s: %w", id, err))
	}
	if in.Version <= 0 {
		return Disclosure{}, fmt.Errorf("decide disclosure %s: %w", id, ErrVersionRequired)
	}
	if d.Version != in.Version {
		return Disclosure{}, fmt.Errorf("decide disclosure %s: read version %d, now %d: %w", id, in.Version, d.Version, ErrStale)
	}
	from := d.Status
	if err := d.Decide(a.ID, role, in.Outcome, in.Comment, in.Conditions, now); err != nil {
		return Disclosure{}, fmt.Errorf("decide disclosure %s: %w", id, err)
	}
	d.ValidUntil = s.Validity.Until(d)
	if err := s.notify(ctx, d, d.Version+1, now); err != nil {
		return Disclosure{}, err
	}
	details := map[string]string{"from": string(from), "status": string(d.Status), "decision": string(in.Outcome),
		"as": string(role), "conditions": strconv.Itoa(len(in.Conditions)), "version": strconv.FormatInt(d.Version+1, 10),
		"decided_version": strconv.FormatInt(in.Version, 10)}
	d, err = s.update(ctx, d, s.entry(a, audit.ActionDisclosureDecide, d, in.Comment, details, now))
	if errors.Is(err, ErrConflict) {
		// Someone changed or decided this version first: what the actor
		// read is no longer what a decision would apply to.
		return Disclosure{}, fmt.Errorf("decide disclosure %s: %w: %w", id, ErrStale, err)
	}
	if err != nil {
		return Disclosure{}, err
	}
	s.changed(ctx, a, d.EmployeeID)
	return d, nil
}

func denyDecideReason(d Disclosure, a Actor) string {
	switch {
	case a.ID == d.EmployeeID:
		return "nobody decides their own disclosure"
	case a.has(roleManager) && d.Approver != ApproverManager:
		return "needs compliance, not a manager"
	case a.has(roleManager):
		return "not the current manager of the employee"
	}
	return "neither compliance nor the current manager of the employee"
}

// List returns the disclosures the actor may review, newest first:
// compliance and auditors see everyone's, a manager their direct reports'
// (an EmployeeID outside them gives an empty page, not an error, so the
// answer does not say who reports to whom). Anyone else is ErrForbidden.
// Every disclosure returned that is not the actor's own is audited as read.
func (s *Service) List(ctx context.Context, a Actor, f ListFilter, page Page) ([]Disclosure, string, error) {
	switch {
	case a.has(roleCompliance), a.has(roleAuditor):
		return s.list(ctx, a, f, page, false)
	case a.has(roleManager):
		return s.list(ctx, a, f, page, true)
	}
	return nil, "", s.deny(ctx, a, Disclosure{EmployeeID: f.EmployeeID}, "list", "needs compliance, auditor or manager",
		fmt.Errorf("list disclosures: %w", ErrForbidden))
}

// Inbox returns the pending disclosures the actor may decide, newest first:
// for compliance every pending one (compliance may decide manager-level ones
// too); for a manager the pending manager-level ones of their direct
// reports. Anyone else (auditors included) is ErrForbidden.
func (s *Service) Inbox(ctx context.Context, a Actor, page Page) ([]Disclosure, string, error) {
	switch {
	case a.has(roleCompliance):
		return s.list(ctx, a, ListFilter{Status: StatusPending}, page, false)
	case a.has(roleManager):
		return s.list(ctx, a, ListFilter{Status: StatusPending, Approver: ApproverManager}, page, true)
	}
	return nil, "", s.deny(ctx, a, Disclosure{}, "inbox", "needs compliance or manager",
		fmt.Errorf("disclosure inbox: %w", ErrForbidden))
}

// list runs f over everyone's disclosures, or only over the actor's direct
// reports' when reportsOnly, and audits the reads.
func (s *Service) list(ctx context.Context, a Actor, f ListFilter, page Page, reportsOnly bool) ([]Disclosure, string, error) {
	sf := Filter{Status: f.Status, Approver: f.Approver}
	if f.EmployeeID != "" {
		sf.EmployeeIDs = []string{f.EmployeeID}
	}
	if reportsOnly {
		reports, err := s.Directory.Reports(ctx, a.ID, civil.Of(s.local(s.Now())))
		if err != nil {
			return nil, "", fmt.Errorf("list disclosures: reports of %s: %w", a.ID, err)
		}
		sf.EmployeeIDs = []string{} // no reports: nothing, not everyone
		for _, r := range reports {
			if r != a.ID && (f.EmployeeID == "" || f.EmployeeID == r) {
				sf.EmployeeIDs = append(sf.EmployeeIDs, r)
			}
		}
	}
	ds, next, err := s.Store.List(ctx, sf, page)
	if err != nil {
		return nil, "", fmt.Errorf("list disclosures: %w", err)
	}
	if len(f.ExcludeIDs) > 0 {
		ds = slices.DeleteFunc(ds, func(d Disclosure) bool { return slices.Contains(f.ExcludeIDs, d.ID) })
	}
	// One entry for the list read, naming every disclosure and person it
	// showed (issue 14: one per item flooded the log).
	var ids, owners []string
	for _, d := range ds {
		if !audit.NeedsReadAudit(d.EmployeeID, a.ID) {
			continue
		}
		ids = append(ids, d.ID)
		if !slices.Contains(owners, d.EmployeeID) {
			owners = append(owners, d.EmployeeID)
		}
	}
	if len(ids) > 0 {
		e := audit.Entry{
			ID: audit.NewID(), At: stamp(s.Now()), Actor: a.ID, ActorRoles: slices.Clone(a.Roles), Action: audit.ActionDisclosureRead,
			ResourceType: audit.ResourceDisclosure, ResourceIDs: ids, OwnerIDs: owners, Reason: readReason(a, reportsOnly),
			Details: map[string]string{"via": "list", "count": strconv.Itoa(len(ids))}, RequestID: a.RequestID,
		}
		if err := s.Audit.Append(ctx, e); err != nil {
			return nil, "", fmt.Errorf("audit read of %d disclosures: %w", len(ids), err)
		}
	}
	return ds, next, nil
}

// own loads id and checks the actor owns it; someone else's is ErrNotFound.
func (s *Service) own(ctx context.Context, a Actor, id string) (Disclosure, error) {
	d, err := s.Store.Get(ctx, id)
	if err != nil {
		return Disclosure{}, err
	}
	if a.ID == "" || d.EmployeeID != a.ID {
		return Disclosure{}, s.deny(ctx, a, d, "change", "only the owner edits or withdraws a disclosure",
			fmt.Errorf("disclosure %s of another employee: %w", id, ErrNotFound))
	}
	return d, nil
}

func (s *Service) update(ctx context.Context, d Disclosure, entries ...audit.Entry) (Disclosure, error) {
	v, err := s.Store.Update(ctx, d, entries...)
	if err != nil {
		return Disclosure{}, err
	}
	d.Version = v
	return d, nil
}

// isManagerOf reports whether the actor, holding the manager role, holds
// manager authority over employeeID today by the HR projection (see
// Directory.ManagerOf: current, employed, a departed manager's authority
// passes up the line). Without the role the directory is not asked.
func (s *Service) isManagerOf(ctx context.Context, a Actor, employeeID string) (bool, error) {
	if a.ID == "" || !a.has(roleManager) || a.ID == employeeID {
		return false, nil
	}
	m, err := s.Directory.ManagerOf(ctx, employeeID, civil.Of(s.local(s.Now())))
	if err != nil {
		return false, fmt.Errorf("manager of %s: %w", employeeID, err)
	}
	return m != "" && m == a.ID, nil
}

// stamp is t as the store keeps it (UTC, milliseconds), so what a call
// answers equals what a later read returns.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// readReason says in which capacity a non-owner read, for the audit entry.
func readReason(a Actor, isManager bool) string {
	switch {
	case a.has(roleCompliance):
		return "compliance review"
	case a.has(roleAuditor):
		return "audit"
	case isManager:
		return "manager of the employee"
	}
	return "read"
}

func (s *Service) auditRead(ctx context.Context, a Actor, d Disclosure, via, reason string) error {
	if !audit.NeedsReadAudit(d.EmployeeID, a.ID) {
		return nil
	}
	details := map[string]string{"status": string(d.Status), "via": via}
	return s.audit(ctx, a, audit.ActionDisclosureRead, d, reason, details, stamp(s.Now()))
}

// audit appends one entry about d. Ids and statuses only: reason is the
// actor's own words on the act (a decision comment), never the declaration.
func (s *Service) audit(ctx context.Context, a Actor, action audit.Action, d Disclosure, reason string, details map[string]string, now time.Time) error {
	e := s.entry(a, action, d, reason, details, now)
	if err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s of disclosure %s: %w", action, d.ID, err)
	}
	return nil
}

func (s *Service) entry(a Actor, action audit.Action, d Disclosure, reason string, details map[string]string, now time.Time) audit.Entry {
	return audit.Entry{
		ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: slices.Clone(a.Roles), Action: action,
		ResourceType: audit.ResourceDisclosure, ResourceID: d.ID, OwnerID: d.EmployeeID,
		Reason: reason, Details: details, RequestID: a.RequestID,
	}
}

// deny records a refused attempt (access.denied) and returns refusal, the
// error the caller answers with; if the entry cannot be written, that
// failure is returned instead, so no refusal goes unrecorded.
func (s *Service) deny(ctx context.Context, a Actor, d Disclosure, attempt, why string, refusal error) error {
	actorID := a.ID
	if actorID == "" {
		actorID = "anonymous"
	}
	e := audit.Entry{
		ID: audit.NewID(), At: stamp(s.Now()), Actor: actorID, ActorRoles: slices.Clone(a.Roles), Action: audit.ActionAccessDenied,
		ResourceType: audit.ResourceDisclosure, ResourceID: d.ID, OwnerID: d.EmployeeID, Reason: why,
		Details: map[string]string{"attempt": "disclosure." + attempt}, RequestID: a.RequestID,
	}
	if err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("audit refusal (%v): %w", refusal, err)
	}
	return refusal
}

// changed runs OnChange; see the field for why a failure is only logged.
func (s *Service) changed(ctx context.Context, a Actor, employeeID string) {
	if s.OnChange == nil {
		return
	}
	if err := s.OnChange(ctx, employeeID); err != nil && s.Log != nil {
		s.Log.LogAttrs(ctx, slog.LevelWarn, "re-evaluation after disclosure change failed; the sweep will retry",
			slog.String("employee_id", employeeID), slog.String("request_id", a.RequestID), slog.Any("err", err))
	}
}
