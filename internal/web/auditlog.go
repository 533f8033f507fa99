package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// auditActions are the actions the filter offers.
var auditActions = []audit.Action{
	audit.ActionDisclosureCreate, audit.ActionDisclosureEdit, audit.ActionDisclosureWithdraw, audit.ActionDisclosureDecide,
	audit.ActionDisclosureRead, audit.ActionCaseRead, review.ActionAuditCaseOpen, review.ActionAuditCaseAssign,
	review.ActionAuditCaseComment, audit.ActionCaseDecide, audit.ActionCaseAutoClear, audit.ActionWatchlistReload, audit.ActionRescan,
	// Issue 15.
	review.ActionAuditUnmask, review.ActionAuditUnmaskRequest, review.ActionAuditUnmaskDecide, privacy.ActionIdentityLookup,
	review.ActionAuditConfirmRequest, review.ActionAuditConfirm, review.ActionAuditConfirmDecline,
}

type auditForm struct {
	Actor, Action, ResourceType, ResourceID, OwnerID, From, To string
}

type auditRow struct {
	audit.Entry
	// Owner is the owner's pseudonym (issue 15).
	Owner      string
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
	Error    string
}

func (u *UI) auditLog(c *gin.Context) {
	form := auditForm{
		Actor: strings.TrimSpace(c.Query("actor")), Action: c.Query("action"), ResourceType: c.Query("resource_type"),
		ResourceID: strings.TrimSpace(c.Query("resource_id")), OwnerID: strings.TrimSpace(c.Query("owner_id")),
		From: c.Query("from"), To: c.Query("to"),
	}
	f := audit.Filter{Actor: form.Actor, Action: audit.Action(form.Action), ResourceType: form.ResourceType,
		ResourceID: form.ResourceID, OwnerID: form.OwnerID}
	data := auditData{Form: form, Actions: auditActions}
	// Dates are calendar days in the company's zone; To is inclusive on the page.
	if form.From != "" {
		d, err := civil.Parse(form.From)
		if err != nil {
			data.Error = "audit.error.date"
		} else {
			f.From = dayStart(d, langOf(c).Zone)
		}
	}
	if form.To != "" {
		d, err := civil.Parse(form.To)
		if err != nil {
			data.Error = "audit.error.date"
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
	if data.Error != "" {
		u.render(c, http.StatusBadRequest, "audit", "audit.title", data)
		return
	}
	if f.OwnerID != "" {
		s := sessionOf(c)
		lookup := audit.Entry{At: u.now(), Actor: s.Subject, ActorRoles: s.Roles, RequestID: c.GetString("request_id"), Reason: "audit log by owner"}
		if err := u.d.Privacy.RecordLookup(c.Request.Context(), u.d.Audit, lookup, f.OwnerID, "audit log"); err != nil {
			u.fail(c, wrapf(err, "record identity lookup"))
			return
		}
	}
	stored, next, err := u.d.Audit.List(c.Request.Context(), f, 50, c.Query("cursor"))
	if errors.Is(err, audit.ErrBadCursor) {
		c.Redirect(http.StatusSeeOther, "/audit")
		return
	}
	if err != nil {
		u.fail(c, wrapf(err, "list audit log"))
		return
	}
	// The same projection as the API's (privacy.Policy.AuditRows).
	for _, row := range u.d.Privacy.AuditRows(stored, f.OwnerID) {
		e := row.Entry
		r := auditRow{Entry: e, Owner: row.Owner}
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

// dayStart is the first instant of day d in the viewer's zone (the dates
// they typed are days on their clock).
func dayStart(d civil.Date, loc *time.Location) time.Time {
	t := d.Time()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
