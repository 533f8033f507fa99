package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
)

// reviewerEnv is the UI over a real database with the queue's stores.
func reviewerEnv(t *testing.T) *env { return newEnv(t, auth.ModeDev, nil) }

// regexpFind returns the first group of pattern in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in the page", pattern)
	}
	return m[1]
}

// A taken case stays in the default queue with its assignee's name; My
// cases, counts, saved filters, exports and bulk assign work; listing the
// page writes one audit entry.
func TestQueuePage(t *testing.T) {
	e := reviewerEnv(t)
	ctx := context.Background()
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance)
	p := b.get("/cases/" + e.caseID)
	tok := csrfPattern.FindStringSubmatch(p.body)[1]
	if p := b.post("/cases/"+e.caseID+"/assign", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("take: %d", p.status)
	}
	before, _, _ := e.audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead, Actor: "E3"}, 100, "")
	q := b.get("/cases")
	for _, want := range []string{`data-testid="open-case-E1"`, "In review", "郑雪", `data-testid="queue-count" role="status">1 cases match.`,
		`href="/cases/export?format=csv"`, `data-keynav`, `data-testid="bulk"`, `data-testid="score-legend"`, "capped"} {
		if !strings.Contains(q.body, want) {
			t.Errorf("default queue lacks %q", want)
		}
	}
	after, _, _ := e.audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead, Actor: "E3"}, 100, "")
	if len(after) != len(before)+1 || after[0].Details["via"] != "list" || len(after[0].ResourceIDs) != 1 {
		t.Errorf("listing the queue wrote %d entries (%+v), want one list entry", len(after)-len(before), after[0])
	}
	if p := b.get("/cases?assignee=me"); !strings.Contains(p.body, `data-testid="open-case-E1"`) || !strings.Contains(p.body, `aria-current="page" data-testid="view-mine"`) {
		t.Error("My cases does not list the taken case")
	}
	if p := b.get("/cases?assignee=none"); strings.Contains(p.body, `data-testid="open-case-E1"`) {
		t.Error("Unassigned lists a taken case")
	}
	if p := b.get("/cases?project=MS11&from=" + string(civil.Of(e.clock.Now()).AddDays(-1))); !strings.Contains(p.body, `data-testid="open-case-E1"`) {
		t.Error("search by project and date does not find the case")
	}
	if p := b.get("/cases?project=MS99"); strings.Contains(p.body, `data-testid="open-case-E1"`) || !strings.Contains(p.body, "0 cases match.") {
		t.Error("search by another project still finds the case")
	}
	if p := b.get("/cases?from=soon"); p.status != http.StatusBadRequest {
		t.Errorf("bad date: %d", p.status)
	}

	// Saved filters: per user.
	if p := b.post("/cases/filters", url.Values{"csrf": {tok}, "name": {"MS11 高"}, "query": {"project=MS11&severity=high&evil=1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save filter: %d", p.status)
	}
	if p := b.get("/cases"); !strings.Contains(p.body, "MS11 高") || !strings.Contains(p.body, `href="/cases?project=MS11&amp;severity=high"`) {
		i := strings.Index(p.body, "saved-list")
		t.Errorf("the saved filter is not offered (or kept an unknown parameter): %s", p.body[max(0, i):min(len(p.body), i+400)])
	}
	other := e.browser(t)
	other.signIn("E4", auth.RoleCompliance)
	if p := other.get("/cases"); strings.Contains(p.body, "MS11 高") {
		t.Error("another reviewer sees my saved filter")
	}

	// Exports keep Chinese: CSV with a BOM, XLSX.
	csvp := b.get("/cases/export?format=csv")
	if csvp.status != http.StatusOK || !strings.HasPrefix(csvp.body, "\uFEFF") || !strings.Contains(csvp.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv export: %d %v", csvp.status, csvp.header)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvp.body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][2] != "张伟" || recs[1][4] != "In review" || !strings.Contains(recs[1][7], "郑雪") {
		t.Fatalf("csv = %q %v", recs, err)
	}
	xp := b.get("/cases/export?format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(xp.body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Case queue")
	if len(rows) != 2 || rows[1][2] != "张伟" {
		t.Fatalf("xlsx rows = %q", rows)
	}
	if es, _, _ := e.audit.List(ctx, audit.Filter{Action: audit.ActionCaseExport, Actor: "E3"}, 10, ""); len(es) != 2 {
		t.Errorf("%d export entries, want 2", len(es))
	}

	// Bulk: give it to E4 with a reason, at the version shown.
	q = b.get("/cases")
	pick := regexpFind(t, q.body, `name="case" value="([^"]+)"`)
	p = b.post("/cases/bulk", url.Values{"csrf": {tok}, "case": {pick}, "action": {"assign"}, "assignee": {"E4"}, "reason": {"E4 covers EV Powertrain"}, "back": {"/cases"}})
	if p.status != http.StatusSeeOther || !strings.Contains(p.location(), "done=bulk.done") {
		t.Fatalf("bulk assign: %d %s", p.status, p.location())
	}
	if c, _ := e.cases.Get(ctx, e.caseID); c.Assignee != "E4" {
		t.Errorf("assignee after bulk = %q", c.Assignee)
	}
	// The same version again is stale: counted as refused.
	p = b.post("/cases/bulk", url.Values{"csrf": {tok}, "case": {pick}, "action": {"assign"}, "assignee": {"E3"}, "reason": {"back"}, "back": {"/cases"}})
	if !strings.Contains(p.location(), "done=bulk.partial") {
		t.Errorf("stale bulk: %s", p.location())
	}

	// Reassign on the case page needs a reason, shown beside the field.
	cp := b.get("/cases/" + e.caseID)
	ver := regexpFind(t, cp.body, `name="version" value="(\d+)"`)
	p = b.post("/cases/"+e.caseID+"/reassign", url.Values{"csrf": {tok}, "assignee": {"E3"}, "version": {ver}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="ra-reason-err">is required`) {
		t.Errorf("reassign without reason: %d", p.status)
	}
	if p := b.post("/cases/"+e.caseID+"/reassign", url.Values{"csrf": {tok}, "assignee": {"E3"}, "version": {ver}, "reason": {"back to me"}}); p.status != http.StatusSeeOther {
		t.Errorf("reassign: %d %s", p.status, p.body)
	}
}

// The declaration form: unpaid by default, an empty end date is the same
// day, the same declaration twice warns, a too-large form comes back with
// what was typed, and an edit shows a field diff in the history.
func TestDeclarationFormFixes(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	emp := e.browser(t)
	emp.signIn("E1")
	form := emp.get("/declarations/new")
	if strings.Contains(form.body, `id="paid" name="paid" value="1" checked`) || strings.Contains(form.body, `placeholder="3000.00"`) ||
		!strings.Contains(form.body, "data-paid-only") {
		t.Error("the form is paid by default, or shows a placeholder amount")
	}
	tok := csrfPattern.FindStringSubmatch(form.body)[1]
	start := string(civil.Of(e.clock.Now()).AddDays(7))
	decl := url.Values{"csrf": {tok}, "kind": {"speaking"}, "counterparty_type": {"academic"}, "counterparty": {"同济大学"},
		"topic": {"电驱动讲座"}, "start_date": {start}, "end_date": {""}, "amount": {"3000.00"}, "currency": {"CNY"}}
	p := emp.post("/declarations", decl) // unpaid: the hidden amount is ignored
	if p.status != http.StatusSeeOther {
		t.Fatalf("unpaid declaration: %d %s", p.status, p.body)
	}
	id := strings.TrimPrefix(strings.Split(p.location(), "?")[0], "/declarations/")
	d, _ := e.decls.Get(context.Background(), id)
	if d.Paid || d.Compensation != nil || d.EndDate != d.StartDate {
		t.Errorf("stored %+v, want unpaid, one day", d.Input)
	}
	p = emp.post("/declarations", decl)
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="duplicate-warning"`) || !strings.Contains(p.body, "You declared this engagement") ||
		!strings.Contains(p.body, `name="confirm_duplicate" value="1"`) || !strings.Contains(p.body, "电驱动讲座") {
		t.Errorf("second identical declaration: %d, want a warning keeping the form", p.status)
	}
	decl.Set("confirm_duplicate", "1")
	if p := emp.post("/declarations", decl); p.status != http.StatusSeeOther {
		t.Errorf("declared anyway: %d", p.status)
	}

	// In form order, as a browser sends it: the notes come last.
	big := "csrf=" + url.QueryEscape(tok) + "&kind=speaking&counterparty_type=academic&counterparty=" + url.QueryEscape("同济大学") +
		"&topic=" + url.QueryEscape("保留的主题") + "&start_date=" + start + "&notes=" + url.QueryEscape(strings.Repeat("长", 1<<19))
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/declarations", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p = emp.do(req)
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, `data-testid="form-too-large"`) ||
		!strings.Contains(p.body, "保留的主题") || strings.Contains(p.body, `"error"`) {
		i := strings.Index(p.body, "<main")
		t.Errorf("too-large form: %d, want the form with a message and the typed topic: %s", p.status, p.body[max(0, i):min(len(p.body), i+1500)])
	}

	// Any other form refuses a cut-off body and does nothing.
	wd := "csrf=" + url.QueryEscape(tok) + "&comment=" + url.QueryEscape(strings.Repeat("长", 1<<19))
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/declarations/"+id+"/withdraw", strings.NewReader(wd))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := emp.do(req); p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("too-large withdraw: %d, want 413", p.status)
	}
	if d, _ := e.decls.Get(context.Background(), id); d.Status == "withdrawn" {
		t.Error("a cut-off withdraw form was acted on")
	}

	edit := url.Values{"csrf": {tok}, "kind": {"speaking"}, "counterparty_type": {"academic"}, "counterparty": {"同济大学"},
		"topic": {"电驱动讲座（修订）"}, "start_date": {start}}
	if p := emp.post("/declarations/"+id+"/edit", edit); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d", p.status)
	}
	detail := emp.get("/declarations/" + id)
	if !strings.Contains(detail.body, `data-testid="history-diff"`) || !strings.Contains(detail.body, "<del>电驱动讲座</del>") ||
		strings.Contains(detail.body, "Pending → Pending") {
		t.Errorf("the history does not show the field diff")
	}
}

// Rejecting without a comment shows "is required" beside Comment; the
// inbox records each read once.
func TestInboxFieldErrorAndOneRead(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	emp := e.browser(t)
	emp.signIn("E1")
	tok := emp.csrf("/declarations/new")
	start := string(civil.Of(e.clock.Now()).AddDays(7))
	p := emp.post("/declarations", url.Values{"csrf": {tok}, "kind": {"media_interview"}, "counterparty_type": {"media"}, "counterparty": {"财新"},
		"topic": {"招聘"}, "start_date": {start}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("declare: %d", p.status)
	}
	id := strings.TrimPrefix(strings.Split(p.location(), "?")[0], "/declarations/")
	mgr := e.browser(t)
	mgr.signIn("E2", auth.RoleManager)
	inbox := mgr.get("/inbox")
	reads, _, _ := e.audit.List(context.Background(), audit.Filter{Action: audit.ActionDisclosureRead, Actor: "E2", ResourceID: id}, 50, "")
	if len(reads) != 1 {
		t.Errorf("the inbox recorded %d reads of the declaration, want 1", len(reads))
	}
	mtok := csrfPattern.FindStringSubmatch(inbox.body)[1]
	p = mgr.post("/inbox/"+id+"/decide", url.Values{"csrf": {mtok}, "decision": {"reject"}, "version": {"1"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="comment-err-`+id+`" role="alert" data-testid="comment-error">is required`) {
		t.Errorf("reject without comment: %d, want is required beside the comment", p.status)
	}
}

// The audit log names actors, reads its actions in words, and exports CSV.
func TestAuditLogReadableAndExport(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	rev := e.browser(t)
	rev.signIn("E3", auth.RoleCompliance)
	rev.get("/cases")
	a := e.browser(t)
	a.signIn("E4", auth.RoleAuditor)
	p := a.get("/audit?action=case.read")
	for _, want := range []string{"郑雪", "Read a case", "1 items"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if p := a.get("/audit?owner_id=E1&action=case.read"); !strings.Contains(p.body, "Read a case") {
		t.Error("the owner filter does not find the list read")
	}
	x := a.get("/audit/export?action=case.read")
	if x.status != http.StatusOK || !strings.HasPrefix(x.body, "\uFEFF") || !strings.Contains(x.body, "郑雪") || !strings.Contains(x.body, e.caseID) {
		t.Errorf("audit export: %d %q", x.status, x.body)
	}
	if es, _, _ := e.audit.List(context.Background(), audit.Filter{Action: audit.ActionAuditExport}, 10, ""); len(es) != 1 {
		t.Errorf("the export was not audited")
	}
}
