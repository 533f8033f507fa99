package sample

import "github.com/moonlight-oss/moonlight/internal/civil"

// The data of each event type, as the contract spells it. Kept here rather
// than borrowed from package event so the sample is written exactly as an
// external producer would write it.

type hiredData struct {
	EmployeeID string     `json:"employee_id"`
	Name       string     `json:"name"`
	Email      string     `json:"email"`
	Department string     `json:"department"`
	Title      string     `json:"title"`
	ManagerID  string     `json:"manager_id,omitempty"`
	Location   string     `json:"location"`
	HireDate   civil.Date `json:"hire_date"`
}

type updatedData struct {
	EmployeeID    string     `json:"employee_id"`
	EffectiveDate civil.Date `json:"effective_date"`
	Department    string     `json:"department,omitempty"`
	Title         string     `json:"title,omitempty"`
	ManagerID     string     `json:"manager_id,omitempty"`
	Location      string     `json:"location,omitempty"`
}

type terminatedData struct {
	EmployeeID      string     `json:"employee_id"`
	TerminationDate civil.Date `json:"termination_date"`
	Reason          string     `json:"reason"`
}

type assignedData struct {
	EmployeeID    string     `json:"employee_id"`
	ProjectCode   string     `json:"project_code"`
	ProjectName   string     `json:"project_name"`
	Sensitivity   string     `json:"sensitivity"`
	LaunchDate    civil.Date `json:"launch_date,omitempty"`
	EffectiveDate civil.Date `json:"effective_date"`
}

type unassignedData struct {
	EmployeeID    string     `json:"employee_id"`
	ProjectCode   string     `json:"project_code"`
	EffectiveDate civil.Date `json:"effective_date"`
}

type leaveData struct {
	EmployeeID string     `json:"employee_id"`
	LeaveID    string     `json:"leave_id"`
	StartDate  civil.Date `json:"start_date"`
	EndDate    civil.Date `json:"end_date"`
	LeaveType  string     `json:"leave_type"`
}

type claimData struct {
	ClaimID     string     `json:"claim_id"`
	EmployeeID  string     `json:"employee_id"`
	IncurredOn  civil.Date `json:"incurred_on"`
	Amount      string     `json:"amount"`
	Currency    string     `json:"currency"`
	Merchant    string     `json:"merchant"`
	Category    string     `json:"category"`
	Description string     `json:"description,omitempty"`
	City        string     `json:"city,omitempty"`
	Attendees   []string   `json:"attendees,omitempty"`
}

type cardData struct {
	TransactionID string `json:"transaction_id"`
	EmployeeID    string `json:"employee_id"`
	OccurredAt    string `json:"occurred_at"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	Merchant      string `json:"merchant"`
	MCC           string `json:"mcc,omitempty"`
	City          string `json:"city,omitempty"`
}

type seminarData struct {
	SeminarID          string     `json:"seminar_id"`
	Organizer          string     `json:"organizer"`
	Title              string     `json:"title"`
	Date               civil.Date `json:"date"`
	City               string     `json:"city,omitempty"`
	Paid               bool       `json:"paid"`
	SpeakerDescriptors []string   `json:"speaker_descriptors,omitempty"`
	SourceURL          string     `json:"source_url,omitempty"`
}
