package disclosure_test

import (
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/sample"
)

// TestSampleDisclosures checks the demo's declarations pass validation and
// that the default policy leaves the pre-approved one approved, as the demo expects.
func TestSampleDisclosures(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, s := range sample.Disclosures(now) {
		b := s.Body
		in := disclosure.Input{
			Kind: disclosure.Kind(b.Kind), Counterparty: b.Counterparty,
			CounterpartyType: disclosure.CounterpartyType(b.CounterpartyType), Topic: b.Topic,
			StartDate: b.StartDate, EndDate: b.EndDate, Paid: b.Paid,
		}
		if b.Compensation != nil {
			in.Compensation = &disclosure.Compensation{Amount: b.Compensation.Amount, Currency: b.Compensation.Currency}
		}
		if err := in.Validate(now, disclosure.DefaultLimits()); err != nil {
			t.Errorf("sample %d (%s): %v", i, s.EmployeeID, err)
			continue
		}
		d := disclosure.New(disclosure.NewID(), s.EmployeeID, in, disclosure.DefaultPolicy(), now)
		if d.Status == disclosure.StatusApproved && s.WantStatus != "approved" {
			t.Errorf("sample %d (%s) pre-approved, the demo wants %s", i, s.EmployeeID, s.WantStatus)
		}
		if s.DeciderRole == "manager" && d.Approver == disclosure.ApproverCompliance {
			t.Errorf("sample %d (%s) needs compliance, the demo decides it as manager", i, s.EmployeeID)
		}
	}
}
