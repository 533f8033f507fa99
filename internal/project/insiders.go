// Package project keeps what compliance needs about a confidential or secret
// project around its launch: the insider list (who was on it, from when to
// when, built from HR assignment events, with their attestation state and
// the approved outside engagements that overlap the pre-launch blackout) and
// the registry of external partners under NDA (media outlets, suppliers,
// sub-suppliers, agencies) with their named contacts.
//
// Decisions:
//   - Insider lists exist only for confidential and secret projects; another
//     code answers not found.
//   - "As of" a date lists everyone whose assignment began on or before it,
//     those who left before it included (an insider list records exits,
//     it does not forget them); Active says who was on it that day.
//   - Compliance and auditors read insider lists (auditors are the second
//     line that checks them); every read is audited with the project and date.
//   - Readers see pseudonyms (privacy.pseudonymise); names and employee ids
//     only when pseudonymisation is off.
package project

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// Sentinels; the HTTP layer maps them.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("not allowed")
	ErrConflict  = errors.New("changed concurrently")
	ErrStale     = errors.New("changed since the version read")
)

// Audit actions.
const (
	ActionInsidersRead audit.Action = "project.insiders_read"
	ResourceProject    string       = "project"
)

// Roles as tokens name them.
const (
	roleCompliance = "compliance"
	roleAuditor    = "auditor"
	roleAdmin      = "admin"
)

// Actor is who asks.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

func (a Actor) has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// Project is a product programme as the HR assignments describe it.
type Project struct {
	Code        string
	Name        string
	Sensitivity string
	LaunchDate  civil.Date
	// BlackoutFrom..BlackoutTo is the pre-launch blackout (empty without a launch date).
	BlackoutFrom civil.Date
	BlackoutTo   civil.Date
}

// Period is one stretch on the project; a zero To means still on it (as of the list's date).
type Period struct {
	From civil.Date
	To   civil.Date
}

// Insider is one person on an insider list.
type Insider struct {
	EmployeeID string // "" when pseudonymised
	Name       string // "" when pseudonymised
	Subject    string
	Department string
	Periods    []Period
	// Active: on the project on the list's date.
	Active bool
	// Attestation is the latest task's status, or "missing" when none was asked.
	Attestation   string
	AttestedAt    time.Time
	AttestationID string
	// BlackoutEngagements are approved engagements overlapping the blackout.
	BlackoutEngagements []Engagement
}

// AttestationMissing is Insider.Attestation when no task exists.
const AttestationMissing = "missing"

// Engagement is an approved outside engagement, as an insider list shows it.
type Engagement struct {
	DisclosureID     string
	Counterparty     string
	CounterpartyType string
	Kind             string
	Start, End       civil.Date
}

// List is an insider list.
type List struct {
	Project  Project
	AsOf     civil.Date
	Insiders []Insider
}

// Members gives the employees who ever had an assignment to a project.
type Members interface {
	OnProject(ctx context.Context, code string) ([]employee.Employee, error)
}

// Engagements gives employees' declared engagements.
type Engagements interface {
	EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error)
}

// Tasks gives a project's attestations.
type Tasks interface {
	ByProject(ctx context.Context, code string) ([]attest.Task, error)
}

// Sensitive reports whether a sensitivity makes a project an insider project.
func Sensitive(s string) bool { return attest.Sensitive(s) }

// Describe returns the project as its members' assignments say it (the
// latest stated name, sensitivity and launch date), ok false when nobody
// was ever on it.
func Describe(code string, members []employee.Employee, blackoutDays int) (Project, bool) {
	p := Project{Code: code}
	var latest civil.Date
	found := false
	for _, e := range members {
		for _, a := range e.Projects {
			if a.Code != code {
				continue
			}
			if !found || !a.Start.Before(latest) {
				latest, found = a.Start, true
				p.Sensitivity = a.Sensitivity
				if a.Name != "" {
					p.Name = a.Name
				}
				if !a.LaunchDate.IsZero() {
					p.LaunchDate = a.LaunchDate
				}
			}
		}
	}
	p.BlackoutFrom, p.BlackoutTo, _ = attest.Blackout(p.LaunchDate, blackoutDays)
	return p, found
}

// Build makes the insider list of code as of asOf. It is pure: members with
// their HR projections, the project's attestation tasks, the members'
// engagements, and the subject function (a pseudonymizer's Subject).
func Build(p Project, asOf civil.Date, members []employee.Employee, tasks []attest.Task,
	engagements map[string][]detect.Engagement, subject func(string) string) List {
	latest := map[string]attest.Task{}
	for _, t := range tasks {
		if cur, ok := latest[t.EmployeeID]; !ok || t.Cycle > cur.Cycle || (t.Cycle == cur.Cycle && t.CreatedAt.After(cur.CreatedAt)) {
			latest[t.EmployeeID] = t
		}
	}
	out := List{Project: p, AsOf: asOf}
	for _, e := range members {
		in := Insider{EmployeeID: e.ID, Name: e.Name, Department: e.Department, Subject: subject(e.ID), Attestation: AttestationMissing}
		for _, a := range e.Projects {
			if a.Code != p.Code || a.Start.After(asOf) {
				continue
			}
			per := Period{From: a.Start}
			if !a.End.IsZero() && !a.End.After(asOf) {
				per.To = a.End
			}
			in.Periods = append(in.Periods, per)
			if a.Active(asOf) {
				in.Active = true
			}
		}
		if len(in.Periods) == 0 {
			continue
		}
		if t, ok := latest[e.ID]; ok {
			in.Attestation, in.AttestedAt, in.AttestationID = t.Status, t.AttestedAt, t.ID
		}
		if !p.BlackoutFrom.IsZero() {
			for _, g := range engagements[e.ID] {
				end := g.End
				if end.IsZero() || end.Before(g.Start) {
					end = g.Start
				}
				if g.Status == detect.StatusApproved && !g.Start.After(p.BlackoutTo) && !end.Before(p.BlackoutFrom) {
					in.BlackoutEngagements = append(in.BlackoutEngagements, Engagement{DisclosureID: g.ID, Counterparty: g.Counterparty,
						CounterpartyType: g.CounterpartyType, Kind: g.Kind, Start: g.Start, End: end})
				}
			}
		}
		out.Insiders = append(out.Insiders, in)
	}
	sort.Slice(out.Insiders, func(i, j int) bool {
		a, b := out.Insiders[i], out.Insiders[j]
		if a.Periods[0].From != b.Periods[0].From {
			return a.Periods[0].From < b.Periods[0].From
		}
		return a.Subject < b.Subject
	})
	return out
}

// AuditStore is the audit log: one entry at a time, or a list's reads in one write.
type AuditStore interface {
	audit.Store
	AppendMany(ctx context.Context, es []audit.Entry) error
}

// Service answers insider lists; every read is audited, once for the list
// and once per person on it (owner_id), so "who looked at my data" finds it.
type Service struct {
	Members     Members
	Tasks       Tasks
	Engagements Engagements
	Audit       AuditStore
	Pseudonyms  *privacy.Pseudonymizer
	// Pseudonymise hides names and ids (privacy.pseudonymise).
	Pseudonymise bool
	BlackoutDays func() int
	Now          func() time.Time
}

func (s *Service) blackoutDays() int {
	if s.BlackoutDays == nil {
		return detect.DefaultConfig().BlackoutDays
	}
	return s.BlackoutDays()
}

// Insiders returns the insider list of code as of asOf (zero: today).
func (s *Service) Insiders(ctx context.Context, a Actor, code string, asOf civil.Date) (List, error) {
	code = strings.TrimSpace(code)
	if !a.has(roleCompliance, roleAuditor) {
		s.deny(ctx, a, code, "insider lists need compliance or auditor")
		return List{}, ErrForbidden
	}
	if asOf.IsZero() {
		asOf = civil.Of(s.Now())
	}
	l, _, err := s.Unaudited(ctx, code, asOf)
	if err != nil {
		return List{}, err
	}
	now := s.Now().UTC()
	es := []audit.Entry{{ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: a.Roles, Action: ActionInsidersRead,
		ResourceType: ResourceProject, ResourceID: code, RequestID: a.RequestID, Reason: "insider list",
		Details: map[string]string{"as_of": string(asOf), "insiders": fmt.Sprint(len(l.Insiders))}}}
	for _, in := range l.Insiders {
		es = append(es, audit.Entry{ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: a.Roles, Action: ActionInsidersRead,
			ResourceType: ResourceProject, ResourceID: code, OwnerID: in.EmployeeID, RequestID: a.RequestID, Reason: "insider list",
			Details: map[string]string{"as_of": string(asOf)}})
	}
	if err := s.Audit.AppendMany(ctx, es); err != nil {
		return List{}, err // no unaudited read
	}
	if s.Pseudonymise {
		for i := range l.Insiders {
			l.Insiders[i].EmployeeID, l.Insiders[i].Name = "", ""
		}
	}
	return l, nil
}

// Unaudited returns the list for code as of asOf with employee ids kept,
// for other services that audit their own reads (the back-trace).
func (s *Service) Unaudited(ctx context.Context, code string, asOf civil.Date) (List, []employee.Employee, error) {
	members, err := s.Members.OnProject(ctx, code)
	if err != nil {
		return List{}, nil, err
	}
	p, ok := Describe(code, members, s.blackoutDays())
	if !ok || !Sensitive(p.Sensitivity) {
		return List{}, nil, fmt.Errorf("project %q: %w", code, ErrNotFound)
	}
	tasks, err := s.Tasks.ByProject(ctx, code)
	if err != nil {
		return List{}, nil, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	engs, err := s.Engagements.EngagementsOf(ctx, ids)
	if err != nil {
		return List{}, nil, err
	}
	return Build(p, asOf, members, tasks, engs, s.Pseudonyms.Subject), members, nil
}

func (s *Service) deny(ctx context.Context, a Actor, id, reason string) {
	e := audit.Entry{ID: audit.NewID(), At: s.Now().UTC(), Actor: a.ID, ActorRoles: a.Roles, Action: audit.ActionAccessDenied,
		ResourceType: ResourceProject, ResourceID: id, Reason: reason, RequestID: a.RequestID, Details: map[string]string{"attempt": "insiders"}}
	_ = s.Audit.Append(ctx, e)
}
