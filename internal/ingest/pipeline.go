package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
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

// Pipeline stores a batch of valid events: raw events, then the employee
// projection, then every Stage. Each step is idempotent.
type Pipeline struct {
	Events    EventStore
	Employees employee.Store
	Stages    []Stage
}

// Process implements Processor; it returns how many events were new.
func (p *Pipeline) Process(ctx context.Context, batch []event.Received) (int, error) {
	n, err := p.Events.InsertMany(ctx, batch)
	if err != nil {
		return 0, err
	}
	changed, err := p.applyHR(ctx, batch)
	if err != nil {
		return n, err
	}
	for _, s := range p.Stages {
		if err := s.Process(ctx, batch, changed); err != nil {
			return n, err
		}
	}
	return n, nil
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
	var changed []string
	for _, id := range ids {
		e, ok := current[id]
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
	return changed, nil
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
