package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/ingest"
)

// EventRoutes serves POST /api/v1/events. The gateway decides who may
// publish (the ingest or admin role, then the account's grants; a refusal
// is audited there); the route only needs someone signed in.
type EventRoutes struct {
	Gateway *ingest.Gateway
	// MaxEvents bounds one request's array.
	MaxEvents int
}

// ActionEventPublish is the audit action of an event accepted through the API.
const ActionEventPublish = ingest.ActionEventPublish

// Register implements Routes.
func (h EventRoutes) Register(api *gin.RouterGroup) {
	api.POST("/events", h.post)
}

// eventError maps the gateway's errors (here, so no Mappers entry is needed).
func eventError(err error) (*Error, bool) {
	switch {
	case errors.Is(err, ingest.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "publishing events needs the ingest or admin role"}, true
	case errors.Is(err, ingest.ErrPublish):
		return &Error{Status: http.StatusServiceUnavailable, Code: "kafka_unavailable", Message: "could not publish to Kafka; retry later", Err: err}, true
	}
	return nil, false
}

type rejectedEvent struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

func (h EventRoutes) post(c *gin.Context) {
	var raws []json.RawMessage
	if err := json.NewDecoder(c.Request.Body).Decode(&raws); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			_ = c.Error(err)
			return
		}
		_ = c.Error(BadRequest("invalid_body", "body must be a JSON array of CloudEvents"))
		return
	}
	if len(raws) == 0 {
		_ = c.Error(BadRequest("invalid_body", "the array is empty"))
		return
	}
	if h.MaxEvents > 0 && len(raws) > h.MaxEvents {
		_ = c.Error(&Error{Status: http.StatusRequestEntityTooLarge, Code: "too_many_events", Message: "too many events in one request"})
		return
	}
	p, _ := auth.FromContext(c)
	accepted, refused, err := h.Gateway.Send(c.Request.Context(), ingest.Sender{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c)}, raws)
	if err != nil {
		if e, ok := eventError(err); ok {
			err = e
		}
		_ = c.Error(err)
		return
	}
	rejected := make([]rejectedEvent, len(refused))
	for i, r := range refused {
		rejected[i] = rejectedEvent{Index: r.Index, Error: r.Err.Error()}
	}
	c.JSON(http.StatusAccepted, gin.H{"accepted": accepted, "rejected": rejected})
}
