package disclosure

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// notices are what the change that brings d to version (d.Version after
// the change) tells people: a pending declaration asks its approver (the
// employee's current manager, or the compliance on-duty list by policy); a
// person's decision tells the employee. A pre-approval by policy tells
// nobody: the employee sees it at once. Each notice names its change as
// its Cause, so it is sent only if that change is stored.
func (s *Service) notices(ctx context.Context, d Disclosure, version int64, now time.Time) ([]notify.Notice, error) {
	if s.Notices == nil {
		return nil, nil
	}
	v := strconv.FormatInt(version, 10)
	cause := func(status Status) *notify.Cause {
		return &notify.Cause{Resource: notify.ResourceDisclosure, ID: d.ID, Version: version,
			Fields: map[string]string{"status": string(status)}}
	}
	params := map[string]string{"disclosure_id": d.ID, "employee_id": d.EmployeeID, "kind": string(d.Kind),
		"start_date": string(d.StartDate), "end_date": string(d.EndDate), "path": "/declarations/" + d.ID}
	switch {
	case d.Status == StatusPending:
		to := notify.ListComplianceOnDuty
		if d.Approver == ApproverManager {
			m, err := s.Directory.ManagerOf(ctx, d.EmployeeID, civil.Of(now))
			if err != nil {
				return nil, fmt.Errorf("approver of disclosure %s: %w", d.ID, err)
			}
			if m != "" {
				to = m
			}
		}
		params["approver"] = string(d.Approver)
		params["path"] = "/inbox"
		return []notify.Notice{{ID: notify.KindDeclarationSubmitted + ":" + d.ID + ":v" + v + ":" + to,
			Kind: notify.KindDeclarationSubmitted, Recipient: to, Params: params, CreatedAt: now, Cause: cause(StatusPending)}}, nil
	case (d.Status == StatusApproved || d.Status == StatusRejected) && d.Decision != nil && d.Decision.By != PolicyActor:
		params["outcome"] = string(d.Decision.Outcome)
		if d.ValidUntil != "" {
			params["valid_until"] = string(d.ValidUntil)
		}
		return []notify.Notice{{ID: notify.KindDeclarationDecided + ":" + d.ID + ":v" + v + ":" + string(d.Status),
			Kind: notify.KindDeclarationDecided, Recipient: d.EmployeeID, Params: params, CreatedAt: now, Cause: cause(d.Status)}}, nil
	}
	return nil, nil
}

// notify writes the notices of d's change to version, before the change.
func (s *Service) notify(ctx context.Context, d Disclosure, version int64, now time.Time) error {
	ns, err := s.notices(ctx, d, version, now)
	if err != nil || len(ns) == 0 {
		return err
	}
	if err := s.Notices.Enqueue(ctx, ns...); err != nil {
		return fmt.Errorf("notices of disclosure %s: %w", d.ID, err)
	}
	return nil
}
