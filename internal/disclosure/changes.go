package disclosure

import (
	"context"
	"fmt"
	"strings"
)

// Declaration fixes of issue 14: an edit records what it changed, a
// declaration made twice is noticed, a retried create is answered once.

// FieldChange is one field an edit changed, with its values before and
// after (the employee's own declaration, shown in its own history).
type FieldChange struct {
	Field string // the API's field name: "topic", "start_date", "compensation"…
	From  string
	To    string
}

// diffInputs lists the fields that differ between a and b, in form order.
func diffInputs(a, b Input) []FieldChange {
	money := func(in Input) string {
		if !in.Paid || in.Compensation == nil {
			return ""
		}
		return strings.TrimSpace(in.Compensation.Amount + " " + in.Compensation.Currency)
	}
	paid := func(in Input) string {
		if in.Paid {
			return "yes"
		}
		return "no"
	}
	var out []FieldChange
	for _, f := range []struct{ name, from, to string }{
		{"kind", string(a.Kind), string(b.Kind)},
		{"counterparty_type", string(a.CounterpartyType), string(b.CounterpartyType)},
		{"counterparty", a.Counterparty, b.Counterparty},
		{"topic", a.Topic, b.Topic},
		{"start_date", string(a.StartDate), string(b.StartDate)},
		{"end_date", string(a.EndDate), string(b.EndDate)},
		{"paid", paid(a), paid(b)},
		{"compensation", money(a), money(b)},
		{"notes", a.Notes, b.Notes},
	} {
		if f.from != f.to {
			out = append(out, FieldChange{Field: f.name, From: f.from, To: f.to})
		}
	}
	return out
}

// sameEngagement reports whether two declarations describe one engagement:
// same kind, counterparty (ignoring case and spaces) and start date.
func sameEngagement(a, b Input) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return a.Kind == b.Kind && a.StartDate == b.StartDate && norm(a.Counterparty) == norm(b.Counterparty)
}

// similarScan bounds the actor's declarations Similar reads.
const similarScan = 200

// Similar returns the actor's declarations, not withdrawn, of the same
// engagement as in (same kind, counterparty and start date), newest first:
// the form warns "you declared this on …" before a second one is made.
func (s *Service) Similar(ctx context.Context, a Actor, in Input) ([]Disclosure, error) {
	if a.ID == "" {
		return nil, ErrForbidden
	}
	in = in.normalized()
	var out []Disclosure
	page := Page{Limit: MaxLimit}
	for read := 0; read < similarScan; {
		ds, next, err := s.Store.ListByEmployee(ctx, a.ID, page)
		if err != nil {
			return nil, fmt.Errorf("similar disclosures: %w", err)
		}
		for _, d := range ds {
			if d.Status != StatusWithdrawn && sameEngagement(d.Input, in) {
				out = append(out, d)
			}
		}
		read += len(ds)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return out, nil
}
