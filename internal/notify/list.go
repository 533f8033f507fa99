package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Listed is a notice with its deliveries, as GET /api/v1/notifications shows it.
type Listed struct {
	Stored
	Deliveries []Delivery
}

// Filter narrows a listing; zero fields do not filter.
type Filter struct {
	Recipient string
	Kind      string
	State     string
}

// Lister pages through the outbox, newest first.
type Lister interface {
	List(ctx context.Context, f Filter, limit int, cursor string) ([]Listed, string, error)
}

// Errors of the listing service.
var (
	ErrForbidden = errors.New("not allowed to list these notifications")
	ErrInvalid   = errors.New("invalid notification query")
	ErrBadCursor = errors.New("bad notification cursor")
)

// Viewer is who lists.
type Viewer struct {
	ID    string
	Roles []string
}

// Service answers who may see which notices: an admin sees every notice
// with any filter; anyone else sees only the notices addressed to them
// (a filter naming someone else is refused, not silently narrowed).
type Service struct {
	Store Lister
}

// MaxLimit bounds one page.
const MaxLimit = 200

// List returns a page.
func (s *Service) List(ctx context.Context, v Viewer, f Filter, limit int, cursor string) ([]Listed, string, error) {
	if v.ID == "" {
		return nil, "", ErrForbidden
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", fmt.Errorf("limit must be 1..%d: %w", MaxLimit, ErrInvalid)
	}
	if !slices.Contains(v.Roles, "admin") {
		if f.Recipient != "" && f.Recipient != v.ID {
			return nil, "", fmt.Errorf("recipient %s is someone else: %w", f.Recipient, ErrForbidden)
		}
		f.Recipient = v.ID
	}
	return s.Store.List(ctx, f, limit, cursor)
}
