package ruleset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Holder is one replica's view of the newest rule set. Readers get the set
// in force without locking; Refresh swaps in newer versions atomically, so a
// reader never sees half of a change.
type Holder struct {
	store Store
	log   *slog.Logger
	p     atomic.Pointer[Set]
}

// NewHolder loads the newest stored version (seed it first with Seed).
func NewHolder(ctx context.Context, st Store, log *slog.Logger) (*Holder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v, err := st.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rule set: %w", err)
	}
	set, err := Compile(v)
	if err != nil {
		return nil, fmt.Errorf("rule set version %d: %w", v.Number, err)
	}
	h := &Holder{store: st, log: log}
	h.p.Store(set)
	return h, nil
}

// Current implements evaluate.Rules.
func (h *Holder) Current() (detect.Config, *watchlist.Watchlist) {
	s := h.p.Load()
	return s.Config, s.Watchlist
}

// Version implements evaluate.Rules: the number of the version in force.
func (h *Holder) Version() int64 { return h.p.Load().Version.Number }

// Set returns the compiled version in force.
func (h *Holder) Set() *Set { return h.p.Load() }

// Refresh moves to the newest stored version. It reads the next numbers by
// _id (cheap on every server) rather than sorting all versions. A version
// that does not compile (written by a newer release, say) is skipped with a
// warning, keeping the one in force. It reports whether the version changed.
func (h *Holder) Refresh(ctx context.Context) (bool, error) {
	cur := h.p.Load()
	n := cur.Version.Number
	changed := false
	for {
		v, err := h.store.Get(ctx, n+1)
		if errors.Is(err, ErrNotFound) {
			return changed, nil
		}
		if err != nil {
			return changed, err
		}
		n = v.Number
		set, err := Compile(v)
		if err != nil {
			h.log.Warn("rule set version does not compile; keeping the one in force", "version", v.Number, "err", err)
			continue
		}
		h.p.Store(set)
		changed = true
		h.log.Info("rule set version in force", "version", v.Number, "change", v.Change, "counterparties", set.Watchlist.Len())
	}
}

// Use puts set in force now if it is newer than the one in force (the
// replica that wrote a version uses it at once, without waiting to poll).
func (h *Holder) Use(set *Set) {
	for {
		cur := h.p.Load()
		if cur.Version.Number >= set.Version.Number || h.p.CompareAndSwap(cur, set) {
			return
		}
	}
}

// Run refreshes every interval until ctx ends.
func (h *Holder) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := h.Refresh(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("rule set refresh failed; next at the interval", "err", err)
		}
	}
}
