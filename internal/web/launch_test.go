package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/incident"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/project"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// TestLaunchPages: My tasks attests (and says what is missing), the admin
// edits the attestation texts, partners are registered from the page and
// hidden from employees, an incident is recorded from its form.
func TestLaunchPages(t *testing.T) {
	var store *mongostore.AttestationStore
	e := newEnv(t, "dev", func(d *web.Deps) {
		db := mongostore.Use(testenv.Database(t))
		if err := db.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		store = mongostore.NewAttestationStore(db)
		ps, _ := privacy.NewPseudonymizer([]byte(secret))
		emps := d.Employees.(*mongostore.EmployeeStore)
		as := &attest.Service{Store: store, Employees: emps, Audit: d.Audit, Config: attest.DefaultConfig(), Now: d.Now}
		ins := &project.Service{Members: emps, Tasks: as, Engagements: evaluate.DisclosureEngagements{Store: mongostore.NewDisclosureStore(db)},
			Audit: d.Audit.(*mongostore.AuditStore), Pseudonyms: ps, Pseudonymise: true, Now: d.Now}
		partners := &project.Partners{Store: mongostore.NewPartnerStore(db), Audit: d.Audit, Now: d.Now}
		d.Launch = &web.Launch{Attest: as, Insiders: ins, Partners: partners, Incidents: &incident.Service{
			Store: mongostore.NewIncidentStore(db), Insiders: ins, Partners: partners, Pseudonyms: ps, Config: backtrace.DefaultConfig(),
			Audit: d.Audit.(*mongostore.AuditStore), Now: d.Now}}
	})
	now := e.clock.Now().UTC()
	task := attest.Task{ID: "att-web-1", EmployeeID: "E1", ProjectCode: "YU7", ProjectName: "SUV", Sensitivity: "secret",
		LaunchDate: "2030-01-01", AssignedOn: "2024-01-01", Status: attest.StatusPending, ReceivedAt: now, DueAt: now.Add(120 * time.Hour),
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if _, err := store.Insert(context.Background(), task); err != nil {
		t.Fatal(err)
	}

	emp := e.browser(t)
	emp.signIn("E1", "employee")
	p := emp.get("/tasks")
	if p.status != 200 || !strings.Contains(p.body, "YU7") || !strings.Contains(p.body, `data-testid="attest"`) {
		t.Fatalf("My tasks: %d %s", p.status, p.body)
	}
	csrf := csrfPattern.FindStringSubmatch(p.body)[1]
	form := url.Values{"csrf": {csrf}, "version": {"1"}, "template_version": {"0"}, "engagements_declared": {"yes"}, "nda_held": {"yes"}}
	if p := emp.post("/tasks/att-web-1/attest", form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Every statement must be confirmed") {
		t.Errorf("attesting without the blackout statement: %d", p.status)
	}
	form.Set("blackout_known", "yes")
	if p := emp.post("/tasks/att-web-1/attest", form); p.status != http.StatusSeeOther || !strings.Contains(p.location(), "done=attested") {
		t.Fatalf("attest: %d %s", p.status, p.location())
	}
	if p := emp.get("/tasks"); !strings.Contains(p.body, `data-status="done"`) {
		t.Error("the task is not shown done")
	}
	if p := emp.get("/partners"); p.status != http.StatusForbidden {
		t.Errorf("an employee opened the partner registry: %d", p.status)
	}
	if p := emp.get("/incidents"); p.status != http.StatusForbidden {
		t.Errorf("an employee opened the incidents: %d", p.status)
	}

	admin := e.browser(t)
	admin.signIn("E4", "employee", "admin")
	p = admin.get("/admin/attestation")
	if p.status != 200 || !strings.Contains(p.body, "{project}") {
		t.Fatalf("texts page: %d", p.status)
	}
	tf := url.Values{"csrf": {csrfPattern.FindStringSubmatch(p.body)[1]}, "based_on": {"0"}, "intro_en": {"Hello {project}"}, "intro_zh": {"你好 {project}"}}
	for _, k := range attest.QuestionKeys() {
		tf.Set(k+"_en", "Statement "+k)
		tf.Set(k+"_zh", "声明 "+k)
	}
	if p := admin.post("/admin/attestation", tf); p.status != http.StatusSeeOther {
		t.Fatalf("save texts: %d %s", p.status, p.body)
	}
	if p := admin.post("/admin/attestation", tf); p.status != http.StatusConflict {
		t.Errorf("a save based on an old version: %d, want 409", p.status)
	}
	pf := url.Values{"csrf": {tf.Get("csrf")}, "project_code": {"YU7"}, "name": {"汽车日报"}, "kind": {"media"},
		"nda_signed_on": {"2025-01-01"}, "contacts": {"赵记者, zhao@autodaily.example, editor"}}
	if p := admin.post("/partners", pf); p.status != http.StatusSeeOther {
		t.Fatalf("register partner: %d %s", p.status, p.body)
	}
	pf.Set("name", "坏")
	pf.Set("kind", "vendor")
	if p := admin.post("/partners", pf); p.status != http.StatusBadRequest || !strings.Contains(p.body, "kind") {
		t.Errorf("a bad partner: %d", p.status)
	}

	comp := e.browser(t)
	comp.signIn("E3", "employee", "compliance")
	p = comp.get("/partners")
	if p.status != 200 || !strings.Contains(p.body, "赵记者") || strings.Contains(p.body, `action="/partners/import"`) {
		t.Errorf("compliance's partner page: %d; want the contact and no import form", p.status)
	}
	p = comp.get("/incidents")
	cs := csrfPattern.FindStringSubmatch(p.body)[1]
	bad := url.Values{"csrf": {cs}, "project_code": {"YU7"}, "first_seen_on": {"not-a-date"}, "kind": {"photos"}, "where": {"Weibo"}}
	if p := comp.post("/incidents", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, "first_seen_on") {
		t.Errorf("a bad incident: %d", p.status)
	}
	bad.Set("first_seen_on", string(e.clock.Now().Format("2006-01-02")))
	p = comp.post("/incidents", bad)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/incidents/inc-") {
		t.Fatalf("record incident: %d %s", p.status, p.location())
	}
	if p := comp.get("/incidents"); !strings.Contains(p.body, "Weibo") {
		t.Error("the incident is not listed")
	}
}
