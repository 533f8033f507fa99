package review

import (
	"context"
	"fmt"
	"sort"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// EventSource walks the stored events.
type EventSource interface {
	Count(ctx context.Context) (int64, error)
	// Scan calls fn with every stored event, a page at a time, in a fixed order.
	Scan(ctx context.Context, pageSize int, fn func([]event.Received) error) error
}

// SignalRewriter replaces derived data wholesale, for a rescan.
type SignalRewriter interface {
	// ReplaceSignals sets an employee's signals in one write (none: removes them).
	ReplaceSignals(ctx context.Context, employeeID string, sigs []detect.Signal) error
	// PutSeminars stores seminars, replacing stored ones with the same ref.
	PutSeminars(ctx context.Context, ss []detect.Seminar) error
}

// EmployeeLister lists employees detection must look at although they may
// have no stored events (declared engagements, open cases).
type EmployeeLister interface {
	EmployeeIDs(ctx context.Context) ([]string, error)
}

// RescanProgress reports how far a rescan got.
type RescanProgress struct {
	Stage string // "events" or "employees"
	Done  int
	Total int
}

// RescanResult counts what a rescan looked at.
type RescanResult struct {
	Events    int `json:"events"`
	Signals   int `json:"signals"`
	Seminars  int `json:"seminars"`
	Employees int `json:"employees"`
}

// Rescan re-evaluates every stored event after a rules or watchlist change:
// it derives each employee's signals and the seminars again from the raw
// events, then re-evaluates every employee concerned. Every step replaces
// derived data with what the current rules give, so running it twice
// changes nothing the second time.
type Rescan struct {
	Engine  *Engine
	Events  EventSource
	Signals SignalRewriter
	// Others are listed employees without events to re-evaluate too.
	Others   []EmployeeLister
	PageSize int
	// Progress, when set, is called after each page and each employee.
	Progress func(RescanProgress)
}

// Run does the rescan.
func (r *Rescan) Run(ctx context.Context) (RescanResult, error) {
	var res RescanResult
	cfg, wl := r.Engine.Rules.Current()
	total, err := r.Events.Count(ctx)
	if err != nil {
		return res, err
	}
	pageSize := r.PageSize
	if pageSize <= 0 {
		pageSize = 500
	}
	sigs := map[string][]detect.Signal{}
	// scanned holds the expense events seen per employee: a stored signal
	// whose event was not scanned arrived during the rescan and is kept.
	scanned := map[string]map[event.Ref]bool{}
	employees := map[string]bool{}
	err = r.Events.Scan(ctx, pageSize, func(page []event.Received) error {
		var seminars []detect.Seminar
		for _, rec := range page {
			ev := rec.Event
			if id := ev.EmployeeID(); id != "" {
				employees[id] = true
				if scanned[id] == nil {
					scanned[id] = map[event.Ref]bool{}
				}
				scanned[id][ev.Ref] = true
			}
			if s, ok := detect.SignalOf(cfg, wl, ev); ok {
				sigs[s.EmployeeID] = append(sigs[s.EmployeeID], s)
			}
			if s, ok := detect.SeminarOf(wl, ev); ok {
				seminars = append(seminars, s)
			}
		}
		if len(seminars) > 0 {
			if err := r.Signals.PutSeminars(ctx, seminars); err != nil {
				return err
			}
			res.Seminars += len(seminars)
		}
		res.Events += len(page)
		r.progress("events", res.Events, int(max(total, int64(res.Events))))
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("rescan events: %w", err)
	}
	for _, l := range r.Others {
		ids, err := l.EmployeeIDs(ctx)
		if err != nil {
			return res, fmt.Errorf("rescan: %w", err)
		}
		for _, id := range ids {
			employees[id] = true
		}
	}
	ids := sortedKeys(employees)
	for i, id := range ids {
		if scanned[id] != nil {
			n, err := r.replaceSignals(ctx, id, sigs[id], scanned[id])
			if err != nil {
				return res, err
			}
			res.Signals += n
		}
		if err := r.Engine.Reevaluate(ctx, id); err != nil {
			return res, fmt.Errorf("rescan %s: %w", id, err)
		}
		res.Employees++
		r.progress("employees", i+1, len(ids))
	}
	return res, nil
}

func (r *Rescan) replaceSignals(ctx context.Context, id string, fresh []detect.Signal, scanned map[event.Ref]bool) (int, error) {
	stored, err := r.Engine.Signals.Signals(ctx, id)
	if err != nil {
		return 0, err
	}
	keep := fresh
	for _, s := range stored {
		if !scanned[s.Ref] {
			keep = append(keep, s) // consumed while the rescan ran
		}
	}
	sort.Slice(keep, func(i, j int) bool {
		if keep[i].Date != keep[j].Date {
			return keep[i].Date < keep[j].Date
		}
		return keep[i].Ref.Key() < keep[j].Ref.Key()
	})
	if sameSignals(stored, keep) {
		return len(keep), nil
	}
	if err := r.Signals.ReplaceSignals(ctx, id, keep); err != nil {
		return 0, err
	}
	return len(keep), nil
}

func sameSignals(a, b []detect.Signal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Ref != y.Ref || x.Date != y.Date || x.Counterparty != y.Counterparty || x.CounterpartyID != y.CounterpartyID ||
			x.CounterpartyType != y.CounterpartyType || x.AsMatched != y.AsMatched || x.Field != y.Field ||
			x.Amount != y.Amount || x.Merchant != y.Merchant || x.Description != y.Description || x.City != y.City ||
			x.Kind != y.Kind || fmt.Sprint(x.Vocabulary) != fmt.Sprint(y.Vocabulary) {
			return false
		}
	}
	return true
}

func (r *Rescan) progress(stage string, done, total int) {
	if r.Progress != nil {
		r.Progress(RescanProgress{Stage: stage, Done: done, Total: total})
	}
}

// DueLister lists employees with a declared engagement that has started by
// today while not approved: time alone gives them an unapproved-engagement
// finding.
type DueLister interface {
	EmployeesDue(ctx context.Context, today civil.Date) ([]string, error)
}

// Sweep re-evaluates the employees whose declared, not approved engagements
// have started (when the engine's Engagements can list them). The service
// runs it periodically; re-evaluating is idempotent, so sweeping often costs
// reads only. It returns how many employees it re-evaluated.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	dl, ok := e.Engagements.(DueLister)
	if !ok {
		return 0, nil
	}
	ids, err := dl.EmployeesDue(ctx, civil.Of(e.Now()))
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	for _, id := range ids {
		if err := e.Reevaluate(ctx, id); err != nil {
			return 0, fmt.Errorf("sweep %s: %w", id, err)
		}
	}
	return len(ids), nil
}

// EmployeesDue implements DueLister.
func (d DisclosureEngagements) EmployeesDue(ctx context.Context, today civil.Date) ([]string, error) {
	out := map[string]bool{}
	for _, st := range []disclosure.Status{disclosure.StatusPending, disclosure.StatusRejected, disclosure.StatusWithdrawn} {
		err := d.each(ctx, disclosure.Filter{Status: st}, func(x disclosure.Disclosure) {
			if x.StartDate.Before(today) {
				out[x.EmployeeID] = true
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return sortedKeys(out), nil
}

// EmployeeIDs implements EmployeeLister: everyone with a disclosure.
func (d DisclosureEngagements) EmployeeIDs(ctx context.Context) ([]string, error) {
	out := map[string]bool{}
	if err := d.each(ctx, disclosure.Filter{}, func(x disclosure.Disclosure) { out[x.EmployeeID] = true }); err != nil {
		return nil, err
	}
	return sortedKeys(out), nil
}

func (d DisclosureEngagements) each(ctx context.Context, f disclosure.Filter, fn func(disclosure.Disclosure)) error {
	page := disclosure.Page{Limit: disclosure.MaxLimit}
	for {
		ds, next, err := d.Store.List(ctx, f, page)
		if err != nil {
			return fmt.Errorf("list disclosures: %w", err)
		}
		for _, x := range ds {
			fn(x)
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}

// OpenCases lists employees with an open case (a rescan re-evaluates them
// even when nothing else names them).
type OpenCases struct{ Store Store }

// EmployeeIDs implements EmployeeLister.
func (o OpenCases) EmployeeIDs(ctx context.Context) ([]string, error) {
	out := map[string]bool{}
	for _, st := range []string{StatusOpen, StatusInReview} {
		cursor := ""
		for {
			cs, next, err := o.Store.List(ctx, Filter{Status: st}, MaxLimit, cursor)
			if err != nil {
				return nil, fmt.Errorf("list open cases: %w", err)
			}
			for _, c := range cs {
				out[c.EmployeeID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return sortedKeys(out), nil
}
