package audit

import (
	"context"
	"errors"
	"time"
)

// Refusal is a refused attempt, as the service that refused it records it
// (ActionAccessDenied): who tried, what (Attempt, e.g. "rescan.start") on
// which resource, and why not.
type Refusal struct {
	Actor        string
	ActorRoles   []string
	RequestID    string
	ResourceType string
	ResourceID   string
	OwnerID      string
	Attempt      string
	Reason       string
}

// Entry is the access.denied entry of r at at; an attempt without an actor
// id is recorded as "anonymous".
func (r Refusal) Entry(at time.Time) Entry {
	actor := r.Actor
	if actor == "" {
		actor = "anonymous"
	}
	return Entry{ID: NewID(), At: at.UTC(), Actor: actor, ActorRoles: r.ActorRoles, Action: ActionAccessDenied,
		ResourceType: r.ResourceType, ResourceID: r.ResourceID, OwnerID: r.OwnerID, Reason: r.Reason,
		Details: map[string]string{"attempt": r.Attempt}, RequestID: r.RequestID}
}

// Deny records r in store and returns refusal (the service's ErrForbidden),
// joined with the store's error if the entry could not be written, so no
// refusal goes unrecorded unnoticed.
func Deny(ctx context.Context, store Store, at time.Time, r Refusal, refusal error) error {
	return errors.Join(refusal, store.Append(ctx, r.Entry(at)))
}
