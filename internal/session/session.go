// Package session keeps web sign-ins as server-side records, shared by
// every replica through the store (MongoDB): signing out deletes the
// record, so a saved cookie is worthless afterwards; an idle timeout and an
// absolute lifetime apply; an admin can revoke every session of a person;
// and a person whose employment has ended loses all of theirs. The cookie
// carries only a random token; records are keyed by its SHA-256, so a copy
// of the collection does not hold usable tokens. FerretDB has no TTL index,
// so expiry is the application's: an expired record is refused and deleted
// when presented, and Sweep removes the rest.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// Errors of the package.
var (
	ErrNotFound  = errors.New("no such session")
	ErrForbidden = errors.New("not allowed to revoke sessions")
)

// Record is one signed-in session.
type Record struct {
	ID       string // SHA-256 of the cookie token, hex
	Subject  string
	Name     string
	Roles    []string
	CSRF     string
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time // absolute end, whatever the activity
}

// Store keeps session records.
type Store interface {
	Create(ctx context.Context, r Record) error
	// Get returns the record or ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Touch sets the record's last activity.
	Touch(ctx context.Context, id string, at time.Time) error
	Delete(ctx context.Context, id string) error
	// DeleteSubject removes every session of subject and says how many.
	DeleteSubject(ctx context.Context, subject string) (int, error)
	// DeleteExpired removes records whose absolute end or idle limit passed.
	DeleteExpired(ctx context.Context, now time.Time, idle time.Duration) (int, error)
}

// NewToken returns a new random cookie token and the record id it maps to.
func NewToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, IDOf(token)
}

// IDOf is the record id of a cookie token.
func IDOf(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Live reports whether r may still be used at now with the idle limit.
func (r Record) Live(now time.Time, idle time.Duration) bool {
	return now.Before(r.Expires) && (idle <= 0 || now.Sub(r.LastSeen) < idle)
}

// Actor is who asks to revoke.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

// Revoker is the admin's use of sessions: revoke every session of a person.
type Revoker struct {
	Store Store
	Audit audit.Store
	Now   func() time.Time
}

// ActionRevoke is the audit action of an admin's revocation.
const ActionRevoke audit.Action = "session.revoke"

// RevokeAll deletes every session of subject; only admins may, and both
// the revocation and a refusal are audited.
func (r *Revoker) RevokeAll(ctx context.Context, a Actor, subject string) (int, error) {
	now := r.Now().UTC()
	entry := audit.Entry{
		ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: a.Roles, ResourceType: "session",
		ResourceID: subject, OwnerID: subject, RequestID: a.RequestID,
	}
	if !slices.Contains(a.Roles, "admin") {
		entry.Action, entry.Reason = audit.ActionAccessDenied, "needs admin"
		entry.Details = map[string]string{"attempt": string(ActionRevoke)}
		if err := r.Audit.Append(ctx, entry); err != nil {
			return 0, fmt.Errorf("audit refusal: %w", err)
		}
		return 0, fmt.Errorf("revoke sessions of %s: %w", subject, ErrForbidden)
	}
	n, err := r.Store.DeleteSubject(ctx, subject)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", subject, err)
	}
	entry.Action, entry.Reason = ActionRevoke, "revoked by an admin"
	entry.Details = map[string]string{"sessions": strconv.Itoa(n)}
	if err := r.Audit.Append(ctx, entry); err != nil {
		return n, fmt.Errorf("audit revocation of %s: %w", subject, err)
	}
	return n, nil
}
