package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
)

// AuditRoutes serves the audit log, read-only: no route changes or removes
// an entry. The service decides who may read (auditors and admins; a
// refusal is audited there); the route only needs someone signed in.
type AuditRoutes struct {
	Log *auditlog.Service
}

// Register implements Routes.
func (h AuditRoutes) Register(api *gin.RouterGroup) {
	api.GET("/audit", h.list)
}

// MapAuditErrors maps the audit packages' errors; register it in Config.Mappers.
func MapAuditErrors(err error) (*Error, bool) {
	switch {
	case errors.Is(err, audit.ErrBadCursor):
		return BadRequest("bad_cursor", "the cursor is not one this API issued", Detail{Field: "cursor", Message: "is invalid"}), true
	case errors.Is(err, auditlog.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "the audit log is for auditors and admins"}, true
	}
	return nil, false
}

type auditEntryJSON struct {
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	ActorRoles   []string  `json:"actor_roles"`
	Action       string    `json:"action"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	// OwnerID is empty under pseudonymisation (unless the reader filtered
	// by it); Owner is the owner's pseudonym.
	OwnerID string `json:"owner_id"`
	Owner   string `json:"owner,omitempty"`
	// ResourceIDs and OwnerIDs: every case or disclosure and person of one
	// read of many (a page of the queue, a list), in one entry; under
	// pseudonymisation OwnerIDs holds pseudonyms, as Owner does.
	ResourceIDs []string          `json:"resource_ids,omitempty"`
	OwnerIDs    []string          `json:"owner_ids,omitempty"`
	Reason      string            `json:"reason"`
	Details     map[string]string `json:"details"`
	RequestID   string            `json:"request_id"`
	// ClientRequestID is the X-Request-Id the client sent, if any.
	ClientRequestID string `json:"client_request_id,omitempty"`
}

type auditPage struct {
	Items      []auditEntryJSON `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

var (
	// actionParam and resourceTypeParam are the shapes the audit package
	// gives actions ("disclosure.read") and resource types ("disclosure").
	actionParam       = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)?$`)
	resourceTypeParam = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)
)

func (h AuditRoutes) list(c *gin.Context) {
	q, err := query(c, "actor", "action", "resource_type", "resource_id", "owner_id", "from", "to", "limit", "cursor")
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := audit.Filter{Actor: q["actor"], Action: audit.Action(q["action"]), ResourceType: q["resource_type"],
		ResourceID: q["resource_id"], OwnerID: q["owner_id"]}
	var errs []error
	for _, name := range []string{"actor", "resource_id", "owner_id"} {
		errs = append(errs, checkRef(name, q[name]))
	}
	if v := q["action"]; v != "" && (len(v) > 64 || !actionParam.MatchString(v)) {
		errs = append(errs, BadRequest("invalid_query", "a query parameter is malformed",
			Detail{Field: "action", Message: `must look like "disclosure.read"`}))
	}
	if v := q["resource_type"]; v != "" && !resourceTypeParam.MatchString(v) {
		errs = append(errs, BadRequest("invalid_query", "a query parameter is malformed",
			Detail{Field: "resource_type", Message: `must look like "disclosure"`}))
	}
	f.From, err = parseTimeParam("from", q["from"])
	errs = append(errs, err)
	f.To, err = parseTimeParam("to", q["to"])
	errs = append(errs, err)
	limit, err := parseLimit(q["limit"], audit.MaxLimit)
	errs = append(errs, err)
	if q["cursor"] != "" {
		if _, _, err := audit.DecodeCursor(q["cursor"]); err != nil {
			errs = append(errs, BadRequest("bad_cursor", "the cursor is not one this API issued", Detail{Field: "cursor", Message: "is invalid"}))
		}
	}
	if err := mergeBadRequests(errs...); err != nil {
		_ = c.Error(err)
		return
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		_ = c.Error(BadRequest("invalid_query", "from must be before to", Detail{Field: "to", Message: "must be after from"}))
		return
	}
	p, _ := auth.FromContext(c)
	rows, next, err := h.Log.List(c.Request.Context(), auditlog.Reader{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c)}, f, limit, q["cursor"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	page := auditPage{Items: make([]auditEntryJSON, len(rows)), NextCursor: next}
	for i, row := range rows {
		e := row.Entry
		roles, details := e.ActorRoles, e.Details
		if roles == nil {
			roles = []string{}
		}
		if details == nil {
			details = map[string]string{}
		}
		page.Items[i] = auditEntryJSON{ID: e.ID, At: e.At, Actor: e.Actor, ActorRoles: roles, Action: string(e.Action),
			ResourceType: e.ResourceType, ResourceID: e.ResourceID, OwnerID: e.OwnerID, Owner: row.Owner, Reason: e.Reason,
			ResourceIDs: e.ResourceIDs, OwnerIDs: e.OwnerIDs, Details: details, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID}
	}
	c.JSON(http.StatusOK, page)
}

// parseTimeParam reads an RFC 3339 time, when given.
func parseTimeParam(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, BadRequest("invalid_query", "a query parameter is not a time",
			Detail{Field: name, Message: "must be an RFC 3339 time like 2024-03-15T09:00:00Z"})
	}
	return t.UTC(), nil
}
