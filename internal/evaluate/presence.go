package evaluate

import (
	"context"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// seminar-speaker-match is corroborated by the day: leave on the seminar's
// date, or any payment (not only a signal) in its city that day or the day
// before. Either side can arrive first: a seminar report weeks after the
// payments, or a card feed a day after the report. Payments are frequent and
// speaker reports rare, so the cost sits on the rare side:
//
//   - every batch indexes its payments and leave days by (city, day) and its
//     speaker seminars by day, in one bulk write per kind (PresenceStore);
//   - a speaker seminar reads who paid in its city that day or the day
//     before, or was on leave that day; a payment reads the speaker seminars
//     of its day and the next — both by key, however large the collections;
//   - of those, only employees a descriptor fits (detect.SpeakerMayFit) are
//     re-evaluated, and their corroborating payments are kept on their own
//     activity document, so later evaluations see them without any index.
//
// Each side writes its index before it reads the other's, so of a payment
// and a report handled at the same moment on two replicas at least one sees
// the other.

// leaveIndexDays bounds how many days of one leave are indexed (a longer
// leave's later days corroborate when the employee is evaluated for another
// reason: their leaves are on their HR record).
const leaveIndexDays = 31

// Paid is a payment naming a city, as the presence index keeps it.
type Paid struct {
	EmployeeID string
	Presence   detect.Presence
}

// PresenceStore indexes payments, leave days and speaker seminars by key.
type PresenceStore interface {
	// IndexPresence records who paid in which city on which day and who
	// was on leave on which day, idempotently.
	IndexPresence(ctx context.Context, paid []Paid, leave map[string][]civil.Date) error
	// IndexSpeakerSeminars records seminars with speaker descriptors by day.
	IndexSpeakerSeminars(ctx context.Context, ss []detect.Seminar) error
	// SpeakerSeminarsOn returns the indexed speaker seminars of days.
	SpeakerSeminarsOn(ctx context.Context, days []civil.Date) ([]detect.Seminar, error)
	// IndexSpeakerKeys records employees under the keys of their HR texts
	// (detect.SpeakerKeys), idempotently; keys are never removed (a
	// transfer leaves a stale candidate, which evaluation rules out).
	IndexSpeakerKeys(ctx context.Context, keys map[string][]string) error
	// SpeakerCandidates returns the employees under each of keys.
	SpeakerCandidates(ctx context.Context, keys []string) (map[string][]string, error)
	// PresentAt returns, of employees, the payments in city on paidOn and
	// who was on leave on leaveOn (zero: none).
	PresentAt(ctx context.Context, city string, paidOn []civil.Date, leaveOn civil.Date, employees []string) ([]Paid, []string, error)
}

// Corroborate indexes the batch's payments, leave days and speaker seminars,
// finds the employees a speaker seminar may be about whose day corroborates
// it (whichever arrived first), keeps their corroborating payments and adds
// them to affected. The rescan runs it over stored events too.
func (e *Engine) Corroborate(ctx context.Context, batch []event.Received, affected map[string]bool) error {
	cfg, wl := e.Rules.Current()
	var paid []Paid
	leave := map[string][]civil.Date{}
	var speakers []detect.Seminar
	fit := map[string][]string{}
	addFit := func(id, text string) {
		for _, k := range detect.SpeakerKeys(text) {
			fit[k] = append(fit[k], id)
		}
	}
	for _, r := range batch {
		switch d := r.Event.Data.(type) {
		case *event.EmployeeHired:
			addFit(d.EmployeeID, d.Department)
			addFit(d.EmployeeID, d.Title)
		case *event.EmployeeUpdated:
			if d.Department != nil {
				addFit(d.EmployeeID, *d.Department)
			}
			if d.Title != nil {
				addFit(d.EmployeeID, *d.Title)
			}
		}
		if id, p, ok := detect.PresenceOf(r.Event); ok {
			paid = append(paid, Paid{EmployeeID: id, Presence: p})
		}
		if l, ok := r.Event.Data.(*event.LeaveRecorded); ok && l.EmployeeID != "" && !l.StartDate.IsZero() {
			end := l.EndDate
			if end.IsZero() || end.Before(l.StartDate) {
				end = l.StartDate
			}
			for d, n := l.StartDate, 0; !d.After(end) && n < leaveIndexDays; d, n = d.AddDays(1), n+1 {
				leave[l.EmployeeID] = append(leave[l.EmployeeID], d)
			}
		}
		if s, ok := detect.SeminarOf(wl, r.Event); ok && len(s.Descriptors) > 0 && !s.Date.IsZero() {
			speakers = append(speakers, s)
		}
	}
	if len(paid) > 0 || len(leave) > 0 {
		if err := e.Presence.IndexPresence(ctx, paid, leave); err != nil {
			return err
		}
	}
	if len(fit) > 0 {
		if err := e.Presence.IndexSpeakerKeys(ctx, fit); err != nil {
			return err
		}
	}
	if len(speakers) > 0 {
		if err := e.Presence.IndexSpeakerSeminars(ctx, speakers); err != nil {
			return err
		}
	}

	type hit struct {
		employee string
		seminar  detect.Seminar
		payment  *detect.Presence // nil: on leave
	}
	var hits []hit
	for _, s := range speakers {
		candidates, err := e.speakerCandidates(ctx, cfg, s)
		if err != nil {
			return err
		}
		if len(candidates) == 0 {
			continue
		}
		ps, onLeave, err := e.Presence.PresentAt(ctx, s.City, []civil.Date{s.Date, s.Date.AddDays(-1)}, s.Date, candidates)
		if err != nil {
			return err
		}
		for i := range ps {
			hits = append(hits, hit{ps[i].EmployeeID, s, &ps[i].Presence})
		}
		for _, id := range onLeave {
			hits = append(hits, hit{id, s, nil})
		}
	}
	if len(paid) > 0 {
		seen := map[civil.Date]bool{}
		var days []civil.Date
		for _, p := range paid {
			for _, d := range []civil.Date{p.Presence.Date, p.Presence.Date.AddDays(1)} {
				if !seen[d] {
					seen[d] = true
					days = append(days, d)
				}
			}
		}
		sems, err := e.Presence.SpeakerSeminarsOn(ctx, days)
		if err != nil {
			return err
		}
		for i := range paid {
			p := &paid[i]
			for _, s := range sems {
				if s.City != "" && detect.CityKey(s.City) == detect.CityKey(p.Presence.City) &&
					(s.Date == p.Presence.Date || s.Date == p.Presence.Date.AddDays(1)) {
					hits = append(hits, hit{p.EmployeeID, s, &p.Presence})
				}
			}
		}
	}
	if len(hits) == 0 {
		return nil
	}

	idSet := map[string]bool{}
	for _, h := range hits {
		idSet[h.employee] = true
	}
	emps, err := e.Employees.GetMany(ctx, sortedKeys(idSet))
	if err != nil {
		return err
	}
	keep := map[string][]detect.Presence{}
	for _, h := range hits {
		emp, ok := emps[h.employee]
		if !ok || !detect.SpeakerMayFit(cfg, h.seminar, emp) {
			continue
		}
		// A payment at home corroborates nothing (detect: corroborationOf)
		// unless it is a research signal, which is kept as one anyway.
		if h.payment != nil && emp.Location != "" && detect.CityKey(emp.Location) == detect.CityKey(h.payment.City) {
			continue
		}
		affected[h.employee] = true
		if h.payment != nil {
			keep[h.employee] = append(keep[h.employee], *h.payment)
		}
	}
	for _, id := range sortedKeys(keep) {
		if err := e.Signals.AddPresence(ctx, id, keep[id]); err != nil {
			return err
		}
	}
	return nil
}

// speakerCandidates are the employees whose HR record names a function (and
// the seniority, when one is named) of one of the seminar's descriptors.
func (e *Engine) speakerCandidates(ctx context.Context, cfg detect.Config, s detect.Seminar) ([]string, error) {
	qs := detect.SpeakerQueries(cfg, s)
	if len(qs) == 0 {
		return nil, nil
	}
	keySet := map[string]bool{}
	for _, q := range qs {
		for _, k := range q.Functions {
			keySet[k] = true
		}
		if q.Seniority != "" {
			keySet[q.Seniority] = true
		}
	}
	byKey, err := e.Presence.SpeakerCandidates(ctx, sortedKeys(keySet))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, q := range qs {
		var senior map[string]bool
		if q.Seniority != "" {
			senior = map[string]bool{}
			for _, id := range byKey[q.Seniority] {
				senior[id] = true
			}
		}
		for _, k := range q.Functions {
			for _, id := range byKey[k] {
				if senior == nil || senior[id] {
					out[id] = true
				}
			}
		}
	}
	return sortedKeys(out), nil
}
