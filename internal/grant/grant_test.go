package grant

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	s := Set{
		"svc-hris":    {Types: []string{"hr.*"}, Sources: []string{"hris/workday-cn"}},
		"svc-expense": {Types: []string{"expense.claim.submitted"}, Sources: []string{"expense/*"}},
	}
	tests := []struct {
		account, typ, source string
		want                 bool
	}{
		{"svc-hris", "hr.employee.updated", "hris/workday-cn", true},
		{"svc-hris", "hr.employee.updated", "hris/other", false},
		{"svc-hris", "expense.claim.submitted", "hris/workday-cn", false},
		{"svc-expense", "expense.claim.submitted", "expense/concur-cn", true},
		{"svc-expense", "hr.employee.updated", "expense/concur-cn", false}, // the reporting-line attack
		{"svc-expense", "expense.card.transaction", "expense/concur-cn", false},
		{"svc-unknown", "intel.seminar.reported", "intel/feed", false}, // default: nothing
	}
	for _, tt := range tests {
		err := s.Check(tt.account, tt.typ, tt.source)
		if (err == nil) != tt.want || (err != nil && !errors.Is(err, ErrNotGranted)) {
			t.Errorf("Check(%s, %s, %s) = %v, want allowed %v", tt.account, tt.typ, tt.source, err, tt.want)
		}
	}
	if err := (Set{"a": {Types: []string{"h*r"}, Sources: []string{""}}}).Validate(); err == nil {
		t.Error("bad patterns validated")
	}
}
