package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
)

// inboxItem is a pending declaration with the employee and their earlier
// declarations, which is what an approver weighs.
type inboxItem struct {
	D        disclosure.Disclosure
	Employee employee.Employee
	Earlier  []disclosure.Disclosure
	// Form and Errors hold a refused decision, so it comes back as typed.
	Outcome, Comment, Conditions string
	Errors                       map[string]string
}

type inboxData struct {
	Items []inboxItem
	Next  string
}

// earlierLimit bounds the history shown beside each pending declaration.
const earlierLimit = 10

func (u *UI) inbox(c *gin.Context) { u.renderInbox(c, http.StatusOK, nil) }

func (u *UI) renderInbox(c *gin.Context, status int, refused *inboxItem) {
	ctx := c.Request.Context()
	a := actor(c)
	ds, next, err := u.d.Disclosures.Inbox(ctx, a, disclosure.Page{Limit: 50, Cursor: c.Query("cursor")})
	if err != nil {
		u.failErr(c, err)
		return
	}
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.EmployeeID)
	}
	emps, err := u.d.Employees.GetMany(ctx, ids)
	if err != nil {
		u.fail(c, wrapf(err, "employees of the inbox"))
		return
	}
	earlier := map[string][]disclosure.Disclosure{}
	items := make([]inboxItem, 0, len(ds))
	for _, d := range ds {
		prev, ok := earlier[d.EmployeeID]
		if !ok {
			// The pending ones this page already read are left out, so no
			// read is recorded twice (issue 14).
			var pendingIDs []string
			for _, x := range ds {
				if x.EmployeeID == d.EmployeeID {
					pendingIDs = append(pendingIDs, x.ID)
				}
			}
			prev, _, err = u.d.Disclosures.List(ctx, a, disclosure.ListFilter{EmployeeID: d.EmployeeID, ExcludeIDs: pendingIDs},
				disclosure.Page{Limit: earlierLimit + len(pendingIDs)})
			if err != nil {
				u.failErr(c, err)
				return
			}
			earlier[d.EmployeeID] = prev
		}
		// No outcome is chosen for the approver (issue 14): the buttons
		// say what they do, and a reject asks to confirm.
		it := inboxItem{D: d, Employee: emps[d.EmployeeID]}
		for _, p := range prev {
			if p.ID != d.ID && len(it.Earlier) < earlierLimit {
				it.Earlier = append(it.Earlier, p)
			}
		}
		if it.Employee.ID == "" {
			it.Employee.ID = d.EmployeeID
		}
		if refused != nil && refused.D.ID == d.ID {
			it.Outcome, it.Comment, it.Conditions, it.Errors = refused.Outcome, refused.Comment, refused.Conditions, refused.Errors
		}
		items = append(items, it)
	}
	u.render(c, status, "inbox", "inbox.title", inboxData{Items: items, Next: next})
}

// conditionsOf splits the conditions box: one condition per line.
func conditionsOf(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (u *UI) decideDeclaration(c *gin.Context) {
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	in := disclosure.DecisionInput{Outcome: disclosure.Outcome(c.PostForm("decision")), Comment: strings.TrimSpace(c.PostForm("comment")),
		Conditions: conditionsOf(c.PostForm("conditions")), Version: formVersion(c)}
	if in.Outcome == disclosure.OutcomeReject && len(in.Conditions) > 0 {
		// The conditions box belongs to an approval; a reviewer who typed
		// some and then chose reject means the rejection.
		in.Conditions = nil
	}
	d, err := u.d.Disclosures.Decide(c.Request.Context(), actor(c), id, in)
	if fe := fieldErrors(langOf(c), err); fe != nil {
		refused := &inboxItem{D: disclosure.Disclosure{ID: id}, Outcome: string(in.Outcome), Comment: c.PostForm("comment"),
			Conditions: c.PostForm("conditions"), Errors: fe}
		u.renderInbox(c, http.StatusUnprocessableEntity, refused)
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/inbox", "decided."+string(d.Status))
}

// formVersion is the version the page showed (a hidden field), 0 if absent
// or malformed: the service then refuses the decision as unversioned.
func formVersion(c *gin.Context) int64 {
	n, err := strconv.ParseInt(c.PostForm("version"), 10, 64)
	if err != nil || n < 1 {
		return 0
	}
	return n
}
