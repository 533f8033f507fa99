package httpapi

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Issue 15 on the API: pseudonyms in case bodies (masking itself is
// review.Service's view step), unmasking with a purpose, and four eyes on
// confirmed outcomes. The handlers only bind, call and map.

type unmaskStateJSON struct {
	Status    string     `json:"status"`
	RequestID string     `json:"request_id"`
	Until     *time.Time `json:"until,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type confirmationJSON struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// addPrivacyJSON fills the issue-15 fields of a case body.
func addPrivacyJSON(out *caseJSON, c review.Case) {
	out.Subject, out.JobFamily, out.Masked = c.Subject, c.JobFamily, c.Masked()
	out.ProjectCodes = append([]string{}, c.ProjectCodes()...)
	if st := c.Unmask(); st != nil {
		out.Unmask = &unmaskStateJSON{Status: st.Status, RequestID: st.RequestID}
		switch st.Status {
		case review.UnmaskApproved:
			out.Unmask.Until = timePtr(st.Until)
		case review.UnmaskPending:
			out.Unmask.ExpiresAt = timePtr(st.ExpiresAt)
		}
	}
	if k := c.Confirmation; k != nil {
		out.Confirmation = &confirmationJSON{By: k.By, Reason: k.Reason, At: k.At.UTC()}
	}
}

// checkSubject validates a pseudonym query parameter.
func checkSubject(name, v string) error {
	if v != "" && !privacy.IsSubject(v) {
		return BadRequest("invalid_query", "a query parameter is not a pseudonym",
			Detail{Field: name, Message: "must be a pseudonym like P-7K3Q-M2XD"})
	}
	return nil
}

func (h CaseRoutes) registerPrivacy(api *gin.RouterGroup) {
	api.POST("/cases/:id/unmask", h.unmask)
	api.POST("/cases/:id/confirmation", h.confirm)
	api.GET("/unmask-requests", h.unmaskRequests)
	api.POST("/unmask-requests/:id/decision", h.decideUnmask)
}

type unmaskRequestBody struct {
	Reason string `json:"reason"`
}

func (r *unmaskRequestBody) check() error {
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Reason)); n == 0 || n > 1000 {
		return BadRequest("invalid_body", "the request is invalid", Detail{Field: "reason", Message: "must have 1 to 1000 characters"})
	}
	return nil
}

type unmaskRequestJSON struct {
	ID          string     `json:"id"`
	CaseID      string     `json:"case_id"`
	Subject     string     `json:"subject"`
	Requester   string     `json:"requester"`
	Reason      string     `json:"reason"`
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requested_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
	Version     int64      `json:"version"`
}

func toUnmaskJSON(r review.UnmaskRequest) unmaskRequestJSON {
	return unmaskRequestJSON{ID: r.ID, CaseID: r.CaseID, Subject: r.Subject, Requester: r.Requester, Reason: r.Reason,
		Status: r.Status, RequestedAt: r.RequestedAt.UTC(), ExpiresAt: timePtr(r.ExpiresAt), DecidedBy: r.DecidedBy,
		Comment: r.Comment, DecidedAt: timePtr(r.DecidedAt), Until: timePtr(r.Until), Version: r.Version}
}

type unmaskResponse struct {
	Request unmaskRequestJSON `json:"request"`
	Case    caseJSON          `json:"case"`
}

// unmask asks to see a case's subject: 200 with the case unmasked (self
// mode), or 202 with the request waiting for a privacy officer.
func (h CaseRoutes) unmask(c *gin.Context) {
	id, req, ok := bindWithID[unmaskRequestBody](c, caseID, false)
	if !ok {
		return
	}
	x, r, err := h.Service.RequestUnmask(c.Request.Context(), caseActor(c, "unmask request"), id, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	status := http.StatusOK
	if r.Status == review.UnmaskPending {
		status = http.StatusAccepted
	}
	c.JSON(status, unmaskResponse{Request: toUnmaskJSON(r), Case: toCaseJSON(x, h.readerOf(c))})
}

type unmaskPage struct {
	Items []unmaskRequestJSON `json:"items"`
}

func (h CaseRoutes) unmaskRequests(c *gin.Context) {
	q, err := query(c, "status")
	if err == nil {
		err = checkEnum("status", q["status"], oneOf([]string{review.UnmaskPending, review.UnmaskApproved, review.UnmaskRejected}),
			[]string{review.UnmaskPending, review.UnmaskApproved, review.UnmaskRejected})
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	rs, err := h.Service.UnmaskRequests(c.Request.Context(), caseActor(c, "unmask requests"), q["status"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	page := unmaskPage{Items: make([]unmaskRequestJSON, 0, len(rs))}
	for _, r := range rs {
		page.Items = append(page.Items, toUnmaskJSON(r))
	}
	c.JSON(http.StatusOK, page)
}

type unmaskDecisionBody struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	Version  *int64 `json:"version"`
}

func (r *unmaskDecisionBody) check() error {
	var errs []error
	if r.Decision != "approve" && r.Decision != "reject" {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "decision", Message: "must be approve or reject"}))
	}
	if utf8.RuneCountInString(r.Comment) > 1000 {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "comment", Message: "must have at most 1000 characters"}))
	}
	return mergeBadRequests(errs...)
}

func (r *unmaskDecisionBody) bodyVersion() *int64 { return r.Version }

// unmaskRequestID is an unmask request's path id; a malformed one cannot
// name a request, so it is a 404 like an unknown one.
func unmaskRequestID(c *gin.Context) (string, error) {
	id := c.Param("id")
	if !refPattern.MatchString(id) {
		return "", NotFound("unmask request")
	}
	return id, nil
}

func (h CaseRoutes) decideUnmask(c *gin.Context) {
	id, req, version, ok := bindVersioned[unmaskDecisionBody](c, unmaskRequestID)
	if !ok {
		return
	}
	r, err := h.Service.DecideUnmask(c.Request.Context(), caseActor(c, "unmask decision"), id, req.Decision, req.Comment, version)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toUnmaskJSON(r))
}

type confirmationBody struct {
	Agree   *bool  `json:"agree"`
	Reason  string `json:"reason"`
	Version *int64 `json:"version"`
}

func (r *confirmationBody) check() error {
	var errs []error
	if r.Agree == nil {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "agree", Message: "is required (true or false)"}))
	}
	n := utf8.RuneCountInString(strings.TrimSpace(r.Reason))
	if n > 4000 || (r.Agree != nil && !*r.Agree && n == 0) {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "reason", Message: "must have at most 4000 characters, and at least 1 when declining"}))
	}
	return mergeBadRequests(errs...)
}

func (r *confirmationBody) bodyVersion() *int64 { return r.Version }

// confirm is the second reviewer's answer to a pending confirmed outcome.
func (h CaseRoutes) confirm(c *gin.Context) {
	id, req, version, ok := bindVersioned[confirmationBody](c, caseID)
	if !ok {
		return
	}
	x, err := h.Service.Confirm(c.Request.Context(), caseActor(c, "case confirmation"), id, version, *req.Agree, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}
