package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

// TestMyDataPage: after a reviewer opened the employee's case, the
// employee's "My data" page lists their HR facts, expenses and that read,
// by role and never by name; the downloads work; the export page is the
// privacy officer's.
func TestMyDataPage(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	reviewer := e.browser(t)
	reviewer.signIn("E3", auth.RoleCompliance)
	if p := reviewer.get("/cases/" + e.caseID); p.status != http.StatusOK {
		t.Fatalf("case page: %d", p.status)
	}
	b := e.browser(t)
	b.signIn("E1")
	p := b.get("/my-data")
	if p.status != http.StatusOK {
		t.Fatalf("my data: %d %s", p.status, p.body)
	}
	for _, want := range []string{`href="/my-data"`, "张伟", "Motor Control Engineer", "MS11", "Moonshot 11", "中信证券股份有限公司",
		`data-testid="mydata-reads"`, "compliance", "read a review", "case review", "expense.claim.submitted",
		`data-testid="mydata-retention"`, "Confirmed reviews, after closing", "60mo", "Your HR record, after your last employment ends", "Notifications sent", "90d"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("my data page lacks %q", want)
		}
	}
	reads := p.body[strings.Index(p.body, `data-testid="mydata-reads"`):]
	for _, never := range []string{"E3", "郑雪"} {
		if strings.Contains(reads, never) {
			t.Errorf("who read my data names %q", never)
		}
	}
	// An open case is not shown under after_decision.
	if strings.Contains(p.body, e.caseID) || !strings.Contains(p.body, "1 review(s) not yet decided are not shown") {
		t.Error("the open case is shown, or its being hidden is not said")
	}
	for _, f := range []string{"csv", "json"} {
		d := b.get("/my-data/download?format=" + f)
		if d.status != http.StatusOK || !strings.Contains(d.header.Get("Content-Disposition"), "my-data-E1") {
			t.Errorf("download %s: %d %v", f, d.status, d.header)
		}
	}
	if p := b.get("/privacy/export"); p.status != http.StatusForbidden {
		t.Errorf("an employee opens the export page: %d", p.status)
	}
	officer := e.browser(t)
	officer.signIn("E4", auth.RolePrivacyOfficer)
	if p := officer.get("/privacy/export"); p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="privacy-export"`) {
		t.Errorf("export page for the officer: %d", p.status)
	}
	if p := officer.get("/privacy/export?employee=E1&reason=request"); p.status != http.StatusOK || p.header.Get("Content-Type") != "application/zip" {
		t.Errorf("export download: %d %s", p.status, p.header.Get("Content-Type"))
	}
	if p := officer.get("/privacy/export?employee=E4"); p.status != http.StatusForbidden {
		t.Errorf("the officer exports themselves: %d", p.status)
	}
}
