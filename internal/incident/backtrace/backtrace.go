// Package backtrace ranks the people who had access to a project when a leak
// was first seen by the evidence Moonlight holds about them in the window
// before it. It is pure (no I/O, no clock) and only ranks: a list to review,
// never an accusation, and nothing in it changes a case.
//
// Evidence and its points (Weights, configurable):
//   - finding: each uncovered finding dated in the window, by severity
//     (attestation-overdue is left out: the attestation state counts instead);
//   - research_expense: each expense signal naming a research counterparty
//     (watchlisted, or of a research type) dated in the window;
//   - blackout_engagement: each approved engagement overlapping both the
//     window and the project's pre-launch blackout;
//   - seminar: each reported seminar in the window on the topic (its title or
//     speaker descriptors name one of the keywords) that the person is tied
//     to (an expense with its organiser within SeminarSlackDays, or a finding
//     citing the report), plus brokerage_seminar when a brokerage ran it;
//   - attestation_missing: an insider asked to attest who has not (overdue),
//     or who was never asked;
//   - nda_invalid: a partner whose NDA did not cover the day the leak was seen.
package backtrace

import (
	"fmt"
	"sort"
	"strings"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Reason codes.
const (
	ReasonFinding            = "finding"
	ReasonResearchExpense    = "research_expense"
	ReasonBlackoutEngagement = "blackout_engagement"
	ReasonSeminar            = "seminar"
	ReasonBrokerageSeminar   = "brokerage_seminar"
	ReasonAttestationMissing = "attestation_missing"
	ReasonNDAInvalid         = "nda_invalid"
)

// Kinds of person.
const (
	KindInsider = "insider"
	KindPartner = "partner_contact"
)

// Config is the `incident` section of the configuration.
type Config struct {
	// WindowDays: evidence from this many days before first_seen_on counts.
	WindowDays int `koanf:"window_days"`
	// SeminarSlackDays: an expense with a seminar's organiser this many
	// days either side ties the person to it.
	SeminarSlackDays int     `koanf:"seminar_slack_days"`
	Weights          Weights `koanf:"weights"`
}

// Weights are the points of each kind of evidence.
type Weights struct {
	FindingHigh        int `koanf:"finding_high"`
	FindingMedium      int `koanf:"finding_medium"`
	FindingLow         int `koanf:"finding_low"`
	ResearchExpense    int `koanf:"research_expense"`
	BlackoutEngagement int `koanf:"blackout_engagement"`
	Seminar            int `koanf:"seminar"`
	BrokerageSeminar   int `koanf:"brokerage_seminar"`
	AttestationMissing int `koanf:"attestation_missing"`
	NDAInvalid         int `koanf:"nda_invalid"`
}

// DefaultConfig: 90 days back; a tied seminar on the topic weighs most.
func DefaultConfig() Config {
	return Config{WindowDays: 90, SeminarSlackDays: 1, Weights: Weights{
		FindingHigh: 20, FindingMedium: 12, FindingLow: 5, ResearchExpense: 8, BlackoutEngagement: 15,
		Seminar: 25, BrokerageSeminar: 10, AttestationMissing: 6, NDAInvalid: 15,
	}}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []string
	if c.WindowDays < 1 || c.WindowDays > 730 {
		errs = append(errs, fmt.Sprintf("incident.window_days must be 1..730, got %d", c.WindowDays))
	}
	if c.SeminarSlackDays < 0 || c.SeminarSlackDays > 30 {
		errs = append(errs, "incident.seminar_slack_days must be 0..30")
	}
	w := c.Weights
	for name, v := range map[string]int{"finding_high": w.FindingHigh, "finding_medium": w.FindingMedium, "finding_low": w.FindingLow,
		"research_expense": w.ResearchExpense, "blackout_engagement": w.BlackoutEngagement, "seminar": w.Seminar,
		"brokerage_seminar": w.BrokerageSeminar, "attestation_missing": w.AttestationMissing, "nda_invalid": w.NDAInvalid} {
		if v < 0 {
			errs = append(errs, "incident.weights."+name+" must not be negative")
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Person is someone who had access, with what Moonlight holds about them.
type Person struct {
	Subject string
	Kind    string // KindInsider or KindPartner
	// Partner names the partner of a contact.
	Partner     string
	Findings    []detect.Finding
	Signals     []detect.Signal
	Engagements []detect.Engagement
	// Attestation is the insider's attestation status ("missing" when never
	// asked); ignored for partners.
	Attestation string
	// NDAValid: the partner's NDA covered FirstSeen; ignored for insiders.
	NDAValid bool
}

// Input is one back-trace.
type Input struct {
	FirstSeen civil.Date
	// Keywords mark a seminar as on the topic (project code, name, and
	// those the incident names); matched case- and width-insensitively.
	Keywords []string
	// BlackoutFrom..BlackoutTo: the project's pre-launch blackout (may be empty).
	BlackoutFrom, BlackoutTo civil.Date
	People                   []Person
	// Seminars are the reports dated in the window.
	Seminars []detect.Seminar
	// CounterpartyType gives a watchlist id's type ("brokerage"…).
	CounterpartyType func(id string) string
}

// Reason is one piece of evidence with its points.
type Reason struct {
	Code   string
	Points int
	Date   civil.Date
	// Params are what the explanation names: rule, severity, counterparty,
	// seminar title, organiser, status.
	Params map[string]string
}

// Item is one ranked person.
type Item struct {
	Subject     string
	Kind        string
	Partner     string
	Score       int
	Reasons     []Reason
	Explanation string
}

// Window returns the first day of evidence that counts.
func Window(cfg Config, firstSeen civil.Date) civil.Date { return firstSeen.AddDays(-cfg.WindowDays) }

// Rank scores everyone and returns them best first (score, then insiders
// before partners, then subject). People without evidence are listed with 0.
func Rank(cfg Config, in Input) []Item {
	from, to := Window(cfg, in.FirstSeen), in.FirstSeen
	inWin := func(d civil.Date) bool { return !d.Before(from) && !d.After(to) }
	topical := topicSeminars(in.Seminars, in.Keywords, inWin)
	out := make([]Item, 0, len(in.People))
	for _, p := range in.People {
		it := Item{Subject: p.Subject, Kind: p.Kind, Partner: p.Partner}
		add := func(r Reason) {
			if r.Points > 0 {
				it.Reasons = append(it.Reasons, r)
				it.Score += r.Points
			}
		}
		for _, f := range p.Findings {
			if f.Covered() || f.Rule == "attestation-overdue" || !inWin(f.OccurredOn) {
				continue
			}
			add(Reason{Code: ReasonFinding, Points: findingPoints(cfg.Weights, f.Severity), Date: f.OccurredOn,
				Params: map[string]string{"rule": f.Rule, "severity": f.Severity, "counterparty": f.Counterparty}})
		}
		for _, s := range p.Signals {
			if !inWin(s.Date) || !research(s, in.CounterpartyType) {
				continue
			}
			add(Reason{Code: ReasonResearchExpense, Points: cfg.Weights.ResearchExpense, Date: s.Date,
				Params: map[string]string{"counterparty": s.Counterparty, "amount": s.Amount.Amount, "currency": s.Amount.Currency}})
		}
		if !in.BlackoutFrom.IsZero() {
			for _, e := range p.Engagements {
				end := e.End
				if end.IsZero() || end.Before(e.Start) {
					end = e.Start
				}
				if e.Status != detect.StatusApproved || e.Start.After(in.BlackoutTo) || end.Before(in.BlackoutFrom) ||
					e.Start.After(to) || end.Before(from) {
					continue
				}
				add(Reason{Code: ReasonBlackoutEngagement, Points: cfg.Weights.BlackoutEngagement, Date: e.Start,
					Params: map[string]string{"counterparty": e.Counterparty, "disclosure_id": e.ID, "kind": e.Kind}})
			}
		}
		for _, s := range topical {
			if !tied(p, s, cfg.SeminarSlackDays) {
				continue
			}
			params := map[string]string{"organizer": s.Organizer, "title": s.Title, "seminar_id": s.ID}
			add(Reason{Code: ReasonSeminar, Points: cfg.Weights.Seminar, Date: s.Date, Params: params})
			if in.CounterpartyType != nil && s.CounterpartyID != "" && in.CounterpartyType(s.CounterpartyID) == watchlist.TypeBrokerage {
				add(Reason{Code: ReasonBrokerageSeminar, Points: cfg.Weights.BrokerageSeminar, Date: s.Date,
					Params: map[string]string{"organizer": s.Organizer, "seminar_id": s.ID}})
			}
		}
		switch p.Kind {
		case KindInsider:
			if p.Attestation == "missing" || p.Attestation == "overdue" {
				add(Reason{Code: ReasonAttestationMissing, Points: cfg.Weights.AttestationMissing, Params: map[string]string{"status": p.Attestation}})
			}
		case KindPartner:
			if !p.NDAValid {
				add(Reason{Code: ReasonNDAInvalid, Points: cfg.Weights.NDAInvalid, Date: in.FirstSeen, Params: map[string]string{"partner": p.Partner}})
			}
		}
		sort.SliceStable(it.Reasons, func(i, j int) bool { return it.Reasons[i].Points > it.Reasons[j].Points })
		it.Explanation = Explain(it)
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Kind != b.Kind {
			return a.Kind == KindInsider
		}
		return a.Subject < b.Subject
	})
	return out
}

func findingPoints(w Weights, sev string) int {
	switch sev {
	case detect.SeverityHigh:
		return w.FindingHigh
	case detect.SeverityMedium:
		return w.FindingMedium
	}
	return w.FindingLow
}

func research(s detect.Signal, typeOf func(string) string) bool {
	t := s.CounterpartyType
	if t == "" && s.CounterpartyID != "" && typeOf != nil {
		t = typeOf(s.CounterpartyID)
	}
	return s.CounterpartyID != "" || t == watchlist.TypeBrokerage || t == watchlist.TypeExpertNetwork || t == watchlist.TypeInvestmentFirm
}

// topicSeminars keeps the seminars in the window whose title or speaker
// descriptors name a keyword.
func topicSeminars(ss []detect.Seminar, keywords []string, inWin func(civil.Date) bool) []detect.Seminar {
	var keys []string
	for _, k := range keywords {
		if k = fold(k); k != "" {
			keys = append(keys, k)
		}
	}
	var out []detect.Seminar
	seen := map[string]bool{}
	for _, s := range ss {
		if !inWin(s.Date) || seen[s.Ref.Key()] {
			continue
		}
		text := fold(s.Title + " " + strings.Join(s.Descriptors, " "))
		for _, k := range keys {
			if strings.Contains(text, k) {
				out = append(out, s)
				seen[s.Ref.Key()] = true
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// tied reports whether the person is connected to the seminar: a finding
// cites its report, or an expense names its organiser within slack days.
func tied(p Person, s detect.Seminar, slack int) bool {
	for _, f := range p.Findings {
		for _, r := range f.EventRefs {
			if r == s.Ref {
				return true
			}
		}
	}
	for _, sig := range p.Signals {
		near := abs(sig.Date.DaysUntil(s.Date)) <= slack
		if !near {
			continue
		}
		if s.CounterpartyID != "" && sig.CounterpartyID == s.CounterpartyID {
			return true
		}
		if s.CounterpartyID == "" && s.Organizer != "" && fold(sig.Counterparty) == fold(s.Organizer) {
			return true
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// fold lower-cases and turns full-width ASCII into half-width.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// Explain renders an item's reasons in plain English (the web UI renders
// the same structured reasons in the reader's language).
func Explain(it Item) string {
	if len(it.Reasons) == 0 {
		return "No evidence in the window: listed because they had access."
	}
	parts := make([]string, 0, len(it.Reasons))
	for _, r := range it.Reasons {
		parts = append(parts, fmt.Sprintf("%s (+%d)", ReasonText(r), r.Points))
	}
	return fmt.Sprintf("Score %d: %s.", it.Score, strings.Join(parts, "; "))
}

// ReasonText is one reason in English.
func ReasonText(r Reason) string {
	p := r.Params
	switch r.Code {
	case ReasonFinding:
		return fmt.Sprintf("%s finding %s on %s", p["severity"], p["rule"], r.Date)
	case ReasonResearchExpense:
		return fmt.Sprintf("expense at research counterparty %s on %s", p["counterparty"], r.Date)
	case ReasonBlackoutEngagement:
		return fmt.Sprintf("approved engagement with %s on %s, inside the pre-launch blackout", p["counterparty"], r.Date)
	case ReasonSeminar:
		return fmt.Sprintf("tied to seminar on the topic \"%s\" by %s on %s", p["title"], p["organizer"], r.Date)
	case ReasonBrokerageSeminar:
		return fmt.Sprintf("that seminar was run by a brokerage (%s)", p["organizer"])
	case ReasonAttestationMissing:
		return fmt.Sprintf("attestation %s", p["status"])
	case ReasonNDAInvalid:
		return fmt.Sprintf("%s had no valid NDA on %s", p["partner"], r.Date)
	}
	return r.Code
}
