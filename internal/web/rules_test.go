package web_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// TestAdminRulesPage: an admin adds, edits and retires a counterparty and
// starts a rescan from the page; others are refused.
func TestAdminRulesPage(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	store, auditStore := mongostore.NewRuleSetStore(db), mongostore.NewAuditStore(db)
	if _, _, err := ruleset.Seed(t.Context(), store, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	holder, err := ruleset.NewHolder(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	signals := mongostore.NewSignalStore(db)
	engine := &evaluate.Engine{Rules: holder, Employees: mongostore.NewEmployeeStore(db), Signals: signals, Seminars: signals, Presence: signals,
		Engagements: evaluate.DisclosureEngagements{Store: mongostore.NewDisclosureStore(db)}, Cases: mongostore.NewCaseStore(db),
		Audit: auditStore, Now: time.Now}
	runner := &rescan.Runner{Store: mongostore.NewRescanStore(db), Leases: mongostore.NewLeases(db, time.Now), Engine: engine,
		Events: mongostore.NewEventStore(db), Employees: mongostore.NewRescanEmployees(db), Signals: signals, Audit: auditStore,
		Holder: "test", Log: slog.New(slog.DiscardHandler), Now: time.Now}
	e := newEnv(t, auth.ModeDev, func(d *web.Deps) {
		d.Rules = &ruleset.Service{Store: store, Holder: holder, Audit: auditStore, Now: time.Now}
		d.Rescans = runner
	})

	reviewer := e.browser(t)
	reviewer.signIn("E3", "compliance")
	if p := reviewer.get("/admin/rules"); p.status != http.StatusForbidden {
		t.Errorf("compliance on the rules page: %d", p.status)
	}
	// The runner refuses a rescan to anyone but an admin (the page only
	// needs someone signed in): 403, no job.
	if p := reviewer.post("/admin/rescans", url.Values{"csrf": {reviewer.csrf("/declarations")}}); p.status != http.StatusForbidden {
		t.Errorf("compliance starting a rescan: %d, want 403", p.status)
	}
	if _, err := runner.Progress(t.Context(), rescan.Operator(), "latest"); !errors.Is(err, rescan.ErrNotFound) {
		t.Errorf("after a refused start: %v, want no job", err)
	}

	b := e.browser(t)
	b.signIn("E4", "admin")
	p := b.get("/admin/rules")
	if p.status != 200 || !strings.Contains(p.body, `data-testid="rules-version"`) || !strings.Contains(p.body, "<code>capvision</code>") {
		t.Fatalf("rules page: %d %s", p.status, p.body)
	}
	csrf := b.csrf("/admin/rules")
	add := url.Values{"csrf": {csrf}, "mode": {"add"}, "id": {"xinghe"}, "type": {"brokerage"}, "name": {"Xinghe Securities"},
		"name_zh": {"星河证券"}, "aliases": {"星河证券研究所, Xinghe Research"}}
	if p := b.post("/admin/counterparties", add); p.status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", p.status, p.body)
	}
	if holder.Version() != 2 {
		t.Errorf("version after the add = %d, want 2", holder.Version())
	}
	if cp, ok := holder.Set().Watchlist.Get("xinghe"); !ok || len(cp.Aliases) != 2 {
		t.Errorf("xinghe = %+v, %v", cp, ok)
	}
	// An alias another firm has: 422 with the reason, nothing changes.
	bad := url.Values{"csrf": {csrf}, "mode": {"edit"}, "id": {"xinghe"}, "type": {"brokerage"}, "name": {"Xinghe Securities"}, "aliases": {"中信证券"}}
	if p := b.post("/admin/counterparties", bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "中信证券") {
		t.Errorf("bad edit: %d", p.status)
	}
	if p := b.get("/admin/rules?edit=xinghe"); !strings.Contains(p.body, `value="星河证券研究所, Xinghe Research"`) {
		t.Errorf("edit form not filled in")
	}
	if p := b.post("/admin/counterparties/xinghe/retire", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("retire: %d", p.status)
	}
	if _, ok := holder.Set().Watchlist.Get("xinghe"); ok || holder.Version() != 3 {
		t.Errorf("xinghe still in force at version %d", holder.Version())
	}
	if p := b.post("/admin/rescans", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("rescan: %d", p.status)
	}
	if err := runner.Work(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/admin/rules"); !strings.Contains(p.body, `data-testid="rescan-progress"`) || !strings.Contains(p.body, "Done") {
		t.Errorf("rescan progress not shown as done")
	}
}
