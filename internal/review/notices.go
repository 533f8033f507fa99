package review

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// Notices of case changes go to the compliance on-duty list (opened,
// raised to high) and to an assignee. They carry ids and counts only, never
// the employee's name: the case page shows who it is, behind sign-in and
// audit. Each is written just before its change, with the change as its
// cause (notify.Cause), so it is sent only if the change is stored.

func caseParams(c Case) map[string]string {
	uncovered := 0
	for _, f := range c.Findings {
		if !f.Covered() {
			uncovered++
		}
	}
	return map[string]string{"case_id": c.ID, "severity": c.Severity, "findings": strconv.Itoa(uncovered),
		"path": "/cases/" + c.ID}
}

// SyncNotices are the notices of detection's change of a case: opened, or
// raised to high (open is the case before, nil when res opens one). The
// engine (internal/evaluate) writes them just before the change it syncs.
func SyncNotices(res SyncResult, open *Case, now time.Time) []notify.Notice {
	c := res.Case
	switch {
	case res.Created:
		return []notify.Notice{{ID: notify.KindCaseOpened + ":" + c.ID, Kind: notify.KindCaseOpened,
			Recipient: notify.ListComplianceOnDuty, Params: caseParams(c), CreatedAt: now,
			Cause: &notify.Cause{Resource: notify.ResourceCase, ID: c.ID, Version: 1}}}
	case open != nil && c.IsOpen() && c.Severity == detect.SeverityHigh && open.Severity != detect.SeverityHigh:
		v := c.Version + 1
		return []notify.Notice{{ID: notify.KindCaseRaisedHigh + ":" + c.ID + ":v" + strconv.FormatInt(v, 10),
			Kind: notify.KindCaseRaisedHigh, Recipient: notify.ListComplianceOnDuty, Params: caseParams(c), CreatedAt: now,
			Cause: &notify.Cause{Resource: notify.ResourceCase, ID: c.ID, Version: v,
				Fields: map[string]string{"severity": detect.SeverityHigh}}}}
	}
	return nil
}

// assignNotice tells the assignee, unless they took the case themselves.
func assignNotice(c Case, actorID string, now time.Time) []notify.Notice {
	if c.Assignee == "" || c.Assignee == actorID {
		return nil
	}
	v := c.Version + 1
	p := caseParams(c)
	p["assigned_by"] = actorID
	return []notify.Notice{{ID: notify.KindCaseAssigned + ":" + c.ID + ":v" + strconv.FormatInt(v, 10) + ":" + c.Assignee,
		Kind: notify.KindCaseAssigned, Recipient: c.Assignee, Params: p, CreatedAt: now,
		Cause: &notify.Cause{Resource: notify.ResourceCase, ID: c.ID, Version: v, Fields: map[string]string{"assignee": c.Assignee}}}}
}

// EnqueueNotices writes ns to o (nil o or no notices: nothing), naming the
// case in the error. The service and the engine both call it just before
// the change that causes the notices.
func EnqueueNotices(ctx context.Context, o notify.Outbox, ns []notify.Notice) error {
	if o == nil || len(ns) == 0 {
		return nil
	}
	if err := o.Enqueue(ctx, ns...); err != nil {
		return fmt.Errorf("notices of case %s: %w", ns[0].Params["case_id"], err)
	}
	return nil
}
