// Package rescan runs a rescan (re-evaluating every stored event after a
// rules or watchlist change) as a durable job that any replica can finish.
//
// A job is a document; its progress is a chain of insert-only step
// documents, `<job>:<seq>`, each holding the cursor after the page it did
// and the running totals. A replica works on a job only while it holds the
// job's lease (internal/lease), renewing it page by page; when the holder
// dies, its lease expires and another replica resumes from the last step.
// Each page's step is written by an insert, so of two replicas that did the
// same page (a holder that lost its lease without noticing yet), only one
// records it: no page, and so no event, is counted twice, and the loser
// stops. Every page's work replaces derived data with what the current
// rules give, so doing a page again changes nothing.
//
// The job walks the events by _id a page at a time (nothing holds all event
// refs), rewriting each employee's expense signals for the events of the
// page and the seminars the page reports; then it walks the employees
// concerned (signals, disclosures, open cases) in id order, re-evaluating
// each once.
package rescan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/lease"
)

// Stages of a job.
const (
	StageEvents    = "events"
	StageEmployees = "employees"
	StageDone      = "done"
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("rescan job not found")
	ErrConflict = errors.New("rescan job written concurrently")
	// ErrRunning: a job is under way already (one at a time).
	ErrRunning = errors.New("a rescan is already running")
	// ErrForbidden: starting or following a rescan needs the admin role.
	ErrForbidden = errors.New("rescans need the admin role")
)

// Caller is who asks for a rescan or its progress: a signed-in principal
// through the API or the UI, or Operator.
type Caller struct {
	ID        string
	Roles     []string
	RequestID string
	// operator is set only by Operator, so no transport can claim it.
	operator bool
}

// Operator is the command line's caller (`moonlight rescan`): it reaches the
// database with the deployment's own credentials, which are its authority,
// so no role is asked of it. Its requests are audited as the system's.
func Operator() Caller { return Caller{ID: audit.SystemActor, operator: true} }

// Job is one requested rescan.
type Job struct {
	ID          string
	Number      int64
	RequestedBy string
	RequestedAt time.Time
	// RulesVersion is the rule-set version in force when it was requested.
	RulesVersion int64
	// TotalEvents is how many events were stored when it was requested.
	TotalEvents int64
	Done        bool
}

// Step is the progress after one page: totals so far and where to go on.
type Step struct {
	Job       string
	Seq       int64
	Stage     string
	Cursor    string
	Events    int64
	Signals   int64
	Seminars  int64
	Employees int64
	// Page is how many items this step did.
	Page  int
	At    time.Time
	By    string
	Epoch int64
}

// Progress is a job with its last step.
type Progress struct {
	Job  Job
	Last Step
}

// Store keeps jobs and steps.
type Store interface {
	// CreateJob inserts j; ErrConflict when its number exists.
	CreateJob(ctx context.Context, j Job) error
	// LatestJob returns the highest-numbered job, or ErrNotFound.
	LatestJob(ctx context.Context) (Job, error)
	GetJob(ctx context.Context, id string) (Job, error)
	// MarkDone records that j finished (its done step is the proof; this
	// flag only saves readers a look).
	MarkDone(ctx context.Context, id string) error
	// LastStep returns the job's highest step; ok false when it has none.
	LastStep(ctx context.Context, job string) (s Step, ok bool, err error)
	// AddStep inserts s; ErrConflict when the job has step s.Seq already.
	AddStep(ctx context.Context, s Step) error
}

// EventPager pages stored events by _id.
type EventPager interface {
	Count(ctx context.Context) (int64, error)
	// EventsAfter returns up to limit events with _id after the cursor, in
	// _id order, and the last one's _id.
	EventsAfter(ctx context.Context, after string, limit int) ([]event.Received, string, error)
}

// EmployeePager pages the employees a rescan re-evaluates: with signals, a
// disclosure or an open case, in id order, each once.
type EmployeePager interface {
	EmployeesAfter(ctx context.Context, after string, limit int) ([]string, error)
}

// Runner creates jobs and works on them.
type Runner struct {
	Store     Store
	Leases    lease.Lessor
	Engine    *evaluate.Engine
	Events    EventPager
	Employees EmployeePager
	Signals   evaluate.SignalRewriter
	Audit     audit.Store
	// Holder names this replica in leases and steps.
	Holder   string
	PageSize int
	LeaseTTL time.Duration
	Log      *slog.Logger
	Now      func() time.Time
	// AfterStep, when set, is called after each recorded step (tests).
	AfterStep func(Step)
}

func leaseName(job string) string { return "rescan:" + job }

// Start requests a rescan: ErrRunning (with the running job) when one is
// under way. Job numbers are the arbiter: two requests at once insert the
// same number and only one succeeds.
// Only an admin (or the Operator) may; a refusal is audited.
func (r *Runner) Start(ctx context.Context, c Caller) (Job, error) {
	if err := r.authorize(ctx, c, "rescan.start", "rescan"); err != nil {
		return Job{}, err
	}
	latest, err := r.Store.LatestJob(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		latest = Job{}
	case err != nil:
		return Job{}, err
	case !latest.Done:
		done, err := r.finished(ctx, latest)
		if err != nil {
			return Job{}, err
		}
		if !done {
			return latest, ErrRunning
		}
	}
	total, err := r.Events.Count(ctx)
	if err != nil {
		return Job{}, err
	}
	now := r.Now()
	j := Job{ID: fmt.Sprintf("rescan-%06d", latest.Number+1), Number: latest.Number + 1, RequestedBy: c.ID,
		RequestedAt: now, RulesVersion: r.Engine.Rules.Version(), TotalEvents: total}
	if err := r.Store.CreateJob(ctx, j); err != nil {
		if errors.Is(err, ErrConflict) {
			if other, gerr := r.Store.LatestJob(ctx); gerr == nil {
				return other, ErrRunning
			}
		}
		return Job{}, err
	}
	if err := r.Audit.Append(ctx, audit.Entry{
		ID: audit.NewID(), At: now, Actor: c.ID, ActorRoles: c.Roles, Action: audit.ActionRescan,
		ResourceType: audit.ResourceWatchlist, ResourceID: j.ID, Reason: "rescan requested",
		Details: map[string]string{"job": j.ID, "rules_version": strconv.FormatInt(j.RulesVersion, 10),
			"events": strconv.FormatInt(total, 10)}, RequestID: c.RequestID,
	}); err != nil {
		return j, err
	}
	return j, nil
}

func (r *Runner) finished(ctx context.Context, j Job) (bool, error) {
	s, ok, err := r.Store.LastStep(ctx, j.ID)
	if err != nil {
		return false, err
	}
	if ok && s.Stage == StageDone {
		_ = r.Store.MarkDone(ctx, j.ID)
		return true, nil
	}
	return false, nil
}

// authorize lets admins and the Operator through; anyone else is refused
// with ErrForbidden and the refusal audited (if that write fails, its error
// comes with the refusal, so no refusal goes unrecorded unnoticed).
func (r *Runner) authorize(ctx context.Context, c Caller, attempt, job string) error {
	if c.operator || slices.Contains(c.Roles, auth.RoleAdmin) {
		return nil
	}
	return audit.Deny(ctx, r.Audit, r.Now(), audit.Refusal{Actor: c.ID, ActorRoles: c.Roles, RequestID: c.RequestID,
		ResourceType: audit.ResourceWatchlist, ResourceID: job, Attempt: attempt, Reason: "refused: " + attempt + " needs the admin role"}, ErrForbidden)
}

// Progress returns a job and its last step ("latest" for the newest job),
// to an admin (or the Operator); a refusal is audited.
func (r *Runner) Progress(ctx context.Context, c Caller, id string) (Progress, error) {
	if err := r.authorize(ctx, c, "rescan.progress", id); err != nil {
		return Progress{}, err
	}
	var j Job
	var err error
	if id == "latest" {
		j, err = r.Store.LatestJob(ctx)
	} else {
		j, err = r.Store.GetJob(ctx, id)
	}
	if err != nil {
		return Progress{}, err
	}
	s, ok, err := r.Store.LastStep(ctx, j.ID)
	if err != nil {
		return Progress{}, err
	}
	if !ok {
		s = Step{Job: j.ID, Stage: StageEvents}
	}
	if s.Stage == StageDone {
		j.Done = true
	}
	return Progress{Job: j, Last: s}, nil
}

// Run works on unfinished jobs until ctx ends, looking every interval.
func (r *Runner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := r.Work(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("rescan: page failed; retrying at the interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Work finishes the newest job if it is unfinished and this replica gets
// its lease; it returns at once when another replica holds it.
func (r *Runner) Work(ctx context.Context) error {
	j, err := r.Store.LatestJob(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || j.Done {
		return err
	}
	l, ok, err := r.Leases.Acquire(ctx, leaseName(j.ID), r.Holder, r.ttl())
	if err != nil || !ok {
		return err
	}
	last, ok, err := r.Store.LastStep(ctx, j.ID)
	if err != nil {
		return err
	}
	if !ok {
		last = Step{Job: j.ID, Stage: StageEvents}
	}
	if last.Seq > 0 {
		r.Log.Info("rescan: resuming", "job", j.ID, "step", last.Seq, "stage", last.Stage, "epoch", l.Epoch())
	}
	for last.Stage != StageDone {
		next, err := r.page(ctx, j, last)
		if err != nil {
			return fmt.Errorf("rescan %s step %d: %w", j.ID, last.Seq+1, err)
		}
		// Renew before recording: a holder that lost its lease stops here.
		if err := l.Renew(ctx); err != nil {
			if errors.Is(err, lease.ErrLost) {
				r.Log.Warn("rescan: lease lost; another replica goes on", "job", j.ID)
				return nil
			}
			return err
		}
		next.Job, next.Seq, next.At, next.By, next.Epoch = j.ID, last.Seq+1, r.Now(), r.Holder, l.Epoch()
		if err := r.Store.AddStep(ctx, next); err != nil {
			if errors.Is(err, ErrConflict) {
				r.Log.Warn("rescan: another replica recorded this step; stopping", "job", j.ID, "step", next.Seq)
				return nil
			}
			return err
		}
		if r.AfterStep != nil {
			r.AfterStep(next)
		}
		last = next
	}
	if err := r.Store.MarkDone(ctx, j.ID); err != nil {
		return err
	}
	r.Log.Info("rescan: done", "job", j.ID, "events", last.Events, "signals", last.Signals, "seminars", last.Seminars, "employees", last.Employees)
	return l.Release(ctx)
}

func (r *Runner) ttl() time.Duration {
	if r.LeaseTTL > 0 {
		return r.LeaseTTL
	}
	return 30 * time.Second
}

func (r *Runner) pageSize() int {
	if r.PageSize > 0 {
		return r.PageSize
	}
	return 200
}

// page does the work after last and returns the next step (totals included).
func (r *Runner) page(ctx context.Context, j Job, last Step) (Step, error) {
	next := last
	next.Page = 0
	switch last.Stage {
	case StageEvents:
		evs, cursor, err := r.Events.EventsAfter(ctx, last.Cursor, r.pageSize())
		if err != nil {
			return Step{}, err
		}
		if len(evs) == 0 {
			next.Stage, next.Cursor = StageEmployees, ""
			return next, nil
		}
		sigs, sems, err := r.rewrite(ctx, evs)
		if err != nil {
			return Step{}, err
		}
		next.Cursor, next.Page = cursor, len(evs)
		next.Events += int64(len(evs))
		next.Signals += int64(sigs)
		next.Seminars += int64(sems)
	case StageEmployees:
		ids, err := r.Employees.EmployeesAfter(ctx, last.Cursor, r.pageSize())
		if err != nil {
			return Step{}, err
		}
		if len(ids) == 0 {
			next.Stage, next.Cursor = StageDone, ""
			return next, nil
		}
		for _, id := range ids {
			if err := r.Engine.Reevaluate(ctx, id); err != nil {
				return Step{}, fmt.Errorf("re-evaluate %s: %w", id, err)
			}
		}
		next.Cursor, next.Page = ids[len(ids)-1], len(ids)
		next.Employees += int64(len(ids))
	default:
		return Step{}, fmt.Errorf("unknown stage %q", last.Stage)
	}
	return next, nil
}

// rewrite derives the page's signals and seminars with the rules in force.
// For each employee with events in the page, the stored signals of those
// events are replaced by the fresh ones; signals of other events stay.
func (r *Runner) rewrite(ctx context.Context, evs []event.Received) (int, int, error) {
	cfg, wl := r.Engine.Rules.Current()
	refs := map[string]map[event.Ref]bool{}
	fresh := map[string][]detect.Signal{}
	var seminars []detect.Seminar
	for _, rec := range evs {
		ev := rec.Event
		if id := ev.EmployeeID(); id != "" {
			if refs[id] == nil {
				refs[id] = map[event.Ref]bool{}
			}
			refs[id][ev.Ref] = true
		}
		if s, ok := detect.SignalOf(cfg, wl, ev); ok {
			fresh[s.EmployeeID] = append(fresh[s.EmployeeID], s)
			if refs[s.EmployeeID] == nil {
				refs[s.EmployeeID] = map[event.Ref]bool{}
			}
			refs[s.EmployeeID][ev.Ref] = true
		}
		if s, ok := detect.SeminarOf(wl, ev); ok {
			seminars = append(seminars, s)
		}
	}
	if len(seminars) > 0 {
		if err := r.Signals.PutSeminars(ctx, seminars); err != nil {
			return 0, 0, err
		}
	}
	// Index the page's payments, leave days and speaker seminars, and keep
	// corroborating payments, as consumption does; the employee stage
	// re-evaluates everyone anyway.
	if err := r.Engine.Corroborate(ctx, evs, map[string]bool{}); err != nil {
		return 0, 0, err
	}
	n := 0
	ids := make([]string, 0, len(refs))
	for id := range refs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		stored, err := r.Engine.Signals.Signals(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		keep := append([]detect.Signal(nil), fresh[id]...)
		for _, s := range stored {
			if !refs[id][s.Ref] {
				keep = append(keep, s)
			}
		}
		sort.Slice(keep, func(a, b int) bool {
			if keep[a].Date != keep[b].Date {
				return keep[a].Date < keep[b].Date
			}
			return keep[a].Ref.Key() < keep[b].Ref.Key()
		})
		n += len(fresh[id])
		if evaluate.SameSignals(stored, keep) {
			continue
		}
		if err := r.Signals.ReplaceSignals(ctx, id, keep); err != nil {
			return 0, 0, err
		}
	}
	return n, len(seminars), nil
}
