package disclosure

import (
	"strings"
	"testing"
)

func TestApproverFor(t *testing.T) {
	custom := Policy{
		ComplianceKinds:             []Kind{KindConsulting},
		ComplianceCounterpartyTypes: []CounterpartyType{CounterpartySupplier},
		PreApproved:                 []PreApproval{{Kinds: []Kind{KindMediaInterview}, CounterpartyTypes: []CounterpartyType{CounterpartyMedia}, AllowPaid: true}},
	}
	tests := []struct {
		name   string
		policy Policy
		kind   Kind
		ctype  CounterpartyType
		paid   bool
		want   Approver
	}{
		{name: "default: kind needs compliance", policy: DefaultPolicy(), kind: KindExpertCall, ctype: CounterpartyOther, paid: true, want: ApproverCompliance},
		{name: "default: counterparty needs compliance", policy: DefaultPolicy(), kind: KindSpeaking, ctype: CounterpartyBrokerage, want: ApproverCompliance},
		{name: "default: competitor", policy: DefaultPolicy(), kind: KindOther, ctype: CounterpartyCompetitor, want: ApproverCompliance},
		{name: "default: manager", policy: DefaultPolicy(), kind: KindSpeaking, ctype: CounterpartyMedia, paid: true, want: ApproverManager},
		{name: "default: unpaid academic talk", policy: DefaultPolicy(), kind: KindSpeaking, ctype: CounterpartyAcademic, want: ApproverPolicy},
		{name: "default: paid academic talk", policy: DefaultPolicy(), kind: KindSpeaking, ctype: CounterpartyAcademic, paid: true, want: ApproverManager},
		{name: "custom: kind", policy: custom, kind: KindConsulting, ctype: CounterpartyOther, want: ApproverCompliance},
		{name: "custom: expert network now manager", policy: custom, kind: KindOther, ctype: CounterpartyExpertNetwork, want: ApproverManager},
		{name: "custom: paid pre-approval", policy: custom, kind: KindMediaInterview, ctype: CounterpartyMedia, paid: true, want: ApproverPolicy},
		{name: "empty policy: everything to manager", policy: Policy{}, kind: KindPaidSeminar, ctype: CounterpartyExpertNetwork, want: ApproverManager},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.ApproverFor(Input{Kind: tt.kind, CounterpartyType: tt.ctype, Paid: tt.paid})
			if got != tt.want {
				t.Errorf("ApproverFor = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		give Policy
		want string // substring of the error; "" for none
	}{
		{name: "default", give: DefaultPolicy()},
		{name: "empty", give: Policy{}},
		{name: "unknown kind", give: Policy{ComplianceKinds: []Kind{"seminar"}}, want: `compliance_kinds[0]: unknown kind "seminar"`},
		{name: "unknown type", give: Policy{ComplianceCounterpartyTypes: []CounterpartyType{"bank"}}, want: "compliance_counterparty_types[0]"},
		{name: "empty rule", give: Policy{PreApproved: []PreApproval{{Kinds: []Kind{KindSpeaking}}}}, want: "pre_approved[0]: must name"},
		{name: "rule with unknown type", give: Policy{PreApproved: []PreApproval{{Kinds: []Kind{KindSpeaking}, CounterpartyTypes: []CounterpartyType{"uni"}}}}, want: "pre_approved[0].counterparty_types[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want error containing %q", err, tt.want)
			}
		})
	}
}
