package service

import (
	"context"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/rights"
)

// wireRetention builds the daily purge (internal/retention): every
// replica runs the loop, one at a time holds the lease and purges.
func (s *Service) wireRetention() {
	cfg := s.cfg.Retention
	s.Purger = &retention.Purger{Store: mongostore.NewPurge(s.db, cfg.BatchSize), Audit: s.Audit, Config: cfg,
		Now: time.Now, Log: s.log, Leases: mongostore.NewLeases(s.db, time.Now), Holder: ReplicaID()}
}

// runRetention starts the daily purge when retention.enabled.
func (s *Service) runRetention(ctx context.Context, wg *sync.WaitGroup) {
	if !s.cfg.Retention.Enabled || s.Purger == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Purger.RunDaily(ctx)
	}()
}

// wireRights builds the employees' and privacy officers' access to the
// data held about a person (internal/rights).
func (s *Service) wireRights() {
	s.Rights = &rights.Service{Employees: s.Employees, Signals: s.Signals, Disclosures: s.Disclosures, Cases: s.Cases,
		Audit: s.Audit, Store: mongostore.NewRights(s.db), FindingsPolicy: s.cfg.Privacy.EmployeeSeesFindings,
		Retention: s.cfg.Retention, Now: time.Now}
}
