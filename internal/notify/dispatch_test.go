package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/smtpsink"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// Integration tests on the embedded database (FerretDB, or the real
// servers with make test-real) and a real SMTP server (the demo's sink).

var discard = slog.New(slog.DiscardHandler)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// managers is the reporting line the disclosure service asks (the HR
// projection's walk is tested in package disclosure).
type managers map[string]string

func (m managers) ManagerOf(_ context.Context, id string, _ civil.Date) (string, error) {
	return m[id], nil
}
func (m managers) Reports(context.Context, string, civil.Date) ([]string, error) { return nil, nil }

type env struct {
	db       *mongostore.DB
	outbox   *mongostore.OutboxStore
	sink     *smtpsink.Sink
	mail     *mongostore.MailSink
	people   *mongostore.NotifyPeople
	tpl      *notify.Templates
	cfg      notify.Config
	clock    *clock
	service  *disclosure.Service
	employee employee.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, outbox: mongostore.NewOutboxStore(db), mail: mongostore.NewMailSink(db),
		clock: &clock{now: time.Now().UTC().Truncate(time.Millisecond)}}
	sink, err := smtpsink.Start("127.0.0.1:0", e.mail, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	e.sink = sink
	host, port, _ := net.SplitHostPort(sink.Addr())
	p, _ := strconv.Atoi(port)
	e.cfg = notify.DefaultConfig()
	e.cfg.SMTP = notify.SMTP{Host: host, Port: p, TLS: "none", From: "moonlight@example.test"}
	e.cfg.BaseURL = "http://moonlight.test"
	e.cfg.OnDuty = []string{"C1"}
	e.cfg.RetryMin, e.cfg.SendTimeout = time.Second, 5*time.Second
	if e.tpl, err = notify.LoadTemplates(e.cfg.BaseURL); err != nil {
		t.Fatal(err)
	}
	e.employee = mongostore.NewEmployeeStore(db)
	for _, id := range []string{"E1", "M1", "C1"} {
		f := employee.Fact{Ref: event.Ref{Source: "test", ID: "hire-" + id}, Type: event.TypeEmployeeHired, Effective: "2020-01-01",
			Data: &event.EmployeeHired{EmployeeID: id, Name: id, Email: strings.ToLower(id) + "@example.test", Department: "R&D",
				HireDate: "2020-01-01"}}
		if _, err := e.employee.Save(t.Context(), employee.Build(id, []employee.Fact{f})); err != nil {
			t.Fatal(err)
		}
	}
	e.people = mongostore.NewNotifyPeople(db, e.employee)
	if err := e.people.SetLanguage(t.Context(), "M1", "zh"); err != nil {
		t.Fatal(err)
	}
	e.service = &disclosure.Service{Store: mongostore.NewDisclosureStore(db), Directory: managers{"E1": "M1"},
		Audit: mongostore.NewAuditStore(db), Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(),
		Now: e.clock.Now, Validity: disclosure.DefaultValidity(), Notices: e.outbox}
	return e
}

func (e *env) dispatcher(t *testing.T, holder string) *notify.Dispatcher {
	t.Helper()
	m, err := notify.NewMailer(e.cfg.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Dispatcher{Store: e.outbox, People: e.people, Templates: e.tpl, Mail: m, Config: e.cfg,
		Holder: holder, Now: e.clock.Now, Log: discard}
}

// declare files a manager-level declaration by E1 (a talk for a media
// outlet needs the manager's approval by the default policy).
func (e *env) declare(t *testing.T, topic string) disclosure.Disclosure {
	t.Helper()
	day := civil.Of(e.clock.Now()).AddDays(3)
	d, err := e.service.Create(t.Context(), disclosure.Actor{ID: "E1", Roles: []string{"employee"}}, disclosure.Input{
		Kind: disclosure.KindSpeaking, Counterparty: "Auto Weekly", CounterpartyType: disclosure.CounterpartyMedia,
		Topic: topic, StartDate: day, EndDate: day})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != disclosure.StatusPending || d.Approver != disclosure.ApproverManager {
		t.Fatalf("declared %s by %s, want pending for the manager", d.Status, d.Approver)
	}
	return d
}

// mails returns what the sink received, waiting until at least want arrived.
func (e *env) mails(t *testing.T, want int) []smtpsink.Mail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms, err := e.mail.Recent(t.Context(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) >= want || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func round(t *testing.T, d *notify.Dispatcher) notify.Stats {
	t.Helper()
	st, err := d.Round(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDeclarationMailsTheApproverOnce: a declaration's notice reaches the
// approver's mailbox once, in their language, with its idempotency key as
// Message-ID — although a dispatcher stopped in the middle of the attempt
// (its claim left behind, nothing sent), another replica then took over,
// and later rounds and a restarted dispatcher ran again.
func TestDeclarationMailsTheApproverOnce(t *testing.T) {
	e := newEnv(t)
	d := e.declare(t, "battery outlook")
	id := notify.KindDeclarationSubmitted + ":" + d.ID + ":v1:M1"
	del := notify.DeliveryID(id, notify.ChannelMail, "m1@example.test")

	a := e.dispatcher(t, "replica-a")
	// A replica "died" holding the first attempt's claim.
	won, _, err := e.outbox.Claim(t.Context(), del, 0, "dead-replica", e.clock.Now(), e.clock.Now().Add(time.Second))
	if err != nil || !won {
		t.Fatalf("dead replica's claim: %v %v", won, err)
	}
	st := round(t, a) // expands; the attempt is claimed by the dead replica and not expired
	if st.Expanded != 1 || st.Sent != 0 {
		t.Fatalf("first round %+v, want the notice expanded and nothing sent under a live claim", st)
	}
	e.clock.Add(2 * time.Second) // the dead replica's claim expires
	round(t, a)                  // marks the interrupted attempt
	st = round(t, e.dispatcher(t, "replica-b"))
	if st.Sent != 1 {
		t.Fatalf("takeover round %+v, want one mail sent", st)
	}
	for _, holder := range []string{"replica-a", "replica-b", "replica-a-restarted"} {
		if st := round(t, e.dispatcher(t, holder)); st.Sent != 0 {
			t.Fatalf("a later round by %s sent again: %+v", holder, st)
		}
	}
	e.mails(t, 1) // waits for the one mail; then nothing more may come
	time.Sleep(200 * time.Millisecond)
	ms := e.mails(t, 1)
	if len(ms) != 1 {
		t.Fatalf("sink received %d mails, want exactly 1", len(ms))
	}
	m := ms[0]
	if len(m.To) != 1 || m.To[0] != "m1@example.test" {
		t.Errorf("to %v, want the manager", m.To)
	}
	if !strings.Contains(m.Subject, "待审批申报") || !strings.Contains(m.Body, "E1") || !strings.Contains(m.Body, "http://moonlight.test/inbox") {
		t.Errorf("mail in the manager's language with the link, got %q / %q", m.Subject, m.Body)
	}
	if want := "notice-" + notify.IdempotencyKey(del) + "@example.test"; m.MessageID != want {
		t.Errorf("Message-ID %q, want %q", m.MessageID, want)
	}
	listed, _, err := e.outbox.List(t.Context(), notify.Filter{Recipient: "M1"}, 10, "")
	if err != nil || len(listed) != 1 {
		t.Fatalf("listed %d, %v", len(listed), err)
	}
	got := listed[0]
	if got.State != notify.StateDispatched || len(got.Deliveries) != 1 || got.Deliveries[0].State != notify.DeliverySent ||
		got.Deliveries[0].Attempts != 2 || got.Deliveries[0].Language != "zh" {
		t.Errorf("delivery state %+v %+v, want dispatched, sent at the second attempt, in zh", got.Stored, got.Deliveries)
	}
}

// TestRacingDispatchersSendEachMailOnce: three replicas dispatching the
// same outbox at once send each of twenty notices exactly once.
func TestRacingDispatchersSendEachMailOnce(t *testing.T) {
	e := newEnv(t)
	const n = 20
	for i := range n {
		e.declare(t, fmt.Sprintf("topic %d", i))
	}
	var wg sync.WaitGroup
	var sent atomic.Int32
	for r := range 3 {
		d := e.dispatcher(t, fmt.Sprintf("replica-%d", r))
		wg.Go(func() {
			for range 6 {
				st, err := d.Round(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				sent.Add(int32(st.Sent))
			}
		})
	}
	wg.Wait()
	e.mails(t, n) // waits for n mails; then nothing more may come
	time.Sleep(200 * time.Millisecond)
	ms := e.mails(t, n)
	byID := map[string]int{}
	for _, m := range ms {
		byID[m.MessageID]++
	}
	if sent.Load() != n || len(ms) != n || len(byID) != n {
		t.Fatalf("dispatchers sent %d, sink received %d mails with %d distinct Message-IDs; want %d of each", sent.Load(), len(ms), len(byID), n)
	}
}

// TestOnlyTheStoredDecisionIsAnnounced: two compliance officers decide the
// same version at once (approve and reject); the arbiter lets one win, and
// the employee hears of that decision only — the loser's notice, written
// before its change, is cancelled.
func TestOnlyTheStoredDecisionIsAnnounced(t *testing.T) {
	e := newEnv(t)
	d := e.declare(t, "race")
	var wg sync.WaitGroup
	for i, in := range []disclosure.DecisionInput{
		{Outcome: disclosure.OutcomeApprove, Version: 1},
		{Outcome: disclosure.OutcomeReject, Comment: "no", Version: 1},
	} {
		wg.Go(func() {
			_, _ = e.service.Decide(t.Context(), disclosure.Actor{ID: fmt.Sprintf("C%d", i+1), Roles: []string{"compliance"}}, d.ID, in)
		})
	}
	wg.Wait()
	stored, err := e.service.Store.Get(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := e.dispatcher(t, "a")
	round(t, a)
	round(t, a)
	listed, _, err := e.outbox.List(t.Context(), notify.Filter{Recipient: "E1", Kind: notify.KindDeclarationDecided}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, l := range listed {
		states[l.ID] = l.State
	}
	winner := notify.KindDeclarationDecided + ":" + d.ID + ":v2:" + string(stored.Status)
	if states[winner] != notify.StateDispatched {
		t.Errorf("the stored decision's notice is %q, want dispatched (all: %v)", states[winner], states)
	}
	for id, st := range states {
		if id != winner && st != notify.StateCancelled {
			t.Errorf("the losing decision's notice %s is %q, want cancelled", id, st)
		}
	}
	for _, m := range e.mails(t, 2) {
		if m.To[0] == "e1@example.test" && !strings.Contains(m.Subject, map[disclosure.Status]string{
			disclosure.StatusApproved: "approved", disclosure.StatusRejected: "rejected"}[stored.Status]) {
			t.Errorf("the employee was told %q, but the stored decision is %s", m.Subject, stored.Status)
		}
	}
}

// TestFailedDeliveryIsRetriedWithBackoff: a webhook answering 503 twice is
// tried again only after a growing wait, then succeeds; the delivery ends
// sent after three attempts.
func TestFailedDeliveryIsRetriedWithBackoff(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	hook := notify.Webhook{Name: "wecom-duty", Kind: notify.WebhookWeCom, URL: srv.URL + "/cgi-bin/webhook/send?key=k"}
	e.cfg.Webhooks = []notify.Webhook{hook}
	e.cfg.OnDuty = nil
	d := e.dispatcher(t, "a")
	d.Webhooks = map[string]notify.Channel{hook.Name: notify.NewWebhookSender(hook, srv.Client(), e.clock.Now)}
	if err := e.outbox.Enqueue(t.Context(), notify.Notice{ID: "case.opened:case-1", Kind: notify.KindCaseOpened,
		Recipient: notify.ListComplianceOnDuty, Params: map[string]string{"case_id": "case-1", "severity": "high", "findings": "2"},
		CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	delID := notify.DeliveryID("case.opened:case-1", notify.ChannelWebhook, hook.Name)
	var waits []time.Duration
	for attempt := 1; attempt <= 3; attempt++ {
		st := round(t, d)
		del, err := e.outbox.Delivery(t.Context(), delID)
		if err != nil {
			t.Fatal(err)
		}
		if del.Attempts != attempt {
			t.Fatalf("after round %d: %d attempts (stats %+v)", attempt, del.Attempts, st)
		}
		if attempt == 3 {
			if del.State != notify.DeliverySent || del.LastError != "" {
				t.Fatalf("third attempt: %+v, want sent", del)
			}
			break
		}
		wait := del.NextAt.Sub(e.clock.Now())
		if del.State != notify.DeliveryPending || !strings.Contains(del.LastError, "503") || wait < e.cfg.RetryMin/2 {
			t.Fatalf("attempt %d: %+v (retry in %s), want pending with the error and a wait", attempt, del, wait)
		}
		if st := round(t, d); st.Sent+st.Retried != 0 || calls.Load() != int32(attempt) {
			t.Fatalf("retried before the backoff passed: %+v, %d calls", st, calls.Load())
		}
		waits = append(waits, wait)
		e.clock.Add(wait + time.Millisecond)
	}
	if waits[1] <= waits[0] {
		t.Errorf("waits %v do not grow", waits)
	}
	if calls.Load() != 3 {
		t.Errorf("%d requests, want 3", calls.Load())
	}
}

// TestNoticeOfAChangeNeverStoredIsCancelled: a notice written for a change
// that then failed (here: a case that was never created) is not sent, and
// is cancelled once the grace passes.
func TestNoticeOfAChangeNeverStoredIsCancelled(t *testing.T) {
	e := newEnv(t)
	if err := e.outbox.Enqueue(t.Context(), notify.Notice{ID: "case.opened:never", Kind: notify.KindCaseOpened,
		Recipient: notify.ListComplianceOnDuty, CreatedAt: e.clock.Now(),
		Cause: &notify.Cause{Resource: notify.ResourceCase, ID: "never", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	d := e.dispatcher(t, "a")
	if st := round(t, d); st.Expanded != 0 || st.Cancelled != 0 {
		t.Fatalf("before the grace: %+v, want it waiting", st)
	}
	e.clock.Add(e.cfg.CauseGrace + time.Second)
	if st := round(t, d); st.Cancelled != 1 {
		t.Fatalf("after the grace: %+v, want it cancelled", st)
	}
	n, err := e.outbox.Notice(t.Context(), "case.opened:never")
	if err != nil || n.State != notify.StateCancelled || n.Note == "" {
		t.Fatalf("notice %+v %v, want cancelled with a note", n, err)
	}
	if ms := e.mails(t, 0); len(ms) != 0 {
		t.Errorf("%d mails sent for a change never stored", len(ms))
	}
}

// TestApprovalLapsesAndReminds: a consulting approval lapses twelve months
// after it took effect; it covers only the days before, the employee is
// reminded 30 days ahead (once), the sweep re-evaluates them on the day,
// and a renewal links to it.
func TestApprovalLapsesAndReminds(t *testing.T) {
	e := newEnv(t)
	e.clock.now = time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	emp := disclosure.Actor{ID: "E1", Roles: []string{"employee"}}
	d, err := e.service.Create(t.Context(), emp, disclosure.Input{Kind: disclosure.KindConsulting, Counterparty: "GLG",
		CounterpartyType: disclosure.CounterpartyExpertNetwork, Topic: "supply chain", StartDate: "2025-03-20", EndDate: "2026-03-15",
		Paid: true, Compensation: &disclosure.Compensation{Amount: "1000.00", Currency: "CNY"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err = e.service.Decide(t.Context(), disclosure.Actor{ID: "C1", Roles: []string{"compliance"}}, d.ID,
		disclosure.DecisionInput{Outcome: disclosure.OutcomeApprove, Version: d.Version})
	if err != nil {
		t.Fatal(err)
	}
	if d.ValidUntil != "2026-03-10" { // twelve months from the decision
		t.Fatalf("valid until %q, want 2026-03-10", d.ValidUntil)
	}
	stored, _ := e.service.Store.Get(t.Context(), d.ID)
	if stored.ValidUntil != d.ValidUntil {
		t.Fatalf("stored valid until %q", stored.ValidUntil)
	}

	summary := mongostore.NewNotifySummary(e.db)
	sched := &notify.Scheduler{Outbox: e.outbox, Approvals: summary, Config: e.cfg, Zone: time.UTC, Now: e.clock.Now, Log: discard}
	expiring := func() []notify.Listed {
		ls, _, err := e.outbox.List(t.Context(), notify.Filter{Recipient: "E1", Kind: notify.KindApprovalExpiring}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	for _, tc := range []struct {
		give time.Time
		want int
	}{
		{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), 0}, // 38 days ahead
		{time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 1}, // 28 days ahead
		{time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC), 1}, // once only
	} {
		e.clock.now = tc.give
		if err := sched.Round(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := len(expiring()); got != tc.want {
			t.Errorf("on %s: %d reminders, want %d", civil.Of(tc.give), got, tc.want)
		}
	}
	if r := expiring(); len(r) == 1 && r[0].Params["path"] != "/declarations/new?renews="+d.ID {
		t.Errorf("reminder links to %q, want the prefilled renewal", r[0].Params["path"])
	}

	// The sweep re-evaluates the employee once the approval lapsed.
	due, err := e.service.Store.(*mongostore.DisclosureStore).EmployeesDue(t.Context(), "2026-03-09", "2026-03-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0] != "E1" {
		t.Errorf("due on lapse: %v, want E1", due)
	}
	if stored.Lapsed("2026-03-09") || !stored.Lapsed("2026-03-10") {
		t.Errorf("lapsed on the day before / the day: %v %v, want false true", stored.Lapsed("2026-03-09"), stored.Lapsed("2026-03-10"))
	}
	// Detection sees the approval only up to the day before it lapsed.
	if eng := evaluate.EngagementOf(stored); eng.End != "2026-03-09" || eng.Status != "approved" {
		t.Errorf("engagement for detection ends %s (%s), want 2026-03-09", eng.End, eng.Status)
	}

	// Renewal: prefilled from the old one, linked, its own approval to come;
	// once it is pending the old one reminds no more.
	e.clock.now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	in := disclosure.RenewalInput(stored, civil.Of(e.clock.now))
	if in.Renews != d.ID || in.StartDate != "2026-03-10" || in.Counterparty != "GLG" {
		t.Fatalf("renewal input %+v", in)
	}
	in.EndDate = "2026-12-31"
	r, err := e.service.Create(t.Context(), emp, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Renews != d.ID || r.Status != disclosure.StatusPending {
		t.Errorf("renewal %+v", r)
	}
	if ls, err := summary.Lapsing(t.Context(), "2026-03-01", "2026-03-31"); err != nil || len(ls) != 0 {
		t.Errorf("lapsing after renewal: %v %v, want none", ls, err)
	}
	if _, err := e.service.Create(t.Context(), disclosure.Actor{ID: "M1", Roles: []string{"employee"}}, in); err == nil {
		t.Error("someone else's declaration renewed")
	}
}

var _ audit.Store = (*mongostore.AuditStore)(nil)
