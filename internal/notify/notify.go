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
	// Cause, when set, is the stored change the notice announces. A notice
	// is written just before its change; the dispatcher sends it only once
	// the change is stored as Cause describes, and cancels it when that
	// never happens (the change failed, or another change of the same
	// version won). Nil: the caller wrote it after its change (or it needs
	// none, a digest), and it is sent as it is.
	Cause *Cause
}

// Resources a Cause names.
const (
	ResourceDisclosure = "disclosure"
	ResourceCase       = "case"
)

// Cause is the change of a versioned resource a notice announces.
type Cause struct {
	Resource string // ResourceDisclosure or ResourceCase
	ID       string
	// Version is the version the change creates (1: the resource's creation).
	Version int64
	// Fields are top-level fields the resource has at Version ("status":
	// "pending"), so a different change that won the same version does not
	// confirm this notice.
	Fields map[string]string
}

// Outbox keeps notices until they are delivered. Enqueue is idempotent by
// Notice.ID.
type Outbox interface {
	Enqueue(ctx context.Context, notices ...Notice) error
}
