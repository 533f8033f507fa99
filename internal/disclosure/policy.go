package disclosure

import (
	"errors"
	"fmt"
	"slices"
)

// Policy says who decides which disclosures. It is configuration: an
// engagement with a listed kind or counterparty type needs compliance, one
// matching a pre-approval rule is approved on creation, the rest go to the
// employee's manager.
type Policy struct {
	// ComplianceKinds need compliance approval rather than a manager's.
	ComplianceKinds []Kind `koanf:"compliance_kinds" yaml:"compliance_kinds"`
	// ComplianceCounterpartyTypes need compliance approval rather than a manager's.
	ComplianceCounterpartyTypes []CounterpartyType `koanf:"compliance_counterparty_types" yaml:"compliance_counterparty_types"`
	// PreApproved rules; the first match pre-approves, ahead of the lists above.
	PreApproved []PreApproval `koanf:"pre_approved" yaml:"pre_approved"`
}

// PreApproval matches engagements approved without a human decision. A rule
// must name at least one kind and one counterparty type, so an empty rule
// cannot approve everything by accident.
type PreApproval struct {
	Kinds             []Kind             `koanf:"kinds" yaml:"kinds"`
	CounterpartyTypes []CounterpartyType `koanf:"counterparty_types" yaml:"counterparty_types"`
	// AllowPaid extends the rule to paid engagements; by default only unpaid ones match.
	AllowPaid bool `koanf:"allow_paid" yaml:"allow_paid"`
}

// Matches reports whether the rule pre-approves in.
func (r PreApproval) Matches(in Input) bool {
	return slices.Contains(r.Kinds, in.Kind) &&
		slices.Contains(r.CounterpartyTypes, in.CounterpartyType) &&
		(r.AllowPaid || !in.Paid)
}

// DefaultPolicy: engagements with expert networks, brokerages, investment
// firms and competitors, and paid seminars, expert calls, consulting and
// advisory boards, need compliance; unpaid talks at universities are
// pre-approved.
func DefaultPolicy() Policy {
	return Policy{
		ComplianceKinds: []Kind{KindPaidSeminar, KindExpertCall, KindConsulting, KindAdvisoryBoard},
		ComplianceCounterpartyTypes: []CounterpartyType{CounterpartyExpertNetwork, CounterpartyBrokerage,
			CounterpartyInvestmentFirm, CounterpartyCompetitor},
		PreApproved: []PreApproval{{
			Kinds:             []Kind{KindSpeaking},
			CounterpartyTypes: []CounterpartyType{CounterpartyAcademic},
		}},
	}
}

// Validate checks every listed kind and type is known and every rule names
// at least one kind and one counterparty type.
func (p Policy) Validate() error {
	var errs []error
	for i, k := range p.ComplianceKinds {
		if !k.Valid() {
			errs = append(errs, fmt.Errorf("compliance_kinds[%d]: unknown kind %q", i, k))
		}
	}
	for i, t := range p.ComplianceCounterpartyTypes {
		if !t.Valid() {
			errs = append(errs, fmt.Errorf("compliance_counterparty_types[%d]: unknown counterparty type %q", i, t))
		}
	}
	for i, r := range p.PreApproved {
		f := fmt.Sprintf("pre_approved[%d]", i)
		if len(r.Kinds) == 0 || len(r.CounterpartyTypes) == 0 {
			errs = append(errs, fmt.Errorf("%s: must name at least one kind and one counterparty type", f))
		}
		for j, k := range r.Kinds {
			if !k.Valid() {
				errs = append(errs, fmt.Errorf("%s.kinds[%d]: unknown kind %q", f, j, k))
			}
		}
		for j, t := range r.CounterpartyTypes {
			if !t.Valid() {
				errs = append(errs, fmt.Errorf("%s.counterparty_types[%d]: unknown counterparty type %q", f, j, t))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("disclosure policy: %w", err)
	}
	return nil
}

// ApproverFor returns who must decide in.
func (p Policy) ApproverFor(in Input) Approver {
	for _, r := range p.PreApproved {
		if r.Matches(in) {
			return ApproverPolicy
		}
	}
	if slices.Contains(p.ComplianceKinds, in.Kind) || slices.Contains(p.ComplianceCounterpartyTypes, in.CounterpartyType) {
		return ApproverCompliance
	}
	return ApproverManager
}
