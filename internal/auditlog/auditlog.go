// Package auditlog serves the audit log to its readers, auditors and
// admins. It decides who may read, once for the API and the UI (the
// transports only authenticate), and audits a refused read as
// access.denied, as the other services do. A read filtered by an employee
// id is an identity lookup under pseudonymisation and is recorded as one
// (privacy.Policy); what a reader sees of each entry is the policy's
// projection (privacy.Policy.AuditRows).
package auditlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// ErrForbidden: the reader holds neither the auditor nor the admin role.
var ErrForbidden = errors.New("reading the audit log needs the auditor or admin role")

// MaxExport bounds one export (read in pages of audit.MaxLimit).
const MaxExport = 10000

// ResourceAudit is the resource type of reads and exports of the log.
const ResourceAudit = "audit"

// Reader is who reads.
type Reader struct {
	ID        string
	Roles     []string
	RequestID string
}

// Service reads the log.
type Service struct {
	Store audit.Store
	// Privacy shows owners as pseudonyms (nil: as ids).
	Privacy *privacy.Policy
	Now     func() time.Time
}

// readRoles may read the log.
var readRoles = []string{auth.RoleAuditor, auth.RoleAdmin}

// authorize lets auditors and admins through; anyone else is refused with
// ErrForbidden and the refusal audited (a failed audit write comes with it,
// so no refusal goes unrecorded unnoticed).
func (s *Service) authorize(ctx context.Context, r Reader, attempt string) error {
	if slices.ContainsFunc(readRoles, func(role string) bool { return slices.Contains(r.Roles, role) }) {
		return nil
	}
	return audit.Deny(ctx, s.Store, s.Now(), audit.Refusal{Actor: r.ID, ActorRoles: r.Roles, RequestID: r.RequestID,
		ResourceType: ResourceAudit, Attempt: attempt, Reason: "refused: " + attempt + " needs the auditor or admin role"}, ErrForbidden)
}

// lookup records a read by owner as an identity lookup (under
// pseudonymisation; nothing otherwise).
func (s *Service) lookup(ctx context.Context, r Reader, ownerID, reason, via string) error {
	e := audit.Entry{At: s.Now(), Actor: r.ID, ActorRoles: r.Roles, RequestID: r.RequestID, Reason: reason}
	if err := s.Privacy.RecordLookup(ctx, s.Store, e, ownerID, via); err != nil {
		return fmt.Errorf("record identity lookup: %w", err)
	}
	return nil
}

// List returns one page of the entries matching f, newest first, as the
// reader may see them, and the next page's cursor ("" at the end); a
// cursor not from List is audit.ErrBadCursor.
func (s *Service) List(ctx context.Context, r Reader, f audit.Filter, limit int, cursor string) ([]privacy.AuditRow, string, error) {
	if err := s.authorize(ctx, r, "audit.list"); err != nil {
		return nil, "", err
	}
	if f.OwnerID != "" {
		if err := s.lookup(ctx, r, f.OwnerID, "audit log by owner", "audit log"); err != nil {
			return nil, "", err
		}
	}
	es, next, err := s.Store.List(ctx, f, limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list audit log: %w", err)
	}
	return s.Privacy.AuditRows(es, f.OwnerID), next, nil
}

// Export returns up to MaxExport entries matching f (truncated says more
// matched) as the reader may see them. The export is itself audited
// (audit.ActionAuditExport), before anything is handed out.
func (s *Service) Export(ctx context.Context, r Reader, f audit.Filter) (rows []privacy.AuditRow, truncated bool, err error) {
	if err := s.authorize(ctx, r, "audit.export"); err != nil {
		return nil, false, err
	}
	var all []audit.Entry
	cursor := ""
	for {
		es, next, err := s.Store.List(ctx, f, audit.MaxLimit, cursor)
		if err != nil {
			return nil, false, fmt.Errorf("export audit log: %w", err)
		}
		all = append(all, es...)
		if len(all) >= MaxExport {
			all, truncated = all[:MaxExport], next != "" || len(all) > MaxExport
			break
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if f.OwnerID != "" {
		if err := s.lookup(ctx, r, f.OwnerID, "audit log export by owner", "audit log export"); err != nil {
			return nil, false, err
		}
	}
	e := audit.Entry{ID: audit.NewID(), At: s.Now().UTC(), Actor: r.ID, ActorRoles: r.Roles, Action: audit.ActionAuditExport,
		ResourceType: ResourceAudit, Reason: "audit log export",
		Details: map[string]string{"rows": strconv.Itoa(len(all)), "truncated": strconv.FormatBool(truncated)}, RequestID: r.RequestID}
	if err := s.Store.Append(ctx, e); err != nil {
		return nil, false, fmt.Errorf("audit the export: %w", err)
	}
	return s.Privacy.AuditRows(all, f.OwnerID), truncated, nil
}
