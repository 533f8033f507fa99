package auth

import (
	"context"
	"slices"
	"strings"
)

// Roles, as the API contract names them.
const (
	RoleEmployee   = "employee"   // anyone signed in
	RoleManager    = "manager"    // decides disclosures of direct reports
	RoleCompliance = "compliance" // HR/compliance reviewers
	RoleAuditor    = "auditor"    // read-only, including the audit log
	RoleAdmin      = "admin"      // config, watchlists, rescans
	RoleIngest     = "ingest"     // service accounts that post events
	// RolePrivacyOfficer approves reviewers' requests to unmask a case's
	// subject (privacy.unmask: two_person) and exports all data about an
	// employee for a subject-access request; an extension of the contract.
	RolePrivacyOfficer = "privacy_officer"
)

// KnownRoles returns every role Moonlight understands, sorted.
func KnownRoles() []string {
	return []string{RoleAdmin, RoleAuditor, RoleCompliance, RoleEmployee, RoleIngest, RoleManager, RolePrivacyOfficer}
}

// IsKnownRole reports whether r is one of KnownRoles.
func IsKnownRole(r string) bool {
	switch r {
	case RoleEmployee, RoleManager, RoleCompliance, RoleAuditor, RoleAdmin, RoleIngest, RolePrivacyOfficer:
		return true
	}
	return false
}

// Principal is the authenticated caller.
type Principal struct {
	// Subject is the token's "sub": the employee id, or a service account name.
	Subject string
	// Roles are sorted, without duplicates, and always include RoleEmployee.
	Roles []string
	// Name is a display name when the token carries one.
	Name string
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// HasAny reports whether p holds at least one of roles.
func (p Principal) HasAny(roles ...string) bool {
	return slices.ContainsFunc(roles, p.Has)
}

// normalizeRoles keeps known roles, adds RoleEmployee, sorts and dedupes.
func normalizeRoles(raw []string) []string {
	out := []string{RoleEmployee}
	for _, r := range raw {
		if r = strings.TrimSpace(r); IsKnownRole(r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p, for code below the HTTP layer.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
