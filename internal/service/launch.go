package service

import (
	"context"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/incident"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/project"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// Launch is the compliance workflow around a confidential launch:
// attestations, insider lists, NDA partners, leak incidents (docs/launch.md).
type Launch struct {
	// Attest asks for and records attestations; it is also an ingest
	// stage. Its Outbox (nil: no notices) receives attestation.due and
	// attestation.overdue notices: wire the notification outbox there.
	Attest    *attest.Service
	Job       *attest.Job
	Insiders  *project.Service
	Partners  *project.Partners
	Incidents *incident.Service
}

// wireLaunch builds the launch workflow on the service's stores and makes
// attestation-overdue findings part of the engine's evaluation. It runs
// after the engine is built and before the pipeline is.
func (s *Service) wireLaunch() {
	blackout := func() int {
		cfg, _ := s.Rules.Current()
		return cfg.BlackoutDays
	}
	l := &Launch{}
	l.Attest = &attest.Service{Store: mongostore.NewAttestationStore(s.db), Employees: s.Employees, Audit: s.Audit,
		Config: s.cfg.Attestation, BlackoutDays: blackout, Now: time.Now, Zone: s.Zone, Log: s.log}
	l.Job = &attest.Job{Service: l.Attest, Reevaluate: s.Engine.Reevaluate, Leases: mongostore.NewLeases(s.db, time.Now), Holder: ReplicaID()}
	s.Engine.Extra = append(s.Engine.Extra, l.Attest)
	engagements := evaluate.DisclosureEngagements{Store: s.Disclosures}
	l.Insiders = &project.Service{Members: s.Employees, Tasks: l.Attest, Engagements: engagements, Audit: s.Audit,
		Pseudonyms: s.Pseudonyms, Pseudonymise: s.cfg.Privacy.Pseudonymise, BlackoutDays: blackout, Now: time.Now}
	l.Partners = &project.Partners{Store: mongostore.NewPartnerStore(s.db), Audit: s.Audit, Now: time.Now}
	l.Incidents = &incident.Service{Store: mongostore.NewIncidentStore(s.db), Insiders: l.Insiders, Partners: l.Partners,
		Evidence:   incident.Evidence{Signals: s.Signals, Seminars: s.Signals, Cases: s.Cases, Engagements: engagements},
		Pseudonyms: s.Pseudonyms, Config: s.cfg.Incident, Audit: s.Audit, Now: time.Now,
		CounterpartyType: func(id string) string {
			_, wl := s.Rules.Current()
			c, _ := wl.Get(id)
			return c.Type
		}}
	s.Launch = l
}

// launchRoutes is the API of the launch workflow.
func (s *Service) launchRoutes() httpapi.Routes {
	return httpapi.LaunchRoutes{Attest: s.Launch.Attest, Insiders: s.Launch.Insiders, Partners: s.Launch.Partners, Incidents: s.Launch.Incidents}
}

// launchPages are the web UI's view of the launch workflow.
func (s *Service) launchPages() *web.Launch {
	return &web.Launch{Attest: s.Launch.Attest, Insiders: s.Launch.Insiders, Partners: s.Launch.Partners, Incidents: s.Launch.Incidents}
}

// runLaunch starts the attestation check (on one replica at a time).
func (s *Service) runLaunch(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Launch.Job.Run(ctx, s.cfg.Attestation.CheckInterval)
	}()
}
