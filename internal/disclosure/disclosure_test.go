package disclosure

import (
	"errors"
	"slices"
	"testing"
	"time"
)

const (
	owner   = "E1001"
	manager = "E0100"
	officer = "C0001"
)

var (
	t0 = time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

// in the given status, decided by compliance where that applies.
func inStatus(t *testing.T, s Status) Disclosure {
	t.Helper()
	d := New("D1", owner, validInput(), DefaultPolicy(), t0)
	switch s {
	case StatusApproved:
		mustOK(t, d.Decide(officer, ApproverCompliance, OutcomeApprove, "fine", []string{"no MNPI"}, t0))
	case StatusRejected:
		mustOK(t, d.Decide(officer, ApproverCompliance, OutcomeReject, "conflict", nil, t0))
	case StatusWithdrawn:
		mustOK(t, d.Withdraw(owner, "", t0))
	}
	if d.Status != s {
		t.Fatalf("setup: status %s, want %s", d.Status, s)
	}
	return d
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name         string
		give         func(*Input)
		wantStatus   Status
		wantApprover Approver
		wantActions  []Action
	}{
		{name: "expert network seminar needs compliance", give: func(*Input) {},
			wantStatus: StatusPending, wantApprover: ApproverCompliance, wantActions: []Action{ActionCreated}},
		{name: "unpaid media interview goes to the manager", give: func(in *Input) {
			in.Kind, in.CounterpartyType, in.Paid, in.Compensation = KindMediaInterview, CounterpartyMedia, false, nil
		}, wantStatus: StatusPending, wantApprover: ApproverManager, wantActions: []Action{ActionCreated}},
		{name: "unpaid academic talk is pre-approved", give: func(in *Input) {
			in.Kind, in.CounterpartyType, in.Paid, in.Compensation = KindSpeaking, CounterpartyAcademic, false, nil
		}, wantStatus: StatusApproved, wantApprover: ApproverPolicy, wantActions: []Action{ActionCreated, ActionApproved}},
		{name: "paid academic talk is not", give: func(in *Input) {
			in.Kind, in.CounterpartyType = KindSpeaking, CounterpartyAcademic
		}, wantStatus: StatusPending, wantApprover: ApproverManager, wantActions: []Action{ActionCreated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.give(&in)
			d := New("D1", owner, in, DefaultPolicy(), t0)
			if d.Status != tt.wantStatus || d.Approver != tt.wantApprover {
				t.Errorf("status/approver = %s/%s, want %s/%s", d.Status, d.Approver, tt.wantStatus, tt.wantApprover)
			}
			if got := actions(d); !slices.Equal(got, tt.wantActions) {
				t.Errorf("history = %v, want %v", got, tt.wantActions)
			}
			if d.Version != 1 || !d.CreatedAt.Equal(t0) || d.ID != "D1" || d.EmployeeID != owner {
				t.Errorf("identity fields wrong: %+v", d)
			}
			if tt.wantStatus == StatusApproved && (d.Decision == nil || d.Decision.By != PolicyActor || d.Decision.Role != ApproverPolicy) {
				t.Errorf("pre-approval decision = %+v", d.Decision)
			}
		})
	}
}

func actions(d Disclosure) []Action {
	var a []Action
	for _, h := range d.History {
		a = append(a, h.Action)
	}
	return a
}

func TestNewTrimsAndCopies(t *testing.T) {
	in := validInput()
	in.Counterparty = "  Capvision "
	d := New("D1", owner, in, DefaultPolicy(), t0)
	in.Compensation.Amount = "1.00"
	if d.Counterparty != "Capvision" || d.Compensation.Amount != "3000.00" {
		t.Errorf("got counterparty %q amount %q", d.Counterparty, d.Compensation.Amount)
	}
}

func TestEdit(t *testing.T) {
	edited := validInput()
	edited.Topic = "Battery materials"
	tests := []struct {
		name         string
		from         Status
		actor        string
		wantErr      error
		wantStatus   Status
		wantPrevious Outcome // outcome of the decision kept in the edit's history entry
	}{
		{name: "pending stays pending", from: StatusPending, actor: owner, wantStatus: StatusPending},
		{name: "approved returns to pending", from: StatusApproved, actor: owner, wantStatus: StatusPending, wantPrevious: OutcomeApprove},
		{name: "rejected is resubmitted", from: StatusRejected, actor: owner, wantStatus: StatusPending, wantPrevious: OutcomeReject},
		{name: "withdrawn cannot be edited", from: StatusWithdrawn, actor: owner, wantErr: ErrInvalidState, wantStatus: StatusWithdrawn},
		{name: "someone else cannot edit", from: StatusPending, actor: manager, wantErr: ErrForbidden, wantStatus: StatusPending},
		{name: "compliance cannot edit either", from: StatusApproved, actor: officer, wantErr: ErrForbidden, wantStatus: StatusApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := inStatus(t, tt.from)
			before := len(d.History)
			err := d.Edit(tt.actor, edited, DefaultPolicy(), t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if d.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", d.Status, tt.wantStatus)
			}
			if tt.wantErr != nil {
				if len(d.History) != before || d.Topic == edited.Topic {
					t.Errorf("failed edit changed the disclosure: %+v", d)
				}
				return
			}
			if d.Topic != edited.Topic || d.Decision != nil || !d.UpdatedAt.Equal(t1) {
				t.Errorf("edit not applied: topic %q decision %+v updated %v", d.Topic, d.Decision, d.UpdatedAt)
			}
			h := d.History[len(d.History)-1]
			if h.Action != ActionEdited || h.From != tt.from || h.To != StatusPending || h.Actor != owner {
				t.Errorf("history entry = %+v", h)
			}
			var gotPrev Outcome
			if h.PreviousDecision != nil {
				gotPrev = h.PreviousDecision.Outcome
			}
			if gotPrev != tt.wantPrevious {
				t.Errorf("previous decision = %q, want %q", gotPrev, tt.wantPrevious)
			}
		})
	}
}

func TestEditIntoPreApproval(t *testing.T) {
	d := inStatus(t, StatusPending)
	in := validInput()
	in.Kind, in.CounterpartyType, in.Paid, in.Compensation = KindSpeaking, CounterpartyAcademic, false, nil
	mustOK(t, d.Edit(owner, in, DefaultPolicy(), t1))
	if d.Status != StatusApproved || d.Approver != ApproverPolicy {
		t.Errorf("status/approver = %s/%s, want approved/policy", d.Status, d.Approver)
	}
	if got, want := actions(d), []Action{ActionCreated, ActionEdited, ActionApproved}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
}

func TestWithdraw(t *testing.T) {
	tests := []struct {
		name       string
		from       Status
		actor      string
		comment    string
		wantErr    error
		wantStatus Status
	}{
		{name: "pending", from: StatusPending, actor: owner, wantStatus: StatusWithdrawn},
		{name: "approved", from: StatusApproved, actor: owner, comment: "event cancelled", wantStatus: StatusWithdrawn},
		{name: "rejected", from: StatusRejected, actor: owner, wantErr: ErrInvalidState, wantStatus: StatusRejected},
		{name: "twice", from: StatusWithdrawn, actor: owner, wantErr: ErrInvalidState, wantStatus: StatusWithdrawn},
		{name: "not the owner", from: StatusPending, actor: officer, wantErr: ErrForbidden, wantStatus: StatusPending},
		{name: "control characters in comment", from: StatusPending, actor: owner, comment: "\x07", wantErr: ErrInvalid, wantStatus: StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := inStatus(t, tt.from)
			err := d.Withdraw(tt.actor, tt.comment, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if d.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", d.Status, tt.wantStatus)
			}
			if tt.wantErr == nil {
				h := d.History[len(d.History)-1]
				if h.Action != ActionWithdrawn || h.From != tt.from || h.Comment != tt.comment {
					t.Errorf("history entry = %+v", h)
				}
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		from       Status
		actor      string
		role       Approver
		outcome    Outcome
		comment    string
		wantErr    error
		wantStatus Status
	}{
		{name: "approve pending", from: StatusPending, actor: officer, role: ApproverCompliance, outcome: OutcomeApprove, wantStatus: StatusApproved},
		{name: "reject pending", from: StatusPending, actor: manager, role: ApproverManager, outcome: OutcomeReject, comment: "no", wantStatus: StatusRejected},
		{name: "already approved", from: StatusApproved, actor: officer, role: ApproverCompliance, outcome: OutcomeReject, comment: "changed mind", wantErr: ErrInvalidState, wantStatus: StatusApproved},
		{name: "already rejected", from: StatusRejected, actor: officer, role: ApproverCompliance, outcome: OutcomeApprove, wantErr: ErrInvalidState, wantStatus: StatusRejected},
		{name: "withdrawn", from: StatusWithdrawn, actor: officer, role: ApproverCompliance, outcome: OutcomeApprove, wantErr: ErrInvalidState, wantStatus: StatusWithdrawn},
		{name: "own disclosure", from: StatusPending, actor: owner, role: ApproverCompliance, outcome: OutcomeApprove, wantErr: ErrForbidden, wantStatus: StatusPending},
		{name: "own withdrawn disclosure is forbidden first", from: StatusWithdrawn, actor: owner, role: ApproverCompliance, outcome: OutcomeApprove, wantErr: ErrForbidden, wantStatus: StatusWithdrawn},
		{name: "policy cannot be claimed", from: StatusPending, actor: officer, role: ApproverPolicy, outcome: OutcomeApprove, wantErr: ErrForbidden, wantStatus: StatusPending},
		{name: "anonymous", from: StatusPending, actor: "", role: ApproverCompliance, outcome: OutcomeApprove, wantErr: ErrForbidden, wantStatus: StatusPending},
		{name: "bad outcome", from: StatusPending, actor: officer, role: ApproverCompliance, outcome: "approved", wantErr: ErrInvalid, wantStatus: StatusPending},
		{name: "reject without reason", from: StatusPending, actor: officer, role: ApproverCompliance, outcome: OutcomeReject, wantErr: ErrInvalid, wantStatus: StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := inStatus(t, tt.from)
			before := len(d.History)
			var conds []string
			if tt.outcome == OutcomeApprove {
				conds = []string{"no MNPI"}
			}
			err := d.Decide(tt.actor, tt.role, tt.outcome, tt.comment, conds, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if d.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", d.Status, tt.wantStatus)
			}
			if tt.wantErr != nil {
				if len(d.History) != before {
					t.Errorf("failed decision added history")
				}
				return
			}
			want := Decision{Outcome: tt.outcome, By: tt.actor, Role: tt.role, Comment: tt.comment, Conditions: conds, At: t1}
			if d.Decision == nil || !equalDecision(*d.Decision, want) {
				t.Errorf("decision = %+v, want %+v", d.Decision, want)
			}
			h := d.History[len(d.History)-1]
			if h.From != StatusPending || h.To != tt.wantStatus || h.Actor != tt.actor {
				t.Errorf("history entry = %+v", h)
			}
		})
	}
}

func equalDecision(a, b Decision) bool {
	return a.Outcome == b.Outcome && a.By == b.By && a.Role == b.Role && a.Comment == b.Comment &&
		slices.Equal(a.Conditions, b.Conditions) && a.At.Equal(b.At)
}

// TestApprovedEditKeepsApproval walks the example: approve, edit,
// and find the approval in the history while the disclosure waits again.
func TestApprovedEditKeepsApproval(t *testing.T) {
	d := inStatus(t, StatusApproved)
	mustOK(t, d.Edit(owner, validInput(), DefaultPolicy(), t1))
	mustOK(t, d.Decide(officer, ApproverCompliance, OutcomeReject, "second look", nil, t1))
	if got, want := actions(d), []Action{ActionCreated, ActionApproved, ActionEdited, ActionRejected}; !slices.Equal(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	prev := d.History[2].PreviousDecision
	if prev == nil || prev.Outcome != OutcomeApprove || prev.By != officer || !slices.Equal(prev.Conditions, []string{"no MNPI"}) {
		t.Errorf("kept approval = %+v", prev)
	}
}

func TestDeciderRole(t *testing.T) {
	compliance := New("D1", owner, validInput(), DefaultPolicy(), t0)
	in := validInput()
	in.Kind, in.CounterpartyType, in.Paid, in.Compensation = KindMediaInterview, CounterpartyMedia, false, nil
	managerLevel := New("D2", owner, in, DefaultPolicy(), t0)

	tests := []struct {
		name      string
		d         Disclosure
		actor     string
		roles     []string
		isManager bool
		want      Approver
		wantErr   error
	}{
		{name: "compliance on compliance-level", d: compliance, actor: officer, roles: []string{"employee", "compliance"}, want: ApproverCompliance},
		{name: "compliance on manager-level", d: managerLevel, actor: officer, roles: []string{"compliance"}, want: ApproverCompliance},
		{name: "manager of owner on manager-level", d: managerLevel, actor: manager, roles: []string{"employee", "manager"}, isManager: true, want: ApproverManager},
		{name: "manager of owner on compliance-level", d: compliance, actor: manager, roles: []string{"manager"}, isManager: true, wantErr: ErrForbidden},
		{name: "manager of someone else", d: managerLevel, actor: "E0200", roles: []string{"manager"}, wantErr: ErrForbidden},
		{name: "line manager without the role", d: managerLevel, actor: manager, roles: []string{"employee"}, isManager: true, wantErr: ErrForbidden},
		{name: "auditor", d: managerLevel, actor: "A1", roles: []string{"auditor"}, wantErr: ErrForbidden},
		{name: "admin", d: managerLevel, actor: "X1", roles: []string{"admin"}, wantErr: ErrForbidden},
		{name: "owner with compliance role", d: compliance, actor: owner, roles: []string{"compliance"}, wantErr: ErrForbidden},
		{name: "owner as own manager", d: managerLevel, actor: owner, roles: []string{"manager"}, isManager: true, wantErr: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DeciderRole(tt.d, tt.actor, tt.roles, tt.isManager)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("DeciderRole = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if err2 := CanDecide(tt.d, tt.actor, tt.roles, tt.isManager); !errors.Is(err2, tt.wantErr) {
				t.Errorf("CanDecide = %v, want %v", err2, tt.wantErr)
			}
		})
	}
}

func TestCanRead(t *testing.T) {
	d := New("D1", owner, validInput(), DefaultPolicy(), t0)
	tests := []struct {
		name      string
		actor     string
		roles     []string
		isManager bool
		want      bool
	}{
		{name: "owner", actor: owner, roles: []string{"employee"}, want: true},
		{name: "other employee", actor: "E2002", roles: []string{"employee"}},
		{name: "manager of owner", actor: manager, roles: []string{"manager"}, isManager: true, want: true},
		{name: "other manager", actor: "E0200", roles: []string{"manager"}},
		{name: "compliance", actor: officer, roles: []string{"compliance"}, want: true},
		{name: "auditor", actor: "A1", roles: []string{"auditor"}, want: true},
		{name: "admin only", actor: "X1", roles: []string{"admin"}},
		{name: "anonymous", actor: "", roles: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanRead(d, tt.actor, tt.roles, tt.isManager); got != tt.want {
				t.Errorf("CanRead = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{give: NewID(), want: true},
		{give: "D-1001", want: true},
		{give: ""},
		{give: `{"$ne": null}`},
		{give: "$ne"},
		{give: "a/b"},
		{give: string(make([]byte, 200))},
	}
	for _, tt := range tests {
		if got := ValidID(tt.give); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
