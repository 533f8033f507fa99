package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

func reviewActor(c *gin.Context, purpose string) review.Actor {
	s := sessionOf(c)
	return review.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id"), Purpose: purpose}
}

// queueLimit is one page of the queue; the queue is sorted within it.
const queueLimit = review.MaxLimit

// Sort orders of the queue.
var queueSorts = []string{"score", "severity", "opened", "updated", "employee"}

// queueOptions are the choices of the filter's selects.
type queueOptions struct {
	Statuses, Severities, Departments, Rules, Counterparties []string
}

func severityRank(s string) int {
	switch s {
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

func sortCases(cs []review.Case, by string) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		switch by {
		case "severity":
			if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
				return ra > rb
			}
			return a.Score > b.Score
		case "opened":
			return a.OpenedAt.After(b.OpenedAt)
		case "updated":
			return a.UpdatedAt.After(b.UpdatedAt)
		case "employee":
			// Masked rows have no id: by pseudonym then.
			if a.EmployeeID != b.EmployeeID {
				return a.EmployeeID < b.EmployeeID
			}
			return a.Subject < b.Subject
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ID < b.ID
	})
}

// queueOptions offers the values that occur in the open and in-review
// cases, from the case store's counts: no case is read.
func (u *UI) queueOptions(ctx context.Context) (queueOptions, error) {
	o := queueOptions{
		Statuses:   []string{review.StatusOpen, review.StatusInReview, review.StatusCleared, review.StatusConfirmed},
		Severities: []string{"high", "medium", "low"},
	}
	st, err := u.caseViews(ctx)
	if err != nil {
		return o, err
	}
	delete(st.ByDepartment, "")
	o.Departments, o.Rules, o.Counterparties = sortedKeys(st.ByDepartment), sortedKeys(st.ByRule), sortedKeys(st.ByCounterparty)
	return o, nil
}

// caseViews reads what the dashboard and the queue's filter options need:
// the case store's counts, one bounded read whatever the number of cases
// (review.Store.Stats).
func (u *UI) caseViews(ctx context.Context) (review.QueueStats, error) {
	if u.d.CaseStore == nil {
		return review.NewQueueStats(), nil
	}
	st, err := u.d.CaseStore.Stats(ctx)
	if err != nil {
		return review.QueueStats{}, wrapf(err, "case counts")
	}
	return st, nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// evidence is one event behind a finding, as the reviewer reads it.
type evidence struct {
	Ref     event.Ref
	Type    string
	Date    string
	Summary string
	// Parts are Summary's labelled values; the values are the event's
	// data, shown as given (translate="no").
	Parts   []evidencePart
	Missing bool
}

type evidencePart struct{ Label, Value string }

type findingView struct {
	F        detect.Finding
	Evidence []evidence
}

type caseData struct {
	C            review.Case
	Employee     employee.Employee
	ManagerName  string
	Timeline     template.HTML
	Legend       []legendItem
	Rows         []timelineRow
	Findings     []findingView
	Declarations []disclosure.Disclosure
	CanDecide    bool
	Outcome      string
	Reason       string
	Error        string
	// Issue 15: who the page names, unmasking and four eyes.
	Who        who
	CanUnmask  bool
	CanConfirm bool
	TwoPerson  bool
	// The queue's changes (queue.go): who has the case, to whom it can go.
	AssigneeName string
	Reviewers    []person
	CanReopen    bool
}

func (u *UI) casePage(c *gin.Context) { u.renderCase(c, http.StatusOK, "", "", "") }

func (u *UI) renderCase(c *gin.Context, status int, outcome, reason, errKey string) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	// Opening a case is a read of personal data: review.Service audits it.
	cs, err := u.d.Cases.Get(ctx, reviewActor(c, "case review"), id)
	if err != nil {
		u.failErr(c, err)
		return
	}
	// The subject's own data is read by the key the view keeps; what is
	// shown of it goes through the view (Masked, MaskText).
	key := cs.SubjectKey()
	emp, err := u.d.Employees.Get(ctx, key)
	if err != nil && !errors.Is(err, employee.ErrNotFound) {
		u.fail(c, wrapf(err, "employee of case %s", id))
		return
	}
	if emp.ID == "" {
		emp = employee.Employee{ID: key, Name: cs.EmployeeName, Department: cs.Department}
	}
	var managerName string
	if emp.ManagerID != "" && !cs.Masked() {
		if m, err := u.d.Employees.Get(ctx, emp.ManagerID); err == nil {
			managerName = m.Name
		}
	}
	var sigs []detect.Signal
	if u.d.Signals != nil {
		if sigs, err = u.d.Signals.Signals(ctx, key); err != nil {
			u.fail(c, wrapf(err, "signals of case %s", id))
			return
		}
	}
	decls, _, err := u.d.Disclosures.List(ctx, actor(c), disclosure.ListFilter{EmployeeID: key}, disclosure.Page{Limit: 100})
	if err != nil {
		u.failErr(c, err)
		return
	}
	views := make([]findingView, 0, len(cs.Findings))
	for i, f := range cs.Findings {
		ev := u.evidenceOf(ctx, langOf(c), cs.EvidenceRefs(i))
		for i := range ev {
			ev[i].Summary = cs.MaskText(ev[i].Summary) // attendee lists naming the subject
			for j := range ev[i].Parts {
				ev[i].Parts[j].Value = cs.MaskText(ev[i].Parts[j].Value)
			}
			ev[i].Ref.ID = cs.MaskText(ev[i].Ref.ID)
		}
		views = append(views, findingView{F: f, Evidence: ev})
	}
	tl := buildTimeline(langOf(c), emp, sigs, decls, cs.Findings, u.now())
	maskTimeline(&tl, cs)
	s := sessionOf(c)
	w := who{Label: emp.Name, ID: emp.ID}
	if cs.Masked() {
		w = who{Label: cs.Subject}
	}
	reviewer := s.has(auth.RoleCompliance) && cs.IsOpen() && key != s.Subject
	st := cs.Unmask()
	live := st != nil && (st.Status == review.UnmaskPending || st.Status == review.UnmaskApproved)
	data := caseData{
		C: cs, Employee: emp, ManagerName: managerName, Timeline: tl.SVG(), Legend: tl.Legend(), Rows: tl.Rows, Findings: views,
		Declarations: decls, CanDecide: reviewer && cs.Confirmation == nil,
		Outcome: outcome, Reason: reason, Error: errKey,
		Who: w, CanUnmask: s.has(auth.RoleCompliance) && key != s.Subject && cs.Masked() && !live,
		CanConfirm: reviewer && cs.Confirmation != nil && cs.Confirmation.By != s.Subject,
		TwoPerson:  u.cfg.TwoPersonUnmask,
	}
	if err := u.caseQueueExtras(ctx, s, key, &data); err != nil {
		u.fail(c, err)
		return
	}
	u.render(c, status, "case", "case.title", data)
}

// maskTimeline masks the subject's identity in the timeline's texts (the
// view masks the case; these come from the subject's other data).
func maskTimeline(t *timeline, cs review.Case) {
	if !cs.Masked() {
		return
	}
	for i := range t.Lanes {
		for j := range t.Lanes[i].Items {
			it := &t.Lanes[i].Items[j]
			it.Label, it.Title = cs.MaskText(it.Label), cs.MaskText(it.Title)
		}
	}
	for i := range t.Rows {
		// The marked-up text quotes event data as given: masked pages show
		// the masked plain text instead, still marked as data where the
		// row quoted some (a seminar's title, a merchant) so translators
		// and the reader know it is not the UI's language.
		r := &t.Rows[i]
		r.Text = cs.MaskText(r.Text)
		if r.HTML != "" {
			r.HTML = template.HTML(`<span translate="no">` + template.HTMLEscapeString(r.Text) + `</span>`)
		}
	}
}

// maxEvidence bounds the events fetched per finding.
const maxEvidence = 10

func (u *UI) evidenceOf(ctx context.Context, l *lang, refs []event.Ref) []evidence {
	var out []evidence
	for i, ref := range refs {
		if i == maxEvidence || u.d.Events == nil {
			break
		}
		r, err := u.d.Events.Get(ctx, ref)
		if err != nil {
			out = append(out, evidence{Ref: ref, Missing: true})
			continue
		}
		out = append(out, describeEvent(l, r.Event))
	}
	return out
}

// describeEvent is a one-line account of an event for a reviewer.
func describeEvent(l *lang, e event.Event) evidence {
	ev := evidence{Ref: e.Ref, Type: e.Type}
	if !e.Time.IsZero() {
		ev.Date = e.Time.In(l.Zone).Format("2006-01-02")
	}
	parts := []string{}
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, l.T(label)+": "+v)
			ev.Parts = append(ev.Parts, evidencePart{Label: l.T(label), Value: v})
		}
	}
	switch d := e.Data.(type) {
	case *event.ExpenseClaim:
		ev.Date = string(d.IncurredOn)
		add("ev.merchant", d.Merchant)
		add("ev.amount", d.Amount.Amount+" "+d.Amount.Currency)
		add("ev.category", d.Category)
		add("ev.description", d.Description)
		add("ev.city", d.City)
		add("ev.attendees", strings.Join(d.Attendees, ", "))
	case *event.CardTransaction:
		ev.Date = d.OccurredAt.In(l.Zone).Format("2006-01-02")
		add("ev.merchant", d.Merchant)
		add("ev.amount", d.Amount.Amount+" "+d.Amount.Currency)
		add("ev.mcc", d.MCC)
		add("ev.city", d.City)
	case *event.SeminarReported:
		ev.Date = string(d.Date)
		add("ev.organizer", d.Organizer)
		add("ev.title", d.Title)
		add("ev.city", d.City)
		add("ev.speakers", strings.Join(d.SpeakerDescriptors, "; "))
	default:
		add("ev.subject", e.Subject)
	}
	ev.Summary = strings.Join(parts, " · ")
	return ev
}

func (u *UI) decideCase(c *gin.Context) {
	outcome, reason := c.PostForm("outcome"), strings.TrimSpace(c.PostForm("reason"))
	x, err := u.d.Cases.Decide(c.Request.Context(), reviewActor(c, "case decision"), c.Param("id"), formVersion(c), outcome, reason)
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, outcome, c.PostForm("reason"), "case.error.reason")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	flash := "case." + outcome
	if x.Confirmation != nil {
		flash = "case.confirm.requested" // four eyes: not in effect yet
	}
	redirectDone(c, "/cases/"+url.PathEscape(c.Param("id")), flash)
}

func (u *UI) assignCase(c *gin.Context) {
	_, err := u.d.Cases.Assign(c.Request.Context(), reviewActor(c, "case assignment"), c.Param("id"), "")
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/cases/"+url.PathEscape(c.Param("id")), "case.assigned")
}

func (u *UI) commentCase(c *gin.Context) {
	_, err := u.d.Cases.Comment(c.Request.Context(), reviewActor(c, "case comment"), c.Param("id"), c.PostForm("text"))
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, "", "", "case.error.comment")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/cases/"+url.PathEscape(c.Param("id")), "case.commented")
}
