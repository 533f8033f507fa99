package evaluate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/lease"
)

// SignalRewriter replaces derived data wholesale, for a rescan
// (internal/rescan runs it as a durable job).
type SignalRewriter interface {
	// ReplaceSignals sets an employee's signals in one write (none: removes them).
	ReplaceSignals(ctx context.Context, employeeID string, sigs []detect.Signal) error
	// PutSeminars stores seminars, replacing stored ones with the same ref.
	PutSeminars(ctx context.Context, ss []detect.Seminar) error
}

// SameSignals reports whether two signal lists are equal field by field.
func SameSignals(a, b []detect.Signal) bool {
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

// DueLister lists employees with a declared engagement, not approved, whose
// start date lies in [from, today): time alone gives them an
// unapproved-engagement finding. from "" means no lower bound. The store
// answers it with an indexed filter (status, start_date).
type DueLister interface {
	EmployeesDue(ctx context.Context, from, today civil.Date) ([]string, error)
}

// SweepState remembers through which day the sweep has re-evaluated every
// due employee without a failure.
type SweepState interface {
	// SweptThrough returns that day, "" before the first complete round.
	SweptThrough(ctx context.Context) (civil.Date, error)
	SetSweptThrough(ctx context.Context, d civil.Date) error
}

// SweepResult counts a sweep round.
type SweepResult struct {
	Employees int
	Failed    int
}

// SweepLease names the sweep's lease.
const SweepLease = "disclosure-sweep"

// Sweeper re-evaluates employees whose declared, not approved engagements
// have started since the last complete round. One replica sweeps at a time
// (a lease held for an interval, and not released, so the cluster sweeps
// about once an interval); a failing employee is logged and retried next
// round, the others go on.
type Sweeper struct {
	Engine *Engine
	Due    DueLister
	State  SweepState
	Leases lease.Lessor
	// Holder names this replica in the lease.
	Holder string
	Log    *slog.Logger

	// swept is the lease term this sweeper last swept in (Run's goroutine only).
	swept int64
}

// Round sweeps once (without the lease; Run takes it). The window starts a
// day before the last complete round, so a round that ran just before
// midnight is covered; it stays open while any employee fails.
func (s *Sweeper) Round(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	today := s.Engine.Today()
	through, err := s.State.SweptThrough(ctx)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	from := civil.Date("")
	if !through.IsZero() {
		from = through.AddDays(-1)
	}
	ids, err := s.Due.EmployeesDue(ctx, from, today)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	for _, id := range ids {
		if err := s.Engine.Reevaluate(ctx, id); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Failed++
			s.Log.Warn("sweep: re-evaluation failed; retried next round", "employee", id, "err", err)
			continue
		}
		res.Employees++
	}
	if res.Failed == 0 && through != today {
		if err := s.State.SetSweptThrough(ctx, today); err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
	}
	return res, nil
}

// Run sweeps at start and then every interval, on whichever replica holds
// the lease.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(min(interval, time.Minute))
	defer t.Stop()
	for {
		s.tryRound(ctx, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sweeper) tryRound(ctx context.Context, interval time.Duration) {
	l, ok, err := s.Leases.Acquire(ctx, SweepLease, s.Holder, interval)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		s.Log.Warn("sweep: lease not read; next try soon", "err", err)
		return
	case !ok || l.Epoch() == s.swept:
		return // swept within this interval already (here or on another replica)
	}
	s.swept = l.Epoch()
	res, err := s.Round(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.Log.Warn("sweep failed; next at the interval", "err", err)
	case res.Employees > 0 || res.Failed > 0:
		s.Log.Info("swept declarations whose dates have passed", "employees", res.Employees, "failed", res.Failed)
	}
}

// Marker says an employee must be re-evaluated because a disclosure of
// theirs changed (written with the change; see DisclosureStore).
type Marker struct {
	ID         string
	EmployeeID string
	At         time.Time
}

// MarkerStore lists and removes re-evaluation markers.
type MarkerStore interface {
	// MarkersBefore returns up to limit markers written before t, oldest first.
	MarkersBefore(ctx context.Context, t time.Time, limit int) ([]Marker, error)
	// DeleteMarkers removes markers by id.
	DeleteMarkers(ctx context.Context, ids []string) error
}

// Drainer re-evaluates employees whose disclosures changed, so a
// re-evaluation that failed right after the change (the database down for a
// moment, a conflict storm) is done later. A marker is removed only after
// its employee's re-evaluation succeeded; re-evaluating is idempotent, so a
// marker drained twice (two replicas, a crash before the delete) does no harm.
type Drainer struct {
	Engine  *Engine
	Markers MarkerStore
	// Grace leaves young markers to the re-evaluation that follows the
	// change inline: the marker is written before the change is stored, so
	// draining it earlier could re-evaluate before the change exists.
	Grace time.Duration
	Log   *slog.Logger
}

// Drain does one round; it returns how many employees it re-evaluated.
func (d *Drainer) Drain(ctx context.Context) (int, error) {
	ms, err := d.Markers.MarkersBefore(ctx, d.Engine.Now().Add(-d.Grace), 500)
	if err != nil {
		return 0, fmt.Errorf("drain re-evaluations: %w", err)
	}
	byEmployee := map[string][]string{}
	for _, m := range ms {
		byEmployee[m.EmployeeID] = append(byEmployee[m.EmployeeID], m.ID)
	}
	n := 0
	for _, id := range sortedKeys(byEmployee) {
		if err := d.Engine.Reevaluate(ctx, id); err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			d.Log.Warn("re-evaluation after a disclosure change failed; retried next round", "employee", id, "err", err)
			continue
		}
		if err := d.Markers.DeleteMarkers(ctx, byEmployee[id]); err != nil {
			return n, fmt.Errorf("drain re-evaluations: %w", err)
		}
		n++
	}
	return n, nil
}

// Run drains every interval until ctx ends.
func (d *Drainer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("drain failed; next at the interval", "err", err)
		} else if n > 0 {
			d.Log.Info("re-evaluated employees whose disclosures changed", "employees", n)
		}
	}
}
