package service

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// wireNotify builds the outbox, the dispatcher and the scheduler of
// notices. Every replica runs the dispatcher (its claims keep each attempt
// to one replica) and the scheduler (its notices have deterministic ids).
func (s *Service) wireNotify() error {
	cfg := s.cfg.Notify
	s.Outbox = mongostore.NewOutboxStore(s.db)
	s.People = mongostore.NewNotifyPeople(s.db, s.Employees)
	s.MailSink = mongostore.NewMailSink(s.db)
	tpl, err := notify.LoadTemplates(cfg.BaseURL)
	if err != nil {
		return err
	}
	mailer, err := notify.NewMailer(cfg.SMTP)
	if err != nil {
		return err
	}
	hooks := map[string]notify.Channel{}
	client := &http.Client{}
	for _, w := range cfg.Webhooks {
		hooks[w.Name] = notify.NewWebhookSender(w, client, time.Now)
	}
	s.dispatcher = &notify.Dispatcher{Store: s.Outbox, People: s.People, Templates: tpl, Webhooks: hooks,
		Config: cfg, Holder: ReplicaID(), Now: time.Now, Log: s.log}
	if mailer != nil {
		s.dispatcher.Mail = mailer // a typed nil would look configured
	}
	zone, err := s.cfg.Business.Location()
	if err != nil {
		return err
	}
	summary := mongostore.NewNotifySummary(s.db)
	s.scheduler = &notify.Scheduler{Outbox: s.Outbox, Cases: summary, Approvals: summary, Config: cfg, Zone: zone,
		Now: time.Now, Log: s.log}
	s.Notifications = &notify.Service{Store: s.Outbox}
	return nil
}

// runNotify starts the dispatcher and the scheduler.
func (s *Service) runNotify(ctx context.Context, wg *sync.WaitGroup) {
	if !s.cfg.Notify.Enabled {
		return
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.dispatcher.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		s.scheduler.Run(ctx, 10*time.Minute)
	}()
}
