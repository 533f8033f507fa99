package ingest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
)

// ErrDeadLettersForbidden: the dead letters' counts are for admins.
var ErrDeadLettersForbidden = errors.New("the dead letters are for admins")

// Viewer is who looks at the dead letters through the UI.
type Viewer struct {
	ID        string
	Roles     []string
	RequestID string
}

// DeadLetterBoard is the admins' view of the dead letters (the UI's page):
// it decides who may see them, admins, and audits a refusal, before
// reading the dead-letter topics. The command line (`moonlight dlq`) reads
// the DLQ itself: its authority is its access to the brokers.
type DeadLetterBoard struct {
	DLQ   *DLQ
	Audit audit.Store
	Now   func() time.Time
}

// Counts is DLQ.Counts for an admin; anyone else gets
// ErrDeadLettersForbidden, audited (attempt dead_letters.count).
func (b *DeadLetterBoard) Counts(ctx context.Context, v Viewer, limit int) (map[string]int, bool, error) {
	if !slices.Contains(v.Roles, auth.RoleAdmin) {
		return nil, false, audit.Deny(ctx, b.Audit, b.Now(), audit.Refusal{Actor: v.ID, ActorRoles: v.Roles, RequestID: v.RequestID,
			ResourceType: "dead_letters", Attempt: "dead_letters.count", Reason: "the dead letters need the admin role"}, ErrDeadLettersForbidden)
	}
	return b.DLQ.Counts(ctx, limit)
}
