package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/smtpsink"
	"github.com/moonlight-oss/moonlight/internal/web"
)

type mailBox []smtpsink.Mail

func (m mailBox) Recent(context.Context, int) ([]smtpsink.Mail, error) { return m, nil }

type profiles struct {
	mu   sync.Mutex
	lang map[string]string
}

func (p *profiles) SetLanguage(_ context.Context, id, lang string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lang[id] = lang
	return nil
}

// TestMailPageAndLanguage: admins read the sink's mails on /admin/mail
// (others get 403); switching the UI language keeps it as the language of
// the person's notifications.
func TestMailPageAndLanguage(t *testing.T) {
	prof := &profiles{lang: map[string]string{}}
	e := newEnv(t, "dev", func(d *web.Deps) {
		d.Mail = mailBox{{ID: "m1", To: []string{"e2@example.test"}, Subject: "待审批申报：E1 的演讲", Body: "查看：http://x/inbox",
			ReceivedAt: time.Now()}}
		d.Profiles = prof
	})
	admin := e.browser(t)
	admin.signIn("E4", "admin")
	p := admin.get("/admin/mail")
	if p.status != http.StatusOK || !strings.Contains(p.body, "待审批申报：E1 的演讲") || !strings.Contains(p.body, "e2@example.test") ||
		!strings.Contains(p.body, "查看：http://x/inbox") {
		t.Fatalf("/admin/mail %d: %s", p.status, p.body)
	}
	emp := e.browser(t)
	emp.signIn("E1", "employee")
	if p := emp.get("/admin/mail"); p.status != http.StatusForbidden {
		t.Errorf("an employee got /admin/mail with %d, want 403", p.status)
	}
	emp.get("/lang?to=zh-Hans&next=/declarations")
	if prof.lang["E1"] != "zh" {
		t.Errorf("profile languages %v, want E1 zh", prof.lang)
	}
}

// TestRenewOpensThePrefilledForm: an approved recurring declaration shows
// its validity and a Renew button; the form it opens is prefilled from it
// (starting the day the approval lapses) and carries the link.
func TestRenewOpensThePrefilledForm(t *testing.T) {
	e := newEnv(t, "dev", nil)
	svc := &disclosure.Service{Store: e.decls, Directory: disclosure.EmployeeDirectory{Employees: e.emps}, Audit: e.audit,
		Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(), Now: e.clock.Now, Validity: disclosure.DefaultValidity()}
	today := civil.Of(e.clock.Now())
	d, err := svc.Create(t.Context(), disclosure.Actor{ID: "E1", Roles: []string{"employee"}}, disclosure.Input{
		Kind: disclosure.KindAdvisoryBoard, Counterparty: "Motor Tech Forum", CounterpartyType: disclosure.CounterpartyOther,
		Topic: "advisory board", StartDate: today, EndDate: today.AddDays(200)})
	if err != nil {
		t.Fatal(err)
	}
	if d, err = svc.Decide(t.Context(), disclosure.Actor{ID: "E3", Roles: []string{"compliance"}}, d.ID,
		disclosure.DecisionInput{Outcome: disclosure.OutcomeApprove, Version: d.Version}); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn("E1", "employee")
	p := b.get("/declarations/" + d.ID)
	if !strings.Contains(p.body, `data-testid="renew"`) || !strings.Contains(p.body, string(d.ValidUntil)) {
		t.Fatalf("declaration page has no Renew button or validity (%s): %s", d.ValidUntil, p.body)
	}
	p = b.get("/declarations/new?renews=" + d.ID)
	if !strings.Contains(p.body, `name="renews" value="`+d.ID+`"`) || !strings.Contains(p.body, "Motor Tech Forum") ||
		!strings.Contains(p.body, string(d.ValidUntil)) {
		t.Fatalf("renewal form not prefilled: %s", p.body)
	}
	// Someone else's declaration gives the empty form.
	other := e.browser(t)
	other.signIn("E2", "employee")
	if p := other.get("/declarations/new?renews=" + d.ID); strings.Contains(p.body, "Motor Tech Forum") {
		t.Error("another employee's declaration prefilled the form")
	}
}
