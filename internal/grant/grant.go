// Package grant says which events each account may publish through
// POST /api/v1/events. Anyone who can publish HR events can rewrite
// reporting lines (issue 10: an ingest account made an accomplice a
// manager), so an account publishes only the types and sources granted to
// it in configuration, and nothing by default.
package grant

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Grant is what one account may publish: an event must match one of Types
// and one of Sources. A pattern is an exact value, or a prefix followed by
// "*" ("hr.*", "hris/*"); "*" alone matches anything.
type Grant struct {
	Types   []string `koanf:"types" yaml:"types"`
	Sources []string `koanf:"sources" yaml:"sources"`
}

// Set maps account (token subject) to its grant.
type Set map[string]Grant

// ErrNotGranted is wrapped by Check's refusals.
var ErrNotGranted = errors.New("not granted")

// Check reports whether account may publish an event of typ from source.
func (s Set) Check(account, typ, source string) error {
	g, ok := s[account]
	switch {
	case !ok:
		return fmt.Errorf("account %q may publish nothing (no grant in events.grants): %w", account, ErrNotGranted)
	case !slices.ContainsFunc(g.Types, func(p string) bool { return match(p, typ) }):
		return fmt.Errorf("account %q may not publish type %q: %w", account, typ, ErrNotGranted)
	case !slices.ContainsFunc(g.Sources, func(p string) bool { return match(p, source) }):
		return fmt.Errorf("account %q may not publish from source %q: %w", account, source, ErrNotGranted)
	}
	return nil
}

func match(pattern, v string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(v, prefix)
	}
	return pattern == v
}

// Validate refuses empty patterns and a "*" anywhere but at the end.
func (s Set) Validate() error {
	var errs []error
	for account, g := range s {
		for _, p := range append(slices.Clone(g.Types), g.Sources...) {
			if p == "" || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
				errs = append(errs, fmt.Errorf("events.grants.%s: pattern %q must be a value or a prefix ending in *", account, p))
			}
		}
	}
	return errors.Join(errs...)
}
