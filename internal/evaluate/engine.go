// Package evaluate is the evaluation engine: it projects consumed events
// into each employee's inputs (expense signals, seminars, presence,
// declared engagements), runs detection over them with the rule set in force
// and syncs the employee's case (review.Sync) with its audit entries and
// notices. It also owns the re-evaluation jobs: the sweep of declarations
// whose dates have passed, the drain of re-evaluation markers and the
// primitives the rescan job (internal/rescan) rewrites derived data with.
//
// The case itself (its lifecycle, store and the reviewers' service) is the
// case domain, internal/review, which this package imports.
package evaluate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/tracing"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// SignalStore keeps each employee's expense signals (small: only expenses
// that point at research work).
type SignalStore interface {
	// AddSignals records signals idempotently (by event ref).
	AddSignals(ctx context.Context, employeeID string, sigs []detect.Signal) error
	Signals(ctx context.Context, employeeID string) ([]detect.Signal, error)
	// SignalsOf returns the signals of those among ids that have any, as
	// Signals would, read by key for a batch.
	SignalsOf(ctx context.Context, ids []string) (map[string][]detect.Signal, error)
	// EmployeesNear lists employees with a signal naming counterpartyID between from and to.
	EmployeesNear(ctx context.Context, counterpartyID string, from, to civil.Date) ([]string, error)
	// AddPresence keeps payments that corroborate a speaker seminar for the
	// employee, idempotently (by event ref).
	AddPresence(ctx context.Context, employeeID string, ps []detect.Presence) error
	// ActivityOf returns the signals and kept presence of those among ids
	// that have any, read by key: what detection reads per employee.
	ActivityOf(ctx context.Context, ids []string) (map[string]Activity, error)
}

// Activity is what the signal store holds about one employee.
type Activity struct {
	Signals  []detect.Signal
	Presence []detect.Presence
}

// SeminarStore keeps reported seminars.
type SeminarStore interface {
	AddSeminars(ctx context.Context, ss []detect.Seminar) error
	SeminarsBetween(ctx context.Context, from, to civil.Date) ([]detect.Seminar, error)
}

// Engagements gives an employee's declared engagements as detection sees them.
type Engagements interface {
	Engagements(ctx context.Context, employeeID string) ([]detect.Engagement, error)
	// EngagementsOf returns the engagements of those among ids that have any.
	EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error)
}

// Rules gives the detection configuration and watchlist in force (both can be
// reloaded at run time).
type Rules interface {
	Current() (detect.Config, *watchlist.Watchlist)
	// Version is the rule-set version in force, which findings record.
	Version() int64
}

// Engine runs detection as part of consumption and whenever a disclosure
// changes: it gathers an employee's inputs, evaluates the rules and syncs the
// employee's case. Every step is idempotent, so redelivered events add nothing.
type Engine struct {
	Rules       Rules
	Employees   employee.Store
	Signals     SignalStore
	Seminars    SeminarStore
	Engagements Engagements
	Cases       review.Store
	Audit       audit.Store
	Now         func() time.Time
	// Presence indexes payments, leave days and speaker seminars by key for
	// seminar-speaker-match (presence.go); required.
	Presence PresenceStore
	// Privacy gives cases their stored pseudonym (a search by it is a key
	// match); nil stores none.
	Privacy *privacy.Policy
	// Notices receives the notices of case changes (notices.go); nil: none.
	Notices notify.Outbox
	// Zone is the business time zone (business.time_zone): detection's
	// "today" and the calendar day of a decision are counted in it, while
	// instants stay stamped in UTC. Nil is UTC.
	Zone *time.Location
	// Extra are finding sources outside package detect (attestation-overdue):
	// their findings join the employee's case like detection's.
	Extra []FindingSource
}

// FindingSource gives further findings about one employee (with their HR
// projection, so a source can skip those it has nothing about without a
// read), deterministic for the same stored state (a re-run gives the same ids).
type FindingSource interface {
	FindingsFor(ctx context.Context, emp employee.Employee, now time.Time) ([]detect.Finding, error)
}

// Today is the current calendar day in the business time zone.
func (e *Engine) Today() civil.Date { return civil.In(e.Now(), e.Zone) }

// Process implements ingest.Stage.
func (e *Engine) Process(ctx context.Context, batch []event.Received, changed []string) error {
	cfg, wl := e.Rules.Current()
	affected := map[string]bool{}
	for _, id := range changed {
		affected[id] = true
	}
	sigs := map[string][]detect.Signal{}
	var seminars []detect.Seminar
	for _, r := range batch {
		if s, ok := detect.SignalOf(cfg, wl, r.Event); ok {
			sigs[s.EmployeeID] = append(sigs[s.EmployeeID], s)
		}
		if s, ok := detect.SeminarOf(wl, r.Event); ok {
			seminars = append(seminars, s)
		}
	}
	for _, id := range sortedKeys(sigs) {
		if err := e.Signals.AddSignals(ctx, id, sigs[id]); err != nil {
			return err
		}
		affected[id] = true
	}
	if len(seminars) > 0 {
		if err := e.Seminars.AddSeminars(ctx, seminars); err != nil {
			return err
		}
		for _, s := range seminars {
			if s.CounterpartyID == "" {
				continue
			}
			w := cfg.SeminarWindowDays
			ids, err := e.Signals.EmployeesNear(ctx, s.CounterpartyID, s.Date.AddDays(-w), s.Date.AddDays(w))
			if err != nil {
				return err
			}
			for _, id := range ids {
				affected[id] = true
			}
		}
	}
	if err := e.Corroborate(ctx, batch, affected); err != nil {
		return err
	}
	return e.ReevaluateMany(withEventTraces(ctx, batch), sortedKeys(affected))
}

// Reevaluate recomputes one employee's findings and syncs their case.
func (e *Engine) Reevaluate(ctx context.Context, employeeID string) error {
	for attempt := 0; attempt < 5; attempt++ {
		err := e.reevaluate(ctx, employeeID)
		if !errors.Is(err, review.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("reevaluate %s: still conflicting after 5 attempts: %w", employeeID, review.ErrConflict)
}

func (e *Engine) reevaluate(ctx context.Context, employeeID string) error {
	in, err := e.gatherOne(ctx, employeeID)
	if err != nil {
		return err
	}
	return e.sync(ctx, employeeID, in)
}

// inputs is what detection and the case sync read about one employee.
type inputs struct {
	emp         employee.Employee
	sigs        []detect.Signal
	engagements []detect.Engagement
	seminars    []detect.Seminar
	presence    []detect.Presence
	open        *review.Case
	closed      []review.Case
}

func (e *Engine) gatherOne(ctx context.Context, employeeID string) (inputs, error) {
	cfg, _ := e.Rules.Current()
	var in inputs
	emp, err := e.Employees.Get(ctx, employeeID)
	if errors.Is(err, employee.ErrNotFound) {
		emp, err = employee.Employee{ID: employeeID}, nil
	}
	if err != nil {
		return in, err
	}
	in.emp = emp
	act, err := e.Signals.ActivityOf(ctx, []string{employeeID})
	if err != nil {
		return in, err
	}
	in.sigs, in.presence = act[employeeID].Signals, act[employeeID].Presence
	if in.engagements, err = e.Engagements.Engagements(ctx, employeeID); err != nil {
		return in, err
	}
	if from, to, ok := seminarSpan(in.sigs, in.emp.Leaves, in.presence, cfg.SeminarWindowDays); ok {
		if in.seminars, err = e.Seminars.SeminarsBetween(ctx, from, to); err != nil {
			return in, err
		}
	}
	if c, err := e.Cases.OpenFor(ctx, employeeID); err == nil {
		in.open = &c
	} else if !errors.Is(err, review.ErrNotFound) {
		return in, err
	}
	if in.closed, err = e.Cases.ClosedFor(ctx, employeeID); err != nil {
		return in, err
	}
	return in, nil
}

// seminarSpan is the date range of seminars that sigs can corroborate or
// that a leave or a kept payment (on its day or the next) can corroborate as
// the employee's talk (seminar-speaker-match).
func seminarSpan(sigs []detect.Signal, leaves []employee.Leave, ps []detect.Presence, windowDays int) (from, to civil.Date, ok bool) {
	from, to, ok = signalSpan(sigs, windowDays)
	for _, p := range ps {
		if !ok || p.Date < from {
			from = p.Date
		}
		if !ok || p.Date.AddDays(1) > to {
			to = p.Date.AddDays(1)
		}
		ok = true
	}
	for _, l := range leaves {
		if !ok || l.Start < from {
			from = l.Start
		}
		if !ok || l.End > to {
			to = l.End
		}
		ok = true
	}
	return from, to, ok
}

// presence is where the employee's payments put them, for
// seminar-speaker-match: the kept payments (any payment naming a city next
// to a seminar whose descriptors fit them) and the expense signals, each
// event once.
func presence(sigs []detect.Signal, kept []detect.Presence) []detect.Presence {
	out := make([]detect.Presence, 0, len(sigs)+len(kept))
	seen := map[event.Ref]bool{}
	for _, p := range kept {
		if !seen[p.Ref] {
			seen[p.Ref] = true
			out = append(out, p)
		}
	}
	for _, s := range sigs {
		if s.City != "" && !seen[s.Ref] {
			seen[s.Ref] = true
			out = append(out, detect.Presence{Ref: s.Ref, Date: s.Date, City: s.City})
		}
	}
	return out
}

// signalSpan is the date range of seminars that can corroborate sigs.
func signalSpan(sigs []detect.Signal, windowDays int) (from, to civil.Date, ok bool) {
	if len(sigs) == 0 {
		return "", "", false
	}
	from, to = sigs[0].Date, sigs[0].Date
	for _, s := range sigs {
		from, to = min(from, s.Date), max(to, s.Date)
	}
	return from.AddDays(-windowDays), to.AddDays(windowDays), true
}

// sync evaluates one employee's inputs and writes the case change, if any.
func (e *Engine) sync(ctx context.Context, employeeID string, in inputs) (err error) {
	ctx, span := startSync(ctx, employeeID)
	defer func() { tracing.End(span, err) }()
	version := e.Rules.Version()
	cfg, wl := e.Rules.Current()
	now := e.Now()
	_, evalSpan := tracing.Start(ctx, "detect evaluate")
	findings := detect.Evaluate(cfg, wl, detect.Input{
		EmployeeID: employeeID, Employee: in.emp, Signals: in.sigs, Seminars: in.seminars, Engagements: in.engagements,
		Presence: presence(in.sigs, in.presence), Now: civil.In(now, e.Zone), Zone: e.Zone,
	})
	for _, x := range e.Extra {
		more, err := x.FindingsFor(ctx, in.emp, now)
		if err != nil {
			return err
		}
		findings = append(findings, more...)
	}
	evalSpan.SetAttributes(attribute.Int("moonlight.findings", len(findings)))
	evalSpan.End()
	StampRulesVersion(findings, in.open, version)
	res := review.Sync(cfg, in.open, review.HandledBy(in.closed), findings, review.Subject{EmployeeID: employeeID, Name: in.emp.Name, Department: in.emp.Department}, now)
	if !res.Changed {
		return nil
	}
	if res.Case.Subject == "" {
		res.Case.Subject = e.Privacy.Subject(employeeID)
	}
	if fam := privacy.JobFamily(in.emp.Title); fam != "" {
		res.Case.JobFamily = fam
	}
	if res.Created && len(in.closed) > 0 {
		// The same uncovered findings can open a case again after an earlier
		// one with them was cleared automatically (a disclosure approved, then
		// withdrawn): the id must not collide with the closed case's. The
		// number of closed cases only grows, so the id stays deterministic.
		res.Case.ID = generationID(res.Case.ID, len(in.closed))
	}
	// An opening's entry goes first with an id derived from the change, so
	// a crash between the two writes repeats it harmlessly. An update's
	// entry goes with the update: the store appends it only if this change
	// wins its version (a reviewer deciding meanwhile wins instead).
	if err := review.EnqueueNotices(ctx, e.Notices, review.SyncNotices(res, in.open, now)); err != nil {
		return err
	}
	ctx, write := tracing.Start(ctx, "case write", trace.WithAttributes(attribute.String("moonlight.case_id", res.Case.ID),
		attribute.Bool("moonlight.case_created", res.Created)))
	defer func() { tracing.End(write, err) }()
	if res.Created {
		if err := e.Audit.Append(ctx, systemEntry(res.Case, review.ActionAuditCaseOpen, res.Case.History[0].Reason, now)); err != nil {
			return err
		}
		return e.Cases.Create(ctx, res.Case)
	}
	var entries []audit.Entry
	if res.AutoCleared {
		entries = append(entries, systemEntry(res.Case, audit.ActionCaseAutoClear, res.Case.Decision.Reason, now))
	}
	return e.Cases.Update(ctx, res.Case, entries...)
}

func systemEntry(c review.Case, action audit.Action, reason string, now time.Time) audit.Entry {
	h := sha256.Sum256([]byte(c.ID + "\x00" + string(action) + "\x00" + strconv.FormatInt(c.Version, 10)))
	return audit.Entry{
		ID: "sys-" + hex.EncodeToString(h[:12]), At: now, Actor: audit.SystemActor, Action: action,
		ResourceType: audit.ResourceCase, ResourceID: c.ID, OwnerID: c.EmployeeID, Reason: reason,
		Details: map[string]string{"status": c.Status, "severity": c.Severity, "findings": strconv.Itoa(len(c.Findings))},
	}
}

func generationID(id string, closed int) string {
	h := sha256.Sum256([]byte(id + "\x00" + strconv.Itoa(closed)))
	return "case-" + hex.EncodeToString(h[:8])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
