package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
)

// LoadRules seeds the versioned rule set from the configured (or built-in)
// files on first start and returns a holder of the newest version.
func LoadRules(ctx context.Context, db *mongostore.DB, cfg config.Config, log *slog.Logger) (*ruleset.Holder, error) {
	rules, err := readOr(cfg.Detect.RulesFile, configs.Rules)
	if err != nil {
		return nil, err
	}
	wl, err := readOr(cfg.Detect.WatchlistFile, configs.Watchlist)
	if err != nil {
		return nil, err
	}
	store := mongostore.NewRuleSetStore(db)
	v, note, err := ruleset.Seed(ctx, store, rules, wl, time.Now())
	if err != nil {
		return nil, err
	}
	if note != "" {
		log.Warn("rule set: "+note, "version", v.Number)
	}
	return ruleset.NewHolder(ctx, store, log)
}

func readOr(path string, def []byte) ([]byte, error) {
	if path == "" {
		return def, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// ReplicaID names this process in leases and rescan steps.
func ReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// NewRescanRunner builds the rescan job runner on db (the service and
// `moonlight rescan` both use it).
func NewRescanRunner(db *mongostore.DB, engine *evaluate.Engine, holder string, cfg config.Detect, log *slog.Logger) *rescan.Runner {
	return &rescan.Runner{
		Store: mongostore.NewRescanStore(db), Leases: mongostore.NewLeases(db, time.Now), Engine: engine,
		Events: mongostore.NewEventStore(db), Employees: mongostore.NewRescanEmployees(db), Signals: mongostore.NewSignalStore(db),
		Audit: mongostore.NewAuditStore(db), Holder: holder, PageSize: cfg.RescanPageSize, LeaseTTL: cfg.RescanLeaseTTL,
		Log: log, Now: time.Now,
	}
}

func (s *Service) wireRules() {
	holder := ReplicaID()
	s.RuleService = &ruleset.Service{Store: mongostore.NewRuleSetStore(s.db), Holder: s.Rules, Audit: s.Audit, Now: time.Now}
	s.Rescans = NewRescanRunner(s.db, s.Engine, holder, s.cfg.Detect, s.log)
	s.sweeper = &evaluate.Sweeper{Engine: s.Engine, Due: s.Disclosures, State: mongostore.NewSweepState(s.db),
		Leases: mongostore.NewLeases(s.db, time.Now), Holder: holder, Log: s.log}
	s.drainer = &evaluate.Drainer{Engine: s.Engine, Markers: mongostore.NewMarkerStore(s.db), Grace: s.cfg.HTTP.WriteTimeout + 5*time.Second, Log: s.log}
}

// runBackground starts the loops every replica runs: rule-set polling, rescan
// jobs, the sweep (on one replica at a time) and the re-evaluation drainer.
func (s *Service) runBackground(ctx context.Context, wg *sync.WaitGroup) {
	d := s.cfg.Detect
	for _, run := range []func(){
		func() { s.Rules.Run(ctx, d.RulesPollInterval) },
		func() { s.Rescans.Run(ctx, d.RescanPollInterval) },
		func() { s.sweeper.Run(ctx, d.SweepInterval) },
		func() { s.drainer.Run(ctx, d.DrainInterval) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
}
