package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/tabular"
)

// auditActions are the actions the filter offers.
var auditActions = []audit.Action{
	audit.ActionDisclosureCreate, audit.ActionDisclosureEdit, audit.ActionDisclosureWithdraw, audit.ActionDisclosureDecide,
	audit.ActionDisclosureRead, audit.ActionCaseRead, review.ActionAuditCaseOpen, review.ActionAuditCaseAssign,
	review.ActionAuditCaseComment, audit.ActionCaseDecide, audit.ActionCaseAutoClear, audit.ActionWatchlistReload, audit.ActionRescan,
	// Issue 15.
	review.ActionAuditUnmask, review.ActionAuditUnmaskRequest, review.ActionAuditUnmaskDecide, privacy.ActionIdentityLookup,
	review.ActionAuditConfirmRequest, review.ActionAuditConfirm, review.ActionAuditConfirmDecline,
	review.ActionAuditCaseReassign, review.ActionAuditCaseReopen, audit.ActionCaseExport, audit.ActionAuditExport, audit.ActionAccessDenied,
}

type auditForm struct {
	Actor, Action, ResourceType, ResourceID, OwnerID, From, To string
}

type auditRow struct {
	audit.Entry
	// Owner is the owner's pseudonym (issue 15).
	Owner      string
	ActorName  string
	DetailList []kv2
}

type kv2 struct{ K, V string }

type auditData struct {
	Form    auditForm
	Actions []audit.Action
	Rows    []auditRow
	Next    string
	// MoreHref is the next page with the same filter.
	MoreHref template.URL
	// ExportHref downloads the filtered log as CSV.
	ExportHref template.URL
	Error      string
}

// auditFilter reads the audit log's filter from the query; data.Error
// names a bad date.
func auditFilter(c *gin.Context) (audit.Filter, auditForm, url.Values, string) {
	form := auditForm{
		Actor: strings.TrimSpace(c.Query("actor")), Action: c.Query("action"), ResourceType: c.Query("resource_type"),
		ResourceID: strings.TrimSpace(c.Query("resource_id")), OwnerID: strings.TrimSpace(c.Query("owner_id")),
		From: c.Query("from"), To: c.Query("to"),
	}
	f := audit.Filter{Actor: form.Actor, Action: audit.Action(form.Action), ResourceType: form.ResourceType,
		ResourceID: form.ResourceID, OwnerID: form.OwnerID}
	errKey := ""
	// Dates are calendar days in the company's zone; To is inclusive on the page.
	if form.From != "" {
		d, err := civil.Parse(form.From)
		if err != nil {
			errKey = "audit.error.date"
		} else {
			f.From = dayStart(d, langOf(c).Zone)
		}
	}
	if form.To != "" {
		d, err := civil.Parse(form.To)
		if err != nil {
			errKey = "audit.error.date"
		} else {
			f.To = dayStart(d.AddDays(1), langOf(c).Zone)
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"actor": form.Actor, "action": form.Action, "resource_type": form.ResourceType,
		"resource_id": form.ResourceID, "owner_id": form.OwnerID, "from": form.From, "to": form.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return f, form, q, errKey
}

func (u *UI) auditLog(c *gin.Context) {
	f, form, q, errKey := auditFilter(c)
	data := auditData{Form: form, Actions: auditActions, Error: errKey}
	data.ExportHref = template.URL("/audit/export?" + q.Encode())
	if data.Error != "" {
		u.render(c, http.StatusBadRequest, "audit", "audit.title", data)
		return
	}
	rows, next, err := u.auditLogService().List(c.Request.Context(), auditReader(c), f, 50, c.Query("cursor"))
	switch {
	case errors.Is(err, auditlog.ErrForbidden):
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	case errors.Is(err, audit.ErrBadCursor):
		c.Redirect(http.StatusSeeOther, "/audit")
		return
	case err != nil:
		u.fail(c, err)
		return
	}
	var plain []audit.Entry
	for _, row := range rows {
		plain = append(plain, row.Entry)
	}
	// Actors by name; under pseudonymisation by id only, as the API shows
	// them (a reviewer's name can identify the subject's team).
	names := map[string]string{}
	if !u.d.Privacy.On() {
		if names, err = u.names(c.Request.Context(), actorsOf(plain)); err != nil {
			u.fail(c, err)
			return
		}
	}
	// The same projection as the API's (privacy.Policy.AuditRows).
	for _, row := range rows {
		e := row.Entry
		r := auditRow{Entry: e, Owner: row.Owner, ActorName: names[e.Actor]}
		for k, v := range e.Details {
			r.DetailList = append(r.DetailList, kv2{k, v})
		}
		sort.Slice(r.DetailList, func(i, j int) bool { return r.DetailList[i].K < r.DetailList[j].K })
		data.Rows = append(data.Rows, r)
	}
	data.Next = next
	if next != "" {
		q.Set("cursor", next)
		data.MoreHref = template.URL("/audit?" + q.Encode())
	}
	u.render(c, http.StatusOK, "audit", "audit.title", data)
}

// auditLogService is the audit log's reader service on the UI's stores: it
// decides who may read (and audits a refusal), once for the API and the UI.
func (u *UI) auditLogService() *auditlog.Service {
	return &auditlog.Service{Store: u.d.Audit, Privacy: u.d.Privacy, Now: u.now}
}

func auditReader(c *gin.Context) auditlog.Reader {
	s := sessionOf(c)
	return auditlog.Reader{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

// actorsOf lists the people who acted in es (not the system).
func actorsOf(es []audit.Entry) []string {
	var ids []string
	for _, e := range es {
		if e.Actor != "" && e.Actor != audit.SystemActor && !slices.Contains(ids, e.Actor) {
			ids = append(ids, e.Actor)
		}
	}
	return ids
}

// exportAudit downloads the filtered audit log as CSV (UTF-8 with a BOM);
// the export is itself an audited act.
func (u *UI) exportAudit(c *gin.Context) {
	f, _, _, errKey := auditFilter(c)
	if errKey != "" {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	ctx := c.Request.Context()
	// The file shows what the page shows (privacy.Policy.AuditRows); the
	// service audits the export.
	rows, truncated, err := u.auditLogService().Export(ctx, auditReader(c), f)
	if errors.Is(err, auditlog.ErrForbidden) {
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	}
	if err != nil {
		u.fail(c, err)
		return
	}
	all := make([]audit.Entry, 0, len(rows))
	owners := make([]string, 0, len(rows))
	for _, row := range rows {
		all = append(all, row.Entry)
		owners = append(owners, row.Owner)
	}
	names := map[string]string{}
	if !u.d.Privacy.On() {
		var err error
		if names, err = u.names(ctx, actorsOf(all)); err != nil {
			u.fail(c, err)
			return
		}
	}
	l := langOf(c)
	t := tabular.Table{Sheet: l.T("audit.title")}
	for _, col := range []string{"at", "actor", "actor_name", "roles", "action", "action_id", "resource_type", "resource", "owner", "reason", "details", "request_id"} {
		t.Header = append(t.Header, l.T("audit.col."+col))
	}
	for i, e := range all {
		var det []string
		for k, v := range e.Details {
			det = append(det, k+"="+v)
		}
		sort.Strings(det)
		res, owner := e.ResourceID, e.OwnerID
		if owner == "" {
			owner = owners[i] // the pseudonym under pseudonymisation
		}
		if len(e.ResourceIDs) > 0 {
			res = strings.Join(e.ResourceIDs, " ")
		}
		if len(e.OwnerIDs) > 0 {
			owner = strings.Join(e.OwnerIDs, " ")
		}
		t.Rows = append(t.Rows, []string{e.At.UTC().Format(time.RFC3339), e.Actor, names[e.Actor], strings.Join(e.ActorRoles, " "),
			l.Label("audit.action", string(e.Action)), string(e.Action), e.ResourceType, res, owner, e.Reason, strings.Join(det, " "), e.RequestID})
	}
	writeDownload(c, "audit", tabular.CSV, t, truncated)
}

// dayStart is the first instant of day d in the viewer's zone (the dates
// they typed are days on their clock).
func dayStart(d civil.Date, loc *time.Location) time.Time {
	t := d.Time()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
