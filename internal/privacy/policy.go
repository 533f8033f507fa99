package privacy

import (
	"context"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// Policy is what reviewers' and auditors' views apply: whether identities
// are pseudonymised, and the pseudonyms. A nil *Policy shows identities (the
// behaviour before issue 15, used by tests of other features).
type Policy struct {
	Config Config
	Names  *Pseudonymizer
}

// NewPolicy returns the policy of cfg with pseudonyms keyed by names.
func NewPolicy(cfg Config, names *Pseudonymizer) *Policy { return &Policy{Config: cfg, Names: names} }

// On reports whether reviewers and auditors see pseudonyms.
func (p *Policy) On() bool { return p != nil && p.Config.Pseudonymise && p.Names != nil }

// Subject is the pseudonym of employeeID, or "" without pseudonyms (nil
// policy, no key) or without an id.
func (p *Policy) Subject(employeeID string) string {
	if p == nil || p.Names == nil || employeeID == "" {
		return ""
	}
	return p.Names.Subject(employeeID)
}

// ActionIdentityLookup is the audit action of a reviewer or auditor naming a
// person by employee id under pseudonymisation (an integration looking up a
// known person): the answer carries the id they supplied, so the lookup
// itself is recorded.
const ActionIdentityLookup audit.Action = "identity.lookup"

// ResourceEmployee is the resource type of identity lookups.
const ResourceEmployee = "employee"

// AuditRow is an audit entry as a reader of the audit log sees it: Owner is
// the pseudonym of whose data it is; under pseudonymisation the entry's
// OwnerID is empty, and the owner's id is replaced by the pseudonym wherever
// it appears (an actor acting on their own data, a reason, a detail), while
// every other actor (reviewers, approvers, privacy officers) stays named.
type AuditRow struct {
	audit.Entry
	Owner string
}

// AuditRows projects entries for a reader. lookedUp is the owner id the
// reader filtered by (an identity lookup): entries of that owner keep it.
func (p *Policy) AuditRows(es []audit.Entry, lookedUp string) []AuditRow {
	out := make([]AuditRow, len(es))
	for i, e := range es {
		out[i] = AuditRow{Entry: e, Owner: p.Subject(e.OwnerID)}
		if p.On() && len(e.OwnerIDs) > 0 {
			// A read of many (issue 14) names its people by pseudonym too.
			ids := make([]string, len(e.OwnerIDs))
			for j, id := range e.OwnerIDs {
				if ids[j] = p.Subject(id); id == lookedUp {
					ids[j] = id
				}
			}
			out[i].Entry.OwnerIDs = ids
		}
		if !p.On() || e.OwnerID == "" || (lookedUp != "" && e.OwnerID == lookedUp) {
			continue
		}
		var m Mask
		m.addID(out[i].Owner, e.OwnerID)
		r := &out[i]
		if r.Actor == e.OwnerID {
			r.Actor = r.Owner
		}
		if r.ResourceID == e.OwnerID {
			r.ResourceID = r.Owner
		}
		r.Reason = m.Text(r.Reason)
		if len(r.Details) > 0 {
			d := make(map[string]string, len(r.Details))
			for k, v := range r.Details {
				d[k] = m.Text(v)
			}
			r.Details = d
		}
		r.OwnerID = ""
	}
	return out
}

// RecordLookup audits an identity lookup of employeeID by actor under
// pseudonymisation (nothing to record otherwise, or for no id).
func (p *Policy) RecordLookup(ctx context.Context, store audit.Store, e audit.Entry, employeeID, via string) error {
	if !p.On() || employeeID == "" {
		return nil
	}
	e.ID, e.Action, e.ResourceType, e.ResourceID, e.OwnerID = audit.NewID(), ActionIdentityLookup, ResourceEmployee, employeeID, employeeID
	e.Details = map[string]string{"via": via}
	if e.Reason == "" {
		e.Reason = "looked up by employee id"
	}
	return store.Append(ctx, e)
}
