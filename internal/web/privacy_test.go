package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// privacyEnv is newEnv with pseudonymised review, two-person unmasking and
// four eyes, as `moonlight demo` runs it.
func privacyEnv(t *testing.T) (*env, *privacy.Policy) {
	t.Helper()
	names, err := privacy.NewPseudonymizer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	cfg := privacy.DefaultConfig()
	cfg.Unmask = privacy.UnmaskTwoPerson
	policy := privacy.NewPolicy(cfg, names)
	e := newEnvDB(t, auth.ModeDev, func(d *web.Deps, db *mongostore.DB) {
		d.Cases = &review.Service{Cases: d.CaseStore, Audit: mongostore.NewAuditStore(db), Now: d.Now, Privacy: policy,
			Directory: mongostore.NewEmployeeStore(db), Names: mongostore.NewEmployeeStore(db), Unmasks: mongostore.NewUnmaskStore(db), ConfirmRequiresSecondReviewer: true}
		d.Privacy = policy
		d.Config.TwoPersonUnmask = true
		// The fixture's case was stored without a pseudonym, as before issue 15.
		if _, err := mongostore.NewCaseStore(db).BackfillSubjects(t.Context(), names.Subject); err != nil {
			t.Fatal(err)
		}
	})
	return e, policy
}

// identityOnPage reports what of E1 (张伟, manager 马超 E2) a page shows.
func identityOnPage(body string) []string {
	var out []string
	for _, s := range []string{"张伟", "马超", "Motor Control Engineer", `open-case-E1"`} {
		if strings.Contains(body, s) {
			out = append(out, s)
		}
	}
	if regexp.MustCompile(`\bE1\b`).MatchString(body) {
		out = append(out, "E1")
	}
	return out
}

var requestVersion = regexp.MustCompile(`action="/privacy/unmask-requests/([^/"]+)/decide"[\s\S]*?name="version" value="(\d+)"`)

func TestPseudonymisedReviewInTheBrowser(t *testing.T) {
	e, policy := privacyEnv(t)
	subject := policy.Subject("E1")
	casePath := "/cases/" + e.caseID
	reviewer := e.browser(t)
	reviewer.signIn("E3", auth.RoleCompliance)
	for _, path := range []string{"/cases", "/cases?status=", casePath, "/dashboard"} {
		p := reviewer.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.status)
		}
		if got := identityOnPage(p.body); len(got) > 0 {
			t.Errorf("%s shows %v", path, got)
		}
	}
	if q := reviewer.get("/cases"); !strings.Contains(q.body, `data-testid="open-case-`+subject+`"`) {
		t.Fatalf("the queue does not list %s", subject)
	}
	p := reviewer.get(casePath)
	for _, want := range []string{subject, "Engineering", "MS11", `data-testid="unmask-form"`, "A privacy officer decides your request"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	tok := csrfPattern.FindStringSubmatch(p.body)[1]
	if p := reviewer.post(casePath+"/unmask", url.Values{"csrf": {tok}, "reason": {""}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("unmask without reason: %d", p.status)
	}
	if p := reviewer.post(casePath+"/unmask", url.Values{"csrf": {tok}, "reason": {"Interview on Monday"}}); p.status != http.StatusSeeOther ||
		!strings.Contains(p.location(), "done=case.unmask.requested") {
		t.Fatalf("unmask: %d %s", p.status, p.location())
	}
	p = reviewer.get(casePath)
	if !strings.Contains(p.body, `data-testid="unmask-pending"`) || strings.Contains(p.body, `data-testid="unmask-form"`) || len(identityOnPage(p.body)) > 0 {
		t.Fatalf("after the request the page shows pending %v, the form %v, %v", strings.Contains(p.body, "unmask-pending"),
			strings.Contains(p.body, "unmask-form"), identityOnPage(p.body))
	}
	if p := reviewer.get("/privacy/unmask-requests"); p.status != http.StatusForbidden {
		t.Errorf("a reviewer opens the officer's page: %d", p.status)
	}

	officer := e.browser(t)
	officer.signIn("E4", auth.RolePrivacyOfficer)
	list := officer.get("/privacy/unmask-requests")
	m := requestVersion.FindStringSubmatch(list.body)
	if list.status != http.StatusOK || m == nil || !strings.Contains(list.body, "Interview on Monday") || !strings.Contains(list.body, subject) {
		t.Fatalf("officer's page (%d): %s", list.status, list.body)
	}
	if got := identityOnPage(list.body); len(got) > 0 {
		t.Errorf("the officer's page shows %v", got)
	}
	otok := csrfPattern.FindStringSubmatch(list.body)[1]
	if p := officer.post("/privacy/unmask-requests/"+m[1]+"/decide", url.Values{"csrf": {otok}, "decision": {"approve"}, "version": {m[2]}}); p.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", p.status, p.body)
	}
	if p := officer.post("/privacy/unmask-requests/"+m[1]+"/decide", url.Values{"csrf": {otok}, "decision": {"reject"}, "version": {m[2]}}); p.status != http.StatusConflict {
		t.Errorf("deciding the same version again: %d", p.status)
	}
	p = reviewer.get(casePath)
	if !strings.Contains(p.body, "张伟") || !strings.Contains(p.body, `data-testid="unmask-granted"`) {
		t.Fatal("after approval the reviewer does not see the name and the grant's end")
	}

	// Four eyes: the first reviewer's confirmation waits for a second.
	ver := versionPattern.FindStringSubmatch(p.body)[1]
	tok = csrfPattern.FindStringSubmatch(p.body)[1]
	if p := reviewer.post(casePath+"/decide", url.Values{"csrf": {tok}, "outcome": {"confirmed"}, "reason": {"Paid call in the blackout"}, "version": {ver}}); p.status != http.StatusSeeOther ||
		!strings.Contains(p.location(), "done=case.confirm.requested") {
		t.Fatalf("confirm: %d %s", p.status, p.location())
	}
	p = reviewer.get(casePath)
	if !strings.Contains(p.body, `data-testid="awaiting-second"`) || strings.Contains(p.body, `data-testid="confirmation-form"`) || strings.Contains(p.body, `data-testid="confirm-case"`) {
		t.Fatal("the first reviewer's page does not say it awaits a second reviewer, or offers them to answer")
	}
	second := e.browser(t)
	second.signIn("E2", auth.RoleCompliance)
	p = second.get(casePath)
	if !strings.Contains(p.body, `data-testid="confirmation-form"`) || len(identityOnPage(strings.ReplaceAll(p.body, "马超", ""))) > 0 {
		t.Fatalf("the second reviewer's page: form %v, shows %v", strings.Contains(p.body, "confirmation-form"), identityOnPage(p.body))
	}
	ver, tok = versionPattern.FindStringSubmatch(p.body)[1], csrfPattern.FindStringSubmatch(p.body)[1]
	if p := second.post(casePath+"/confirmation", url.Values{"csrf": {tok}, "agree": {"true"}, "reason": {"Agreed"}, "version": {ver}}); p.status != http.StatusSeeOther {
		t.Fatalf("agree: %d %s", p.status, p.body)
	}
	if p := second.get(casePath); !strings.Contains(p.body, `data-testid="case-status">Confirmed`) {
		t.Errorf("after the second reviewer the case is not confirmed")
	}

	auditor := e.browser(t)
	auditor.signIn("E4", auth.RoleAuditor)
	log := auditor.get("/audit")
	if got := identityOnPage(log.body); len(got) > 0 {
		t.Errorf("the audit log shows %v", got)
	}
	for _, want := range []string{"unmask.request", "unmask.decide", "case.confirm_request", "case.confirm", `data-testid="owner-subject">` + subject} {
		if !strings.Contains(log.body, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
}

func TestQueueSearchByPseudonym(t *testing.T) {
	e, policy := privacyEnv(t)
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance)
	sub := policy.Subject("E1")
	if p := b.get("/cases?status=&subject=" + strings.ToLower(sub)); !strings.Contains(p.body, `data-testid="open-case-`+sub+`"`) {
		t.Errorf("a search by %s does not find the case", sub)
	}
	if p := b.get("/cases?status=&subject=P-0000-0000"); strings.Contains(p.body, `data-testid="open-case-`+sub+`"`) {
		t.Error("a search by another pseudonym finds the case")
	}
	if p := b.get("/cases?subject=E1"); p.status != http.StatusSeeOther {
		t.Errorf("a search by an id: %d, want the queue again", p.status)
	}
}

func TestUnknownUnmaskRequestIsNotFound(t *testing.T) {
	e, _ := privacyEnv(t)
	b := e.browser(t)
	b.signIn("E4", auth.RolePrivacyOfficer)
	tok := csrfPattern.FindStringSubmatch(b.get("/privacy/unmask-requests").body)[1]
	if p := b.post("/privacy/unmask-requests/unm-nope/decide", url.Values{"csrf": {tok}, "decision": {"approve"}, "version": {"1"}}); p.status != http.StatusNotFound {
		t.Errorf("deciding an unknown request: %d, want 404", p.status)
	}
}
