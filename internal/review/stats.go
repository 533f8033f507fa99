package review

import (
	"context"
	"slices"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// statsRoles may read the queue's counts (the dashboard).
var statsRoles = []string{"compliance", "auditor", "admin"}

// Stats returns the case counts the dashboard shows (no case is read) to
// compliance reviewers, auditors and admins; anyone else is refused with
// ErrForbidden, audited (attempt case.stats).
func (s *Service) Stats(ctx context.Context, actor Actor) (QueueStats, error) {
	if !slices.ContainsFunc(statsRoles, actor.has) {
		return QueueStats{}, audit.Deny(ctx, s.Audit, s.Now(), audit.Refusal{Actor: actor.ID, ActorRoles: actor.Roles,
			RequestID: actor.RequestID, ResourceType: "dashboard", Attempt: "case.stats",
			Reason: "the dashboard needs the compliance, auditor or admin role"}, ErrForbidden)
	}
	return s.Cases.Stats(ctx)
}
