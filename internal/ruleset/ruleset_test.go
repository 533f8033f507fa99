package ruleset_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

func newStore(t *testing.T) (*mongostore.RuleSetStore, *mongostore.AuditStore) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	return mongostore.NewRuleSetStore(db), mongostore.NewAuditStore(db)
}

var admin = ruleset.Caller{Principal: auth.Principal{Subject: "AD1", Roles: []string{auth.RoleAdmin, auth.RoleEmployee}}}

// TestSeedOnceAcrossReplicas: replicas starting at once seed one version 1.
func TestSeedOnceAcrossReplicas(t *testing.T) {
	st, _ := newStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v, err := st.Latest(t.Context())
	if err != nil || v.Number != 1 || v.Change != ruleset.ChangeSeed {
		t.Fatalf("latest = %d %q, %v; want one seed", v.Number, v.Change, err)
	}
	if _, err := st.Get(t.Context(), 2); !errors.Is(err, ruleset.ErrNotFound) {
		t.Errorf("version 2 exists: %v", err)
	}
}

// TestSeedUpgradeKeepsAdminEdits: new shipped files replace an unedited
// seed, and never a version an admin made.
func TestSeedUpgradeKeepsAdminEdits(t *testing.T) {
	st, au := newStore(t)
	if _, _, err := ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	newer := append([]byte(string(configs.Watchlist)), "\n  - id: xinghe\n    type: brokerage\n    name: Xinghe Securities\n"...)
	v, note, err := ruleset.Seed(t.Context(), st, configs.Rules, newer, time.Now())
	if err != nil || v.Number != 2 || v.Change != ruleset.ChangeSeedUpgrade || note != "" {
		t.Fatalf("upgrade = %d %q %q, %v", v.Number, v.Change, note, err)
	}
	h, err := ruleset.NewHolder(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &ruleset.Service{Store: st, Holder: h, Audit: au, Now: time.Now}
	if _, err := svc.RetireCounterparty(t.Context(), admin, "glg", 0); err != nil {
		t.Fatal(err)
	}
	v, note, err = ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now())
	if err != nil || v.Number != 3 || note == "" {
		t.Errorf("seed over an admin edit = version %d, note %q, %v; want version 3 kept with a note", v.Number, note, err)
	}
}

// TestConcurrentEditsBothLand: two replicas adding different counterparties
// at once both get a version; neither change is lost.
func TestConcurrentEditsBothLand(t *testing.T) {
	st, au := newStore(t)
	if _, _, err := ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		h, err := ruleset.NewHolder(t.Context(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc := &ruleset.Service{Store: st, Holder: h, Audit: au, Now: time.Now}
		wg.Go(func() {
			_, errs[i] = svc.AddCounterparty(t.Context(), admin, watchlist.Counterparty{
				ID: fmt.Sprintf("firm-%d", i), Type: watchlist.TypeBrokerage, Name: fmt.Sprintf("Zephyr Number%d Securities", i)}, 0)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v, err := st.Latest(t.Context())
	if err != nil || v.Number != 5 {
		t.Fatalf("latest = %d, %v; want 5", v.Number, err)
	}
	set, err := ruleset.Compile(v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range errs {
		if _, ok := set.Watchlist.Get(fmt.Sprintf("firm-%d", i)); !ok {
			t.Errorf("firm-%d lost", i)
		}
	}
}

// TestHolderFollowsAndSkipsBadVersions: a holder moves to the newest
// version by polling, and keeps the one in force over a version that does
// not compile.
func TestHolderFollowsAndSkipsBadVersions(t *testing.T) {
	st, au := newStore(t)
	if _, _, err := ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	follower, err := ruleset.NewHolder(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	writer, _ := ruleset.NewHolder(t.Context(), st, nil)
	svc := &ruleset.Service{Store: st, Holder: writer, Audit: au, Now: time.Now}
	if _, err := svc.AddCounterparty(t.Context(), admin, watchlist.Counterparty{ID: "xinghe", Type: "brokerage", Name: "Xinghe Securities", NameZH: "星河证券"}, 0); err != nil {
		t.Fatal(err)
	}
	if writer.Version() != 2 || follower.Version() != 1 {
		t.Fatalf("writer at %d, follower at %d; want 2 and 1 before polling", writer.Version(), follower.Version())
	}
	// A version a newer release wrote with rules this one cannot read.
	bad := writer.Set().Version
	bad.Number, bad.Rules = 3, []byte("blackout_days: [not a number]")
	if err := st.Insert(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	if err := st.Insert(t.Context(), bad); !errors.Is(err, ruleset.ErrConflict) {
		t.Errorf("second insert of version 3: %v, want ErrConflict", err)
	}
	if changed, err := follower.Refresh(t.Context()); err != nil || !changed || follower.Version() != 2 {
		t.Fatalf("follower after refresh: %v %v at %d; want version 2 (3 skipped)", changed, err, follower.Version())
	}
	if _, wl := follower.Current(); wl.Len() != writer.Set().Watchlist.Len() {
		t.Errorf("follower has %d counterparties, want %d", wl.Len(), writer.Set().Watchlist.Len())
	}
}

// TestOnlyAdminsChangeAndRefusalsAreAudited.
func TestOnlyAdminsChangeAndRefusalsAreAudited(t *testing.T) {
	st, au := newStore(t)
	if _, _, err := ruleset.Seed(t.Context(), st, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	h, _ := ruleset.NewHolder(t.Context(), st, nil)
	svc := &ruleset.Service{Store: st, Holder: h, Audit: au, Now: time.Now}
	reviewer := ruleset.Caller{Principal: auth.Principal{Subject: "C1", Roles: []string{auth.RoleCompliance, auth.RoleEmployee}}}
	if _, err := svc.RetireCounterparty(t.Context(), reviewer, "glg", 0); !errors.Is(err, ruleset.ErrForbidden) {
		t.Fatalf("reviewer retired a counterparty: %v", err)
	}
	if _, err := svc.UpdateRules(t.Context(), admin, []byte("blackout_days: 60\n"), 0); err != nil {
		t.Fatal(err)
	}
	es, _, err := au.List(t.Context(), audit.Filter{}, 10, "")
	if err != nil || len(es) != 2 {
		t.Fatalf("audit = %+v, %v", es, err)
	}
	if es[1].Action != ruleset.ActionAccessDenied || es[1].Actor != "C1" || es[1].ResourceID != "glg" {
		t.Errorf("refusal entry = %+v", es[1])
	}
	if es[0].Action != ruleset.ActionRulesEdit || !strings.Contains(es[0].Details["diff_added"], "blackout_days: 60") {
		t.Errorf("rules edit entry = %+v", es[0])
	}
	if cfg, _ := h.Current(); cfg.BlackoutDays != 60 {
		t.Errorf("blackout_days in force = %d, want 60", cfg.BlackoutDays)
	}
}
