// Package incident records leaks of a confidential project (photos, design,
// specs, parameters seen outside) and answers the back-trace: everyone who
// had access when it was first seen, ranked by the evidence of the window
// before (internal/incident/backtrace scores it).
//
// Decisions:
//   - Compliance records incidents; compliance and auditors read them and
//     their back-traces. Every read of a back-trace is audited, and it
//     changes no case: it is a list to review, never an accusation.
//   - Someone who had access themselves (an insider of the project on that
//     date) may not read its back-trace: nobody reads a ranking about
//     themselves. The refusal is audited.
//   - "Had access" is, as the issue says, on the project on first_seen_on,
//     plus every contact of the project's registered partners. Those who left
//     before stay on the insider list with their exit date, for the reviewer
//     to weigh; the ranking does not guess at them.
//   - Seminars are "on the topic" when their title or speaker descriptors name
//     the project code, its name, or a keyword the incident gives.
package incident

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/project"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Kinds of leak.
const (
	KindPhotos     = "photos"
	KindDesign     = "design"
	KindSpecs      = "specs"
	KindParameters = "parameters"
	KindOther      = "other"
)

// Kinds lists the kinds of leak.
func Kinds() []string { return []string{KindPhotos, KindDesign, KindSpecs, KindParameters, KindOther} }

// Audit actions.
const (
	ActionCreate        audit.Action = "incident.create"
	ActionRead          audit.Action = "incident.read"
	ActionBacktraceRead audit.Action = "incident.backtrace_read"
	ResourceIncident                 = "incident"
)

// Sentinels.
var (
	ErrNotFound  = errors.New("incident not found")
	ErrForbidden = errors.New("not allowed")
)

// ValidationError names each invalid field.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid incident: " + strings.Join(parts, "; ")
}

// Incident is one recorded leak.
type Incident struct {
	ID          string
	ProjectCode string
	FirstSeenOn civil.Date
	Kind        string
	Where       string
	Links       []string
	// Keywords mark seminars on the leak's topic, beyond the project's code and name.
	Keywords  []string
	CreatedBy string
	CreatedAt time.Time
}

// Input is what compliance records.
type Input struct {
	ProjectCode string
	FirstSeenOn string
	Kind        string
	Where       string
	Links       []string
	Keywords    []string
}

// Store persists incidents.
type Store interface {
	Create(ctx context.Context, in Incident) error
	Get(ctx context.Context, id string) (Incident, error)
	// List returns incidents newest first.
	List(ctx context.Context, limit int) ([]Incident, error)
}

// Actor is who asks.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

func (a Actor) has(roles ...string) bool {
	return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(a.Roles, r) })
}

// Evidence reads what the back-trace weighs.
type Evidence struct {
	Signals interface {
		SignalsOf(ctx context.Context, ids []string) (map[string][]detect.Signal, error)
	}
	Seminars interface {
		SeminarsBetween(ctx context.Context, from, to civil.Date) ([]detect.Seminar, error)
	}
	Cases interface {
		CasesOf(ctx context.Context, ids []string) (map[string][]review.Case, error)
	}
	Engagements interface {
		EngagementsOf(ctx context.Context, ids []string) (map[string][]detect.Engagement, error)
	}
}

// Service records incidents and answers back-traces.
type Service struct {
	Store      Store
	Insiders   *project.Service
	Partners   *project.Partners
	Evidence   Evidence
	Pseudonyms *privacy.Pseudonymizer
	// CounterpartyType gives a watchlist id's type (the rule set in force).
	CounterpartyType func(id string) string
	Config           backtrace.Config
	// Audit also takes a back-trace's reads in one write: one entry per
	// insider ranked (owner_id), so "who looked at my data" finds it.
	Audit interface {
		audit.Store
		AppendMany(ctx context.Context, es []audit.Entry) error
	}
	Now func() time.Time
}

// Create records an incident (compliance).
func (s *Service) Create(ctx context.Context, a Actor, in Input) (Incident, error) {
	if !a.has("compliance") {
		s.deny(ctx, a, "", "recording incidents needs compliance", "create")
		return Incident{}, ErrForbidden
	}
	inc, err := s.validate(in)
	if err != nil {
		return Incident{}, err
	}
	now := s.Now().UTC()
	inc.ID, inc.CreatedBy, inc.CreatedAt = "inc-"+strings.ReplaceAll(audit.NewID(), "-", "")[:20], a.ID, now
	e := s.entry(a, ActionCreate, inc.ID, map[string]string{"project": inc.ProjectCode, "kind": inc.Kind, "first_seen_on": string(inc.FirstSeenOn)})
	if err := s.Audit.Append(ctx, e); err != nil {
		return Incident{}, err
	}
	return inc, s.Store.Create(ctx, inc)
}

func (s *Service) validate(in Input) (Incident, error) {
	f := map[string]string{}
	inc := Incident{ProjectCode: strings.ToUpper(strings.TrimSpace(in.ProjectCode)), Kind: strings.TrimSpace(in.Kind),
		Where: strings.TrimSpace(in.Where)}
	if inc.ProjectCode == "" || len(inc.ProjectCode) > 32 || strings.ContainsAny(inc.ProjectCode, " $.") {
		f["project_code"] = "is required: a project code such as MS11"
	}
	if d, err := civil.Parse(strings.TrimSpace(in.FirstSeenOn)); err != nil {
		f["first_seen_on"] = "must be a date YYYY-MM-DD"
	} else if d.After(civil.Of(s.Now())) {
		f["first_seen_on"] = "must not be in the future"
	} else {
		inc.FirstSeenOn = d
	}
	if !slices.Contains(Kinds(), inc.Kind) {
		f["kind"] = "must be one of " + strings.Join(Kinds(), ", ")
	}
	if inc.Where == "" || utf8.RuneCountInString(inc.Where) > 1000 {
		f["where"] = "is required: where it was seen, at most 1000 characters"
	}
	if len(in.Links) > 20 {
		f["links"] = "at most 20 links"
	}
	for i, l := range in.Links {
		u, err := url.Parse(strings.TrimSpace(l))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(l) > 2000 {
			f[fmt.Sprintf("links[%d]", i)] = "must be an http(s) URL"
			continue
		}
		inc.Links = append(inc.Links, strings.TrimSpace(l))
	}
	if len(in.Keywords) > 20 {
		f["keywords"] = "at most 20 keywords"
	}
	for i, k := range in.Keywords {
		k = strings.TrimSpace(k)
		if k == "" || utf8.RuneCountInString(k) > 64 {
			f[fmt.Sprintf("keywords[%d]", i)] = "must be 1 to 64 characters"
			continue
		}
		inc.Keywords = append(inc.Keywords, k)
	}
	if len(f) > 0 {
		return Incident{}, &ValidationError{Fields: f}
	}
	return inc, nil
}

// List returns recent incidents (compliance, auditor).
func (s *Service) List(ctx context.Context, a Actor) ([]Incident, error) {
	if !a.has("compliance", "auditor") {
		s.deny(ctx, a, "", "incidents need compliance or auditor", "list")
		return nil, ErrForbidden
	}
	return s.Store.List(ctx, 200)
}

// Get returns one incident (compliance, auditor).
func (s *Service) Get(ctx context.Context, a Actor, id string) (Incident, error) {
	if !a.has("compliance", "auditor") {
		s.deny(ctx, a, id, "incidents need compliance or auditor", "read")
		return Incident{}, ErrForbidden
	}
	return s.Store.Get(ctx, id)
}

// Trace is a back-trace.
type Trace struct {
	Incident Incident
	Project  project.Project
	From     civil.Date // first day of the window
	Items    []backtrace.Item
}

// Backtrace ranks everyone with access. It reads, scores and audits; it
// writes nothing else.
func (s *Service) Backtrace(ctx context.Context, a Actor, id string) (Trace, error) {
	if !a.has("compliance", "auditor") {
		s.deny(ctx, a, id, "back-traces need compliance or auditor", "backtrace")
		return Trace{}, ErrForbidden
	}
	inc, err := s.Store.Get(ctx, id)
	if err != nil {
		return Trace{}, err
	}
	from := backtrace.Window(s.Config, inc.FirstSeenOn)
	list, _, err := s.Insiders.Unaudited(ctx, inc.ProjectCode, inc.FirstSeenOn)
	if err != nil {
		return Trace{}, err
	}
	var ids []string
	attest := map[string]string{}
	for _, in := range list.Insiders {
		if !in.Active {
			continue
		}
		ids = append(ids, in.EmployeeID)
		attest[in.EmployeeID] = in.Attestation
	}
	if slices.Contains(ids, a.ID) {
		s.deny(ctx, a, id, "the reader had access to the project: nobody reads a ranking about themselves", "backtrace")
		return Trace{}, fmt.Errorf("back-trace %s: %w", id, ErrForbidden)
	}
	sigs, err := s.Evidence.Signals.SignalsOf(ctx, ids)
	if err != nil {
		return Trace{}, err
	}
	cases, err := s.Evidence.Cases.CasesOf(ctx, ids)
	if err != nil {
		return Trace{}, err
	}
	engs, err := s.Evidence.Engagements.EngagementsOf(ctx, ids)
	if err != nil {
		return Trace{}, err
	}
	seminars, err := s.Evidence.Seminars.SeminarsBetween(ctx, from, inc.FirstSeenOn)
	if err != nil {
		return Trace{}, err
	}
	in := backtrace.Input{FirstSeen: inc.FirstSeenOn, BlackoutFrom: list.Project.BlackoutFrom, BlackoutTo: list.Project.BlackoutTo,
		Seminars: seminars, CounterpartyType: s.CounterpartyType,
		Keywords: append([]string{list.Project.Code, list.Project.Name}, inc.Keywords...)}
	for _, id := range ids {
		in.People = append(in.People, backtrace.Person{Subject: s.Pseudonyms.Subject(id), Kind: backtrace.KindInsider,
			Findings: findingsOf(cases[id]), Signals: sigs[id], Engagements: engs[id], Attestation: attest[id]})
	}
	if s.Partners != nil {
		ps, err := s.Partners.ByProject(ctx, inc.ProjectCode)
		if err != nil {
			return Trace{}, err
		}
		for _, p := range ps {
			for _, c := range p.Contacts {
				in.People = append(in.People, backtrace.Person{Subject: s.Pseudonyms.Subject(project.ContactKey(p.ID, c)),
					Kind: backtrace.KindPartner, Partner: p.Name, NDAValid: p.NDAValidOn(inc.FirstSeenOn)})
			}
		}
	}
	t := Trace{Incident: inc, Project: list.Project, From: from, Items: backtrace.Rank(s.Config, in)}
	top := ""
	if len(t.Items) > 0 {
		top = strconv.Itoa(t.Items[0].Score)
	}
	e := s.entry(a, ActionBacktraceRead, inc.ID, map[string]string{"project": inc.ProjectCode, "items": strconv.Itoa(len(t.Items)), "top_score": top})
	e.Reason = "leak back-trace"
	es := []audit.Entry{e}
	for _, id := range ids {
		pe := s.entry(a, ActionBacktraceRead, inc.ID, map[string]string{"project": inc.ProjectCode})
		pe.OwnerID, pe.Reason = id, "leak back-trace"
		es = append(es, pe)
	}
	if err := s.Audit.AppendMany(ctx, es); err != nil {
		return Trace{}, err
	}
	return t, nil
}

// findingsOf collects the findings of an employee's cases, once each.
func findingsOf(cs []review.Case) []detect.Finding {
	seen := map[string]bool{}
	var out []detect.Finding
	for _, c := range cs {
		for _, f := range c.Findings {
			if !seen[f.ID] {
				seen[f.ID] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func (s *Service) entry(a Actor, action audit.Action, id string, details map[string]string) audit.Entry {
	if id == "" {
		id = "incidents"
	}
	return audit.Entry{ID: audit.NewID(), At: s.Now().UTC(), Actor: a.ID, ActorRoles: a.Roles, Action: action,
		ResourceType: ResourceIncident, ResourceID: id, RequestID: a.RequestID, Details: details}
}

func (s *Service) deny(ctx context.Context, a Actor, id, reason, attempt string) {
	e := s.entry(a, audit.ActionAccessDenied, id, map[string]string{"attempt": attempt})
	e.Reason = reason
	_ = s.Audit.Append(ctx, e)
}
