package evaluate

import (
	"context"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// DisclosureEngagements adapts the disclosure store to what detection reads.
type DisclosureEngagements struct{ Store disclosure.Store }

// Engagements implements Engagements.
func (d DisclosureEngagements) Engagements(ctx context.Context, employeeID string) ([]detect.Engagement, error) {
	ds, err := d.Store.ListForDetection(ctx, employeeID)
	if err != nil {
		return nil, err
	}
	out := make([]detect.Engagement, 0, len(ds))
	for _, x := range ds {
		out = append(out, EngagementOf(x))
	}
	return out, nil
}

// EngagementOf maps a disclosure to a detection engagement.
func EngagementOf(x disclosure.Disclosure) detect.Engagement {
	e := detect.Engagement{
		ID: x.ID, EmployeeID: x.EmployeeID, Kind: string(x.Kind), Counterparty: x.Counterparty,
		CounterpartyType: string(x.CounterpartyType), Topic: x.Topic, Start: x.StartDate, End: x.EndDate,
		Status: string(x.Status), Paid: x.Paid,
	}
	if x.Compensation != nil {
		e.Compensation = event.Money{Amount: x.Compensation.Amount, Currency: x.Compensation.Currency}
	}
	end := e.End
	if end.IsZero() || end.Before(e.Start) {
		end = e.Start
	}
	if x.Status == disclosure.StatusApproved && !x.ValidUntil.IsZero() && !end.Before(x.ValidUntil) {
		// A lapsed approval covers only the days before it lapsed (the
		// sweep re-evaluates the employee on that day).
		e.End = x.ValidUntil.AddDays(-1)
	}
	if x.Status != disclosure.StatusPending {
		e.DecidedAt = x.UpdatedAt
		if x.Decision != nil {
			e.DecidedAt = x.Decision.At
		}
	}
	return e
}
