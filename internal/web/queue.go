package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/tabular"
)

// The reviewers' queue (issue 14): by default the work still to do (open
// and in review) with who has each case; "My cases" and "Unassigned"
// views; search, result count, saved filters, pages that keep the filter,
// bulk assign and clear, and exports of what the filter selects.

// SavedFilters keeps each reviewer's named queue filters (MongoDB).
type SavedFilters interface {
	List(ctx context.Context, user string) ([]review.SavedFilter, error)
	Save(ctx context.Context, user, name, query string, at time.Time) error
	Delete(ctx context.Context, user, id string) error
}

// ReviewerList lists the reviewers a case can be given to.
type ReviewerList interface {
	Recent(ctx context.Context, since time.Time) ([]string, error)
}

// queueForm is the filter as typed, kept to fill the form again.
type queueForm struct {
	Status, Severity, Department, Rule, Counterparty, Project, Subject, Assignee, From, To string
}

// Values of the form's status and assignee selects beside real ones.
const (
	statusActive = ""    // open and in review: the default
	statusAny    = "any" // every status
	assigneeMe   = "me"
	assigneeNone = "none"
)

// queueFilterParams are the query parameters of the filter (kept by
// pages, exports and saved filters).
var queueFilterParams = []string{"status", "severity", "department", "rule", "counterparty", "project", "subject", "assignee", "from", "to"}

// queueFilter reads the queue's filter from the query; errKey names a bad
// date.
func queueFilter(c *gin.Context, me string) (f review.Filter, form queueForm, errKey string) {
	q := func(k string) string { return strings.TrimSpace(c.Query(k)) }
	form = queueForm{Status: q("status"), Severity: q("severity"), Department: q("department"), Rule: q("rule"),
		Counterparty: q("counterparty"), Project: q("project"), Subject: q("subject"), Assignee: q("assignee"),
		From: q("from"), To: q("to")}
	f = review.Filter{Severity: form.Severity, Department: form.Department, Rule: form.Rule,
		Counterparty: form.Counterparty, Project: form.Project, Subject: form.Subject}
	loc := time.UTC // the days typed are days on the viewer's clock
	if l := langOf(c); l != nil && l.Zone != nil {
		loc = l.Zone
	}
	switch form.Status {
	case statusActive:
		f.Statuses = review.ActiveStatuses()
	case statusAny:
	default:
		f.Status = form.Status
	}
	switch form.Assignee {
	case "":
	case assigneeMe:
		f.Assignee = me
	case assigneeNone:
		f.Unassigned = true
	default:
		f.Assignee = form.Assignee
	}
	if form.From != "" {
		if d, err := civil.Parse(form.From); err == nil {
			f.OpenedFrom = dayStart(d, loc)
		} else {
			errKey = "queue.error.date"
		}
	}
	if form.To != "" {
		if d, err := civil.Parse(form.To); err == nil {
			f.OpenedTo = dayStart(d.AddDays(1), loc)
		} else {
			errKey = "queue.error.date"
		}
	}
	return f, form, errKey
}

// query is the form as a query string (empty fields left out).
func (f queueForm) query() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"status": f.Status, "severity": f.Severity, "department": f.Department,
		"rule": f.Rule, "counterparty": f.Counterparty, "project": f.Project, "subject": f.Subject,
		"assignee": f.Assignee, "from": f.From, "to": f.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

type queueRow struct {
	review.Case
	AssigneeName string
}

// savedLink is a saved filter as the page links it.
type savedLink struct {
	ID, Name string
	Href     template.URL
}

type queueData struct {
	Form    queueForm
	View    string // "all", "mine", "unassigned"
	Sort    string
	Sorts   []string
	Items   []queueRow
	Total   int
	Capped  bool // Total is review.MaxCount or more
	Next    string
	Options queueOptions
	// MoreHref is the next page with the same filter, FirstHref the first.
	MoreHref, FirstHref template.URL
	// ExportCSV and ExportXLSX download what the filter selects.
	ExportCSV, ExportXLSX template.URL
	// Query is the filter as a query string (to save it).
	Query     string
	Saved     []savedLink
	Reviewers []person
	Me        string
	CanAct    bool
	Error     string
}

// person is an id with a name, for selects and columns.
type person struct{ ID, Name string }

func (u *UI) caseQueue(c *gin.Context) {
	s := sessionOf(c)
	f, form, errKey := queueFilter(c, s.Subject)
	sortBy := c.DefaultQuery("sort", "score")
	if !slices.Contains(queueSorts, sortBy) {
		sortBy = "score"
	}
	ctx := c.Request.Context()
	a := reviewActor(c, "case queue")
	data := queueData{Form: form, Sort: sortBy, Sorts: queueSorts, Me: s.Subject, View: "all", Error: errKey,
		CanAct: s.has("compliance")}
	switch form.Assignee {
	case assigneeMe:
		data.View = "mine"
	case assigneeNone:
		data.View = "unassigned"
	}
	var err error
	if data.Options, err = u.queueOptions(ctx); err != nil {
		u.fail(c, err)
		return
	}
	if errKey != "" {
		u.render(c, http.StatusBadRequest, "cases", "cases.title", data)
		return
	}
	cases, next, err := u.d.Cases.List(ctx, a, f, queueLimit, c.Query("cursor"))
	if errors.Is(err, review.ErrInvalid) {
		c.Redirect(http.StatusSeeOther, "/cases")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	if data.Total, err = u.d.Cases.Count(ctx, a, f); err != nil {
		u.failErr(c, err)
		return
	}
	data.Capped = data.Total >= review.MaxCount
	sortCases(cases, sortBy)
	names, err := u.names(ctx, assigneesOf(cases))
	if err != nil {
		u.fail(c, err)
		return
	}
	for _, x := range cases {
		data.Items = append(data.Items, queueRow{Case: x, AssigneeName: names[x.Assignee]})
	}
	if data.Reviewers, err = u.reviewers(ctx, s.Subject); err != nil {
		u.fail(c, err)
		return
	}
	if u.d.SavedFilters != nil && s.Subject != "" {
		saved, err := u.d.SavedFilters.List(ctx, s.Subject)
		if err != nil {
			u.fail(c, err)
			return
		}
		for _, sf := range saved {
			// Stored as queueFilterParams only (saveFilter), so a safe
			// link of this page.
			data.Saved = append(data.Saved, savedLink{ID: sf.ID, Name: sf.Name, Href: template.URL("/cases?" + sf.Query)})
		}
	}
	q := form.query()
	data.Query = q.Encode()
	data.ExportCSV = template.URL("/cases/export?" + withParam(q, "format", "csv").Encode())
	data.ExportXLSX = template.URL("/cases/export?" + withParam(q, "format", "xlsx").Encode())
	q.Set("sort", sortBy)
	data.Next = next
	if next != "" {
		data.MoreHref = template.URL("/cases?" + withParam(q, "cursor", next).Encode())
	}
	if c.Query("cursor") != "" {
		data.FirstHref = template.URL("/cases?" + q.Encode())
	}
	u.render(c, http.StatusOK, "cases", "cases.title", data)
}

func withParam(v url.Values, k, x string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = slices.Clone(vv)
	}
	out.Set(k, x)
	return out
}

func assigneesOf(cs []review.Case) []string {
	var ids []string
	for _, c := range cs {
		if c.Assignee != "" && !slices.Contains(ids, c.Assignee) {
			ids = append(ids, c.Assignee)
		}
	}
	return ids
}

// names looks up people's names (reviewers and actors are identified by
// name; the cases' subjects are the privacy settings' business).
func (u *UI) names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 || u.d.Employees == nil {
		return out, nil
	}
	emps, err := u.d.Employees.GetMany(ctx, ids)
	if err != nil {
		return nil, wrapf(err, "names of %d people", len(ids))
	}
	for id, e := range emps {
		out[id] = e.Name
	}
	return out, nil
}

// reviewers are the people a case can be given to: the reviewers seen in
// the last 90 days, the visitor first.
func (u *UI) reviewers(ctx context.Context, me string) ([]person, error) {
	ids := []string{me}
	if u.d.Reviewers != nil {
		more, err := u.d.Reviewers.Recent(ctx, u.now().Add(-90*24*time.Hour))
		if err != nil {
			return nil, err
		}
		for _, id := range more {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	names, err := u.names(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]person, 0, len(ids))
	for _, id := range ids {
		out = append(out, person{ID: id, Name: names[id]})
	}
	sort.SliceStable(out[1:], func(i, j int) bool { return out[1+i].ID < out[1+j].ID })
	return out, nil
}

// exportCases downloads the filtered queue (GET /cases/export?format=…).
func (u *UI) exportCases(c *gin.Context) {
	s := sessionOf(c)
	f, _, errKey := queueFilter(c, s.Subject)
	format := c.DefaultQuery("format", tabular.CSV)
	if errKey != "" || !slices.Contains(tabular.Formats(), format) {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	cs, truncated, err := u.d.Cases.Export(c.Request.Context(), reviewActor(c, "case export"), f)
	if err != nil {
		u.failErr(c, err)
		return
	}
	l := langOf(c)
	t := tabular.Table{Sheet: l.T("cases.title")}
	for _, col := range review.ExportColumns() {
		t.Header = append(t.Header, l.T("export.col."+col))
	}
	names, err := u.names(c.Request.Context(), assigneesOf(cs))
	if err != nil {
		u.fail(c, err)
		return
	}
	for _, x := range cs {
		row := x.ExportRow()
		row[4] = l.Label("cstatus", x.Status)
		row[5] = l.Label("severity", x.Severity)
		if n := names[x.Assignee]; n != "" {
			row[7] = n + " (" + x.Assignee + ")"
		}
		t.Rows = append(t.Rows, row)
	}
	writeDownload(c, "cases", format, t, truncated)
}

// writeDownload sends t as an attachment.
func writeDownload(c *gin.Context, name, format string, t tabular.Table, truncated bool) {
	c.Header("Content-Type", tabular.ContentType(format))
	c.Header("Content-Disposition", `attachment; filename="`+name+"-"+time.Now().UTC().Format("20060102-150405")+"."+format+`"`)
	if truncated {
		c.Header("X-Truncated", "true")
	}
	c.Status(http.StatusOK)
	_ = tabular.Write(c.Writer, format, t)
}

// bulkCases applies one action to the ticked cases (POST /cases/bulk):
// each its own versioned, audited change; refusals are counted.
func (u *UI) bulkCases(c *gin.Context) {
	back := localPath(c.PostForm("back"), "/cases")
	var items []review.BulkItem
	for _, v := range c.PostFormArray("case") {
		id, ver, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(ver, 10, 64)
		if ok && err == nil {
			items = append(items, review.BulkItem{ID: id, Version: n})
		}
	}
	action, reason := c.PostForm("action"), c.PostForm("reason")
	if len(items) == 0 || strings.TrimSpace(reason) == "" {
		redirectDone(c, back, "bulk.incomplete")
		return
	}
	res, err := u.d.Cases.Bulk(c.Request.Context(), reviewActor(c, "case bulk "+action), action, items, c.PostForm("assignee"), reason)
	if errors.Is(err, review.ErrInvalid) {
		redirectDone(c, back, "bulk.incomplete")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	refused := 0
	for _, r := range res {
		if r.Err != nil {
			refused++
		}
	}
	if refused > 0 {
		redirectDone(c, back, "bulk.partial")
		return
	}
	redirectDone(c, back, "bulk.done")
}

// saveFilter stores the current filter under a name (POST /cases/filters).
func (u *UI) saveFilter(c *gin.Context) {
	s := sessionOf(c)
	name := strings.TrimSpace(c.PostForm("name"))
	query := c.PostForm("query")
	vals, err := url.ParseQuery(query)
	if u.d.SavedFilters == nil || name == "" || len([]rune(name)) > 80 || err != nil || len(query) > 2000 {
		redirectDone(c, "/cases?"+query, "filter.invalid")
		return
	}
	clean := url.Values{}
	for _, k := range queueFilterParams {
		if v := vals.Get(k); v != "" {
			clean.Set(k, v)
		}
	}
	if err := u.d.SavedFilters.Save(c.Request.Context(), s.Subject, name, clean.Encode(), u.now()); err != nil {
		u.fail(c, err)
		return
	}
	redirectDone(c, "/cases?"+clean.Encode(), "filter.saved")
}

// deleteFilter removes one of the visitor's saved filters.
func (u *UI) deleteFilter(c *gin.Context) {
	if u.d.SavedFilters != nil {
		if err := u.d.SavedFilters.Delete(c.Request.Context(), sessionOf(c).Subject, c.Param("id")); err != nil {
			u.fail(c, err)
			return
		}
	}
	redirectDone(c, "/cases", "filter.deleted")
}

// reassignCase hands a case to another reviewer or back to the queue.
func (u *UI) reassignCase(c *gin.Context) {
	id := c.Param("id")
	_, err := u.d.Cases.Reassign(c.Request.Context(), reviewActor(c, "case assignment"), id, formVersion(c),
		strings.TrimSpace(c.PostForm("assignee")), c.PostForm("reason"))
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, "", "", "case.error.reassign")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/cases/"+url.PathEscape(id), "case.reassigned")
}

// reopenCase puts a decided case back in the queue.
func (u *UI) reopenCase(c *gin.Context) {
	id := c.Param("id")
	_, err := u.d.Cases.Reopen(c.Request.Context(), reviewActor(c, "case reopen"), id, formVersion(c), c.PostForm("reason"))
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, "", "", "case.error.reopen")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/cases/"+url.PathEscape(id), "case.reopened")
}

// caseQueueExtras adds to a case page who has the case and whom it can
// be given to, and whether the visitor may reopen it.
// key is the subject's employee id (the case's EmployeeID may be masked).
func (u *UI) caseQueueExtras(ctx context.Context, s session, key string, d *caseData) error {
	mayAct := s.has("compliance") && key != s.Subject
	d.CanReopen = mayAct && !d.C.IsOpen()
	if d.C.Assignee != "" {
		names, err := u.names(ctx, []string{d.C.Assignee})
		if err != nil {
			return err
		}
		d.AssigneeName = names[d.C.Assignee]
	}
	if mayAct && d.C.IsOpen() {
		rs, err := u.reviewers(ctx, s.Subject)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.ID != key {
				d.Reviewers = append(d.Reviewers, r)
			}
		}
	}
	return nil
}
