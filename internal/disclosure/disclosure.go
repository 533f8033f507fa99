// Package disclosure is the declaration workflow: an employee declares an
// outside engagement, a manager or compliance decides it, and every change is
// kept in the disclosure's history. It holds the types, the validation, the
// approval policy and the state machine; it does no I/O and reads no clock.
package disclosure

import (
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Sentinels the API maps to status codes (404, 409, 422, 403).
var (
	ErrNotFound     = errors.New("disclosure not found")
	ErrConflict     = errors.New("disclosure changed concurrently")
	ErrInvalidState = errors.New("invalid state change for disclosure")
	ErrForbidden    = errors.New("not allowed to act on disclosure")
	// ErrVersionRequired: a decision must name the version it decides (428).
	ErrVersionRequired = errors.New("decision must name the version it decides")
	// ErrStale: the disclosure changed since the version the decider read (409).
	ErrStale = errors.New("disclosure changed since the version read")
)

// Kind is what the engagement is.
type Kind string

// Kinds of engagement (the API contract's enum).
const (
	KindPaidSeminar    Kind = "paid_seminar"
	KindExpertCall     Kind = "expert_call"
	KindConsulting     Kind = "consulting"
	KindSpeaking       Kind = "speaking"
	KindAdvisoryBoard  Kind = "advisory_board"
	KindMediaInterview Kind = "media_interview"
	KindOther          Kind = "other"
)

// Kinds returns every valid Kind, in contract order.
func Kinds() []Kind {
	return []Kind{KindPaidSeminar, KindExpertCall, KindConsulting, KindSpeaking,
		KindAdvisoryBoard, KindMediaInterview, KindOther}
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// CounterpartyType is who the engagement is with.
type CounterpartyType string

// Counterparty types (the API contract's enum).
const (
	CounterpartyExpertNetwork  CounterpartyType = "expert_network"
	CounterpartyBrokerage      CounterpartyType = "brokerage"
	CounterpartyInvestmentFirm CounterpartyType = "investment_firm"
	CounterpartyMedia          CounterpartyType = "media"
	CounterpartySupplier       CounterpartyType = "supplier"
	CounterpartyCompetitor     CounterpartyType = "competitor"
	CounterpartyAcademic       CounterpartyType = "academic"
	CounterpartyOther          CounterpartyType = "other"
)

// CounterpartyTypes returns every valid CounterpartyType, in contract order.
func CounterpartyTypes() []CounterpartyType {
	return []CounterpartyType{CounterpartyExpertNetwork, CounterpartyBrokerage,
		CounterpartyInvestmentFirm, CounterpartyMedia, CounterpartySupplier,
		CounterpartyCompetitor, CounterpartyAcademic, CounterpartyOther}
}

// Valid reports whether t is one of CounterpartyTypes.
func (t CounterpartyType) Valid() bool { return slices.Contains(CounterpartyTypes(), t) }

// Status is where a disclosure is in the workflow.
type Status string

// Statuses. A pre-approved disclosure is StatusApproved with a decision by
// ApproverPolicy, so there is no separate "pre-approved" status to handle.
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
)

// Statuses returns every valid Status.
func Statuses() []Status {
	return []Status{StatusPending, StatusApproved, StatusRejected, StatusWithdrawn}
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Approver is who has to (or did) decide a disclosure.
type Approver string

// Approvers. ApproverPolicy means the configured policy pre-approved it.
const (
	ApproverManager    Approver = "manager"
	ApproverCompliance Approver = "compliance"
	ApproverPolicy     Approver = "policy"
)

// Valid reports whether a is a known approver.
func (a Approver) Valid() bool {
	return a == ApproverManager || a == ApproverCompliance || a == ApproverPolicy
}

// Outcome is a decision's verdict.
type Outcome string

// Outcomes (the API's "decision" field).
const (
	OutcomeApprove Outcome = "approve"
	OutcomeReject  Outcome = "reject"
)

// Valid reports whether o is approve or reject.
func (o Outcome) Valid() bool { return o == OutcomeApprove || o == OutcomeReject }

// Action is what a history entry records.
type Action string

// History actions. An edit of a decided disclosure is ActionEdited with
// From approved/rejected, To pending and the cleared decision in
// HistoryEntry.PreviousDecision.
const (
	ActionCreated   Action = "created"
	ActionEdited    Action = "edited"
	ActionWithdrawn Action = "withdrawn"
	ActionApproved  Action = "approved"
	ActionRejected  Action = "rejected"
)

// PolicyActor is the Decision.By of a pre-approval.
const PolicyActor = "policy"

// Compensation is what the employee is paid. Amount is a decimal string
// ("3000.00") so no precision is lost; Currency is an ISO 4217 code.
type Compensation struct {
	Amount   string
	Currency string
}

// Input is what an employee declares (the request body of create and edit).
type Input struct {
	Kind             Kind
	Counterparty     string
	CounterpartyType CounterpartyType
	Topic            string
	StartDate        civil.Date
	EndDate          civil.Date
	Paid             bool
	// Compensation is required when Paid, and must be nil or zero otherwise.
	Compensation *Compensation
	Notes        string
	// Renews is the id of the actor's approved declaration this one renews
	// ("" for a new engagement); see RenewalInput.
	Renews string
}

// Decision is an approval or rejection.
type Decision struct {
	Outcome Outcome
	By      string // employee id of the decider, or PolicyActor
	Role    Approver
	Comment string
	// Conditions attach to an approval ("no discussion of unreleased products").
	Conditions []string
	At         time.Time
}

// HistoryEntry is one change of a disclosure.
type HistoryEntry struct {
	At      time.Time
	Actor   string
	Action  Action
	From    Status // empty for ActionCreated
	To      Status
	Comment string
	// PreviousDecision is the decision an edit cleared (approved or rejected
	// disclosure edited back to pending), kept so no approval is ever lost.
	PreviousDecision *Decision
	// Changes are the fields an edit changed (ActionEdited only).
	Changes []FieldChange
}

// Disclosure is one declared engagement and its workflow state.
type Disclosure struct {
	ID         string
	EmployeeID string
	Input
	Status   Status
	Approver Approver
	Decision *Decision // the current decision; nil while pending or withdrawn before any
	History  []HistoryEntry
	// ValidUntil is the day the approval lapses ("" when it does not; see
	// Validity.Until). The service sets it with every change.
	ValidUntil civil.Date
	// Version is the stored version read (optimistic concurrency); New sets 1.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewID returns a new time-sortable disclosure id (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// idPattern bounds ids from URLs before they reach a store: the ids we issue
// are UUIDs, sample data may use readable ids like "D-1001".
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// ValidID reports whether s can be a disclosure id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// New returns a disclosure declared by employeeID: pending, or approved by
// the policy when the policy pre-approves it. in must have passed Validate.
func New(id, employeeID string, in Input, p Policy, now time.Time) Disclosure {
	in = in.normalized()
	d := Disclosure{
		ID:         id,
		EmployeeID: employeeID,
		Input:      in,
		Status:     StatusPending,
		Approver:   p.ApproverFor(in),
		Version:    1,
		CreatedAt:  now,
		UpdatedAt:  now,
		History: []HistoryEntry{{
			At: now, Actor: employeeID, Action: ActionCreated, To: StatusPending,
		}},
	}
	d.preApprove(now)
	return d
}

// preApprove approves a pending disclosure whose approver is the policy.
func (d *Disclosure) preApprove(now time.Time) {
	if d.Status != StatusPending || d.Approver != ApproverPolicy {
		return
	}
	const why = "pre-approved by policy"
	d.Decision = &Decision{Outcome: OutcomeApprove, By: PolicyActor, Role: ApproverPolicy, Comment: why, At: now}
	d.History = append(d.History, HistoryEntry{
		At: now, Actor: PolicyActor, Action: ActionApproved, From: StatusPending, To: StatusApproved, Comment: why,
	})
	d.Status = StatusApproved
}

// Edit replaces the declared engagement. Only the owner edits; a withdrawn
// disclosure cannot be edited. Editing an approved or rejected disclosure
// sends it back to pending (the cleared decision stays in History), so a
// rejected declaration can be corrected and resubmitted instead of declared
// again. The approver is recomputed, and the policy may pre-approve the edit.
// in must have passed Validate.
func (d *Disclosure) Edit(actorID string, in Input, p Policy, now time.Time) error {
	if actorID != d.EmployeeID {
		return ErrForbidden
	}
	if d.Status == StatusWithdrawn {
		return ErrInvalidState
	}
	h := HistoryEntry{At: now, Actor: actorID, Action: ActionEdited, From: d.Status, To: StatusPending,
		PreviousDecision: d.Decision}
	h.Changes = diffInputs(d.Input, in.normalized())
	d.Input = in.normalized()
	d.Status = StatusPending
	d.Decision = nil
	d.Approver = p.ApproverFor(d.Input)
	d.UpdatedAt = now
	d.History = append(d.History, h)
	d.preApprove(now)
	return nil
}

// Withdraw cancels a pending or approved disclosure (the engagement will not
// happen). Only the owner withdraws; rejected and withdrawn ones cannot be.
func (d *Disclosure) Withdraw(actorID, comment string, now time.Time) error {
	if actorID != d.EmployeeID {
		return ErrForbidden
	}
	if d.Status != StatusPending && d.Status != StatusApproved {
		return ErrInvalidState
	}
	if err := validateComment(comment, false); err != nil {
		return err
	}
	d.History = append(d.History, HistoryEntry{At: now, Actor: actorID, Action: ActionWithdrawn,
		From: d.Status, To: StatusWithdrawn, Comment: comment})
	d.Status = StatusWithdrawn
	d.UpdatedAt = now
	return nil
}

// Decide approves or rejects a pending disclosure as role (from DeciderRole).
// The owner can never decide; only pending disclosures can be decided (a
// withdrawn or already decided one is ErrInvalidState). A rejection needs a
// comment; conditions go only with an approval.
func (d *Disclosure) Decide(actorID string, role Approver, outcome Outcome, comment string, conditions []string, now time.Time) error {
	if actorID == "" || actorID == d.EmployeeID {
		return ErrForbidden
	}
	if role != ApproverManager && role != ApproverCompliance {
		return ErrForbidden
	}
	if err := ValidateDecision(outcome, comment, conditions); err != nil {
		return err
	}
	if d.Status != StatusPending {
		return ErrInvalidState
	}
	to, action := StatusApproved, ActionApproved
	if outcome == OutcomeReject {
		to, action = StatusRejected, ActionRejected
	}
	d.Decision = &Decision{Outcome: outcome, By: actorID, Role: role, Comment: comment,
		Conditions: slices.Clone(conditions), At: now}
	d.History = append(d.History, HistoryEntry{At: now, Actor: actorID, Action: action,
		From: d.Status, To: to, Comment: comment})
	d.Status = to
	d.UpdatedAt = now
	return nil
}

// Role names as they appear in tokens (see the API contract).
const (
	roleManager    = "manager"
	roleCompliance = "compliance"
	roleAuditor    = "auditor"
)

// DeciderRole returns the capacity in which the actor may decide d: compliance
// decides any disclosure (also those a manager could); a manager decides only
// the manager-level disclosures of their direct reports. Nobody decides their
// own. It checks authority only; Decide checks the state.
func DeciderRole(d Disclosure, actorID string, actorRoles []string, actorIsManagerOfOwner bool) (Approver, error) {
	switch {
	case actorID == "" || actorID == d.EmployeeID:
		return "", ErrForbidden
	case slices.Contains(actorRoles, roleCompliance):
		return ApproverCompliance, nil
	case slices.Contains(actorRoles, roleManager) && actorIsManagerOfOwner && d.Approver == ApproverManager:
		return ApproverManager, nil
	}
	return "", ErrForbidden
}

// CanDecide is DeciderRole without the role.
func CanDecide(d Disclosure, actorID string, actorRoles []string, actorIsManagerOfOwner bool) error {
	_, err := DeciderRole(d, actorID, actorRoles, actorIsManagerOfOwner)
	return err
}

// CanRead reports whether the actor may see d: its owner, the owner's
// manager, compliance and auditors.
func CanRead(d Disclosure, actorID string, actorRoles []string, actorIsManagerOfOwner bool) bool {
	switch {
	case actorID != "" && actorID == d.EmployeeID:
		return true
	case slices.Contains(actorRoles, roleCompliance), slices.Contains(actorRoles, roleAuditor):
		return true
	case slices.Contains(actorRoles, roleManager) && actorIsManagerOfOwner:
		return true
	}
	return false
}
