package retention_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func TestPeriodBefore(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		give    retention.Period
		want    time.Time
		wantErr bool
	}{
		{give: "24mo", want: time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)},
		{give: "1mo", want: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)}, // Feb 31 normalises, as AddDate does
		{give: "30d", want: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{give: "36h", want: time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
		{give: "0d", want: now},
		{give: "two years", wantErr: true},
		{give: "-3mo", wantErr: true},
		{give: "", wantErr: true},
	} {
		got, err := tc.give.Before(now)
		if (err != nil) != tc.wantErr || !tc.wantErr && !got.Equal(tc.want) {
			t.Errorf("%q.Before = %v, %v; want %v (error %v)", tc.give, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		give func(*retention.Config)
		want string // part of the error, "" for none
	}{
		{name: "defaults", give: func(*retention.Config) {}},
		{name: "audit shorter than confirmed cases", give: func(c *retention.Config) { c.Audit = "48mo" },
			want: "retention.audit (48mo) must be at least retention.confirmed_cases"},
		{name: "bad period", give: func(c *retention.Config) { c.Signals = "soon" }, want: "retention.signals"},
		{name: "transitions too short", give: func(c *retention.Config) { c.Transitions = "1d" }, want: "at least 7d"},
		{name: "batch", give: func(c *retention.Config) { c.BatchSize = 0 }, want: "batch_size"},
		{name: "audit shorter than former employees", give: func(c *retention.Config) { c.FormerEmployees = "96mo"; c.Audit = "90mo" },
			want: "retention.audit (90mo) must be at least retention.former_employees"},
		{name: "former employees shorter than cases", give: func(c *retention.Config) { c.FormerEmployees = "36mo" },
			want: "retention.former_employees (36mo) must be at least retention.confirmed_cases"},
		{name: "idempotency too short", give: func(c *retention.Config) { c.Idempotency = "2h" }, want: "retention.idempotency must be at least 1d"},
		{name: "bad notices period", give: func(c *retention.Config) { c.Notices = "later" }, want: "retention.notices"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := retention.DefaultConfig()
			tc.give(&c)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDailyPurgeRunsOnOneReplica: three replicas start their daily loop at
// once; one lease term, so one purge (one audit entry).
func TestDailyPurgeRunsOnOneReplica(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg := retention.DefaultConfig()
	store := mongostore.NewAuditStore(db)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range 3 {
		p := &retention.Purger{Store: mongostore.NewPurge(db, cfg.BatchSize), Audit: store, Config: cfg, Now: time.Now,
			Leases: mongostore.NewLeases(db, time.Now), Holder: fmt.Sprintf("replica-%d", i)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.RunDaily(ctx)
		}()
	}
	purges := func() int {
		es, _, err := store.List(t.Context(), audit.Filter{Action: retention.ActionPurge}, 10, "")
		if err != nil {
			t.Error(err)
		}
		return len(es)
	}
	deadline := time.Now().Add(20 * time.Second)
	for purges() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second purge would be written by now
	cancel()
	wg.Wait()
	if n := purges(); n != 1 {
		t.Fatalf("%d purges in one interval by three replicas, want 1", n)
	}
}
