package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/tabular"
)

// The queue's search, export, reassignment, reopening and bulk actions
// (issue 14). Who may do what is review.Service's decision, as for the
// other case routes.

// caseFilterParams are the query parameters of the queue's filter, shared
// by GET /cases and GET /cases/export.
var caseFilterParams = []string{"status", "severity", "employee_id", "department", "rule", "counterparty",
	"assignee", "unassigned", "project", "subject", "opened_from", "opened_to"}

// registerQueue adds the routes of this file (called by Register).
func (h CaseRoutes) registerQueue(api *gin.RouterGroup) {
	api.GET("/cases/export", h.export)
	api.POST("/cases/bulk", h.bulk)
	api.POST("/cases/:id/assignment", h.reassign)
	api.POST("/cases/:id/reopen", h.reopen)
}

// caseFilter reads the queue's filter from q. status may list several
// statuses separated by commas ("open,in_review", the default queue).
func caseFilter(q map[string]string) (review.Filter, error) {
	f := review.Filter{Severity: q["severity"], EmployeeID: q["employee_id"], Department: q["department"],
		Rule: q["rule"], Counterparty: q["counterparty"], Assignee: q["assignee"], Project: q["project"],
		Subject: strings.TrimSpace(q["subject"])}
	var errs []error
	if st := q["status"]; st != "" {
		parts := strings.Split(st, ",")
		for _, p := range parts {
			if err := checkEnum("status", strings.TrimSpace(p), oneOf(caseStatuses()), caseStatuses()); err != nil {
				errs = append(errs, err)
				break
			}
		}
		if len(parts) == 1 {
			f.Status = strings.TrimSpace(parts[0])
		} else {
			for _, p := range parts {
				f.Statuses = append(f.Statuses, strings.TrimSpace(p))
			}
		}
	}
	switch q["unassigned"] {
	case "", "false":
	case "true":
		f.Unassigned = true
	default:
		errs = append(errs, BadRequest("invalid_query", "a query parameter has an unknown value",
			Detail{Field: "unassigned", Message: "must be true or false"}))
	}
	day := func(name string, plusOne bool) time.Time {
		v := q[name]
		if v == "" {
			return time.Time{}
		}
		d, err := civil.Parse(v)
		if err != nil {
			errs = append(errs, BadRequest("invalid_query", "a date is malformed", Detail{Field: name, Message: "must be a date like 2025-03-31"}))
			return time.Time{}
		}
		if plusOne {
			d = d.AddDays(1) // the last day is included
		}
		return d.Time()
	}
	f.OpenedFrom, f.OpenedTo = day("opened_from", false), day("opened_to", true)
	errs = append(errs,
		checkEnum("severity", q["severity"], oneOf(caseSeverities()), caseSeverities()),
		checkEnum("rule", q["rule"], oneOf(detect.Rules()), detect.Rules()),
		checkRef("employee_id", q["employee_id"]),
		checkRef("assignee", q["assignee"]),
		checkQueryText("department", q["department"]),
		checkQueryText("counterparty", q["counterparty"]),
		checkQueryText("project", q["project"]),
		checkSubject("subject", q["subject"]),
	)
	if err := mergeBadRequests(errs...); err != nil {
		return review.Filter{}, err
	}
	return f, nil
}

// export answers GET /cases/export?format=csv|xlsx with the queue's
// filters: at most review.MaxExport rows (X-Truncated: true when there
// were more), CSV in UTF-8 with a byte-order mark.
func (h CaseRoutes) export(c *gin.Context) {
	q, err := query(c, append([]string{"format"}, caseFilterParams...)...)
	if err != nil {
		_ = c.Error(err)
		return
	}
	format := q["format"]
	if format == "" {
		format = tabular.CSV
	}
	if err := checkEnum("format", format, oneOf(tabular.Formats()), tabular.Formats()); err != nil {
		_ = c.Error(err)
		return
	}
	f, err := caseFilter(q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	cs, truncated, err := h.Service.Export(c.Request.Context(), caseActor(c, "case export"), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	t := tabular.Table{Sheet: "cases", Header: review.ExportColumns()}
	for _, x := range cs {
		t.Rows = append(t.Rows, x.ExportRow())
	}
	WriteTable(c, "cases", format, t, truncated)
}

// WriteTable sends t as a download named name.<format> (the web UI's
// exports use it too).
func WriteTable(c *gin.Context, name, format string, t tabular.Table, truncated bool) {
	c.Header("Content-Type", tabular.ContentType(format))
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, name, time.Now().UTC().Format("20060102-150405"), format))
	if truncated {
		c.Header("X-Truncated", "true")
	}
	c.Status(http.StatusOK)
	if err := tabular.Write(c.Writer, format, t); err != nil {
		_ = c.Error(err) // headers are sent: logged only
	}
}

type caseReassignRequest struct {
	Assignee *string `json:"assignee"`
	Reason   string  `json:"reason"`
	Version  *int64  `json:"version"`
}

type caseReopenRequest struct {
	Reason  string `json:"reason"`
	Version *int64 `json:"version"`
}

func (r *caseReassignRequest) check() error {
	var errs []error
	if r.Assignee == nil {
		errs = append(errs, BadRequest("invalid_body", "the assignee is required (\"\" gives the case back to the queue)", Detail{Field: "assignee", Message: "is required"}))
	} else if err := checkRef("assignee", *r.Assignee); err != nil {
		errs = append(errs, BadRequest("invalid_body", "the assignee must be an employee id", Detail{Field: "assignee", Message: "must be an employee id"}))
	}
	errs = append(errs, checkReasonBody(r.Reason))
	return mergeBadRequests(errs...)
}

func (r *caseReassignRequest) bodyVersion() *int64 { return r.Version }

func (r *caseReopenRequest) check() error        { return checkReasonBody(r.Reason) }
func (r *caseReopenRequest) bodyVersion() *int64 { return r.Version }

func checkReasonBody(reason string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(reason)); n == 0 || n > 2000 {
		return BadRequest("invalid_body", "the reason must have 1 to 2000 characters", Detail{Field: "reason", Message: "must have 1 to 2000 characters"})
	}
	return nil
}

// reassign answers POST /cases/{id}/assignment {"assignee", "reason",
// "version"}: "" gives the case back to the queue.
func (h CaseRoutes) reassign(c *gin.Context) {
	id, req, version, ok := bindVersioned[caseReassignRequest](c, caseID)
	if !ok {
		return
	}
	x, err := h.Service.Reassign(c.Request.Context(), caseActor(c, "case assignment"), id, version, *req.Assignee, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}

// reopen answers POST /cases/{id}/reopen {"reason", "version"}.
func (h CaseRoutes) reopen(c *gin.Context) {
	id, req, version, ok := bindVersioned[caseReopenRequest](c, caseID)
	if !ok {
		return
	}
	x, err := h.Service.Reopen(c.Request.Context(), caseActor(c, "case reopen"), id, version, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}

type bulkCaseJSON struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

type caseBulkRequest struct {
	Action   string         `json:"action"`
	Cases    []bulkCaseJSON `json:"cases"`
	Assignee string         `json:"assignee"`
	Reason   string         `json:"reason"`
}

type bulkResultJSON struct {
	ID      string    `json:"id"`
	OK      bool      `json:"ok"`
	Status  string    `json:"status,omitempty"`
	Version int64     `json:"version,omitempty"`
	Error   *errorRef `json:"error,omitempty"`
}

type errorRef struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// bulk answers POST /cases/bulk {"action": "assign"|"clear", "cases":
// [{"id", "version"}], "assignee", "reason"}: 200 with one result per case,
// each case its own versioned, audited change.
func (h CaseRoutes) bulk(c *gin.Context) {
	var req caseBulkRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	var errs []error
	if req.Action != review.BulkAssign && req.Action != review.BulkClear {
		errs = append(errs, BadRequest("invalid_body", "the action must be assign or clear", Detail{Field: "action", Message: "must be assign or clear"}))
	}
	if len(req.Cases) == 0 || len(req.Cases) > review.MaxBulk {
		errs = append(errs, BadRequest("invalid_body", fmt.Sprintf("the cases must list 1 to %d cases", review.MaxBulk),
			Detail{Field: "cases", Message: fmt.Sprintf("must list 1 to %d cases", review.MaxBulk)}))
	}
	items := make([]review.BulkItem, 0, len(req.Cases))
	for i, x := range req.Cases {
		if !refPattern.MatchString(x.ID) || x.Version < 1 {
			idx := i
			errs = append(errs, BadRequest("invalid_body", "each case needs its id and the version you read",
				Detail{Field: "cases", Index: &idx, Message: "needs an id and a positive version"}))
			continue
		}
		items = append(items, review.BulkItem{ID: x.ID, Version: x.Version})
	}
	if req.Action == review.BulkAssign {
		if err := checkRef("assignee", req.Assignee); err != nil || req.Assignee == "" {
			errs = append(errs, BadRequest("invalid_body", "the assignee must be an employee id", Detail{Field: "assignee", Message: "must be an employee id"}))
		}
	}
	errs = append(errs, checkReasonBody(req.Reason))
	if err := mergeBadRequests(errs...); err != nil {
		_ = c.Error(err)
		return
	}
	res, err := h.Service.Bulk(c.Request.Context(), caseActor(c, "case bulk "+req.Action), req.Action, items, req.Assignee, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := struct {
		Results []bulkResultJSON `json:"results"`
	}{Results: make([]bulkResultJSON, 0, len(res))}
	for _, r := range res {
		j := bulkResultJSON{ID: r.ID, OK: r.Err == nil}
		if r.Err == nil {
			j.Status, j.Version = r.Case.Status, r.Case.Version
		} else {
			e := toAPIError(r.Err, []Mapper{MapCaseErrors})
			j.Error = &errorRef{Code: e.Code, Message: e.Message}
		}
		out.Results = append(out.Results, j)
	}
	c.JSON(http.StatusOK, out)
}

// caseTotal is the result count of the list when asked for (with_total).
func (h CaseRoutes) caseTotal(c *gin.Context, f review.Filter) (*int, error) {
	n, err := h.Service.Count(c.Request.Context(), caseActor(c, "case queue"), f)
	if err != nil {
		return nil, err
	}
	return &n, nil
}
