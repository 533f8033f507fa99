package retention

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/lease"
)

// Removed counts what a purge of one kind removed (or, in a dry run,
// would remove) from one collection.
type Removed struct {
	Kind       Kind
	Collection string
	Count      int
}

// Store removes expired data. Purge removes the data of kind k older than
// its cutoff from every collection that holds it, in bounded batches, and
// returns the counts per collection; with dryRun it removes nothing and
// returns what it would remove. The other kinds' cutoffs are for what goes
// with k's data (a purged case's expired evidence).
type Store interface {
	Purge(ctx context.Context, k Kind, cutoffs map[Kind]time.Time, dryRun bool) ([]Removed, error)
}

// ActionPurge is the audit action of a purge: its details are counts per
// kind, never what was removed.
const ActionPurge audit.Action = "retention.purge"

// LeaseName is the lease that keeps the daily purge on one replica.
const LeaseName = "retention-purge"

// Purger runs purges.
type Purger struct {
	Store  Store
	Audit  audit.Store
	Config Config
	Now    func() time.Time
	Log    *slog.Logger
	// Leases and Holder keep the daily run on one replica.
	Leases lease.Lessor
	Holder string

	ran int64 // the lease epoch this process purged in
}

// Report is one purge: what it removed, per kind and collection.
type Report struct {
	At      time.Time
	DryRun  bool
	Removed []Removed
}

// ByKind sums the counts of each kind.
func (r Report) ByKind() map[Kind]int {
	out := map[Kind]int{}
	for _, k := range Kinds() {
		out[k] = 0
	}
	for _, rm := range r.Removed {
		out[rm.Kind] += rm.Count
	}
	return out
}

// String is the report as `moonlight purge` prints it: a line per kind,
// with the collections that held it.
func (r Report) String() string {
	var b strings.Builder
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
	}
	fmt.Fprintf(&b, "retention purge at %s (%s):\n", r.At.UTC().Format(time.RFC3339), verb)
	by := r.ByKind()
	for _, k := range Kinds() {
		var parts []string
		for _, rm := range r.Removed {
			if rm.Kind == k && rm.Count > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", rm.Collection, rm.Count))
			}
		}
		sort.Strings(parts)
		line := fmt.Sprintf("  %-16s %d", k, by[k])
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Run purges every kind once, in Kinds order, and audits the counts (a
// dry run audits nothing: it changes nothing and shows no personal data).
// A kind that fails is reported and the others still run.
func (p *Purger) Run(ctx context.Context, dryRun bool, via string) (Report, error) {
	now := p.Now()
	rep := Report{At: now, DryRun: dryRun}
	cutoffs, err := p.Config.Cutoffs(now)
	if err != nil {
		return rep, err
	}
	var failed []string
	for _, k := range Kinds() {
		rs, err := p.Store.Purge(ctx, k, cutoffs, dryRun)
		rep.Removed = append(rep.Removed, rs...)
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			failed = append(failed, string(k))
			p.logger().Warn("retention: purge of a kind failed; the others go on", "kind", k, "err", err)
		}
	}
	if !dryRun {
		details := map[string]string{"via": via}
		for k, n := range rep.ByKind() {
			details[string(k)] = strconv.Itoa(n)
		}
		if len(failed) > 0 {
			details["failed"] = strings.Join(failed, ",")
		}
		e := audit.Entry{ID: audit.NewID(), At: now, Actor: audit.SystemActor, Action: ActionPurge,
			ResourceType: "retention", Reason: "retention periods expired", Details: details}
		if err := p.Audit.Append(ctx, e); err != nil {
			return rep, fmt.Errorf("audit the purge: %w", err)
		}
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("purge of %s failed (see the log)", strings.Join(failed, ", "))
	}
	return rep, nil
}

// RunDaily purges once per Config.Interval on whichever replica holds the
// lease; it returns when ctx ends.
func (p *Purger) RunDaily(ctx context.Context) {
	t := time.NewTicker(min(p.Config.Interval, time.Minute))
	defer t.Stop()
	for {
		p.tryRun(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tryRun purges if this replica holds a lease term it has not purged in.
// The term lasts an interval and is not renewed: when it ends, the next
// taker purges again.
func (p *Purger) tryRun(ctx context.Context) {
	l, ok, err := p.Leases.Acquire(ctx, LeaseName, p.Holder, p.Config.Interval)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		p.logger().Warn("retention: lease not read; next try soon", "err", err)
		return
	case !ok || l.Epoch() == p.ran:
		return
	}
	p.ran = l.Epoch()
	rep, err := p.Run(ctx, false, "daily")
	switch {
	case ctx.Err() != nil:
	case err != nil:
		p.logger().Warn("retention: purge failed; next at the interval", "err", err)
	default:
		args := []any{}
		for k, n := range rep.ByKind() {
			if n > 0 {
				args = append(args, string(k), n)
			}
		}
		p.logger().Info("retention: purged expired data", args...)
	}
}

func (p *Purger) logger() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
