package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/grant"
)

// ActionEventPublish is the audit action of an event accepted through the API.
const ActionEventPublish audit.Action = "event.publish"

// Gateway errors.
var (
	// ErrForbidden: the sender holds neither the ingest nor the admin role.
	ErrForbidden = errors.New("publishing events needs the ingest or admin role")
	// ErrPublish: the accepted events could not be published (Kafka is
	// down); the sender should send them again.
	ErrPublish = errors.New("could not publish the events")
)

// EventPublisher publishes valid events to their Kafka topics, keyed per the contract.
type EventPublisher interface {
	Publish(ctx context.Context, evs []event.Event) error
}

// Sender is the account that sends events through the API.
type Sender struct {
	ID        string
	Roles     []string
	RequestID string
}

// Rejected is one event refused by index, with the reason.
type Rejected struct {
	Index int
	Err   error
}

// Gateway accepts events sent through the API (POST /api/v1/events). It
// decides who may publish, once: the ingest or admin role (a refusal is
// audited as access.denied), then per event the account's grants. Every
// accepted event is audited before it is published, so nothing is
// published unaudited.
type Gateway struct {
	Publisher EventPublisher
	Decoder   *event.Decoder
	// Grants says what each account may publish; nothing by default.
	Grants grant.Set
	Audit  AuditStore
	Now    func() time.Time
}

// AuditStore is where the gateway records refusals and publications: one
// request's accepted events in one write (AppendMany).
type AuditStore interface {
	audit.Store
	// AppendMany stores es (each must pass Validate); ids already stored
	// are skipped, so a retried request does not duplicate its entries.
	AppendMany(ctx context.Context, es []audit.Entry) error
}

var sendRoles = []string{auth.RoleIngest, auth.RoleAdmin}

// Send decodes and checks each of raws, audits and publishes the valid
// ones, and returns how many were accepted and which were rejected.
func (g *Gateway) Send(ctx context.Context, s Sender, raws []json.RawMessage) (int, []Rejected, error) {
	if g.Audit == nil {
		return 0, nil, errors.New("events: no audit store configured")
	}
	if err := g.authorize(ctx, s); err != nil {
		return 0, nil, err
	}
	valid := make([]event.Event, 0, len(raws))
	var rejected []Rejected
	for i, raw := range raws {
		e, err := g.Decoder.Decode(raw)
		if err == nil {
			err = g.Grants.Check(s.ID, e.Type, e.Ref.Source)
		}
		if err != nil {
			rejected = append(rejected, Rejected{Index: i, Err: err})
			continue
		}
		valid = append(valid, e)
	}
	if len(valid) == 0 {
		return 0, rejected, nil
	}
	// A failed publish leaves entries of events the sender must resend
	// (the consumer deduplicates by source and id).
	if err := g.auditPublish(ctx, s, valid); err != nil {
		return 0, nil, err
	}
	if err := g.Publisher.Publish(ctx, valid); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrPublish, err)
	}
	return len(valid), rejected, nil
}

func (g *Gateway) authorize(ctx context.Context, s Sender) error {
	if slices.ContainsFunc(sendRoles, func(r string) bool { return slices.Contains(s.Roles, r) }) {
		return nil
	}
	return audit.Deny(ctx, g.Audit, g.Now(), audit.Refusal{Actor: s.ID, ActorRoles: s.Roles, RequestID: s.RequestID,
		ResourceType: "event", Attempt: "event.publish", Reason: "refused: publishing events needs the ingest or admin role"}, ErrForbidden)
}

// auditPublish records one event.publish entry per accepted event: the
// account, the event's source and id, its type and whose data it is.
func (g *Gateway) auditPublish(ctx context.Context, s Sender, evs []event.Event) error {
	now := g.Now().UTC()
	es := make([]audit.Entry, 0, len(evs))
	for _, e := range evs {
		es = append(es, audit.Entry{
			ID: audit.NewID(), At: now, Actor: s.ID, ActorRoles: s.Roles, Action: ActionEventPublish,
			ResourceType: "event", ResourceID: clip(e.Ref.Source+" "+e.Ref.ID, 500), OwnerID: clip(e.Subject, 500),
			Reason: "published through the API", Details: map[string]string{"type": clip(e.Type, 200)}, RequestID: s.RequestID,
		})
	}
	return g.Audit.AppendMany(ctx, es)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
