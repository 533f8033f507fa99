package disclosure

import (
	"context"
	"errors"
	"fmt"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Validity says how long an approval of a recurring engagement holds.
type Validity struct {
	// Months after the decision day the approval lapses (0: never). From
	// the decision, not the start: an approval is a judgement made on what
	// was known that day, and it is that judgement that goes stale.
	Months int `koanf:"months" yaml:"months"`
	// RecurringAfterDays: an engagement whose end is more than this many
	// days after its start is recurring (as are advisory boards and
	// consulting, whatever their dates).
	RecurringAfterDays int `koanf:"recurring_after_days" yaml:"recurring_after_days"`
}

// DefaultValidity: approvals of recurring engagements lapse after 12 months.
func DefaultValidity() Validity { return Validity{Months: 12, RecurringAfterDays: 30} }

// Validate checks the bounds.
func (v Validity) Validate() error {
	if v.Months < 0 || v.Months > 120 {
		return fmt.Errorf("disclosure.validity.months must be 0..120, got %d", v.Months)
	}
	if v.RecurringAfterDays < 1 {
		return fmt.Errorf("disclosure.validity.recurring_after_days must be at least 1, got %d", v.RecurringAfterDays)
	}
	return nil
}

// Recurring reports whether the engagement recurs: it runs more than
// RecurringAfterDays, or it is a board seat or consulting.
func (v Validity) Recurring(in Input) bool {
	if in.Kind == KindAdvisoryBoard || in.Kind == KindConsulting {
		return true
	}
	return !in.EndDate.IsZero() && in.StartDate.AddDays(v.RecurringAfterDays).Before(in.EndDate)
}

// Until is the day d's approval lapses (it covers the days before it), or
// "" when it does not lapse: d is not approved, not recurring, or
// approvals never lapse. A policy pre-approval lapses like a person's.
func (v Validity) Until(d Disclosure) civil.Date {
	if v.Months <= 0 || d.Status != StatusApproved || d.Decision == nil || !v.Recurring(d.Input) {
		return ""
	}
	return civil.Of(civil.Of(d.Decision.At).Time().AddDate(0, v.Months, 0))
}

// Lapsed reports whether d's approval has lapsed by day.
func (d Disclosure) Lapsed(day civil.Date) bool {
	return d.ValidUntil != "" && !day.Before(d.ValidUntil)
}

// checkRenews checks that in.Renews, if set, names a disclosure of the
// actor's that was approved (lapsed or not): a renewal is a new
// declaration of the same engagement, linked to the old one.
func (s *Service) checkRenews(ctx context.Context, a Actor, in Input) error {
	if in.Renews == "" {
		return nil
	}
	bad := &ValidationError{Details: []FieldError{{Field: "renews", Message: "must be the id of one of your approved declarations"}}}
	if !ValidID(in.Renews) {
		return bad
	}
	old, err := s.Store.Get(ctx, in.Renews)
	if errors.Is(err, ErrNotFound) {
		return bad
	}
	if err != nil {
		return fmt.Errorf("renewed disclosure %s: %w", in.Renews, err)
	}
	if old.EmployeeID != a.ID || old.Status != StatusApproved {
		return bad
	}
	return nil
}

// RenewalInput is the declaration a renewal of d starts from: the same
// engagement, starting the day the approval lapses (or today, if later),
// as long as the old one ran, and linked to d.
func RenewalInput(d Disclosure, today civil.Date) Input {
	in := d.Input
	in.Renews = d.ID
	start := d.ValidUntil
	if start.IsZero() || start.Before(today) {
		start = today
	}
	span := 0
	if !d.EndDate.IsZero() {
		span = d.StartDate.DaysUntil(d.EndDate)
	}
	in.StartDate = start
	if span > 0 {
		in.EndDate = start.AddDays(span)
	} else {
		in.EndDate = start
	}
	if in.Compensation != nil {
		c := *in.Compensation
		in.Compensation = &c
	}
	return in
}
