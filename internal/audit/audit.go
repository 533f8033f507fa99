// Package audit is the append-only record of who did what to whose data, when
// and why: every disclosure change and decision, and every read of personal
// data by someone other than its owner. Entries carry ids and statuses only,
// never disclosure contents, so the log itself holds no engagement details.
package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Action names what was done, as "<resource>.<verb>".
type Action string

// Actions recorded by the service.
const (
	ActionDisclosureCreate   Action = "disclosure.create"
	ActionDisclosureEdit     Action = "disclosure.edit"
	ActionDisclosureWithdraw Action = "disclosure.withdraw"
	ActionDisclosureDecide   Action = "disclosure.decide"
	ActionDisclosureRead     Action = "disclosure.read"
	ActionCaseRead           Action = "case.read"
	ActionCaseDecide         Action = "case.decide"
	ActionCaseAutoClear      Action = "case.auto_clear"
	ActionWatchlistReload    Action = "watchlist.reload"
	ActionRescan             Action = "rescan"
	// ActionAccessDenied records a refused authorisation: who tried, on
	// what (ResourceType, ResourceID, OwnerID) and why not (Reason), with
	// the act attempted in Details["attempt"].
	ActionAccessDenied Action = "access.denied"
	// ActionCaseExport records an export of the case queue (one entry per
	// file, naming every case and person in it).
	ActionCaseExport Action = "case.export"
	// ActionAuditExport records an export of the audit log itself.
	ActionAuditExport Action = "audit.export"
)

// Resource types.
const (
	ResourceDisclosure = "disclosure"
	ResourceCase       = "case"
	ResourceWatchlist  = "watchlist"
)

// SystemActor is the Actor of entries caused by the service itself
// (auto-clearing a case, a scheduled rescan).
const SystemActor = "system"

// Errors of the package.
var (
	ErrBadCursor = errors.New("bad audit cursor")
	ErrInvalid   = errors.New("invalid audit entry")
)

// Limits on entries, so one entry stays small.
const (
	maxDetails   = 20
	maxTextLen   = 500 // actor, resource ids, request id, detail values
	maxReasonLen = 2000
	// MaxListed bounds ResourceIDs and OwnerIDs (an export's rows).
	MaxListed = 10000
)

// Entry is one audited act.
type Entry struct {
	ID         string
	At         time.Time
	Actor      string // employee id, service account, or SystemActor
	ActorRoles []string
	Action     Action
	// ResourceType and ResourceID name what was acted on.
	ResourceType string
	ResourceID   string
	// OwnerID is whose personal data it is (the employee), for "who looked at my data".
	OwnerID string
	// Reason is why, as given by the actor (a decision comment) or the service.
	Reason string
	// ResourceIDs and OwnerIDs name every resource and person of a read of
	// many at once (a page of the case queue, a list of declarations): one
	// entry per list read, not one per item. Filter.ResourceID and
	// Filter.OwnerID match them as they match ResourceID and OwnerID.
	ResourceIDs []string
	OwnerIDs    []string
	// Details are ids and statuses ("from": "pending", "to": "approved"),
	// never disclosure contents.
	Details map[string]string
	// RequestID is ours (the service generates it); ClientRequestID is the
	// X-Request-Id the client sent, kept apart and only when it has the
	// shape of ClientRequestIDPattern, so a client cannot forge ours.
	RequestID       string
	ClientRequestID string
}

// ClientRequestIDPattern is the accepted shape of a client's X-Request-Id.
var ClientRequestIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

type clientRequestIDKey struct{}

// WithClientRequestID returns ctx carrying the client's request id (the
// HTTP layer sets it; stores fill it into the entries they append).
func WithClientRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, clientRequestIDKey{}, id)
}

// ClientRequestIDFrom returns the id WithClientRequestID stored, or "".
func ClientRequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(clientRequestIDKey{}).(string)
	return id
}

// NewID returns a new time-sortable entry id (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

var (
	// actionPattern keeps actions to the "<resource>.<verb>" vocabulary.
	actionPattern = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)?$`)
	// detailKeyPattern keeps keys free of "$" and "." (which MongoDB
	// treats specially in field names).
	detailKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	// idPattern bounds ids, cursors' ids included.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
)

// Validate checks e is complete and small enough to store.
func (e Entry) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !idPattern.MatchString(e.ID) {
		bad("id %q is not a valid id", e.ID)
	}
	if e.At.IsZero() {
		bad("at is required")
	}
	if e.Actor == "" {
		bad("actor is required")
	}
	if !actionPattern.MatchString(string(e.Action)) {
		bad("action %q is not of the form resource.verb", e.Action)
	}
	for name, s := range map[string]string{"actor": e.Actor, "resource_type": e.ResourceType,
		"resource_id": e.ResourceID, "owner_id": e.OwnerID, "request_id": e.RequestID} {
		if !utf8.ValidString(s) || len(s) > maxTextLen {
			bad("%s must be valid UTF-8 of at most %d bytes", name, maxTextLen)
		}
	}
	if e.ClientRequestID != "" && !ClientRequestIDPattern.MatchString(e.ClientRequestID) {
		bad("client_request_id must be 1 to 64 letters, digits or -")
	}
	if !utf8.ValidString(e.Reason) || utf8.RuneCountInString(e.Reason) > maxReasonLen {
		bad("reason must be valid UTF-8 of at most %d characters", maxReasonLen)
	}
	for name, ids := range map[string][]string{"resource_ids": e.ResourceIDs, "owner_ids": e.OwnerIDs} {
		if len(ids) > MaxListed {
			bad("%s: at most %d", name, MaxListed)
		}
		for _, id := range ids {
			if id == "" || !utf8.ValidString(id) || len(id) > maxTextLen {
				bad("%s must hold non-empty valid UTF-8 of at most %d bytes", name, maxTextLen)
				break
			}
		}
	}
	if len(e.Details) > maxDetails {
		bad("at most %d details", maxDetails)
	}
	for k, v := range e.Details {
		if !detailKeyPattern.MatchString(k) {
			bad("detail key %q must be lower-case letters, digits and _", k)
		}
		if !utf8.ValidString(v) || len(v) > maxTextLen {
			bad("detail %s must be valid UTF-8 of at most %d bytes", k, maxTextLen)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// NeedsReadAudit reports whether reading ownerID's data by readerID must be
// audited: every read by anyone but the owner.
func NeedsReadAudit(ownerID, readerID string) bool { return ownerID != readerID }

// Filter narrows List; zero fields do not filter. From is inclusive, To exclusive.
type Filter struct {
	Actor        string
	Action       Action
	ResourceType string
	ResourceID   string
	OwnerID      string
	From         time.Time
	To           time.Time
}

// Page sizes for List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Limit returns the effective page size for a requested limit: <= 0 means
// DefaultLimit, and it is capped at MaxLimit.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Store keeps the audit log. It is append-only: there is deliberately no
// way to change or remove an entry.
type Store interface {
	// Append stores e (which must pass Validate); storing the same ID twice
	// is a no-op, so a retried append does not duplicate the entry.
	Append(ctx context.Context, e Entry) error
	// List returns entries matching f, newest first by (At, ID), at most
	// Limit(limit) of them, and the cursor of the next page ("" at the end).
	// cursor is "" for the first page; a cursor not from List is ErrBadCursor.
	List(ctx context.Context, f Filter, limit int, cursor string) ([]Entry, string, error)
}

// cursorVersion prefixes cursors so their format can change later.
const cursorVersion = "a1"

// EncodeCursor makes the opaque cursor that resumes a list after the entry
// at at with id. Time is kept to the millisecond, as stored.
func EncodeCursor(at time.Time, id string) string {
	raw := cursorVersion + ":" + strconv.FormatInt(at.UnixMilli(), 10) + ":" + id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reverses EncodeCursor; anything else is ErrBadCursor.
func DecodeCursor(s string) (time.Time, string, error) {
	if len(s) > 512 {
		return time.Time{}, "", ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 || parts[0] != cursorVersion || !idPattern.MatchString(parts[2]) {
		return time.Time{}, "", ErrBadCursor
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return time.UnixMilli(ms).UTC(), parts[2], nil
}
