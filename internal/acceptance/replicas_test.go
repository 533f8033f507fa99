package acceptance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/service"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// replica is one of several services on the same broker, consumer group
// and database; kill stops it as a crash would (no lease released).
type replica struct {
	*system
	kill func()
}

func replicaConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = testenv.KafkaBrokers(t)
	cfg.Kafka.GroupID = testenv.UniqueName("replicas")
	cfg.Kafka.Topics = config.Topics{HR: testenv.UniqueName("hr"), Expense: testenv.UniqueName("expense"), Intel: testenv.UniqueName("intel")}
	cfg.Kafka.BatchWait = 50 * time.Millisecond
	cfg.Mongo.URI = testenv.MongoURI(t)
	cfg.Mongo.Database = testenv.UniqueName("replicas")
	cfg.HTTP.ShutdownTimeout = 5 * time.Second
	// These stories read cases by employee id and decide with one reviewer;
	// pseudonyms and four eyes (issue 15) have their own tests
	// (internal/httpapi, internal/web, internal/review privacy tests).
	cfg.Privacy.Pseudonymise = false
	cfg.Review.ConfirmRequiresSecondReviewer = false
	cfg.Auth.Dev.SigningKey = auth.Secret(config.DemoSigningKey)
	cfg.Detect.RulesPollInterval = 200 * time.Millisecond
	cfg.Detect.RescanPollInterval = 100 * time.Millisecond
	cfg.Detect.RescanLeaseTTL = 2 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, 0); err == nil {
			_ = db.DB.Drop(cctx)
			_ = db.Close(cctx)
		}
	})
	return cfg
}

func startReplica(t *testing.T, cfg config.Config, name string, tweaks ...func(*service.Service)) *replica {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", name)
	ctx, cancel := context.WithCancel(context.Background())
	nctx, ncancel := context.WithTimeout(ctx, 30*time.Second)
	defer ncancel()
	svc, err := service.New(nctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	for _, tw := range tweaks {
		tw(svc)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	var once sync.Once
	kill := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("%s did not stop within 30s", name)
			}
			cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer ccancel()
			_ = svc.Close(cctx)
		})
	}
	t.Cleanup(kill)
	return &replica{system: &system{t: t, cfg: cfg, svc: svc, base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 20 * time.Second}}, kill: kill}
}

type replicaCase struct {
	ID         string `json:"id"`
	EmployeeID string `json:"employee_id"`
	Findings   []struct {
		Rule         string `json:"rule"`
		Counterparty string `json:"counterparty"`
		RulesVersion int64  `json:"rules_version"`
	} `json:"findings"`
}

// TestCounterpartyAddedOnOneReplicaFlagsOnAll is issue 11's done-means
// check for the rule set: an admin adds a counterparty on replica A; every
// replica uses the new version within seconds; expense claims naming it, which
// the two replicas of the consumer group share between them, are all flagged,
// and each finding records the version that produced it.
func TestCounterpartyAddedOnOneReplicaFlagsOnAll(t *testing.T) {
	cfg := replicaConfig(t)
	a, b := startReplica(t, cfg, "a"), startReplica(t, cfg, "b")
	admin := a.token("AD1", auth.RoleAdmin)

	var before struct {
		Version int64 `json:"version"`
	}
	b.call(200, "GET", "/api/v1/admin/rules", admin, nil, &before)
	if before.Version < 1 {
		t.Fatalf("rule set version %d, want the seeded version", before.Version)
	}
	var after struct {
		Version        int64 `json:"version"`
		Counterparties []struct {
			ID string `json:"id"`
		} `json:"counterparties"`
	}
	a.call(201, "POST", "/api/v1/admin/counterparties", admin, map[string]any{
		"id": "xinghe", "type": "brokerage", "name": "Xinghe Securities", "name_zh": "星河证券", "aliases": []string{"星河证券研究所"},
	}, &after)
	if after.Version != before.Version+1 {
		t.Fatalf("version after the add = %d, want %d", after.Version, before.Version+1)
	}
	took := a.eventually("both replicas use the new version", 5*time.Second, func() (bool, string) {
		va, vb := a.svc.Rules.Version(), b.svc.Rules.Version()
		return va == after.Version && vb == after.Version, fmt.Sprintf("a at %d, b at %d", va, vb)
	})
	t.Logf("replica b used version %d %s after the add on a", after.Version, took.Round(time.Millisecond))

	// Claims by twelve employees spread over the partitions, so both
	// replicas consume some.
	day := civil.Of(time.Now()).AddDays(-10)
	var evs []event.Event
	for i := range 12 {
		emp := fmt.Sprintf("E9%03d", i)
		evs = append(evs, a.ev("hris/workday-cn", "hire-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp,
			Department: "EV Unit", HireDate: day.AddDays(-900)}))
		evs = append(evs, a.ev("expense/concur-cn", "claim-"+emp, &event.ExpenseClaim{ClaimID: "claim-" + emp, EmployeeID: emp,
			IncurredOn: day, Merchant: "星河证券有限公司", Description: "新能源行业研讨会 咨询费", City: "上海",
			Amount: money("2000.00"), Category: "conference"}))
	}
	a.produce(evs...)
	a.waitConsumed(60 * time.Second)

	compliance := a.token("C1", auth.RoleCompliance)
	var p page[replicaCase]
	b.call(200, "GET", "/api/v1/cases?limit=200", compliance, nil, &p)
	flagged := map[string]bool{}
	for _, c := range p.Items {
		var full replicaCase
		b.call(200, "GET", "/api/v1/cases/"+c.ID, compliance, nil, &full)
		for _, f := range full.Findings {
			if f.Counterparty == "Xinghe Securities" {
				flagged[c.EmployeeID] = true
				if f.RulesVersion != after.Version {
					t.Errorf("%s's finding records rule-set version %d, want %d", c.EmployeeID, f.RulesVersion, after.Version)
				}
			}
		}
	}
	if len(flagged) != 12 {
		t.Errorf("%d of 12 employees flagged for Xinghe Securities: %v", len(flagged), flagged)
	}

	// The change is audited with its diff.
	var audit page[struct {
		Action  string            `json:"action"`
		Details map[string]string `json:"details"`
	}]
	b.call(200, "GET", "/api/v1/audit?action=counterparty.add", admin, nil, &audit)
	if len(audit.Items) != 1 || !strings.Contains(audit.Items[0].Details["diff_name_zh"], "星河证券") {
		t.Errorf("audit of the add = %+v, want one entry with the diff", audit.Items)
	}
}

// TestRescanJobSurvivesItsReplica: a rescan job runs on one of two
// replicas; killed mid-way, the other takes the job over when its lease
// expires and finishes it, and no event is counted twice.
func TestRescanJobSurvivesItsReplica(t *testing.T) {
	cfg := replicaConfig(t)
	cfg.Detect.RescanPageSize = 4
	// Slow the pages down so the kill lands mid-job.
	slow := func(s *service.Service) {
		s.Rescans.AfterStep = func(rescan.Step) { time.Sleep(40 * time.Millisecond) }
	}
	a, b := startReplica(t, cfg, "a", slow), startReplica(t, cfg, "b", slow)
	day := civil.Of(time.Now()).AddDays(-20)
	var evs []event.Event
	for i := range 40 {
		emp := fmt.Sprintf("E8%03d", i%10)
		evs = append(evs, a.ev("expense/concur-cn", fmt.Sprintf("x-%03d", i), &event.ExpenseClaim{ClaimID: fmt.Sprintf("x-%03d", i),
			EmployeeID: emp, IncurredOn: day, Merchant: "中信证券股份有限公司", Description: "研讨会 咨询费", City: "上海",
			Amount: money("1000.00"), Category: "conference"}))
	}
	a.produce(evs...)
	a.waitConsumed(60 * time.Second)

	admin := a.token("AD1", auth.RoleAdmin)
	var job struct {
		ID          string `json:"id"`
		TotalEvents int64  `json:"total_events"`
	}
	a.call(202, "POST", "/api/v1/admin/rescans", admin, nil, &job)
	if job.TotalEvents != 40 {
		t.Fatalf("job counts %d events, want 40", job.TotalEvents)
	}
	b.call(409, "POST", "/api/v1/admin/rescans", admin, nil, nil) // one at a time, whichever replica is asked

	db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	store := mongostore.NewRescanStore(db)
	var first string
	a.eventually("the job is under way", 20*time.Second, func() (bool, string) {
		steps, err := store.Steps(context.Background(), job.ID)
		if err != nil || len(steps) < 3 {
			return false, fmt.Sprintf("%d steps, %v", len(steps), err)
		}
		first = steps[len(steps)-1].By
		return true, ""
	})
	victim, survivor := a, b
	if first == b.svc.Rescans.Holder {
		victim, survivor = b, a
	}
	victim.kill()

	var progress struct {
		Done      bool  `json:"done"`
		Events    int64 `json:"events"`
		Employees int64 `json:"employees"`
	}
	survivor.eventually("the survivor finishes the job", 30*time.Second, func() (bool, string) {
		survivor.call(200, "GET", "/api/v1/admin/rescans/"+job.ID, admin, nil, &progress)
		return progress.Done, fmt.Sprintf("%+v", progress)
	})
	if progress.Events != 40 || progress.Employees != 10 {
		t.Errorf("job counted %d events and %d employees, want 40 and 10", progress.Events, progress.Employees)
	}
	steps, err := store.Steps(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	holders := map[string]bool{}
	var pages int64
	cursor := ""
	for i, s := range steps {
		holders[s.By] = true
		if s.Seq != int64(i+1) {
			t.Fatalf("step %d has seq %d", i+1, s.Seq)
		}
		if s.Stage == rescan.StageEvents {
			if s.Cursor <= cursor {
				t.Errorf("step %d's cursor %q does not move past %q", s.Seq, s.Cursor, cursor)
			}
			cursor = s.Cursor
			pages += int64(s.Page)
		}
	}
	if pages != 40 {
		t.Errorf("event pages add up to %d events, want 40 (each once)", pages)
	}
	if !holders[victim.svc.Rescans.Holder] || !holders[survivor.svc.Rescans.Holder] {
		t.Errorf("steps by %v, want both the killed replica and the survivor", holders)
	}
}
