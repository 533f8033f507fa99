package disclosure

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// Page sizes for the list methods.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ErrBadCursor is returned for a cursor this package did not issue.
var ErrBadCursor = errors.New("bad disclosure cursor")

// Page asks for one page of a list, newest first. Limit <= 0 means
// DefaultLimit and is capped at MaxLimit; Cursor is the NextCursor of the
// previous page, or empty for the first.
type Page struct {
	Limit  int
	Cursor string
}

// Size returns the effective page size.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// Filter narrows List, for reviewers' inboxes. Zero fields do not filter.
type Filter struct {
	Status Status
	// EmployeeIDs: nil means every employee; a non-nil empty slice matches
	// nothing (a manager without reports sees an empty inbox, not everyone's).
	EmployeeIDs []string
	Approver    Approver
}

// Store keeps disclosures. Implementations return the sentinels of this
// package (wrapped) so callers can map them.
type Store interface {
	// Create stores a new disclosure as is (New sets Version 1); ErrConflict
	// if the id exists.
	Create(ctx context.Context, d Disclosure) error
	// Get returns the disclosure or ErrNotFound.
	Get(ctx context.Context, id string) (Disclosure, error)
	// Update replaces the disclosure if its stored version is still
	// d.Version, and returns the new version (d.Version+1). ErrConflict if it
	// changed meanwhile, ErrNotFound if it does not exist. Of concurrent
	// updates of one version exactly one succeeds, and only it appends
	// entries (the audit of the change), so a lost race leaves no entry.
	Update(ctx context.Context, d Disclosure, entries ...audit.Entry) (int64, error)
	// ListByEmployee returns one employee's disclosures, newest first, and
	// the cursor of the next page ("" at the end).
	ListByEmployee(ctx context.Context, employeeID string, page Page) ([]Disclosure, string, error)
	// List returns the disclosures matching f, newest first, and the cursor
	// of the next page ("" at the end).
	List(ctx context.Context, f Filter, page Page) ([]Disclosure, string, error)
	// ListForDetection returns every disclosure of one employee (a handful),
	// ordered by start date, for the detectors to check coverage.
	ListForDetection(ctx context.Context, employeeID string) ([]Disclosure, error)
	// ListForDetectionMany is ListForDetection for a batch of employees, by
	// employee.
	ListForDetectionMany(ctx context.Context, ids []string) (map[string][]Disclosure, error)
}

// cursorVersion prefixes cursors so their format can change later.
const cursorVersion = "d1"

// EncodeCursor makes the opaque cursor that resumes a list after the
// disclosure created at createdAt with id (order: created_at, id descending).
func EncodeCursor(createdAt time.Time, id string) string {
	raw := cursorVersion + ":" + strconv.FormatInt(createdAt.UnixMilli(), 10) + ":" + id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reverses EncodeCursor; anything else is ErrBadCursor.
func DecodeCursor(s string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 {
		return time.Time{}, "", ErrBadCursor
	}
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 || parts[0] != cursorVersion || !ValidID(parts[2]) {
		return time.Time{}, "", ErrBadCursor
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: %v", ErrBadCursor, err)
	}
	return time.UnixMilli(ms).UTC(), parts[2], nil
}
