package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// NotificationRoutes serves GET /api/v1/notifications: the notices and
// their delivery state (admins: all, with filters; anyone else: their own).
type NotificationRoutes struct {
	Service *notify.Service
}

// Register implements Routes.
func (h NotificationRoutes) Register(api *gin.RouterGroup) {
	api.GET("/notifications", h.list)
}

// MapNotifyErrors maps the notify package's errors; register it in Config.Mappers.
func MapNotifyErrors(err error) (*Error, bool) {
	switch {
	case errors.Is(err, notify.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you may list only the notifications sent to you"}, true
	case errors.Is(err, notify.ErrBadCursor):
		return BadRequest("bad_cursor", "the cursor is not one this API issued", Detail{Field: "cursor", Message: "is invalid"}), true
	case errors.Is(err, notify.ErrInvalid):
		return BadRequest("invalid_query", "a query parameter is malformed", Detail{Field: "limit", Message: "is out of range"}), true
	}
	return nil, false
}

type deliveryJSON struct {
	Channel   string     `json:"channel"`
	Target    string     `json:"target"`
	Language  string     `json:"language"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	NextAt    *time.Time `json:"next_attempt_at,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	// Key is the idempotency key receivers see (Message-ID, Idempotency-Key).
	Key string `json:"idempotency_key"`
}

type notificationJSON struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Recipient  string            `json:"recipient"`
	Params     map[string]string `json:"params"`
	CreatedAt  time.Time         `json:"created_at"`
	State      string            `json:"state"`
	Note       string            `json:"note,omitempty"`
	Deliveries []deliveryJSON    `json:"deliveries"`
}

type notificationPage struct {
	Items      []notificationJSON `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

var kindParam = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)

func (h NotificationRoutes) list(c *gin.Context) {
	q, err := query(c, "recipient", "kind", "state", "limit", "cursor")
	if err != nil {
		_ = c.Error(err)
		return
	}
	var errs []error
	if v := q["recipient"]; v != "" && v != notify.ListComplianceOnDuty {
		errs = append(errs, checkRef("recipient", v))
	}
	if v := q["kind"]; v != "" && (len(v) > 64 || !kindParam.MatchString(v)) {
		errs = append(errs, BadRequest("invalid_query", "a query parameter is malformed",
			Detail{Field: "kind", Message: `must look like "declaration.submitted"`}))
	}
	switch q["state"] {
	case "", notify.StatePending, notify.StateDispatched, notify.StateCancelled:
	default:
		errs = append(errs, BadRequest("invalid_query", "a query parameter is malformed",
			Detail{Field: "state", Message: "must be pending, dispatched or cancelled"}))
	}
	limit, err := parseLimit(q["limit"], notify.MaxLimit)
	errs = append(errs, err)
	if limit == 0 {
		limit = 50
	}
	if err := mergeBadRequests(errs...); err != nil {
		_ = c.Error(err)
		return
	}
	p, _ := auth.FromContext(c)
	ns, next, err := h.Service.List(c.Request.Context(), notify.Viewer{ID: p.Subject, Roles: p.Roles},
		notify.Filter{Recipient: q["recipient"], Kind: q["kind"], State: q["state"]}, limit, q["cursor"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	page := notificationPage{Items: make([]notificationJSON, len(ns)), NextCursor: next}
	for i, n := range ns {
		params := n.Params
		if params == nil {
			params = map[string]string{}
		}
		j := notificationJSON{ID: n.ID, Kind: n.Kind, Recipient: n.Recipient, Params: params, CreatedAt: n.CreatedAt,
			State: n.State, Note: n.Note, Deliveries: make([]deliveryJSON, len(n.Deliveries))}
		for k, d := range n.Deliveries {
			dj := deliveryJSON{Channel: d.Channel, Target: d.Target, Language: d.Language, State: d.State, Attempts: d.Attempts,
				LastError: d.LastError, Key: notify.IdempotencyKey(d.ID)}
			if d.State == notify.DeliveryPending {
				at := d.NextAt
				dj.NextAt = &at
			}
			if !d.SentAt.IsZero() {
				at := d.SentAt
				dj.SentAt = &at
			}
			j.Deliveries[k] = dj
		}
		page.Items[i] = j
	}
	c.JSON(http.StatusOK, page)
}
