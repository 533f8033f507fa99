// Package retention says how long each kind of data is kept and purges what
// has expired: raw events, signals in no case, closed cases, declarations,
// attestations, former employees' records, notices, stored idempotent
// answers, NDA partners, the audit log, and the housekeeping collections
// (sessions, transitions, leases, reviewers). The periods come from config (`retention.*`); the
// store (internal/mongostore, purge.go) knows which collections and time
// fields hold each kind. The purge runs daily on one replica (a lease),
// audits counts per kind (never contents), and `moonlight purge --dry-run`
// prints what it would remove.
package retention

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names a kind of data with its own retention period.
type Kind string

// The kinds, in the order a run purges them. Everything a guard reads
// (cases, disclosures) is purged after the kinds it guards, so a dry run
// and the real run see the same state and count the same: data freed by
// today's purge of a case goes tomorrow.
const (
	// RawEvents are the stored events as received (and what is derived
	// from them alone: seminars, hourly counters), by time received; an
	// event that is evidence in a case still kept stays with the case.
	RawEvents Kind = "raw_events"
	// Signals are expense and card signals, by their date, that no case
	// still kept refers to.
	Signals Kind = "signals"
	// Declarations are decided or withdrawn disclosures, by end date, that
	// no case still kept refers to.
	Declarations Kind = "declarations"
	// AuditLog entries, by time; an entry about a case or declaration that
	// still exists is kept as long as it does.
	AuditLog Kind = "audit"
	// ClearedCases are cleared cases, by the time they were closed.
	ClearedCases Kind = "cleared_cases"
	// ConfirmedCases are confirmed cases, by the time they were closed.
	ConfirmedCases Kind = "confirmed_cases"
	// Sessions are web sessions, by their absolute expiry.
	Sessions Kind = "sessions"
	// Transitions are the arbiter's change documents, by time.
	Transitions Kind = "transitions"
	// Leases are terms of leases nobody renewed, by expiry.
	Leases Kind = "leases"
	// Reviewers are the registry of people seen acting as reviewers, by
	// when they were last seen (with their saved queue filters and unmask
	// states).
	Reviewers Kind = "reviewers"
	// Attestations are employees' attestation tasks that are no longer
	// pending (done, lapsed or overdue), by their last change; one a case
	// still kept refers to (an attestation-overdue finding) stays.
	Attestations Kind = "attestations"
	// FormerEmployees are the HR records of people no longer employed, by
	// the end of their last employment, with what Moonlight keeps per
	// person beside them (profiles, saved filters, the presence index's
	// lists); a record stays while a case, declaration or attestation about
	// the person is still kept.
	FormerEmployees Kind = "former_employees"
	// Notices are the notification outbox (sent or cancelled notices, their
	// deliveries and delivery claims) and the demo's mail sink, by creation
	// or receipt; a notice with a delivery still being retried stays.
	Notices Kind = "notices"
	// Idempotency are the stored answers replayed to a repeated request
	// with the same Idempotency-Key, by when the key was first used.
	Idempotency Kind = "idempotency"
	// Partners are NDA partners (with their contacts, who are people), by
	// the NDA's expiry; one under an embargo not yet over, or with no
	// expiry, stays.
	Partners Kind = "partners"
)

// Kinds returns every kind in purge order.
func Kinds() []Kind {
	return []Kind{RawEvents, Signals, Attestations, FormerEmployees, Declarations, AuditLog, ClearedCases, ConfirmedCases,
		Notices, Idempotency, Partners, Sessions, Transitions, Leases, Reviewers}
}

// Period is a retention period as configured: "<n>mo" (calendar months),
// "<n>d" (days) or a Go duration ("36h").
type Period string

// Before returns the cutoff: data of this kind older than it has expired.
func (p Period) Before(now time.Time) (time.Time, error) {
	s := strings.TrimSpace(string(p))
	switch {
	case strings.HasSuffix(s, "mo"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "mo"))
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("period %q: want a number of months like 24mo", p)
		}
		return now.AddDate(0, -n, 0), nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("period %q: want a number of days like 30d", p)
		}
		return now.AddDate(0, 0, -n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("period %q: want months (24mo), days (30d) or a duration (36h)", p)
	}
	return now.Add(-d), nil
}

// approx is the period's length as a duration, to compare periods.
func (p Period) approx() (time.Duration, error) {
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	t, err := p.Before(ref)
	return ref.Sub(t), err
}

// Config is the `retention` section of the configuration.
type Config struct {
	// Enabled runs the daily purge in every replica (one at a time).
	Enabled bool `koanf:"enabled"`
	// Interval between purges (default a day).
	Interval time.Duration `koanf:"interval"`
	// BatchSize is how many documents one read of a purge returns.
	BatchSize      int    `koanf:"batch_size"`
	RawEvents      Period `koanf:"raw_events"`
	Signals        Period `koanf:"signals"`
	Declarations   Period `koanf:"declarations"`
	ClearedCases   Period `koanf:"cleared_cases"`
	ConfirmedCases Period `koanf:"confirmed_cases"`
	Audit          Period `koanf:"audit"`
	Sessions       Period `koanf:"sessions"`
	Transitions    Period `koanf:"transitions"`
	Leases         Period `koanf:"leases"`
	Reviewers      Period `koanf:"reviewers"`
	Attestations   Period `koanf:"attestations"`
	// FormerEmployees is counted from the end of the last employment; it
	// must be at least the longest case period, so the record outlives the
	// cases about its last months.
	FormerEmployees Period `koanf:"former_employees"`
	Notices         Period `koanf:"notices"`
	Idempotency     Period `koanf:"idempotency"`
	Partners        Period `koanf:"partners"`
}

// DefaultConfig holds the periods of issue 15 (and docs/privacy.md).
func DefaultConfig() Config {
	return Config{
		Enabled: true, Interval: 24 * time.Hour, BatchSize: 500,
		RawEvents: "24mo", Signals: "12mo", Declarations: "60mo", ClearedCases: "24mo", ConfirmedCases: "60mo",
		Audit: "84mo", Sessions: "1d", Transitions: "30d", Leases: "30d", Reviewers: "12mo",
		Attestations: "60mo", FormerEmployees: "60mo", Notices: "90d", Idempotency: "7d", Partners: "60mo",
	}
}

// Period returns the configured period of k.
func (c Config) Period(k Kind) Period {
	switch k {
	case RawEvents:
		return c.RawEvents
	case Signals:
		return c.Signals
	case Declarations:
		return c.Declarations
	case ClearedCases:
		return c.ClearedCases
	case ConfirmedCases:
		return c.ConfirmedCases
	case AuditLog:
		return c.Audit
	case Sessions:
		return c.Sessions
	case Transitions:
		return c.Transitions
	case Leases:
		return c.Leases
	case Reviewers:
		return c.Reviewers
	case Attestations:
		return c.Attestations
	case FormerEmployees:
		return c.FormerEmployees
	case Notices:
		return c.Notices
	case Idempotency:
		return c.Idempotency
	case Partners:
		return c.Partners
	}
	return ""
}

// Cutoffs returns, per kind, the time before which its data has expired.
func (c Config) Cutoffs(now time.Time) (map[Kind]time.Time, error) {
	out := make(map[Kind]time.Time, len(Kinds()))
	for _, k := range Kinds() {
		t, err := c.Period(k).Before(now)
		if err != nil {
			return nil, fmt.Errorf("retention.%s: %w", k, err)
		}
		out[k] = t
	}
	return out, nil
}

// minTransitions keeps every transition long enough that a writer still
// holding the version it read (a form left open) meets its claim: the
// arbiter tells a stale writer by the claim of its version.
const minTransitions = 7 * 24 * time.Hour

// minIdempotency keeps a stored answer as long as clients commonly retry
// a request (a day).
const minIdempotency = 24 * time.Hour

// Validate reports every problem at once. The audit log must be kept at
// least as long as any data it records.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < time.Minute {
		errs = append(errs, errors.New("retention.interval must be at least 1m"))
	}
	if c.BatchSize < 1 || c.BatchSize > 5000 {
		errs = append(errs, fmt.Errorf("retention.batch_size must be 1..5000, got %d", c.BatchSize))
	}
	lengths := map[Kind]time.Duration{}
	for _, k := range Kinds() {
		d, err := c.Period(k).approx()
		if err != nil {
			errs = append(errs, fmt.Errorf("retention.%s: %w", k, err))
			continue
		}
		lengths[k] = d
	}
	if audit, ok := lengths[AuditLog]; ok {
		for _, k := range []Kind{RawEvents, Signals, Declarations, ClearedCases, ConfirmedCases, Attestations, FormerEmployees, Notices, Partners} {
			if d, ok := lengths[k]; ok && d > audit {
				errs = append(errs, fmt.Errorf("retention.audit (%s) must be at least retention.%s (%s): the audit log is never purged before the data it records",
					c.Audit, k, c.Period(k)))
			}
		}
	}
	if fe, ok := lengths[FormerEmployees]; ok {
		for _, k := range []Kind{ClearedCases, ConfirmedCases} {
			if d, ok := lengths[k]; ok && d > fe {
				errs = append(errs, fmt.Errorf("retention.former_employees (%s) must be at least retention.%s (%s): a case outlives neither its subject's record",
					c.FormerEmployees, k, c.Period(k)))
			}
		}
	}
	if d, ok := lengths[Idempotency]; ok && d < minIdempotency {
		errs = append(errs, errors.New("retention.idempotency must be at least 1d (clients retry within a day)"))
	}
	if d, ok := lengths[Transitions]; ok && d < minTransitions {
		errs = append(errs, errors.New("retention.transitions must be at least 7d"))
	}
	return errors.Join(errs...)
}
