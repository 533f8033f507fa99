// Package notify tells people what needs them: a notice is written to an
// outbox in the same step as the change that causes it, and a dispatcher
// delivers it (e-mail, signed webhooks) with retries, at most once per
// notice id.
//
// This file is the contract other packages write notices through; the
// outbox store, the dispatcher, the channels and the templates build on it.
package notify

import (
	"context"
	"time"
)

// Kinds of notice. Templates (zh/en) are looked up by kind.
const (
	KindDeclarationSubmitted = "declaration.submitted" // → the approver(s)
	KindDeclarationDecided   = "declaration.decided"   // → the employee
	KindCaseOpened           = "case.opened"           // → the compliance on-duty list
	KindCaseRaisedHigh       = "case.raised_high"      // → the compliance on-duty list
	KindCaseAssigned         = "case.assigned"         // → the assignee
	KindAttestationDue       = "attestation.due"       // → the employee
	KindAttestationOverdue   = "attestation.overdue"   // → the employee and their manager
	KindApprovalExpiring     = "approval.expiring"     // → the employee, 30 days before
	KindDailyDigest          = "digest.daily"          // → the compliance on-duty list
)

// ListComplianceOnDuty is a recipient that is a configured list, not a person.
const ListComplianceOnDuty = "list:compliance-on-duty"

// Notice is one message to one recipient.
type Notice struct {
	// ID is the idempotency key, deterministic from the cause (for example
	// "declaration.submitted:<disclosure id>:v3:<approver id>"), so writing
	// the same notice twice (a redelivered event, a retried request) stores
	// and sends it once.
	ID   string
	Kind string
	// Recipient is an employee id, or a list such as ListComplianceOnDuty.
	Recipient string
	// Params are what the template needs: ids, dates, codes, counts —
	// never free text a person typed (that stays in Moonlight, behind
	// sign-in and audit).
	Params    map[string]string
	CreatedAt time.Time
}

// Outbox keeps notices until they are delivered. Enqueue is idempotent by
// Notice.ID.
type Outbox interface {
	Enqueue(ctx context.Context, notices ...Notice) error
}
