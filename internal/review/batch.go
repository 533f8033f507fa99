package review

import (
	"context"
	"errors"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
)

// Batch reads. A consumed batch touches hundreds of employees at once (a bulk
// HR load hires them all); reading each one's inputs separately costs five
// queries per employee, and on a database that scans the collection for each
// query (FerretDB) that was most of the ingest time. Stores that can answer
// for many employees in one query implement these; the engine falls back to
// one query per employee for stores that do not.

// SignalsOfMany is a SignalStore that reads many employees' signals at once.
type SignalsOfMany interface {
	// SignalsOf returns the signals of those among ids that have any, as
	// Signals would.
	SignalsOf(ctx context.Context, ids []string) (map[string][]detect.Signal, error)
}

// EngagementsOfMany is an Engagements that reads many employees at once.
type EngagementsOfMany interface {
	// EngagementsOf returns the engagements of those among ids that have any.
	EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error)
}

// CasesOfMany is a Store that reads many employees' cases at once.
type CasesOfMany interface {
	// CasesOf returns every case of the employees among ids, by employee:
	// what OpenFor and ClosedFor would return, in one query.
	CasesOf(ctx context.Context, ids []string) (map[string][]Case, error)
}

// DetectionListerMany is a disclosure store that lists many employees'
// disclosures for detection at once (ordered as ListForDetection orders them).
type DetectionListerMany interface {
	ListForDetectionMany(ctx context.Context, ids []string) (map[string][]disclosure.Disclosure, error)
}

// EngagementsOf implements EngagementsOfMany.
func (d DisclosureEngagements) EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error) {
	out := make(map[string][]detect.Engagement, len(ids))
	if many, ok := d.Store.(DetectionListerMany); ok {
		byID, err := many.ListForDetectionMany(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, ds := range byID {
			for _, x := range ds {
				out[id] = append(out[id], EngagementOf(x))
			}
		}
		return out, nil
	}
	for _, id := range ids {
		es, err := d.Engagements(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(es) > 0 {
			out[id] = es
		}
	}
	return out, nil
}

// reevaluateChunk bounds how many employees one set of batch reads covers.
const reevaluateChunk = 250

// ReevaluateMany recomputes the findings of ids and syncs their cases,
// reading their inputs a chunk of employees at a time; it does what
// Reevaluate does for each. An employee whose case changed meanwhile is
// retried alone.
func (e *Engine) ReevaluateMany(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += reevaluateChunk {
		chunk := ids[start:min(start+reevaluateChunk, len(ids))]
		ins, err := e.gatherMany(ctx, chunk)
		if err != nil {
			return err
		}
		for _, id := range chunk {
			err := e.sync(ctx, id, ins[id])
			if errors.Is(err, ErrConflict) {
				err = e.Reevaluate(ctx, id)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// gatherMany reads the inputs of ids with one query per kind where the
// stores allow it.
func (e *Engine) gatherMany(ctx context.Context, ids []string) (map[string]inputs, error) {
	_, canSignals := e.Signals.(SignalsOfMany)
	_, canEngagements := e.Engagements.(EngagementsOfMany)
	_, canCases := e.Cases.(CasesOfMany)
	if len(ids) == 1 || !canSignals || !canEngagements || !canCases {
		out := make(map[string]inputs, len(ids))
		for _, id := range ids {
			in, err := e.gatherOne(ctx, id)
			if err != nil {
				return nil, err
			}
			out[id] = in
		}
		return out, nil
	}
	cfg, _ := e.Rules.Current()
	emps, err := e.Employees.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	sigs, err := e.Signals.(SignalsOfMany).SignalsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	engs, err := e.Engagements.(EngagementsOfMany).EngagementsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	cases, err := e.Cases.(CasesOfMany).CasesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// One read of the seminars that can corroborate any of the signals; each
	// employee then gets those in their own span, as SeminarsBetween gives them.
	var from, to civil.Date
	for _, id := range ids {
		if f, t, ok := seminarSpan(sigs[id], emps[id].Leaves, cfg.SeminarWindowDays); ok {
			if from.IsZero() || f < from {
				from = f
			}
			to = max(to, t)
		}
	}
	var seminars []detect.Seminar
	if !from.IsZero() {
		if seminars, err = e.Seminars.SeminarsBetween(ctx, from, to); err != nil {
			return nil, err
		}
	}
	out := make(map[string]inputs, len(ids))
	for _, id := range ids {
		in := inputs{emp: employee.Employee{ID: id}, sigs: sigs[id], engagements: engs[id]}
		if emp, ok := emps[id]; ok {
			in.emp = emp
		}
		if f, t, ok := seminarSpan(in.sigs, in.emp.Leaves, cfg.SeminarWindowDays); ok {
			for _, s := range seminars {
				if s.Date >= f && s.Date <= t {
					in.seminars = append(in.seminars, s)
				}
			}
		}
		for _, c := range cases[id] {
			switch {
			case c.IsOpen():
				c := c
				in.open = &c
			case c.Status == StatusCleared || c.Status == StatusConfirmed:
				in.closed = append(in.closed, c)
			}
		}
		out[id] = in
	}
	return out, nil
}
