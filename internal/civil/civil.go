// Package civil holds calendar dates without a time zone ("YYYY-MM-DD"), as the
// event contract uses them. Their string form sorts in date order.
package civil

import (
	"fmt"
	"time"
)

const layout = "2006-01-02"

// Date is a calendar date in the form YYYY-MM-DD. The zero value is "no date".
type Date string

// Parse checks s is a real calendar date in YYYY-MM-DD form.
func Parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil || t.Format(layout) != s {
		return "", fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return Date(s), nil
}

// MustParse is Parse for literals in tests and sample data.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Of returns the calendar date of t in t's location.
func Of(t time.Time) Date { return Date(t.Format(layout)) }

// In returns the calendar date of t in loc, the business time zone: an
// instant stamped in UTC at 20:31 is already the next day in Asia/Shanghai.
// A nil loc is UTC.
func In(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	return Of(t.In(loc))
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == "" }

// Time is midnight UTC of d.
func (d Date) Time() time.Time {
	t, _ := time.Parse(layout, string(d))
	return t
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Of(d.Time().AddDate(0, 0, n)) }

// DaysUntil returns the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.Time().Sub(d.Time()).Hours() / 24)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d < e }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d > e }

// Quarter returns e.g. "2023Q4".
func (d Date) Quarter() string {
	t := d.Time()
	return fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())-1)/3+1)
}

// String returns the YYYY-MM-DD form.
func (d Date) String() string { return string(d) }
