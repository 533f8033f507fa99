// Package event holds the event contract (docs/spec/events.md): CloudEvents 1.0
// envelopes in JSON structured mode and the typed data of each event type.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Event types of the contract.
const (
	TypeEmployeeHired      = "hr.employee.hired"
	TypeEmployeeUpdated    = "hr.employee.updated"
	TypeEmployeeTerminated = "hr.employee.terminated"
	TypeProjectAssigned    = "hr.project.assigned"
	TypeProjectUnassigned  = "hr.project.unassigned"
	TypeLeaveRecorded      = "hr.leave.recorded"
	TypeExpenseClaim       = "expense.claim.submitted"
	TypeCardTransaction    = "expense.card.transaction"
	TypeSeminarReported    = "intel.seminar.reported"
)

// Types lists every type of the contract.
var Types = []string{
	TypeEmployeeHired, TypeEmployeeUpdated, TypeEmployeeTerminated,
	TypeProjectAssigned, TypeProjectUnassigned, TypeLeaveRecorded,
	TypeExpenseClaim, TypeCardTransaction, TypeSeminarReported,
}

// Ref identifies an event: the same (source, id) delivered twice is the same event.
type Ref struct {
	Source string `json:"source" bson:"source"`
	ID     string `json:"id" bson:"id"`
}

// Key is a deterministic document id for the event, used as MongoDB _id.
func (r Ref) Key() string {
	h := sha256.Sum256([]byte(r.Source + "\x00" + r.ID))
	return hex.EncodeToString(h[:16])
}

// Event is a decoded, validated event.
type Event struct {
	Ref
	Type    string
	Time    time.Time // zero when the envelope had none
	Subject string
	// Data is one of the *Data types below, matching Type.
	Data any
	// Raw is the message value exactly as received.
	Raw []byte
}

// EmployeeID returns the employee the event is about ("" for intel events).
func (e Event) EmployeeID() string {
	switch d := e.Data.(type) {
	case *EmployeeHired:
		return d.EmployeeID
	case *EmployeeUpdated:
		return d.EmployeeID
	case *EmployeeTerminated:
		return d.EmployeeID
	case *ProjectAssigned:
		return d.EmployeeID
	case *ProjectUnassigned:
		return d.EmployeeID
	case *LeaveRecorded:
		return d.EmployeeID
	case *ExpenseClaim:
		return d.EmployeeID
	case *CardTransaction:
		return d.EmployeeID
	}
	return ""
}

// PartitionKey is the Kafka message key the contract asks for: the employee id,
// or the seminar id for intel events.
func (e Event) PartitionKey() string {
	if s, ok := e.Data.(*SeminarReported); ok {
		return s.SeminarID
	}
	if id := e.EmployeeID(); id != "" {
		return id
	}
	return e.Subject
}

// Money is a decimal amount as a canonical decimal string and an ISO 4217 currency.
type Money struct {
	Amount   string `json:"amount" bson:"amount"`
	Currency string `json:"currency" bson:"currency"`
}

// EmployeeHired is the data of hr.employee.hired.
type EmployeeHired struct {
	EmployeeID string     `json:"employee_id"`
	Name       string     `json:"name"`
	Email      string     `json:"email,omitempty"`
	Department string     `json:"department"`
	Title      string     `json:"title,omitempty"`
	ManagerID  string     `json:"manager_id,omitempty"`
	Location   string     `json:"location,omitempty"`
	HireDate   civil.Date `json:"hire_date"`
}

// EmployeeUpdated is the data of hr.employee.updated; nil fields are unchanged.
type EmployeeUpdated struct {
	EmployeeID    string     `json:"employee_id"`
	EffectiveDate civil.Date `json:"effective_date"`
	Name          *string    `json:"name,omitempty"`
	Email         *string    `json:"email,omitempty"`
	Department    *string    `json:"department,omitempty"`
	Title         *string    `json:"title,omitempty"`
	ManagerID     *string    `json:"manager_id,omitempty"`
	Location      *string    `json:"location,omitempty"`
}

// EmployeeTerminated is the data of hr.employee.terminated.
type EmployeeTerminated struct {
	EmployeeID      string     `json:"employee_id"`
	TerminationDate civil.Date `json:"termination_date"`
	Reason          string     `json:"reason,omitempty"`
}

// ProjectAssigned is the data of hr.project.assigned.
type ProjectAssigned struct {
	EmployeeID    string     `json:"employee_id"`
	ProjectCode   string     `json:"project_code"`
	ProjectName   string     `json:"project_name,omitempty"`
	Sensitivity   string     `json:"sensitivity"`
	LaunchDate    civil.Date `json:"launch_date,omitempty"`
	EffectiveDate civil.Date `json:"effective_date"`
}

// ProjectUnassigned is the data of hr.project.unassigned.
type ProjectUnassigned struct {
	EmployeeID    string     `json:"employee_id"`
	ProjectCode   string     `json:"project_code"`
	EffectiveDate civil.Date `json:"effective_date"`
}

// LeaveRecorded is the data of hr.leave.recorded.
type LeaveRecorded struct {
	EmployeeID string     `json:"employee_id"`
	LeaveID    string     `json:"leave_id"`
	StartDate  civil.Date `json:"start_date"`
	EndDate    civil.Date `json:"end_date"`
	LeaveType  string     `json:"leave_type,omitempty"`
}

// ExpenseClaim is the data of expense.claim.submitted.
type ExpenseClaim struct {
	ClaimID     string     `json:"claim_id"`
	EmployeeID  string     `json:"employee_id"`
	IncurredOn  civil.Date `json:"incurred_on"`
	Amount      Money      `json:"-"`
	Merchant    string     `json:"merchant"`
	Category    string     `json:"category,omitempty"`
	Description string     `json:"description,omitempty"`
	City        string     `json:"city,omitempty"`
	Attendees   []string   `json:"attendees,omitempty"`
}

// CardTransaction is the data of expense.card.transaction.
type CardTransaction struct {
	TransactionID string    `json:"transaction_id"`
	EmployeeID    string    `json:"employee_id"`
	OccurredAt    time.Time `json:"occurred_at"`
	Amount        Money     `json:"-"`
	Merchant      string    `json:"merchant"`
	MCC           string    `json:"mcc,omitempty"`
	City          string    `json:"city,omitempty"`
}

// SeminarReported is the data of intel.seminar.reported.
type SeminarReported struct {
	SeminarID          string     `json:"seminar_id"`
	Organizer          string     `json:"organizer"`
	Title              string     `json:"title"`
	Date               civil.Date `json:"date"`
	City               string     `json:"city,omitempty"`
	Paid               *bool      `json:"paid,omitempty"`
	SpeakerDescriptors []string   `json:"speaker_descriptors,omitempty"`
	SourceURL          string     `json:"source_url,omitempty"`
}
