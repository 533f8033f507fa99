package ruleset

import (
	"context"
	"sync"

	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// maxCachedVersions bounds the versions Names keeps; versions never change,
// so a cached one is never stale.
const maxCachedVersions = 32

// Names finds counterparties by id as a given rule-set version listed them
// (retired ones included), so an explanation names a firm as the version
// that produced the finding knew it, in the reader's language.
type Names struct {
	Store  Store
	Holder *Holder

	mu    sync.Mutex
	cache map[int64]map[string]watchlist.Counterparty
}

// For returns the lookup for version; version 0 (rules read from files), a
// version that cannot be read, or an id it does not list fall back to the
// version in force.
func (n *Names) For(ctx context.Context, version int64) explain.Names {
	byID := n.version(ctx, version)
	return func(id string) (watchlist.Counterparty, bool) {
		if c, ok := byID[id]; ok {
			return c, true
		}
		if n.Holder != nil {
			return n.Holder.Set().Watchlist.Get(id)
		}
		return watchlist.Counterparty{}, false
	}
}

func (n *Names) version(ctx context.Context, version int64) map[string]watchlist.Counterparty {
	if version <= 0 || n.Store == nil {
		return nil
	}
	n.mu.Lock()
	m, ok := n.cache[version]
	n.mu.Unlock()
	if ok {
		return m
	}
	v, err := n.Store.Get(ctx, version)
	if err != nil {
		return nil // the version in force names it instead; not worth failing a page
	}
	m = map[string]watchlist.Counterparty{}
	for _, r := range v.Retired {
		m[r.Counterparty.ID] = r.Counterparty
	}
	for _, c := range v.Counterparties {
		m[c.ID] = c
	}
	n.mu.Lock()
	if n.cache == nil || len(n.cache) >= maxCachedVersions {
		n.cache = map[int64]map[string]watchlist.Counterparty{}
	}
	n.cache[version] = m
	n.mu.Unlock()
	return m
}

// ByName resolves a canonical name with the version in force (findings
// stored before they recorded the id).
func (n *Names) ByName(name string) (watchlist.Counterparty, bool) {
	if n.Holder == nil {
		return watchlist.Counterparty{}, false
	}
	m, ok := n.Holder.Set().Watchlist.Lookup(name)
	return m.Counterparty, ok
}
