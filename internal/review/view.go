package review

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// The view step: every case the service hands out (List, Get, the results
// of changes) passes through Service.view, the one place that decides what
// its reader may see of the subject's identity, so the API and the web UI
// cannot differ. Under pseudonymisation a reader sees the stable pseudonym
// (Subject) with department, job family and project codes; the employee id,
// name, email and manager are removed, and free text naming them (finding
// summaries, reasons, comments) is masked. The identity is shown only to a
// reviewer holding a live unmask grant of that case, or to one who looked
// the person up by employee id (audited as an identity lookup).

// viewState is what the view set for one reader; unexported, so stores and
// transports cannot forge it.
type viewState struct {
	masked bool
	// key is the employee id, kept for the server's own reads of the
	// subject's data (signals, declarations for the case page); never shown.
	key  string
	mask *privacy.Mask
	// unmask is the reader's unmask state of this case (grant or request).
	unmask *UnmaskState
	// projects are the subject's project codes (findings and HR record).
	projects []string
	// refs are the findings' event refs as stored (EvidenceRefs).
	refs [][]event.Ref
}

// Masked reports whether the reader sees a pseudonym instead of the identity.
func (c Case) Masked() bool { return c.masked }

// SubjectKey is the subject's employee id for the server's own reads of
// their data (the case page's timeline). It must never be shown: render
// Subject, and EmployeeID (empty when Masked).
func (c Case) SubjectKey() string {
	if c.key != "" {
		return c.key
	}
	return c.EmployeeID
}

// MaskText masks the subject's identifying strings in text the transport
// joined to the case itself (evidence lines, timeline rows); unchanged
// when the reader sees the identity.
func (c Case) MaskText(s string) string {
	if !c.masked {
		return s
	}
	return c.mask.Text(s)
}

// ProjectCodes are the subject's project codes, as the view shows them.
func (c Case) ProjectCodes() []string {
	if c.projects != nil {
		return c.projects
	}
	return projectCodesOf(c, employee.Employee{})
}

// Unmask is the reader's unmask state of this case, nil when none.
func (c Case) Unmask() *UnmaskState { return c.unmask }

// Directory reads the HR records of subjects and their managers, for what
// the view shows (job family, projects) and masks (email, login, manager).
type Directory interface {
	GetMany(ctx context.Context, ids []string) (map[string]employee.Employee, error)
}

// viewOpts says how the cases were asked for.
type viewOpts struct {
	// lookedUp is the employee id the reader named (identity lookup): the
	// answer carries that id, and nothing more of the person.
	lookedUp string
	// full reads the subject's and manager's HR records (one case: job
	// family, projects, email); a page relies on the dictionary of names.
	full bool
}

// viewAll applies the view to a page of cases with one read of the
// reader's unmask states (and, for one case, two of the directory),
// whatever the page size.
func (s *Service) viewAll(ctx context.Context, actor Actor, cs []Case, o viewOpts) ([]Case, error) {
	if !s.Privacy.On() || len(cs) == 0 {
		return cs, nil
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	states := map[string]UnmaskState{}
	if s.Unmasks != nil {
		var err error
		if states, err = s.Unmasks.StatesOf(ctx, actor.ID, ids); err != nil {
			return nil, fmt.Errorf("unmask states of %d cases: %w", len(ids), err)
		}
	}
	people := map[string]employee.Employee{}
	if s.Directory != nil && o.full {
		subjects := make([]string, 0, len(cs))
		for _, c := range cs {
			subjects = append(subjects, c.EmployeeID)
		}
		var err error
		if people, err = s.Directory.GetMany(ctx, subjects); err != nil {
			return nil, fmt.Errorf("subjects of %d cases: %w", len(cs), err)
		}
		var managers []string
		for _, e := range people {
			if e.ManagerID != "" {
				if _, ok := people[e.ManagerID]; !ok {
					managers = append(managers, e.ManagerID)
				}
			}
		}
		more, err := s.Directory.GetMany(ctx, managers)
		if err != nil {
			return nil, fmt.Errorf("managers of %d cases: %w", len(cs), err)
		}
		for k, v := range more {
			people[k] = v
		}
	}
	others, err := s.othersMask(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Case, len(cs))
	for i, c := range cs {
		var p *UnmaskState
		if st, ok := states[c.ID]; ok {
			p = &st
		}
		emp := people[c.EmployeeID]
		out[i] = s.project(c, p, emp, people[emp.ManagerID], others, o)
	}
	return out, nil
}

// view is viewAll of one case.
func (s *Service) view(ctx context.Context, actor Actor, c Case, o viewOpts) (Case, error) {
	cs, err := s.viewAll(ctx, actor, []Case{c}, o)
	if err != nil {
		return Case{}, err
	}
	return cs[0], nil
}

// project is the view of c, about emp (whose manager is mgr), for a reader
// whose unmask state is st.
func (s *Service) project(c Case, st *UnmaskState, emp, mgr employee.Employee, others *privacy.Dictionary, o viewOpts) Case {
	now := s.Now()
	if st != nil && st.Status == UnmaskPending && !st.ExpiresAt.IsZero() && !now.Before(st.ExpiresAt) {
		st.Status = UnmaskExpired
	}
	if st != nil && st.Status == UnmaskApproved && !now.Before(st.Until) {
		st.Status = UnmaskExpired // a grant lasts privacy.unmask_ttl, checked against now
	}
	c.unmask = st
	c.Subject = s.Privacy.Subject(c.EmployeeID)
	if c.JobFamily == "" {
		c.JobFamily = privacy.JobFamily(emp.Title)
	}
	c.projects = projectCodesOf(c, emp)
	if st != nil && st.Status == UnmaskApproved {
		return c
	}
	id := c.EmployeeID
	lookedUp := o.lookedUp != "" && o.lookedUp == id
	m := &privacy.Mask{}
	if lookedUp {
		m.AddPerson(c.Subject, "", c.EmployeeName, "")
	} else {
		m.AddPerson(c.Subject, id, c.EmployeeName, "")
	}
	m.AddPerson(c.Subject, "", emp.Name, emp.Email)
	if emp.ManagerID != "" {
		m.AddPerson("[manager]", emp.ManagerID, mgr.Name, mgr.Email)
	}
	// Assignment lines name the reviewer assigned: masked for the subject
	// only, as actors stay named.
	own := *m
	m.Include(others)
	c.masked, c.key, c.mask = true, id, m
	c.EmployeeID, c.EmployeeName = "", ""
	if lookedUp {
		c.EmployeeID = id // the answer may carry the id the reader supplied
	}
	c.refs = make([][]event.Ref, len(c.Findings))
	c.Findings = slices.Clone(c.Findings)
	for i := range c.Findings {
		f := &c.Findings[i]
		c.refs[i] = f.EventRefs
		f.EmployeeID = ""
		f.ID, f.Summary = m.Text(f.ID), m.Text(f.Summary)
		// The explanation is rendered per reader from its data: mask the
		// data (event text, names), not a sentence.
		f.Explanation = f.Explanation.MapText(m.Text)
		refs := make([]event.Ref, len(f.EventRefs))
		for j, r := range f.EventRefs {
			refs[j] = event.Ref{Source: r.Source, ID: m.Text(r.ID)}
		}
		f.EventRefs = refs
	}
	c.History = slices.Clone(c.History)
	for i := range c.History {
		if c.History[i].Action == ActionAssigned {
			c.History[i].Reason = own.Text(c.History[i].Reason)
			continue
		}
		c.History[i].Reason = m.Text(c.History[i].Reason)
	}
	c.Comments = slices.Clone(c.Comments)
	for i := range c.Comments {
		c.Comments[i].Text = m.Text(c.Comments[i].Text)
	}
	if c.Decision != nil {
		d := *c.Decision
		d.Reason, d.SecondReason = m.Text(d.Reason), m.Text(d.SecondReason)
		c.Decision = &d
	}
	if c.Confirmation != nil {
		k := *c.Confirmation
		k.Reason = m.Text(k.Reason)
		c.Confirmation = &k
	}
	return c
}

// EvidenceRefs are the event refs of finding i for the server's own reads
// of the evidence (the refs shown are masked: a source system may put an
// employee id into an event id).
func (c Case) EvidenceRefs(i int) []event.Ref {
	if c.refs != nil && i < len(c.refs) {
		return c.refs[i]
	}
	if i < len(c.Findings) {
		return c.Findings[i].EventRefs
	}
	return nil
}

// projectCodesOf lists the project codes of the findings and the HR record.
func projectCodesOf(c Case, e employee.Employee) []string {
	set := map[string]bool{}
	for _, f := range c.Findings {
		if f.Project != "" {
			set[f.Project] = true
		}
	}
	for _, p := range e.Projects {
		if p.Code != "" {
			set[p.Code] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recordLookup audits a reader naming a person by employee id under
// pseudonymisation.
func (s *Service) recordLookup(ctx context.Context, actor Actor, employeeID, via string) error {
	e := audit.Entry{At: s.Now(), Actor: actor.ID, ActorRoles: actor.Roles, RequestID: actor.RequestID, Reason: actor.Purpose}
	if err := s.Privacy.RecordLookup(ctx, s.Audit, e, employeeID, via); err != nil {
		return fmt.Errorf("record identity lookup: %w", err)
	}
	return nil
}

// expiry is when an unmask grant given at now ends.
func (s *Service) unmaskTTL() time.Duration {
	if s.Privacy != nil && s.Privacy.Config.UnmaskTTL > 0 {
		return s.Privacy.Config.UnmaskTTL
	}
	return 24 * time.Hour
}
