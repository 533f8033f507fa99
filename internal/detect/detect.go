// Package detect turns an employee's expense signals, reported seminars,
// declared engagements and HR history into findings: explained, evidenced
// reasons to look at the employee. It is pure: no I/O and no clock (the caller
// passes Now), so the same input always gives the same findings.
//
// # How findings are judged
//
// Rules, each a Finding.Rule:
//   - expense-at-research-counterparty: an expense claim or card payment
//     naming a watchlisted firm, or seminar vocabulary with an unlisted
//     brokerage/fund/expert network (see SignalOf). Medium; high when the text
//     names a seminar, call or fee, or a reported seminar by the same
//     organiser (same city, within SeminarWindowDays) corroborates it.
//   - unapproved-engagement: a declared engagement whose start date is before
//     Now and that is not approved. An expense for it (same counterparty and
//     date, within CoverageSlackDays) joins this finding as evidence rather
//     than counting as a second violation. Pending: medium (declared, but done
//     before approval). Rejected: high (done despite the rejection).
//     Withdrawn before its start date: no finding (the employee called it
//     off); withdrawn on or after it: medium (it may well have happened).
//   - confidential-project-blackout: a finding dated while the employee is
//     assigned to a confidential or secret project, within BlackoutDays
//     before its launch date (the launch day itself is public), is raised to
//     high and gets Bonus.Blackout. An approved engagement with a research
//     counterparty (watchlisted, or declared as expert network, brokerage or
//     investment firm) overlapping that window gets its own medium finding
//     asking for the approval to be reviewed again, even if still in the
//     future. Projects without a launch date have no window.
//   - frequency: per calendar quarter that already has an uncovered finding,
//     the number of activities (engagements that took place, and expense
//     signals not matching a declared engagement) and the declared
//     compensation, against Config.Frequency.
//
// Employment is judged at each finding's date, not today: inside an
// employment interval it counts fully; up to CoolingOffDays after an
// interval ended it is a low finding with CoolingOffPoints; later, or before
// the first hire, there is no finding. When no HR facts about employment have
// arrived yet the finding is raised at medium: the caller re-runs Evaluate
// when they arrive, and the late facts decide.
//
// Coverage: an approved engagement with the same counterparty (watchlist
// Same) whose dates, widened by CoverageSlackDays, contain the finding's date
// covers it. The finding stays, with CoveredBy set, and adds nothing to the
// score. Approval arriving later covers earlier findings on the next run.
package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Rule ids.
const (
	RuleExpense    = "expense-at-research-counterparty"
	RuleUnapproved = "unapproved-engagement"
	RuleBlackout   = "confidential-project-blackout"
	RuleFrequency  = "frequency"
)

// Rules returns every rule id.
func Rules() []string { return []string{RuleExpense, RuleUnapproved, RuleBlackout, RuleFrequency} }

func isRule(r string) bool {
	for _, x := range Rules() {
		if x == r {
			return true
		}
	}
	return false
}

// Severities, in increasing order.
const (
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"
)

func rank(sev string) int {
	switch sev {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	}
	return 0
}

func maxSeverity(a, b string) string {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Employment states of a finding's date.
const (
	EmploymentEmployed   = "employed"
	EmploymentCoolingOff = "cooling_off"
	EmploymentUnknown    = "unknown"
)

// Engagement statuses (as in disclosures).
const (
	StatusPending   = "pending"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusWithdrawn = "withdrawn"
)

// Seminar is a reported external research seminar (intel.seminar.reported).
type Seminar struct {
	Ref       event.Ref
	ID        string
	Organizer string
	Title     string
	Date      civil.Date
	City      string
	Paid      bool
	// CounterpartyID is the organiser's watchlist id, "" when not listed.
	CounterpartyID string
	// Descriptors are the report's speaker_descriptors.
	Descriptors []string
}

// SeminarOf returns the seminar an intel.seminar.reported event reports.
func SeminarOf(wl *watchlist.Watchlist, ev event.Event) (Seminar, bool) {
	d, ok := ev.Data.(*event.SeminarReported)
	if !ok || d.Date.IsZero() {
		return Seminar{}, false
	}
	s := Seminar{Ref: ev.Ref, ID: d.SeminarID, Organizer: d.Organizer, Title: d.Title, Date: d.Date, City: d.City}
	s.Paid = d.Paid != nil && *d.Paid
	s.Descriptors = append([]string(nil), d.SpeakerDescriptors...)
	if m, ok := wl.Lookup(d.Organizer); ok {
		s.CounterpartyID = m.Counterparty.ID
	}
	return s, true
}

// Engagement is a declared outside engagement (a disclosure) as detection
// needs it.
type Engagement struct {
	ID               string
	EmployeeID       string
	Kind             string
	Counterparty     string
	CounterpartyType string
	Topic            string
	Start            civil.Date
	End              civil.Date // zero: a one-day engagement
	Status           string     // StatusPending, StatusApproved, StatusRejected, StatusWithdrawn
	Paid             bool
	Compensation     event.Money
	// DecidedAt is when the disclosure reached its status (approved,
	// rejected, withdrawn); zero while pending.
	DecidedAt time.Time
}

func (e Engagement) end() civil.Date {
	if e.End.IsZero() || e.End.Before(e.Start) {
		return e.Start
	}
	return e.End
}

// Input is everything Evaluate needs about one employee.
type Input struct {
	EmployeeID string
	// Employee is the HR projection; zero (or without employment intervals)
	// when no HR facts have arrived yet.
	Employee    employee.Employee
	Signals     []Signal
	Seminars    []Seminar
	Engagements []Engagement
	// Presence: days the employee paid for something in a city, which
	// corroborate a seminar-speaker-match.
	Presence []Presence
	// Now is today in the business time zone (civil.In(now, Zone)).
	Now civil.Date
	// Zone is the business time zone, whose calendar days instants (a
	// disclosure's decision time) fall on; nil keeps each instant's own
	// offset.
	Zone *time.Location
}

// Finding is one explained reason to review an employee.
type Finding struct {
	// ID is deterministic: a hash of rule, employee and evidence, so a re-run
	// replaces the same finding rather than adding one.
	ID         string
	EmployeeID string
	Rule       string
	Severity   string
	// Score is the points the finding adds to a case when not covered.
	Score int
	// Explanation is why, as data (message codes and typed parameters),
	// rendered in each reader's language at display time (internal/explain).
	Explanation explain.Explanation
	// Summary is Explanation rendered in English with the watchlist of the
	// evaluation, for logs and tests; findings stored before explanations
	// existed have only this.
	Summary    string
	OccurredOn civil.Date
	// Counterparty is the watchlist's canonical name when listed.
	Counterparty string
	// CounterpartyID is the watchlist id when listed.
	CounterpartyID   string
	CounterpartyType string
	EventRefs        []event.Ref
	DisclosureIDs    []string
	// CoveredBy is the id of the approved disclosure that covers the finding.
	CoveredBy string
	// Employment is EmploymentEmployed, EmploymentCoolingOff or EmploymentUnknown.
	Employment string
	// Project is the confidential project whose blackout the finding falls in.
	Project string
	// RulesVersion is the rule-set version that produced the finding (set by
	// the evaluation engine, not by Evaluate; 0 for rules read from files).
	RulesVersion int64
	// Points says how Score was made: the rule's weight and each bonus, or
	// the cooling-off points that replace them. They add up to Score.
	Points []Point
}

// Point parts.
const (
	PartWeight     = "weight"           // the rule's weight (Config.Weights)
	PartVocabulary = "bonus.vocabulary" // Config.Bonus.Vocabulary
	PartSeminar    = "bonus.seminar"    // Config.Bonus.Seminar
	PartBlackout   = "bonus.blackout"   // Config.Bonus.Blackout
	PartCoolingOff = "cooling_off"      // Config.CoolingOffPoints, replacing all other parts
)

// Point is one part of a finding's score.
type Point struct {
	Part   string
	Points int
}

// Scoring explains a case score: the uncovered findings' points summed,
// capped at MaxScore, and the severity they give against the thresholds.
type Scoring struct {
	// Sum of the uncovered findings' scores, before the cap.
	Sum      int
	MaxScore int
	Score    int
	// Thresholds in force: a score of Medium or more makes the case at
	// least medium, High or more high.
	Medium, High int
	// FindingsSeverity is the highest severity among the uncovered
	// findings; Severity is the case's, after the thresholds.
	FindingsSeverity string
	Severity         string
}

// Covered reports whether an approved disclosure covers the finding.
func (f Finding) Covered() bool { return f.CoveredBy != "" }

// Evaluate applies every rule to one employee's input and returns the
// findings sorted by date, rule and id. Input order does not matter and
// duplicates (same event ref, same disclosure id) count once.
func Evaluate(cfg Config, wl *watchlist.Watchlist, in Input) []Finding {
	ev := newEvaluation(cfg, wl, in)
	var fs []Finding
	unapproved := map[string]int{} // engagement id -> index of its finding
	for i, e := range ev.engagements {
		if f, ok := ev.unapproved(i); ok {
			unapproved[e.ID] = len(fs)
			fs = append(fs, f)
		}
		if f, ok := ev.blackoutReview(i); ok {
			fs = append(fs, f)
		}
	}
	for _, s := range ev.signals {
		// An expense for an engagement that was declared but not approved is
		// evidence of that engagement, not a second violation.
		if _, covered := ev.coverage(s.CounterpartyID, s.Counterparty, s.Date, ""); !covered {
			if e, ok := ev.declared(s.CounterpartyID, s.Counterparty, s.Date); ok {
				if j, ok := unapproved[e.ID]; ok {
					fs[j].EventRefs = append(fs[j].EventRefs, s.Ref)
					fs[j].Explanation = append(fs[j].Explanation, explain.C(explain.CodeExpenseConfirms).
						With("date", explain.Date(s.Date)).With("amount", explain.Money(s.Amount)))
					continue
				}
			}
		}
		if f, ok := ev.expense(s); ok {
			fs = append(fs, f)
		}
	}
	fs = append(fs, ev.speaker(fs)...)
	fs = append(fs, ev.frequency(fs)...)
	for i := range fs {
		fs[i].Summary = explain.Plain(explain.EN, fs[i].Explanation, wl.Get)
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.OccurredOn != b.OccurredOn {
			return a.OccurredOn < b.OccurredOn
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.ID < b.ID
	})
	return fs
}

type evaluation struct {
	cfg         Config
	wl          *watchlist.Watchlist
	emp         employee.Employee
	id          string
	now         civil.Date
	zone        *time.Location
	signals     []Signal
	seminars    []Seminar
	engagements []Engagement
	presence    []Presence
	// engCP[i] is engagements[i]'s watchlist entry, if listed.
	engCP     []watchlist.Counterparty
	engList   []bool
	engWindow [][2]civil.Date
}

// uniqueByRef keeps the first of each event ref and sorts by date, then ref,
// so input order and redeliveries do not change the result.
func uniqueByRef[T any](xs []T, key func(T) (event.Ref, civil.Date)) []T {
	seen := map[event.Ref]bool{}
	var out []T
	for _, x := range xs {
		if r, _ := key(x); !seen[r] {
			seen[r] = true
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ri, di := key(out[i])
		rj, dj := key(out[j])
		if di != dj {
			return di < dj
		}
		return ri.Key() < rj.Key()
	})
	return out
}

func newEvaluation(cfg Config, wl *watchlist.Watchlist, in Input) *evaluation {
	ev := &evaluation{cfg: cfg, wl: wl, emp: in.Employee, id: in.EmployeeID, now: in.Now, zone: in.Zone, presence: in.Presence}
	if ev.id == "" {
		ev.id = in.Employee.ID
	}
	ev.signals = uniqueByRef(in.Signals, func(s Signal) (event.Ref, civil.Date) { return s.Ref, s.Date })
	ev.seminars = uniqueByRef(in.Seminars, func(s Seminar) (event.Ref, civil.Date) { return s.Ref, s.Date })
	ev.presence = uniqueByRef(in.Presence, func(p Presence) (event.Ref, civil.Date) { return p.Ref, p.Date })
	seenEng := map[string]bool{}
	for _, e := range in.Engagements {
		if !seenEng[e.ID] {
			seenEng[e.ID] = true
			ev.engagements = append(ev.engagements, e)
		}
	}
	sort.Slice(ev.engagements, func(i, j int) bool {
		a, b := ev.engagements[i], ev.engagements[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.ID < b.ID
	})
	for _, e := range ev.engagements {
		m, ok := wl.Lookup(e.Counterparty)
		ev.engCP = append(ev.engCP, m.Counterparty)
		ev.engList = append(ev.engList, ok)
		slack := cfg.CoverageSlackDays
		ev.engWindow = append(ev.engWindow, [2]civil.Date{e.Start.AddDays(-slack), e.end().AddDays(slack)})
	}
	return ev
}

// employment judges date d against the employment intervals: the state, a
// clause for the explanation (no Code when there is nothing to say), and
// false when activity on d is not the company's concern (before hire, or
// after the cooling-off period).
func (ev *evaluation) employment(d civil.Date) (state string, note explain.Clause, ok bool) {
	if len(ev.emp.Employments) == 0 {
		return EmploymentUnknown, explain.C(explain.CodeEmploymentUnknown), true
	}
	if _, ok := ev.emp.EmploymentOn(d); ok {
		return EmploymentEmployed, explain.Clause{}, true
	}
	if iv, ok := ev.emp.LastEndedBefore(d); ok {
		if days := iv.End.DaysUntil(d); days <= ev.cfg.CoolingOffDays {
			return EmploymentCoolingOff, explain.C(explain.CodeCoolingOff).With("days", explain.Int(days)).
				With("ended", explain.Date(iv.End)).With("period", explain.Int(ev.cfg.CoolingOffDays)), true
		}
	}
	return "", explain.Clause{}, false
}

// blackout returns the confidential project in whose pre-launch window d falls.
func (ev *evaluation) blackout(d civil.Date) (employee.Assignment, bool) {
	var best employee.Assignment
	found := false
	for _, p := range ev.emp.ProjectsOn(d) {
		if !sensitive(p) || !inWindow(d, p.LaunchDate, ev.cfg.BlackoutDays) {
			continue
		}
		if !found || p.LaunchDate < best.LaunchDate || (p.LaunchDate == best.LaunchDate && p.Code < best.Code) {
			best, found = p, true
		}
	}
	return best, found
}

func sensitive(p employee.Assignment) bool {
	return (p.Sensitivity == "confidential" || p.Sensitivity == "secret") && !p.LaunchDate.IsZero()
}

// inWindow: launch-days <= d < launch.
func inWindow(d, launch civil.Date, days int) bool {
	return !d.Before(launch.AddDays(-days)) && d.Before(launch)
}

// sameCounterparty reports whether engagement i is with the named firm.
func (ev *evaluation) sameCounterparty(i int, id, name string) bool {
	if ev.engList[i] && id != "" {
		return ev.engCP[i].ID == id
	}
	if ev.engList[i] || id != "" {
		return false // one listed, the other not
	}
	return ev.wl.Same(ev.engagements[i].Counterparty, name)
}

// around reports whether d is within engagement i's dates, widened by
// CoverageSlackDays.
func (ev *evaluation) around(i int, d civil.Date) bool {
	w := ev.engWindow[i]
	return !d.Before(w[0]) && !d.After(w[1])
}

// coverage returns the approved engagement (other than skip) covering a
// finding with the counterparty on d.
func (ev *evaluation) coverage(id, name string, d civil.Date, skip string) (Engagement, bool) {
	for i, e := range ev.engagements {
		if e.Status == StatusApproved && e.ID != skip && ev.around(i, d) && ev.sameCounterparty(i, id, name) {
			return e, true
		}
	}
	return Engagement{}, false
}

// declared returns a not-approved engagement matching the counterparty on d,
// to point the reviewer at it.
func (ev *evaluation) declared(id, name string, d civil.Date) (Engagement, bool) {
	for i, e := range ev.engagements {
		if e.Status != StatusApproved && ev.tookPlace(e) && ev.around(i, d) && ev.sameCounterparty(i, id, name) {
			return e, true
		}
	}
	return Engagement{}, false
}

// tookPlace: not withdrawn before its start date.
func (ev *evaluation) tookPlace(e Engagement) bool {
	if e.Status != StatusWithdrawn {
		return true
	}
	return !e.DecidedAt.IsZero() && !ev.day(e.DecidedAt).Before(e.Start)
}

// day is the business calendar day of an instant.
func (ev *evaluation) day(t time.Time) civil.Date {
	if ev.zone == nil {
		return civil.Of(t)
	}
	return civil.In(t, ev.zone)
}

func (ev *evaluation) corroboration(s Signal) (Seminar, bool) {
	var best Seminar
	bestDiff := -1
	for _, sem := range ev.seminars {
		diff := abs(s.Date.DaysUntil(sem.Date))
		if diff > ev.cfg.SeminarWindowDays || !sameCity(s.City, sem.City) {
			continue
		}
		same := false
		switch {
		case s.CounterpartyID != "" && sem.CounterpartyID != "":
			same = s.CounterpartyID == sem.CounterpartyID
		case s.CounterpartyID == "" && sem.CounterpartyID == "":
			same = ev.wl.Same(s.Counterparty, sem.Organizer)
		}
		if same && (bestDiff < 0 || diff < bestDiff) {
			best, bestDiff = sem, diff
		}
	}
	return best, bestDiff >= 0
}

func (ev *evaluation) expense(s Signal) (Finding, bool) {
	state, empNote, ok := ev.employment(s.Date)
	if !ok {
		return Finding{}, false
	}
	f := Finding{
		EmployeeID: ev.id, Rule: RuleExpense, OccurredOn: s.Date,
		Counterparty: s.Counterparty, CounterpartyID: s.CounterpartyID, CounterpartyType: s.CounterpartyType,
		EventRefs: []event.Ref{s.Ref}, Employment: state,
	}
	sev, points := SeverityMedium, ev.cfg.Weights[RuleExpense]
	f.Points = []Point{{PartWeight, points}}
	var notes []explain.Clause
	if len(s.Vocabulary) > 0 {
		sev, points = SeverityHigh, points+ev.cfg.Bonus.Vocabulary
		f.Points = append(f.Points, Point{PartVocabulary, ev.cfg.Bonus.Vocabulary})
	}
	if sem, ok := ev.corroboration(s); ok {
		sev, points = SeverityHigh, points+ev.cfg.Bonus.Seminar
		f.Points = append(f.Points, Point{PartSeminar, ev.cfg.Bonus.Seminar})
		f.EventRefs = append(f.EventRefs, sem.Ref)
		notes = append(notes, seminarNote(sem))
	}
	sev, points, notes = ev.adjust(&f, sev, points, notes, empNote)
	f.Severity, f.Score = sev, points

	code := explain.CodeExpenseNaming
	switch {
	case s.Kind == KindCardTransaction:
		code = explain.CodeExpenseCard
	case s.Field == "merchant":
		code = explain.CodeExpenseMerchant
	case s.Field == "attendees":
		code = explain.CodeExpenseAttendee
	}
	main := explain.C(code).With("counterparty", ev.counterparty(s.CounterpartyID, s.Counterparty, s.CounterpartyType, s.AsMatched)).
		With("date", explain.Date(s.Date)).With("amount", explain.Money(s.Amount))
	if code == explain.CodeExpenseAttendee || code == explain.CodeExpenseNaming {
		main = main.With("merchant", explain.Text(excerpt(s.Merchant, maxQuotedName)))
	}
	x := explain.Explanation{main}
	if s.Description != "" {
		x = append(x, explain.C(explain.CodeExpenseDescription).With("text", explain.Text(excerpt(s.Description, maxQuotedText))))
	}
	if len(s.Vocabulary) > 0 {
		x = append(x, explain.C(explain.CodeExpenseVocabulary).With("words", explain.List(s.Vocabulary)))
	}
	ev.finish(&f, x, notes, s.CounterpartyID, s.Counterparty, "")
	f.ID = findingID(f.Rule, ev.id, s.Ref.Key())
	return f, true
}

// adjust applies blackout and employment to a violation's severity and
// points, in that order: cooling-off and unknown employment have the last
// word, as they say how much the company can hold the employee to.
func (ev *evaluation) adjust(f *Finding, sev string, points int, notes []explain.Clause, empNote explain.Clause) (string, int, []explain.Clause) {
	if f.Employment != EmploymentCoolingOff {
		if p, ok := ev.blackout(f.OccurredOn); ok {
			sev, points = SeverityHigh, points+ev.cfg.Bonus.Blackout
			f.Points = append(f.Points, Point{PartBlackout, ev.cfg.Bonus.Blackout})
			f.Project = p.Code
			notes = append(notes, blackoutNote(p, f.OccurredOn))
		}
	}
	switch f.Employment {
	case EmploymentCoolingOff:
		sev, points = SeverityLow, ev.cfg.CoolingOffPoints
		f.Points = []Point{{PartCoolingOff, ev.cfg.CoolingOffPoints}}
	case EmploymentUnknown:
		sev = SeverityMedium
	}
	if empNote.Code != "" {
		notes = append(notes, empNote)
	}
	return sev, points, notes
}

// finish appends notes and the coverage verdict to the explanation.
func (ev *evaluation) finish(f *Finding, x explain.Explanation, notes []explain.Clause, id, name, skip string) {
	x = append(x, notes...)
	if e, ok := ev.coverage(id, name, f.OccurredOn, skip); ok {
		f.CoveredBy = e.ID
		f.DisclosureIDs = appendUnique(f.DisclosureIDs, e.ID)
		x = append(x, explain.C(explain.CodeCovered).With("disclosure", disclosureParam(e)))
	} else if f.Rule == RuleExpense {
		x = append(x, explain.C(explain.CodeUncovered))
		if e, ok := ev.declared(id, name, f.OccurredOn); ok {
			x = append(x, explain.C(explain.CodeDeclared).With("disclosure", disclosureParam(e)).
				With("status", explain.Enum("status", e.Status)))
			f.DisclosureIDs = appendUnique(f.DisclosureIDs, e.ID)
		}
	}
	f.Explanation = x
}

func (ev *evaluation) unapproved(i int) (Finding, bool) {
	e := ev.engagements[i]
	if e.Status == StatusApproved || !e.Start.Before(ev.now) || !ev.tookPlace(e) {
		return Finding{}, false
	}
	state, empNote, ok := ev.employment(e.Start)
	if !ok {
		return Finding{}, false
	}
	id, name, typ := ev.engCounterparty(i)
	f := Finding{
		EmployeeID: ev.id, Rule: RuleUnapproved, OccurredOn: e.Start,
		Counterparty: name, CounterpartyID: id, CounterpartyType: typ, DisclosureIDs: []string{e.ID}, Employment: state,
	}
	sev := SeverityMedium
	main := engagementClause(explain.CodeUnapprovedPending, e, ev.counterparty(id, name, typ, e.Counterparty))
	switch e.Status {
	case StatusRejected:
		sev, main.Code = SeverityHigh, explain.CodeUnapprovedRejected
	case StatusWithdrawn:
		main = main.With("withdrawn", explain.Date(ev.day(e.DecidedAt)))
		main.Code = explain.CodeUnapprovedWithdrawn
	case StatusPending:
	default:
		main = main.With("status", explain.Enum("status", e.Status))
		main.Code = explain.CodeUnapprovedStatus
	}
	f.Points = []Point{{PartWeight, ev.cfg.Weights[RuleUnapproved]}}
	sev, points, notes := ev.adjust(&f, sev, ev.cfg.Weights[RuleUnapproved], nil, empNote)
	f.Severity, f.Score = sev, points
	ev.finish(&f, explain.Explanation{main}, notes, id, name, e.ID)
	f.ID = findingID(f.Rule, ev.id, "disclosure:"+e.ID)
	return f, true
}

func (ev *evaluation) blackoutReview(i int) (Finding, bool) {
	e := ev.engagements[i]
	if e.Status != StatusApproved {
		return Finding{}, false
	}
	id, name, typ := ev.engCounterparty(i)
	if !ev.engList[i] && !researchType(e.CounterpartyType) {
		return Finding{}, false
	}
	var best employee.Assignment
	var bestDay civil.Date
	for _, p := range ev.emp.Projects {
		if !sensitive(p) {
			continue
		}
		from := latest(p.LaunchDate.AddDays(-ev.cfg.BlackoutDays), p.Start, e.Start)
		to := p.LaunchDate.AddDays(-1)
		if !p.End.IsZero() && p.End.Before(to) {
			to = p.End
		}
		if e.end().Before(to) {
			to = e.end()
		}
		if from.After(to) {
			continue
		}
		if state, _, ok := ev.employment(from); !ok || state == EmploymentCoolingOff {
			continue
		}
		if bestDay.IsZero() || from.Before(bestDay) || (from == bestDay && p.Code < best.Code) {
			best, bestDay = p, from
		}
	}
	if bestDay.IsZero() {
		return Finding{}, false
	}
	state, _, _ := ev.employment(bestDay)
	f := Finding{
		EmployeeID: ev.id, Rule: RuleBlackout, Severity: SeverityMedium, Score: ev.cfg.Weights[RuleBlackout],
		OccurredOn: bestDay, Counterparty: name, CounterpartyID: id, CounterpartyType: typ, DisclosureIDs: []string{e.ID},
		Employment: state, Project: best.Code, Points: []Point{{PartWeight, ev.cfg.Weights[RuleBlackout]}},
	}
	f.Explanation = explain.Explanation{engagementClause(explain.CodeBlackoutReview, e, ev.counterparty(id, name, typ, e.Counterparty)).
		With("days", explain.Int(ev.cfg.BlackoutDays)).With("project", projectParam(best)).
		With("launch", explain.Date(best.LaunchDate))}
	f.ID = findingID(f.Rule, ev.id, "disclosure:"+e.ID, best.Code)
	return f, true
}

func (ev *evaluation) engCounterparty(i int) (id, name, typ string) {
	e := ev.engagements[i]
	if ev.engList[i] {
		c := ev.engCP[i]
		return c.ID, c.Name, c.Type
	}
	return "", e.Counterparty, e.CounterpartyType
}

// frequency adds one finding per quarter with an uncovered violation whose
// activity count or declared compensation passes the thresholds.
func (ev *evaluation) frequency(fs []Finding) []Finding {
	open := map[string]bool{}
	for _, f := range fs {
		if !f.Covered() && f.Employment != EmploymentCoolingOff {
			open[f.OccurredOn.Quarter()] = true
		}
	}
	if len(open) == 0 {
		return nil
	}
	type tally struct {
		count int
		last  civil.Date
		refs  []event.Ref
		discl []string
		comp  map[string]float64
	}
	byQ := map[string]*tally{}
	add := func(d civil.Date) *tally {
		q := d.Quarter()
		t := byQ[q]
		if t == nil {
			t = &tally{comp: map[string]float64{}}
			byQ[q] = t
		}
		t.count++
		if d.After(t.last) {
			t.last = d
		}
		return t
	}
	counts := func(d civil.Date) bool {
		state, _, ok := ev.employment(d)
		return ok && state != EmploymentCoolingOff
	}
	for _, e := range ev.engagements {
		if !ev.tookPlace(e) || !e.Start.Before(ev.now) || !counts(e.Start) {
			continue
		}
		t := add(e.Start)
		t.discl = append(t.discl, e.ID)
		if e.Paid {
			if v, err := strconv.ParseFloat(e.Compensation.Amount, 64); err == nil {
				t.comp[strings.ToUpper(e.Compensation.Currency)] += v
			}
		}
	}
	for _, s := range ev.signals {
		if !counts(s.Date) {
			continue
		}
		if _, ok := ev.anyDeclared(s); ok {
			continue // the same activity as a declared engagement, counted there
		}
		t := add(s.Date)
		t.refs = append(t.refs, s.Ref)
	}
	quarters := make([]string, 0, len(byQ))
	for q := range byQ {
		quarters = append(quarters, q)
	}
	sort.Strings(quarters)
	var out []Finding
	fq := ev.cfg.Frequency
	for _, q := range quarters {
		t := byQ[q]
		if !open[q] {
			continue
		}
		sev := ""
		reasons := explain.Explanation{explain.C(explain.CodeFrequency)}
		if t.count >= fq.Count {
			sev = SeverityMedium
			if t.count >= fq.HighCount {
				sev = SeverityHigh
			}
			reasons = append(reasons, explain.C(explain.CodeFrequencyCount).With("count", explain.Int(t.count)).
				With("quarter", explain.Quarter(q)).With("threshold", explain.Int(fq.Count)).With("high", explain.Int(fq.HighCount)))
		}
		curs := make([]string, 0, len(t.comp))
		for c := range t.comp {
			curs = append(curs, c)
		}
		sort.Strings(curs)
		for _, c := range curs {
			lim, ok := fq.Compensation[c]
			if !ok || t.comp[c] < lim {
				continue
			}
			s := SeverityMedium
			if hi, ok := fq.HighCompensation[c]; ok && t.comp[c] >= hi {
				s = SeverityHigh
			}
			sev = maxSeverity(sev, s)
			reasons = append(reasons, explain.C(explain.CodeFrequencyCompensation).
				With("amount", explain.Money(event.Money{Amount: strconv.FormatFloat(t.comp[c], 'f', 2, 64), Currency: c})).
				With("quarter", explain.Quarter(q)).
				With("threshold", explain.Money(event.Money{Amount: strconv.FormatFloat(lim, 'f', 2, 64), Currency: c})))
		}
		if sev == "" {
			continue
		}
		sort.Slice(t.refs, func(i, j int) bool { return t.refs[i].Key() < t.refs[j].Key() })
		sort.Strings(t.discl)
		f := Finding{
			EmployeeID: ev.id, Rule: RuleFrequency, Severity: sev, Score: ev.cfg.Weights[RuleFrequency],
			OccurredOn: t.last, EventRefs: t.refs, DisclosureIDs: t.discl, Employment: EmploymentEmployed,
			Points:      []Point{{PartWeight, ev.cfg.Weights[RuleFrequency]}},
			Explanation: reasons,
		}
		if len(ev.emp.Employments) == 0 {
			f.Employment = EmploymentUnknown
		}
		f.ID = findingID(f.Rule, ev.id, q)
		out = append(out, f)
	}
	return out
}

// anyDeclared finds a declared engagement (any status, that took place) for
// the signal's counterparty and date.
func (ev *evaluation) anyDeclared(s Signal) (Engagement, bool) {
	for i, e := range ev.engagements {
		if ev.tookPlace(e) && ev.around(i, s.Date) && ev.sameCounterparty(i, s.CounterpartyID, s.Counterparty) {
			return e, true
		}
	}
	return Engagement{}, false
}

// Score totals a case's uncovered findings (capped at MaxScore) and gives
// its severity: the highest severity among them, raised to medium or high
// when the total reaches Severity.Medium or Severity.High. With no uncovered
// finding it returns 0 and "" (nothing to review).
func Score(cfg Config, fs []Finding) (int, string) {
	s := Explain(cfg, fs)
	return s.Score, s.Severity
}

// Explain is Score with its workings, for people to read (the case page and API).
func Explain(cfg Config, fs []Finding) Scoring {
	out := Scoring{MaxScore: cfg.MaxScore, Medium: cfg.Severity.Medium, High: cfg.Severity.High}
	sev := ""
	for _, f := range fs {
		if f.Covered() {
			continue
		}
		out.Sum += f.Score
		sev = maxSeverity(sev, f.Severity)
		if sev == "" {
			sev = SeverityLow
		}
	}
	if sev == "" {
		out.Sum = 0
		return out
	}
	out.FindingsSeverity = sev
	out.Score = min(out.Sum, cfg.MaxScore)
	switch {
	case out.Score >= cfg.Severity.High:
		sev = SeverityHigh
	case out.Score >= cfg.Severity.Medium:
		sev = maxSeverity(sev, SeverityMedium)
	}
	out.Severity = sev
	return out
}

func findingID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

func researchType(t string) bool {
	return t == watchlist.TypeExpertNetwork || t == watchlist.TypeBrokerage || t == watchlist.TypeInvestmentFirm
}

func latest(ds ...civil.Date) civil.Date {
	var m civil.Date
	for _, d := range ds {
		if d.After(m) {
			m = d
		}
	}
	return m
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func appendUnique(xs []string, x string) []string {
	for _, v := range xs {
		if v == x {
			return xs
		}
	}
	return append(xs, x)
}
