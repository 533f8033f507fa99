package disclosure

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var today = time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)

func validInput() Input {
	return Input{
		Kind:             KindPaidSeminar,
		Counterparty:     "Capvision",
		CounterpartyType: CounterpartyExpertNetwork,
		Topic:            "EV supply chain outlook",
		StartDate:        "2023-11-20",
		EndDate:          "2023-11-20",
		Paid:             true,
		Compensation:     &Compensation{Amount: "3000.00", Currency: "CNY"},
	}
}

// fields returns the Field of every detail of a *ValidationError (nil for nil).
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var out []string
	for _, d := range ve.Details {
		if d.Message == "" {
			t.Errorf("field %s has no message", d.Field)
		}
		out = append(out, d.Field)
	}
	return out
}

func TestInputValidate(t *testing.T) {
	tests := []struct {
		name string
		give func(*Input)
		want []string // fields reported, in order
	}{
		{name: "valid", give: func(*Input) {}},
		{name: "unpaid without compensation", give: func(in *Input) { in.Paid = false; in.Compensation = nil }},
		{name: "unpaid with zero amount", give: func(in *Input) { in.Paid = false; in.Compensation.Amount = "0.00" }},
		{name: "unicode counterparty", give: func(in *Input) { in.Counterparty = "凯盛融英" }},
		{name: "multi-line notes", give: func(in *Input) { in.Notes = "line one\nline two\ttab" }},
		{name: "JPY without decimals", give: func(in *Input) { in.Compensation = &Compensation{Amount: "50000", Currency: "JPY"} }},
		{name: "KWD three decimals", give: func(in *Input) { in.Compensation = &Compensation{Amount: "10.125", Currency: "KWD"} }},
		{name: "span of exactly the limit", give: func(in *Input) { in.StartDate, in.EndDate = "2023-01-01", "2024-01-02" }},

		{name: "unknown kind", give: func(in *Input) { in.Kind = "bribe" }, want: []string{"kind"}},
		{name: "empty kind", give: func(in *Input) { in.Kind = "" }, want: []string{"kind"}},
		{name: "kind in other case", give: func(in *Input) { in.Kind = "Paid_Seminar" }, want: []string{"kind"}},
		{name: "unknown counterparty type", give: func(in *Input) { in.CounterpartyType = "friend" }, want: []string{"counterparty_type"}},
		{name: "operator as kind", give: func(in *Input) { in.Kind = `{"$ne": null}` }, want: []string{"kind"}},
		{name: "blank counterparty", give: func(in *Input) { in.Counterparty = "  " }, want: []string{"counterparty"}},
		{name: "long counterparty", give: func(in *Input) { in.Counterparty = strings.Repeat("凯", 201) }, want: []string{"counterparty"}},
		{name: "counterparty at limit", give: func(in *Input) { in.Counterparty = strings.Repeat("凯", 200) }},
		{name: "newline in counterparty", give: func(in *Input) { in.Counterparty = "Cap\nvision" }, want: []string{"counterparty"}},
		{name: "NUL in topic", give: func(in *Input) { in.Topic = "EV\x00" }, want: []string{"topic"}},
		{name: "bidi-free line separator in topic", give: func(in *Input) { in.Topic = "a\u2028b" }, want: []string{"topic"}},
		{name: "invalid UTF-8 topic", give: func(in *Input) { in.Topic = "\xff\xfe" }, want: []string{"topic"}},
		{name: "missing topic", give: func(in *Input) { in.Topic = "" }, want: []string{"topic"}},
		{name: "long topic", give: func(in *Input) { in.Topic = strings.Repeat("a", 501) }, want: []string{"topic"}},
		{name: "long notes", give: func(in *Input) { in.Notes = strings.Repeat("a", 2001) }, want: []string{"notes"}},
		{name: "escape in notes", give: func(in *Input) { in.Notes = "\x1b[31m" }, want: []string{"notes"}},

		{name: "missing dates", give: func(in *Input) { in.StartDate, in.EndDate = "", "" }, want: []string{"start_date", "end_date"}},
		{name: "not a calendar date", give: func(in *Input) { in.StartDate, in.EndDate = "2023-02-30", "2023-02-30" }, want: []string{"start_date", "end_date"}},
		{name: "date with time", give: func(in *Input) { in.EndDate = "2023-11-20T10:00:00Z" }, want: []string{"end_date"}},
		{name: "end before start", give: func(in *Input) { in.EndDate = "2023-11-19" }, want: []string{"end_date"}},
		{name: "span over a year", give: func(in *Input) { in.StartDate, in.EndDate = "2023-01-01", "2024-01-03" }, want: []string{"end_date"}},
		{name: "too far in the past", give: func(in *Input) { in.StartDate, in.EndDate = "2019-01-01", "2019-01-01" }, want: []string{"start_date"}},
		{name: "too far in the future", give: func(in *Input) { in.StartDate, in.EndDate = "2203-11-20", "2203-11-20" }, want: []string{"start_date"}},
		{name: "next year is fine", give: func(in *Input) { in.StartDate, in.EndDate = "2025-03-01", "2025-03-02" }},

		{name: "paid without compensation", give: func(in *Input) { in.Compensation = nil }, want: []string{"compensation"}},
		{name: "paid zero", give: func(in *Input) { in.Compensation.Amount = "0" }, want: []string{"compensation.amount"}},
		{name: "unpaid with amount", give: func(in *Input) { in.Paid = false }, want: []string{"compensation"}},
		{name: "negative amount", give: func(in *Input) { in.Compensation.Amount = "-1.00" }, want: []string{"compensation.amount"}},
		{name: "amount with exponent", give: func(in *Input) { in.Compensation.Amount = "3e3" }, want: []string{"compensation.amount"}},
		{name: "amount with grouping", give: func(in *Input) { in.Compensation.Amount = "3,000.00" }, want: []string{"compensation.amount"}},
		{name: "amount leading zero", give: func(in *Input) { in.Compensation.Amount = "03000" }, want: []string{"compensation.amount"}},
		{name: "amount empty", give: func(in *Input) { in.Compensation.Amount = "" }, want: []string{"compensation.amount"}},
		{name: "amount three decimals in CNY", give: func(in *Input) { in.Compensation.Amount = "3000.001" }, want: []string{"compensation.amount"}},
		{name: "JPY with decimals", give: func(in *Input) { in.Compensation = &Compensation{Amount: "100.5", Currency: "JPY"} }, want: []string{"compensation.amount"}},
		{name: "amount too large", give: func(in *Input) { in.Compensation.Amount = "1000000000000" }, want: []string{"compensation.amount"}},
		{name: "lower-case currency", give: func(in *Input) { in.Compensation.Currency = "cny" }, want: []string{"compensation.currency"}},
		{name: "unknown currency", give: func(in *Input) { in.Compensation.Currency = "ABC" }, want: []string{"compensation.currency"}},
		{name: "no-currency code", give: func(in *Input) { in.Compensation.Currency = "XXX" }, want: []string{"compensation.currency"}},
		{name: "currency symbol", give: func(in *Input) { in.Compensation.Currency = "¥" }, want: []string{"compensation.currency"}},

		{name: "everything wrong at once", give: func(in *Input) { *in = Input{Paid: true} },
			want: []string{"kind", "counterparty_type", "counterparty", "topic", "start_date", "end_date", "compensation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.give(&in)
			got := fields(t, in.Validate(today, DefaultLimits()))
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateUsesLimits(t *testing.T) {
	in := validInput()
	in.StartDate, in.EndDate = "2024-03-10", "2024-03-14"
	lim := Limits{MaxPastDays: 3, MaxFutureDays: 0, MaxSpanDays: 2}
	got := fields(t, in.Validate(today, lim))
	if want := []string{"start_date", "end_date"}; !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

func TestValidateDecision(t *testing.T) {
	tests := []struct {
		name       string
		outcome    Outcome
		comment    string
		conditions []string
		want       []string
	}{
		{name: "approve bare", outcome: OutcomeApprove},
		{name: "approve with conditions", outcome: OutcomeApprove, comment: "ok", conditions: []string{"no MNPI"}},
		{name: "reject with reason", outcome: OutcomeReject, comment: "conflicts with project X"},
		{name: "unknown outcome", outcome: "maybe", want: []string{"decision"}},
		{name: "reject without comment", outcome: OutcomeReject, want: []string{"comment"}},
		{name: "reject with conditions", outcome: OutcomeReject, comment: "no", conditions: []string{"x"}, want: []string{"conditions"}},
		{name: "long comment", outcome: OutcomeApprove, comment: strings.Repeat("a", 2001), want: []string{"comment"}},
		{name: "blank condition", outcome: OutcomeApprove, conditions: []string{"ok", " "}, want: []string{"conditions[1]"}},
		{name: "too many conditions", outcome: OutcomeApprove, conditions: slices.Repeat([]string{"c"}, 21), want: []string{"conditions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fields(t, ValidateDecision(tt.outcome, tt.comment, tt.conditions))
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
}
