package evaluate

import (
	"context"
	"errors"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Batch reads. A consumed batch touches hundreds of employees at once (a bulk
// HR load hires them all); reading each one's inputs separately costs five
// queries per employee. The stores answer for many employees at once, by key
// (internal/mongostore chooses the query shape that is cheap on its server).

// EngagementsOf implements Engagements.
func (d DisclosureEngagements) EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error) {
	out := make(map[string][]detect.Engagement, len(ids))
	byID, err := d.Store.ListForDetectionMany(ctx, ids)
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
			if errors.Is(err, review.ErrConflict) {
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
	if len(ids) == 1 {
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
	acts, err := e.Signals.ActivityOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	engs, err := e.Engagements.EngagementsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	cases, err := e.Cases.CasesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// One read of the seminars that can corroborate any of the signals; each
	// employee then gets those in their own span, as SeminarsBetween gives them.
	var from, to civil.Date
	for _, id := range ids {
		if f, t, ok := seminarSpan(acts[id].Signals, emps[id].Leaves, acts[id].Presence, cfg.SeminarWindowDays); ok {
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
		in := inputs{emp: employee.Employee{ID: id}, sigs: acts[id].Signals, presence: acts[id].Presence, engagements: engs[id]}
		if emp, ok := emps[id]; ok {
			in.emp = emp
		}
		if f, t, ok := seminarSpan(in.sigs, in.emp.Leaves, in.presence, cfg.SeminarWindowDays); ok {
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
			case c.Status == review.StatusCleared || c.Status == review.StatusConfirmed:
				in.closed = append(in.closed, c)
			}
		}
		out[id] = in
	}
	return out, nil
}
