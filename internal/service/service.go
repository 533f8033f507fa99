// Package service wires the whole system in one place by constructor
// injection: stores, consumers, detection and the HTTP server. `moonlight
// serve` and `moonlight demo` both run it; tests start it in-process.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/rights"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/session"
	"github.com/moonlight-oss/moonlight/internal/tracing"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// Service is the running system.
type Service struct {
	cfg       config.Config
	log       *slog.Logger
	db        *mongostore.DB
	reg       *prometheus.Registry
	consumer  *ingest.Consumer
	publisher *ingest.Publisher
	handler   http.Handler
	admin     http.Handler // nil unless http.admin_addr is set

	Events      *mongostore.EventStore
	Employees   *mongostore.EmployeeStore
	Disclosures *mongostore.DisclosureStore
	Audit       *mongostore.AuditStore
	Cases       *mongostore.CaseStore
	Signals     *mongostore.SignalStore
	// Rules is this replica's view of the versioned rule set in MongoDB.
	Rules *ruleset.Holder
	// RuleService changes the rule set (admin API and UI).
	RuleService *ruleset.Service
	Engine      *evaluate.Engine
	// Rescans runs rescan jobs; any replica finishes one another started.
	Rescans *rescan.Runner
	sweeper *evaluate.Sweeper
	drainer *evaluate.Drainer
	// Sessions keeps the web UI's signed-in sessions.
	Sessions *mongostore.SessionStore
	// DisclosureService is the declaration workflow the API serves.
	DisclosureService *disclosure.Service
	// Pseudonyms turns employee ids into the pseudonyms reviewers see; the
	// same on every replica (keyed by privacy.pseudonym_key).
	Pseudonyms *privacy.Pseudonymizer
	// Outbox keeps notices until delivered (notify.go); People and MailSink
	// are the recipients' profiles and the demo's received mail.
	Outbox        *mongostore.OutboxStore
	People        *mongostore.NotifyPeople
	MailSink      *mongostore.MailSink
	Notifications *notify.Service
	dispatcher    *notify.Dispatcher
	scheduler     *notify.Scheduler
	// Zone is the business time zone (business.time_zone): detection's
	// calendar days; instants stay in UTC.
	Zone *time.Location
	// tracing exports spans when tracing.endpoint is set.
	tracing *tracing.Tracing
	// Launch is the launch workflow (attestations, insiders, partners, incidents).
	Launch *Launch
	// Purger removes data past its retention period, daily, on one replica.
	Purger *retention.Purger
	// Rights answers "my data" and privacy officers' exports.
	Rights *rights.Service
}

// New connects to MongoDB and Kafka, creates indexes and topics, and builds
// the consumer and HTTP handler. Nothing runs until Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Service, error) {
	reg := prometheus.NewRegistry()
	db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, cfg.Mongo.Timeout,
		mongostore.WithCommandMetrics(mongostore.NewCommandMetrics(reg)))
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: log, db: db, reg: reg}
	if err := s.init(ctx); err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

func (s *Service) init(ctx context.Context) error {
	cfg := s.cfg
	if err := waitFor(ctx, "mongodb", s.log, s.db.Ping); err != nil {
		return err
	}
	if err := s.db.EnsureIndexes(ctx); err != nil {
		return err
	}
	topics := cfg.Kafka.Topics.All()
	for _, t := range cfg.Kafka.Topics.All() {
		topics = append(topics, t+cfg.Kafka.DLQSuffix)
	}
	if err := waitFor(ctx, "kafka", s.log, func(ctx context.Context) error {
		return ingest.EnsureTopics(ctx, cfg.Kafka.Brokers, topics, cfg.Kafka.Partitions)
	}); err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return err
	}
	if s.tracing, err = tracing.New(ctx, cfg.Tracing); err != nil {
		return err
	}
	if s.tracing.Enabled() {
		s.log.Info("tracing on", "endpoint", cfg.Tracing.Endpoint, "sample_ratio", cfg.Tracing.SampleRatio)
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := ingest.NewMetrics(s.reg)

	if s.Pseudonyms, err = privacy.NewPseudonymizer(pseudonymKey(cfg)); err != nil {
		return fmt.Errorf("privacy.pseudonym_key: %w", err)
	}
	s.Events = mongostore.NewEventStore(s.db)
	s.Employees = mongostore.NewEmployeeStore(s.db)
	s.Disclosures = mongostore.NewDisclosureStore(s.db)
	s.Audit = mongostore.NewAuditStore(s.db)
	s.Cases = mongostore.NewCaseStore(s.db)
	// Cases stored before pseudonyms (or under another key) get theirs, so a
	// search by pseudonym is a key match for every case.
	if n, err := s.Cases.BackfillSubjects(ctx, s.Pseudonyms.Subject); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("stored the pseudonyms of cases stored without them", "cases", n)
	}
	s.Signals = mongostore.NewSignalStore(s.db)
	if s.Rules, err = LoadRules(ctx, s.db, cfg, s.log); err != nil {
		return err
	}
	if s.Zone, err = cfg.Business.Location(); err != nil {
		return err
	}
	policy := privacy.NewPolicy(cfg.Privacy, s.Pseudonyms)
	s.Engine = &evaluate.Engine{
		Rules: s.Rules, Employees: s.Employees, Signals: s.Signals, Seminars: s.Signals, Presence: s.Signals,
		Engagements: evaluate.DisclosureEngagements{Store: s.Disclosures}, Cases: s.Cases, Audit: s.Audit, Now: time.Now,
		Privacy: policy, Zone: s.Zone,
	}
	s.wireLaunch()
	pipeline := &ingest.Pipeline{Events: s.Events, Employees: s.Employees, Stages: []ingest.Stage{s.Engine, s.Launch.Attest}}
	s.consumer = ingest.NewConsumer(ingest.Config{
		Brokers: cfg.Kafka.Brokers, GroupID: cfg.Kafka.GroupID, Topics: cfg.Kafka.Topics.All(),
		DLQSuffix: cfg.Kafka.DLQSuffix, BatchSize: cfg.Kafka.BatchSize, BatchWait: cfg.Kafka.BatchWait,
		MaxEventBytes: cfg.Kafka.MaxEventBytes, RetryMinWait: cfg.Kafka.RetryMinWait, RetryMaxWait: cfg.Kafka.RetryMaxWait,
		SessionTimeout: cfg.Kafka.SessionTimeout, ShutdownGrace: cfg.HTTP.ShutdownTimeout,
		Bindings: ingest.TopicBindings(s.Topics(), ingest.Sources{HR: cfg.Kafka.Sources.HR, Expense: cfg.Kafka.Sources.Expense, Intel: cfg.Kafka.Sources.Intel}),
		Tracer:   s.tracing.TracerProvider(),
	}, pipeline, metrics, s.log, mongostore.Transient)
	s.publisher = ingest.NewPublisher(cfg.Kafka.Brokers, s.Topics())

	s.wireRules()
	if err := s.wireNotify(); err != nil {
		return err
	}
	s.Engine.Notices = s.Outbox
	s.Launch.Attest.Outbox = s.Outbox // attestation.due / attestation.overdue
	s.wireRetention()
	s.wireRights()

	s.DisclosureService = &disclosure.Service{
		Store: s.Disclosures, Directory: disclosure.EmployeeDirectory{Employees: s.Employees}, Audit: s.Audit,
		Policy: cfg.Disclosure.Policy, Limits: cfg.Disclosure.Limits, Now: time.Now,
		OnChange: s.Engine.Reevaluate, Log: s.log, Validity: cfg.Disclosure.Validity, Notices: s.Outbox,
		Zone: s.Zone,
	}

	reviewers := mongostore.NewReviewerStore(s.db)
	cases := &review.Service{Cases: s.Cases, Audit: s.Audit, Now: time.Now, Reviewers: reviewers,
		Comments: mongostore.NewCommentStore(s.db), Notices: s.Outbox,
		// Issue 15: pseudonymised views, unmasking, four eyes on confirmations.
		Privacy: policy, Directory: s.Employees, Names: s.Employees, Unmasks: mongostore.NewUnmaskStore(s.db),
		ConfirmRequiresSecondReviewer: cfg.Review.ConfirmRequiresSecondReviewer}
	s.Sessions = mongostore.NewSessionStore(s.db)
	// Explanations name counterparties as the finding's rule-set version listed them.
	names := &ruleset.Names{Store: mongostore.NewRuleSetStore(s.db), Holder: s.Rules}
	ui, err := web.New(web.Deps{
		Config: web.Config{SessionSecret: sessionSecret(cfg), SecureCookies: secureCookies(cfg), SessionTTL: cfg.Web.SessionTTL,
			SessionIdle: cfg.Web.SessionIdle, Auth: cfg.Auth, Limits: cfg.Disclosure.Limits, Zone: businessZone(cfg),
			TwoPersonUnmask: cfg.Privacy.Unmask == privacy.UnmaskTwoPerson},
		Log: s.log, Employees: s.Employees, Sessions: s.Sessions, Disclosures: s.DisclosureService, Cases: cases, CaseStore: s.Cases,
		Audit: s.Audit, Events: s.Events, Signals: s.Signals, Gatherer: s.reg, Activity: s.Events,
		Rules: s.RuleService, Rescans: s.Rescans, Privacy: policy,
		DeadLetters: &ingest.DeadLetterBoard{DLQ: ingest.NewDLQ(cfg.Kafka.Brokers, cfg.Kafka.Topics.All(), cfg.Kafka.DLQSuffix), Audit: s.Audit, Now: time.Now},
		Mail:        s.MailSink, Profiles: s.People,
		Zone:  s.Zone,
		Names: names, Preferences: mongostore.NewProfileStore(s.db),
		Launch: s.launchPages(),
		// The queue's saved filters and assignable reviewers (issue 14).
		SavedFilters: mongostore.NewSavedFilterStore(s.db), Reviewers: reviewers,
		Rights: s.Rights,
	})
	if err != nil {
		return err
	}

	checks := map[string]httpapi.Check{
		"mongodb": s.db.Ping,
		"kafka":   func(ctx context.Context) error { return ingest.Ping(ctx, cfg.Kafka.Brokers) },
	}
	if cfg.HTTP.AdminAddr != "" {
		s.admin = httpapi.AdminHandler(httpapi.Config{Log: s.log, Checks: checks, Gatherer: s.reg})
	}
	s.handler = httpapi.New(httpapi.Config{
		MaxBodyBytes:     cfg.HTTP.MaxBodyBytes,
		Log:              s.log,
		Verifier:         verifier,
		Checks:           checks,
		Gatherer:         s.reg,
		Registerer:       s.reg,
		MetricsElsewhere: s.admin != nil,
		Routes: []httpapi.Routes{
			httpapi.EventRoutes{Gateway: &ingest.Gateway{Publisher: s.publisher, Decoder: event.NewDecoder(cfg.Kafka.MaxEventBytes),
				Grants: cfg.Events.Grants, Audit: s.Audit, Now: time.Now}, MaxEvents: 1000},
			httpapi.CaseRoutes{Service: cases, Names: names},
			&httpapi.AdminRoutes{Rules: s.RuleService, Rescans: s.Rescans},
			httpapi.DisclosureRoutes{Service: s.DisclosureService, Idempotency: mongostore.NewIdempotencyStore(s.db)},
			httpapi.AuditRoutes{Log: &auditlog.Service{Store: s.Audit, Privacy: policy, Now: time.Now}},
			httpapi.SessionRoutes{Revoker: &session.Revoker{Store: s.Sessions, Audit: s.Audit, Now: time.Now}},
			httpapi.NotificationRoutes{Service: s.Notifications},
			s.launchRoutes(),
			httpapi.RightsRoutes{Service: s.Rights},
		},
		Mappers: []httpapi.Mapper{httpapi.MapCaseErrors, httpapi.MapDisclosureErrors, httpapi.MapAuditErrors, httpapi.MapRulesErrors,
			httpapi.MapSessionErrors, httpapi.MapNotifyErrors, httpapi.MapLaunchErrors, httpapi.MapRightsErrors},
		Extra:  ui.Register,
		Audit:  s.Audit,
		Tracer: s.tracing.TracerProvider(),
	})
	return nil
}

// sessionSecret is what the web UI seals its session cookies with (it
// derives its own key with HKDF, and web.New refuses one under 32 bytes):
// web.session_secret, or in dev mode the dev signing key. In oidc mode the
// configuration requires web.session_secret: the client secret is the IdP's
// and is shared with it, so it must not also protect our cookies.
func sessionSecret(cfg config.Config) []byte {
	if cfg.Web.SessionSecret != "" {
		return []byte(cfg.Web.SessionSecret)
	}
	return []byte(cfg.Auth.Dev.SigningKey)
}

// pseudonymKey keys pseudonyms: privacy.pseudonym_key, or in dev mode a key
// derived from the dev signing key (the configuration requires the key in
// oidc mode). privacy.NewPseudonymizer derives its own key from either.
func pseudonymKey(cfg config.Config) []byte {
	if cfg.Privacy.PseudonymKey != "" {
		return []byte(cfg.Privacy.PseudonymKey)
	}
	return []byte(cfg.Auth.Dev.SigningKey)
}

func secureCookies(cfg config.Config) bool {
	if cfg.Web.SecureCookies == "auto" {
		return strings.HasPrefix(cfg.Auth.OIDC.RedirectURL, "https://")
	}
	return cfg.Web.SecureCookies == "true"
}

// Topics returns the configured input topics.
func (s *Service) Topics() ingest.Topics {
	t := s.cfg.Kafka.Topics
	return ingest.Topics{HR: t.HR, Expense: t.Expense, Intel: t.Intel}
}

// Brokers returns the Kafka brokers in use.
func (s *Service) Brokers() []string { return s.cfg.Kafka.Brokers }

// Publisher publishes events to the configured topics.
func (s *Service) Publisher() *ingest.Publisher { return s.publisher }

// Handler is the HTTP handler (tests use it with httptest).
func (s *Service) Handler() http.Handler { return s.handler }

// AdminHandler is the admin listener's handler (metrics, health), or nil
// when http.admin_addr is empty and the main handler serves /metrics.
func (s *Service) AdminHandler() http.Handler { return s.admin }

// Run serves HTTP on ln and consumes until ctx is cancelled, then stops
// cleanly: stop fetching, finish and commit the batch in hand, shut the HTTP
// server down, disconnect.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.cfg.HTTP.ReadTimeout,
		WriteTimeout:      s.cfg.HTTP.WriteTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	var adminSrv *http.Server
	var adminLn net.Listener
	if s.admin != nil {
		var err error
		if adminLn, err = net.Listen("tcp", s.cfg.HTTP.AdminAddr); err != nil {
			return fmt.Errorf("listen on http.admin_addr %s: %w", s.cfg.HTTP.AdminAddr, err)
		}
		adminSrv = &http.Server{Handler: s.admin, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 32 << 10}
		s.log.Info("admin listener (metrics, health)", "addr", adminLn.Addr().String())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	if adminSrv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := adminSrv.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("admin http: %w", err)
				cancel()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.consumer.Run(ctx); err != nil {
			errs <- fmt.Errorf("consumer: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
			cancel()
		}
	}()
	s.runBackground(ctx, &wg)
	s.runNotify(ctx, &wg)
	s.runLaunch(ctx, &wg)
	s.runRetention(ctx, &wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sessionSweepEvery(ctx, 10*time.Minute)
	}()
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.HTTP.ShutdownTimeout)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	if adminSrv != nil {
		// After the main listener: probes and the last scrape see the stop.
		if err := adminSrv.Shutdown(sctx); err != nil {
			s.log.Warn("admin http shutdown", "err", err)
		}
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// sessionSweepEvery deletes expired and idle web sessions at the interval
// (FerretDB has no TTL index; a record is also refused and deleted when
// presented). Replicas may do it at once: deleting is idempotent.
func (s *Service) sessionSweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sessions.DeleteExpired(ctx, time.Now(), s.cfg.Web.SessionIdle); err != nil && ctx.Err() == nil {
			s.log.Warn("deleting expired sessions failed; next at the interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases the connections.
func (s *Service) Close(ctx context.Context) error {
	var errs []error
	errs = append(errs, s.tracing.Shutdown(ctx)) // the spans still buffered
	if s.publisher != nil {
		errs = append(errs, s.publisher.Close())
	}
	if s.Audit != nil {
		errs = append(errs, s.Audit.Close(ctx)) // audit entries being written, before the database goes
	}
	errs = append(errs, s.db.Close(ctx))
	return errors.Join(errs...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// waitFor retries check until it passes or ctx ends, so the service can start
// before its dependencies are up.
func waitFor(ctx context.Context, name string, log *slog.Logger, check func(context.Context) error) error {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s not reachable: %w", name, err)
		}
		if attempt == 1 || attempt%10 == 0 {
			log.Warn("waiting for dependency", "dependency", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not reachable: %w", name, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// businessZone is business.time_zone (validated with the configuration),
// the zone the UI shows times in until a person chooses another.
func businessZone(cfg config.Config) *time.Location {
	loc, err := cfg.Business.Location()
	if err != nil {
		return nil // web.New falls back to Asia/Shanghai; config validation refuses this first
	}
	return loc
}
