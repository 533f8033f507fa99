package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// Publisher publishes valid events to their Kafka topics, keyed per the contract.
type Publisher interface {
	Publish(ctx context.Context, evs []event.Event) error
}

// EventRoutes serves POST /api/v1/events for ingest service accounts.
type EventRoutes struct {
	Publisher Publisher
	Decoder   *event.Decoder
	// MaxEvents bounds one request's array.
	MaxEvents int
}

// Register implements Routes.
func (h EventRoutes) Register(api *gin.RouterGroup) {
	api.POST("/events", auth.Require(auth.RoleIngest, auth.RoleAdmin), h.post)
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
	valid := make([]event.Event, 0, len(raws))
	rejected := []rejectedEvent{}
	for i, raw := range raws {
		e, err := h.Decoder.Decode(raw)
		if err != nil {
			rejected = append(rejected, rejectedEvent{Index: i, Error: err.Error()})
			continue
		}
		valid = append(valid, e)
	}
	if len(valid) > 0 {
		if err := h.Publisher.Publish(c.Request.Context(), valid); err != nil {
			_ = c.Error(&Error{Status: http.StatusServiceUnavailable, Code: "kafka_unavailable", Message: "could not publish to Kafka; retry later", Err: err})
			return
		}
	}
	c.JSON(http.StatusAccepted, gin.H{"accepted": len(valid), "rejected": rejected})
}
