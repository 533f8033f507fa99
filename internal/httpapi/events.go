package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/grant"
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
	// Grants says what each account may publish; nothing by default.
	Grants grant.Set
	// Audit records every accepted event with the account that sent it.
	Audit audit.Store
}

// ActionEventPublish is the audit action of an event accepted through the API.
const ActionEventPublish audit.Action = "event.publish"

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
	p, _ := auth.FromContext(c)
	valid := make([]event.Event, 0, len(raws))
	rejected := []rejectedEvent{}
	for i, raw := range raws {
		e, err := h.Decoder.Decode(raw)
		if err == nil {
			err = h.Grants.Check(p.Subject, e.Type, e.Ref.Source)
		}
		if err != nil {
			rejected = append(rejected, rejectedEvent{Index: i, Error: err.Error()})
			continue
		}
		valid = append(valid, e)
	}
	if len(valid) > 0 {
		// Audited before publishing, so nothing is published unaudited; a
		// failed publish leaves entries of events the client must resend
		// (the consumer deduplicates by source and id).
		if err := h.auditPublish(c, p, valid); err != nil {
			_ = c.Error(err)
			return
		}
		if err := h.Publisher.Publish(c.Request.Context(), valid); err != nil {
			_ = c.Error(&Error{Status: http.StatusServiceUnavailable, Code: "kafka_unavailable", Message: "could not publish to Kafka; retry later", Err: err})
			return
		}
	}
	c.JSON(http.StatusAccepted, gin.H{"accepted": len(valid), "rejected": rejected})
}

// auditPublish records one event.publish entry per accepted event: the
// account, the event's source and id, its type and whose data it is.
func (h EventRoutes) auditPublish(c *gin.Context, p auth.Principal, evs []event.Event) error {
	if h.Audit == nil {
		return errors.New("events: no audit store configured")
	}
	now := time.Now().UTC()
	es := make([]audit.Entry, 0, len(evs))
	for _, e := range evs {
		es = append(es, audit.Entry{
			ID: audit.NewID(), At: now, Actor: p.Subject, ActorRoles: p.Roles, Action: ActionEventPublish,
			ResourceType: "event", ResourceID: clipText(e.Ref.Source+" "+e.Ref.ID, 500), OwnerID: clipText(e.Subject, 500),
			Reason: "published through the API", Details: map[string]string{"type": clipText(e.Type, 200)}, RequestID: RequestID(c),
		})
	}
	if many, ok := h.Audit.(interface {
		AppendMany(context.Context, []audit.Entry) error
	}); ok {
		return many.AppendMany(c.Request.Context(), es)
	}
	for _, e := range es {
		if err := h.Audit.Append(c.Request.Context(), e); err != nil {
			return err
		}
	}
	return nil
}
