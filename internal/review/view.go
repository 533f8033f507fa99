package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/employee"
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

// Directory reads the HR record of a subject, for what the view shows
// (job family, projects) and masks (email, login, manager).
type Directory interface {
	Get(ctx context.Context, id string) (employee.Employee, error)
}

// viewOpts says how the case was asked for.
type viewOpts struct {
	// lookedUp is the employee id the reader named (identity lookup).
	lookedUp string
	// full reads the HR record (one case); lists use what the case holds.
	full bool
}

// viewAll applies view to a page of cases, reading the reader's unmask
// states for the page in one call.
func (s *Service) viewAll(ctx context.Context, actor Actor, cs []Case, o viewOpts) ([]Case, error) {
	if !s.Privacy.On() {
		return cs, nil
	}
	states := map[string]UnmaskState{}
	if s.Unmasks != nil && len(cs) > 0 {
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		var err error
		if states, err = s.Unmasks.StatesOf(ctx, actor.ID, ids); err != nil {
			return nil, fmt.Errorf("unmask states of %d cases: %w", len(ids), err)
		}
	}
	out := make([]Case, len(cs))
	for i, c := range cs {
		st, ok := states[c.ID]
		var p *UnmaskState
		if ok {
			p = &st
		}
		v, err := s.project(ctx, c, p, o)
		if err != nil {
			return nil, err
		}
		out[i] = v
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

// project is the view of c for a reader whose unmask state is st.
func (s *Service) project(ctx context.Context, c Case, st *UnmaskState, o viewOpts) (Case, error) {
	now := s.Now()
	if st != nil && st.Status == UnmaskPending && !st.ExpiresAt.IsZero() && !now.Before(st.ExpiresAt) {
		st.Status = UnmaskExpired
	}
	if st != nil && st.Status == UnmaskApproved && !now.Before(st.Until) {
		st.Status = UnmaskExpired // a grant lasts privacy.unmask_ttl, checked against now
	}
	c.unmask = st
	c.Subject = s.Privacy.Subject(c.EmployeeID)
	var emp employee.Employee
	if o.full && s.Directory != nil {
		e, err := s.Directory.Get(ctx, c.EmployeeID)
		if err != nil && !errors.Is(err, employee.ErrNotFound) {
			return Case{}, fmt.Errorf("subject of case %s: %w", c.ID, err)
		}
		emp = e
		if c.JobFamily == "" {
			c.JobFamily = privacy.JobFamily(e.Title)
		}
	}
	c.projects = projectCodesOf(c, emp)
	if (st != nil && st.Status == UnmaskApproved) || (o.lookedUp != "" && o.lookedUp == c.EmployeeID) {
		return c, nil
	}
	m := &privacy.Mask{}
	m.AddPerson(c.Subject, c.EmployeeID, c.EmployeeName, "")
	m.AddPerson(c.Subject, "", emp.Name, emp.Email)
	if emp.ManagerID != "" && s.Directory != nil {
		mgr, err := s.Directory.Get(ctx, emp.ManagerID)
		if err != nil && !errors.Is(err, employee.ErrNotFound) {
			return Case{}, fmt.Errorf("manager of case %s: %w", c.ID, err)
		}
		m.AddPerson("[manager]", emp.ManagerID, mgr.Name, mgr.Email)
	}
	c.masked, c.key, c.mask = true, c.EmployeeID, m
	c.EmployeeID, c.EmployeeName = "", ""
	c.Findings = slices.Clone(c.Findings)
	for i := range c.Findings {
		f := &c.Findings[i]
		f.EmployeeID = ""
		f.Summary = m.Text(f.Summary)
	}
	c.History = slices.Clone(c.History)
	for i := range c.History {
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
	return c, nil
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
