package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// CaseSummary counts cases for the daily digest.
type CaseSummary interface {
	// Summary counts open cases, the high ones among them, and cases opened at or after since.
	Summary(ctx context.Context, since time.Time) (open, high, opened int, err error)
}

// Lapsing is an approval that lapses soon.
type Lapsing struct {
	DisclosureID string
	EmployeeID   string
	Kind         string
	StartDate    civil.Date
	ValidUntil   civil.Date
}

// Approvals lists approvals by the day they lapse.
type Approvals interface {
	// Lapsing returns approved disclosures whose approval lapses in [from,
	// to] and that no pending or approved declaration renews.
	Lapsing(ctx context.Context, from, to civil.Date) ([]Lapsing, error)
}

// Scheduler writes the notices time alone causes: the daily digest and
// the reminders of approvals about to lapse. Every replica may run it: the
// ids are deterministic (one digest a day, one reminder an approval), so
// a notice written twice is stored once.
type Scheduler struct {
	Outbox    Outbox
	Cases     CaseSummary
	Approvals Approvals
	Config    Config
	Zone      *time.Location
	Now       func() time.Time
	Log       *slog.Logger
}

// Round writes what is due at now.
func (s *Scheduler) Round(ctx context.Context) error {
	now := s.Now()
	local := now.In(s.Zone)
	today := civil.Of(local)
	if s.Approvals != nil {
		ls, err := s.Approvals.Lapsing(ctx, today, today.AddDays(s.Config.ExpiryReminderDays))
		if err != nil {
			return fmt.Errorf("approvals lapsing: %w", err)
		}
		var ns []Notice
		for _, l := range ls {
			ns = append(ns, Notice{
				ID: KindApprovalExpiring + ":" + l.DisclosureID + ":" + string(l.ValidUntil), Kind: KindApprovalExpiring,
				Recipient: l.EmployeeID, CreatedAt: now,
				Params: map[string]string{"disclosure_id": l.DisclosureID, "kind": l.Kind, "start_date": string(l.StartDate),
					"valid_until": string(l.ValidUntil), "path": "/declarations/new?renews=" + l.DisclosureID},
			})
		}
		if err := s.Outbox.Enqueue(ctx, ns...); err != nil {
			return err
		}
	}
	if s.Cases != nil && s.Config.DigestTime != "" {
		at, err := time.ParseInLocation("15:04", s.Config.DigestTime, s.Zone)
		if err != nil {
			return err
		}
		due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, s.Zone)
		if !local.Before(due) {
			open, high, opened, err := s.Cases.Summary(ctx, now.Add(-24*time.Hour))
			if err != nil {
				return fmt.Errorf("digest: %w", err)
			}
			if err := s.Outbox.Enqueue(ctx, Notice{
				ID: KindDailyDigest + ":" + string(today), Kind: KindDailyDigest, Recipient: ListComplianceOnDuty, CreatedAt: now,
				Params: map[string]string{"date": string(today), "open": strconv.Itoa(open), "high": strconv.Itoa(high),
					"opened": strconv.Itoa(opened), "path": "/cases"},
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run does a round at start and every interval.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("scheduled notices not written; next at the interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
