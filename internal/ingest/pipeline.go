package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/tracing"
)

// EventStore keeps raw events; InsertMany skips those already stored and
// returns how many were new.
type EventStore interface {
	InsertMany(ctx context.Context, evs []event.Received) (int, error)
}

// Stage is a later step of handling a batch (detection). It must be
// idempotent: a crash between stages makes the whole batch run again.
type Stage interface {
	// Process handles the batch; changed lists the employees whose HR
	// projection changed in this batch.
	Process(ctx context.Context, batch []event.Received, changed []string) error
}

// Pipeline stores a batch of valid events: raw events, the employee
// projection and every Stage. Each step is idempotent. The raw events are
// written while the projection and the stages run: none of them reads the
// events collection, and the batch is committed only once both are done, so
// a crash or an error in either redelivers the whole batch as before. On a
// database that serves connections concurrently (FerretDB's SQLite in WAL
// mode, MongoDB) the batch's largest write then no longer waits for the
// rest, nor the rest for it.
type Pipeline struct {
	Events    EventStore
	Employees employee.Store
	Stages    []Stage
}

// Process implements Processor; it returns how many events were new. The
// projection and the stages share one memo of employee reads
// (employee.WithReads): each employee is read once per batch, and the
// stages see what applyHR wrote.
func (p *Pipeline) Process(ctx context.Context, batch []event.Received) (int, error) {
	g, gctx := errgroup.WithContext(ctx)
	var n int
	g.Go(func() error {
		sctx, span := tracing.Start(gctx, "events insert")
		var err error
		n, err = p.Events.InsertMany(sctx, batch)
		tracing.End(span, err)
		return err
	})
	g.Go(func() error { return p.derive(employee.WithReads(gctx), batch) })
	err := g.Wait()
	return n, err
}

// derive projects the batch's HR facts, then runs every Stage.
func (p *Pipeline) derive(ctx context.Context, batch []event.Received) error {
	sctx, span := tracing.Start(ctx, "employees project")
	changed, err := p.applyHR(sctx, batch)
	tracing.End(span, err)
	if err != nil {
		return err
	}
	for _, s := range p.Stages {
		if err := s.Process(ctx, batch, changed); err != nil {
			return err
		}
	}
	return nil
}

// applyHR adds the batch's HR facts to the employee projections: one read for
// the batch, one write per changed employee.
func (p *Pipeline) applyHR(ctx context.Context, batch []event.Received) ([]string, error) {
	facts := map[string][]employee.Fact{}
	for _, r := range batch {
		if f, ok := employee.FactOf(r.Event); ok {
			id := r.Event.EmployeeID()
			facts[id] = append(facts[id], f)
		}
	}
	if len(facts) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(facts))
	for id := range facts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	current, err := p.Employees.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	inserter, canInsert := p.Employees.(EmployeeInserter)
	var (
		changed []string
		fresh   []employee.Employee // not stored yet: inserted together
	)
	for _, id := range ids {
		e, ok := current[id]
		if !ok && canInsert {
			e = employee.Employee{ID: id}
			added := false
			for _, f := range facts[id] {
				if e.Add(f) {
					added = true
				}
			}
			if added {
				fresh = append(fresh, e)
			}
			continue
		}
		if adder, can := p.Employees.(FactAdder); ok && can {
			var added []employee.Fact
			for _, f := range facts[id] {
				if e.Add(f) {
					added = append(added, f)
				}
			}
			if len(added) == 0 {
				continue
			}
			err := adder.AddFacts(ctx, e, added)
			if err == nil {
				changed = append(changed, id)
				continue
			}
			if !errors.Is(err, employee.ErrNotFound) {
				return nil, err
			}
			e = employee.Employee{ID: id} // gone meanwhile: store it anew
		}
		if !ok {
			e = employee.Employee{ID: id}
		}
		did, err := p.applyOne(ctx, e, facts[id])
		if err != nil {
			return nil, err
		}
		if did {
			changed = append(changed, id)
		}
	}
	if len(fresh) == 0 {
		return changed, nil
	}
	taken, err := inserter.InsertNew(ctx, fresh)
	if err != nil {
		return nil, err
	}
	for _, e := range fresh {
		if !taken[e.ID] {
			changed = append(changed, e.ID)
			continue
		}
		// Stored by another replica meanwhile: add the facts to its version.
		stored, err := p.Employees.Get(ctx, e.ID)
		switch {
		case errors.Is(err, employee.ErrNotFound):
			stored = employee.Employee{ID: e.ID}
		case err != nil:
			return nil, err
		}
		did, err := p.applyOne(ctx, stored, facts[e.ID])
		if err != nil {
			return nil, err
		}
		if did {
			changed = append(changed, e.ID)
		}
	}
	sort.Strings(changed)
	return changed, nil
}

// FactAdder is an employee store that adds facts to a stored employee
// without a version check (facts commute), which some databases run far
// faster than Save's compare-and-set. AddFacts returns employee.ErrNotFound
// when the employee is not stored.
type FactAdder interface {
	AddFacts(ctx context.Context, e employee.Employee, facts []employee.Fact) error
}

// EmployeeInserter is an employee store that stores many new employees in
// one write (a bulk HR load hires hundreds per batch). InsertNew returns the
// ids that someone else stored first.
type EmployeeInserter interface {
	InsertNew(ctx context.Context, es []employee.Employee) (map[string]bool, error)
}

// applyOne adds facts to e and saves it, re-reading on a concurrent change
// (another replica after a rebalance).
func (p *Pipeline) applyOne(ctx context.Context, e employee.Employee, facts []employee.Fact) (bool, error) {
	for attempt := 0; attempt < 5; attempt++ {
		changed := false
		for _, f := range facts {
			if e.Add(f) {
				changed = true
			}
		}
		if !changed {
			return false, nil
		}
		_, err := p.Employees.Save(ctx, e)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, employee.ErrConflict) {
			return false, err
		}
		fresh, err := p.Employees.Get(ctx, e.ID)
		switch {
		case errors.Is(err, employee.ErrNotFound):
			e = employee.Employee{ID: e.ID}
		case err != nil:
			return false, err
		default:
			e = fresh
		}
	}
	return false, fmt.Errorf("employee %s: still conflicting after 5 attempts: %w", e.ID, employee.ErrConflict)
}
