package disclosure

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Field length limits, in characters (runes).
const (
	MaxCounterpartyLen = 200
	MaxTopicLen        = 500
	MaxNotesLen        = 2000
	MaxCommentLen      = 2000
	MaxConditions      = 20
	MaxConditionLen    = 500
	// maxAmountDigits bounds the integer part of an amount (below a trillion).
	maxAmountDigits = 12
)

// ErrInvalid matches every *ValidationError with errors.Is.
var ErrInvalid = errors.New("invalid disclosure")

// FieldError is one problem with one field; Field is the JSON path
// ("compensation.amount", "conditions[2]").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found, not just the first.
type ValidationError struct {
	Details []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Field + ": " + d.Message
	}
	return "invalid disclosure: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects field errors.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Details: p}
}

// Limits bounds declared dates relative to today, so typos like 2203-11-20
// are caught. Days, not durations, so they read plainly in YAML.
type Limits struct {
	// MaxPastDays: the start may be at most this many days before today.
	MaxPastDays int `koanf:"max_past_days" yaml:"max_past_days"`
	// MaxFutureDays: the start may be at most this many days after today.
	MaxFutureDays int `koanf:"max_future_days" yaml:"max_future_days"`
	// MaxSpanDays: end minus start may be at most this many days.
	MaxSpanDays int `koanf:"max_span_days" yaml:"max_span_days"`
}

// DefaultLimits: five years back, two years ahead, engagements of at most a year.
func DefaultLimits() Limits {
	return Limits{MaxPastDays: 5 * 366, MaxFutureDays: 2 * 366, MaxSpanDays: 366}
}

// Validate reports every problem with in as a *ValidationError; now gives
// today's date (in now's location) for the date limits.
func (in Input) Validate(now time.Time, lim Limits) error {
	var p problems
	if !in.Kind.Valid() {
		p.add("kind", "must be one of %s", joinEnum(Kinds()))
	}
	if !in.CounterpartyType.Valid() {
		p.add("counterparty_type", "must be one of %s", joinEnum(CounterpartyTypes()))
	}
	checkText(&p, "counterparty", in.Counterparty, true, MaxCounterpartyLen, false)
	checkText(&p, "topic", in.Topic, true, MaxTopicLen, false)
	checkText(&p, "notes", in.Notes, false, MaxNotesLen, true)
	checkDates(&p, in.StartDate, in.EndDate, civil.Of(now), lim)
	checkCompensation(&p, in.Paid, in.Compensation)
	return p.err()
}

func joinEnum[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// checkText checks a free-text field: valid UTF-8, no control characters
// (multi-line fields may hold newlines and tabs), not blank when required,
// at most max characters.
func checkText(p *problems, field, s string, required bool, max int, multiline bool) {
	if !utf8.ValidString(s) {
		p.add(field, "must be valid UTF-8")
		return
	}
	if required && strings.TrimSpace(s) == "" {
		p.add(field, "is required")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.add(field, "must be at most %d characters (got %d)", max, n)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			p.add(field, "must not contain control characters")
			return
		}
	}
}

func checkDates(p *problems, start, end, today civil.Date, lim Limits) {
	okStart, okEnd := true, true
	if _, err := civil.Parse(string(start)); err != nil {
		p.add("start_date", "must be a date of the form YYYY-MM-DD")
		okStart = false
	}
	if _, err := civil.Parse(string(end)); err != nil {
		p.add("end_date", "must be a date of the form YYYY-MM-DD")
		okEnd = false
	}
	if okStart {
		if start.Before(today.AddDays(-lim.MaxPastDays)) {
			p.add("start_date", "must be at most %d days in the past", lim.MaxPastDays)
		}
		if start.After(today.AddDays(lim.MaxFutureDays)) {
			p.add("start_date", "must be at most %d days in the future", lim.MaxFutureDays)
		}
	}
	if okStart && okEnd {
		switch {
		case end.Before(start):
			p.add("end_date", "must not be before start_date")
		case start.DaysUntil(end) > lim.MaxSpanDays:
			p.add("end_date", "must be at most %d days after start_date", lim.MaxSpanDays)
		}
	}
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// amountPattern is a plain non-negative decimal: no sign, exponent,
// grouping or leading zeros.
var amountPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// checkCompensation: a paid engagement must say how much, in which currency,
// since compliance judges by it; an unpaid one may carry only a zero amount.
// Decimals are bounded by the currency's minor unit (2 for CNY, 0 for JPY).
func checkCompensation(p *problems, paid bool, c *Compensation) {
	if c == nil {
		if paid {
			p.add("compensation", "is required when paid is true")
		}
		return
	}
	scale := 2
	switch {
	case !currencyPattern.MatchString(c.Currency):
		p.add("compensation.currency", "must be an ISO 4217 code of three upper-case letters")
	default:
		u, err := currency.ParseISO(c.Currency)
		if err != nil || u.String() == "XXX" {
			p.add("compensation.currency", "is not a known ISO 4217 currency")
		} else {
			scale, _ = currency.Standard.Rounding(u)
		}
	}
	m := amountPattern.FindStringSubmatch(c.Amount)
	if m == nil {
		p.add("compensation.amount", "must be a non-negative decimal like \"3000.00\"")
		return
	}
	if len(m[1]) > maxAmountDigits {
		p.add("compensation.amount", "must be below 10^%d", maxAmountDigits)
	}
	if d := len(strings.TrimPrefix(m[2], ".")); d > scale {
		p.add("compensation.amount", "must have at most %d decimal places for %s", scale, c.Currency)
	}
	zero := strings.Trim(strings.Replace(c.Amount, ".", "", 1), "0") == ""
	switch {
	case paid && zero:
		p.add("compensation.amount", "must be more than zero when paid is true")
	case !paid && !zero:
		p.add("compensation", "must be absent or zero when paid is false")
	}
}

// ValidateDecision checks a decision's fields: a known outcome, a comment
// (required to reject, so the employee learns why), conditions only with an
// approval, all within length limits.
func ValidateDecision(outcome Outcome, comment string, conditions []string) error {
	var p problems
	if !outcome.Valid() {
		p.add("decision", "must be approve or reject")
	}
	checkText(&p, "comment", comment, outcome == OutcomeReject, MaxCommentLen, true)
	if outcome == OutcomeReject && len(conditions) > 0 {
		p.add("conditions", "only an approval can carry conditions")
	}
	if len(conditions) > MaxConditions {
		p.add("conditions", "must be at most %d", MaxConditions)
	}
	for i, c := range conditions {
		checkText(&p, fmt.Sprintf("conditions[%d]", i), c, true, MaxConditionLen, false)
	}
	return p.err()
}

// validateComment checks an optional free-text comment (e.g. on withdrawal).
func validateComment(comment string, required bool) error {
	var p problems
	checkText(&p, "comment", comment, required, MaxCommentLen, true)
	return p.err()
}

// normalized trims surrounding spaces from the free-text fields, so
// "Capvision " and "Capvision" are the same counterparty.
func (in Input) normalized() Input {
	in.Counterparty = strings.TrimSpace(in.Counterparty)
	in.Topic = strings.TrimSpace(in.Topic)
	in.Notes = strings.TrimSpace(in.Notes)
	if in.Compensation != nil {
		c := *in.Compensation
		in.Compensation = &c
	}
	return in
}
