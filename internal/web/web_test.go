package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/rights"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/web"
)

const secret = "test-session-secret-of-at-least-32-bytes!"

// clock is a settable now, so session expiry can be tested.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the UI on a real database, served by the real HTTP stack
// (httpapi: security headers and all), with a few employees and one case.
type env struct {
	srv    *httptest.Server
	clock  *clock
	audit  *mongostore.AuditStore
	cases  *mongostore.CaseStore
	decls  *mongostore.DisclosureStore
	emps   *mongostore.EmployeeStore
	sess   *mongostore.SessionStore
	caseID string
}

// People of the tests: E1 reports to E2; E3 is in compliance; E4 audits.
func hired(id, name, dept, title, manager string, start civil.Date) employee.Employee {
	f := employee.Fact{Ref: event.Ref{Source: "hris/test", ID: "hire-" + id}, Type: event.TypeEmployeeHired, Effective: start,
		Data: &event.EmployeeHired{EmployeeID: id, Name: name, Department: dept, Title: title, ManagerID: manager, HireDate: start}}
	facts := []employee.Fact{f}
	if id == "E1" {
		facts = append(facts, employee.Fact{Ref: event.Ref{Source: "hris/test", ID: "proj-E1"}, Type: event.TypeProjectAssigned,
			Effective: start.AddDays(30), Data: &event.ProjectAssigned{EmployeeID: id, ProjectCode: "MS11", ProjectName: "Moonshot 11",
				Sensitivity: "confidential", LaunchDate: start.AddDays(400), EffectiveDate: start.AddDays(30)}})
	}
	return employee.Build(id, facts)
}

func newEnv(t *testing.T, mode string, mutate func(*web.Deps)) *env {
	t.Helper()
	return newEnvDB(t, mode, func(d *web.Deps, _ *mongostore.DB) {
		if mutate != nil {
			mutate(d)
		}
	})
}

// newEnvDB is newEnv whose mutate also gets the database (privacy_test.go).
func newEnvDB(t *testing.T, mode string, mutate func(*web.Deps, *mongostore.DB)) *env {
	t.Helper()
	ctx := context.Background()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	today := civil.Of(clk.Now())
	emps := mongostore.NewEmployeeStore(db)
	for _, e := range []employee.Employee{
		hired("E1", "张伟", "EV Powertrain", "Motor Control Engineer", "E2", today.AddDays(-300)),
		hired("E2", "马超", "EV Powertrain", "Director", "", today.AddDays(-900)),
		hired("E3", "郑雪", "Compliance", "Compliance Officer", "", today.AddDays(-900)),
		hired("E4", "吕倩", "Finance", "Expense Auditor", "", today.AddDays(-900)),
	} {
		if _, err := emps.Save(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	auditStore := mongostore.NewAuditStore(db)
	sessStore := mongostore.NewSessionStore(db)
	caseStore := mongostore.NewCaseStore(db)
	declStore := mongostore.NewDisclosureStore(db)
	signals := mongostore.NewSignalStore(db)
	events := mongostore.NewEventStore(db)

	ref := event.Ref{Source: "expense/test", ID: "claim-1"}
	ev, err := event.Decode([]byte(`{"specversion":"1.0","id":"claim-1","source":"expense/test","type":"expense.claim.submitted","subject":"E1",
		"data":{"claim_id":"C1","employee_id":"E1","incurred_on":"` + string(today.AddDays(-10)) + `","amount":"3000.00","currency":"CNY",
		"merchant":"中信证券股份有限公司","category":"other","description":"咨询费 新能源车产业链专家交流会"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.InsertMany(ctx, []event.Received{{Event: ev, Topic: "expense.events", ReceivedAt: clk.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := signals.AddSignals(ctx, "E1", []detect.Signal{{Ref: ref, Kind: detect.KindExpenseClaim, EmployeeID: "E1", Date: today.AddDays(-10),
		Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Merchant: "中信证券股份有限公司", Counterparty: "CITIC Securities",
		CounterpartyID: "citic", CounterpartyType: "brokerage"}}); err != nil {
		t.Fatal(err)
	}
	c := review.Case{ID: "case-test-1", EmployeeID: "E1", EmployeeName: "张伟", Department: "EV Powertrain", Status: review.StatusOpen,
		Severity: "high", Score: 87, OpenedAt: clk.Now(), UpdatedAt: clk.Now(),
		Findings: []detect.Finding{{ID: "f1", EmployeeID: "E1", Rule: "expense-at-research-counterparty", Severity: "high", Score: 60,
			Summary:    "Claimed 3000.00 CNY from 中信证券 (CITIC Securities, brokerage); no approved disclosure covers it",
			OccurredOn: today.AddDays(-10), Counterparty: "CITIC Securities", CounterpartyType: "brokerage",
			EventRefs: []event.Ref{ref}, Employment: detect.EmploymentEmployed, Project: "MS11",
			Points: []detect.Point{{Part: detect.PartWeight, Points: 30}, {Part: detect.PartVocabulary, Points: 10}, {Part: detect.PartBlackout, Points: 20}}}},
		Scoring: detect.Scoring{Sum: 87, MaxScore: 100, Score: 87, Medium: 30, High: 70, FindingsSeverity: "high", Severity: "high"},
		History: []review.Change{{At: clk.Now(), Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen, Reason: "1 finding"}},
	}
	if err := caseStore.Create(ctx, c); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.DiscardHandler)
	authCfg := auth.Config{Mode: auth.ModeDev, Dev: auth.DevConfig{SigningKey: auth.Secret(secret)}}
	if mode == auth.ModeOIDC {
		authCfg = auth.Config{Mode: auth.ModeOIDC}
	}
	reg := prometheus.NewRegistry()
	m := ingest.NewMetrics(reg)
	m.Consumed.WithLabelValues("hr.events").Add(120)
	m.Rejected.WithLabelValues("hr.events", "schema").Add(2)
	m.Lag.WithLabelValues("hr.events", "0").Set(5)
	deps := web.Deps{
		Config: web.Config{SessionSecret: []byte(secret), Auth: authCfg, SessionTTL: time.Hour},
		Log:    log, Now: clk.Now, Employees: emps, Sessions: sessStore, Audit: auditStore, Events: events, Signals: signals,
		Disclosures: &disclosure.Service{Store: declStore, Directory: disclosure.EmployeeDirectory{Employees: emps}, Audit: auditStore,
			Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(), Now: clk.Now},
		Cases:     &review.Service{Cases: caseStore, Audit: auditStore, Now: clk.Now, Reviewers: mongostore.NewReviewerStore(db)},
		CaseStore: caseStore, Gatherer: reg, Activity: events,
		SavedFilters: mongostore.NewSavedFilterStore(db), Reviewers: mongostore.NewReviewerStore(db),
		Rights: &rights.Service{Employees: emps, Signals: signals, Disclosures: declStore, Cases: caseStore, Audit: auditStore,
			Store: mongostore.NewRights(db), FindingsPolicy: privacy.FindingsAfterDecision, Retention: retention.DefaultConfig(), Now: clk.Now},
	}
	mutate(&deps, db)
	ui, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(ctx, auth.Config{Mode: auth.ModeDev, Dev: auth.DevConfig{SigningKey: auth.Secret(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{MaxBodyBytes: 1 << 20, Log: log, Verifier: verifier, Gatherer: reg,
		Extra: func(r *gin.Engine) { ui.Register(r) }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, clock: clk, audit: auditStore, cases: caseStore, decls: declStore, emps: emps, sess: sessStore, caseID: c.ID}
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see them.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	lang string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(body), header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// versionPattern finds the version a decision form carries.
var versionPattern = regexp.MustCompile(`name="version" value="(\d+)"`)

// csrf reads the form token from a page (the sign-in page for a visitor).
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfPattern.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no csrf token on %s (%d)", path, p.status)
	}
	return m[1]
}

// signIn signs in through the dev form with roles.
func (b *browser) signIn(subject string, roles ...string) {
	b.t.Helper()
	form := url.Values{"csrf": {b.csrf("/signin")}, "subject": {subject}, "role": roles}
	p := b.post("/signin", form)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: status %d: %s", subject, p.status, p.body)
	}
}

func (p page) location() string { return p.header.Get("Location") }

// TestRoleChecks visits every page as every kind of visitor: anonymous
// visitors are sent to sign in, visitors without the role get 403.
func TestRoleChecks(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	casePath := "/cases/" + e.caseID
	pages := []struct {
		path  string
		allow []string // roles that open it (any one); "employee" = everyone signed in
	}{
		{"/declarations", []string{auth.RoleEmployee}},
		{"/declarations/new", []string{auth.RoleEmployee}},
		{"/inbox", []string{auth.RoleManager, auth.RoleCompliance}},
		{"/cases", []string{auth.RoleCompliance, auth.RoleAuditor}},
		{casePath, []string{auth.RoleCompliance, auth.RoleAuditor}},
		{"/dashboard", []string{auth.RoleCompliance, auth.RoleAuditor, auth.RoleAdmin}},
		{"/audit", []string{auth.RoleAuditor, auth.RoleAdmin}},
	}
	visitors := []struct {
		name    string
		subject string
		roles   []string
	}{
		{"employee", "E1", nil},
		{"manager", "E2", []string{auth.RoleManager}},
		{"compliance", "E3", []string{auth.RoleCompliance}},
		{"auditor", "E4", []string{auth.RoleAuditor}},
		{"admin", "E4", []string{auth.RoleAdmin}},
	}
	anon := e.browser(t)
	for _, pg := range pages {
		p := anon.get(pg.path)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/signin?next=") {
			t.Errorf("anonymous GET %s: %d %q, want 303 to /signin", pg.path, p.status, p.location())
		}
	}
	for _, v := range visitors {
		b := e.browser(t)
		b.signIn(v.subject, v.roles...)
		has := append([]string{auth.RoleEmployee}, v.roles...)
		for _, pg := range pages {
			want := http.StatusForbidden
			for _, r := range pg.allow {
				for _, h := range has {
					if r == h {
						want = http.StatusOK
					}
				}
			}
			p := b.get(pg.path)
			if p.status != want {
				t.Errorf("%s GET %s: status %d, want %d", v.name, pg.path, p.status, want)
			}
			if strings.Contains(p.body, "⟦") {
				t.Errorf("%s GET %s: a message key is missing: %s", v.name, pg.path, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(p.body))
			}
		}
	}
	// POST routes refuse the wrong roles too.
	b := e.browser(t)
	b.signIn("E1")
	tok := b.csrf("/declarations")
	for _, path := range []string{casePath + "/decide", casePath + "/assign", "/inbox/x/decide"} {
		if p := b.post(path, url.Values{"csrf": {tok}, "outcome": {"cleared"}, "reason": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("employee POST %s: %d, want 403", path, p.status)
		}
	}
}

// TestCSRF refuses posts without the session's token, with another
// session's token, and from another origin.
func TestCSRF(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E1")
	other := e.browser(t)
	other.signIn("E1")
	otherTok := other.csrf("/declarations")
	good := b.csrf("/declarations/new")
	form := func(tok string) url.Values {
		return url.Values{"csrf": {tok}, "kind": {"speaking"}, "counterparty": {"同济大学"}, "counterparty_type": {"academic"},
			"topic": {"Talk"}, "start_date": {string(civil.Of(e.clock.Now()).AddDays(10))}}
	}
	tests := []struct {
		name   string
		tok    string
		origin string
		want   int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"forged token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", http.StatusForbidden},
		{"another session's token", otherTok, "", http.StatusForbidden},
		{"other origin", good, "https://evil.example", http.StatusForbidden},
		{"own token", good, "", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/declarations", strings.NewReader(form(tt.tok).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if p := b.do(req); p.status != tt.want {
				t.Errorf("status %d, want %d", p.status, tt.want)
			}
		})
	}
	// The sign-in form needs its token too, and signing in changes it.
	anon := e.browser(t)
	if p := anon.post("/signin", url.Values{"subject": {"E3"}, "role": {"compliance"}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without token: %d, want 403", p.status)
	}
	before := anon.csrf("/signin")
	anon.signIn("E1")
	if after := anon.csrf("/declarations"); after == before {
		t.Error("the CSRF token did not change at sign-in")
	}
	// Sign-out needs the token.
	if p := b.post("/signout", nil); p.status != http.StatusForbidden {
		t.Errorf("sign-out without token: %d, want 403", p.status)
	}
}

// TestSessionExpiry: a session past its TTL is gone, the visitor is told
// so; a tampered cookie is no session at all.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E1")
	if p := b.get("/declarations"); p.status != http.StatusOK {
		t.Fatalf("fresh session: %d", p.status)
	}
	for range 2 { // used within the idle limit, up to 58 minutes of the hour
		e.clock.Add(29 * time.Minute)
		if p := b.get("/declarations"); p.status != http.StatusOK {
			t.Fatalf("before expiry: %d", p.status)
		}
	}
	e.clock.Add(3 * time.Minute)
	p := b.get("/declarations")
	if p.status != http.StatusSeeOther || !strings.Contains(p.location(), "expired=1") {
		t.Fatalf("after expiry: %d %q, want 303 to sign-in with expired=1", p.status, p.location())
	}
	if p := b.get(p.location()); !strings.Contains(p.body, "Your session has expired") {
		t.Error("the sign-in page does not say the session expired")
	}

	// Cookie attributes.
	fresh := e.browser(t)
	res := fresh.get("/signin")
	ck := res.header.Get("Set-Cookie")
	for _, want := range []string{"moonlight_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	// Tampering: flip a character of the sealed value.
	u, _ := url.Parse(e.srv.URL)
	b2 := e.browser(t)
	b2.signIn("E3", auth.RoleCompliance)
	cookies := b2.c.Jar.Cookies(u)
	for _, c := range cookies {
		if c.Name == "moonlight_session" {
			v := []byte(c.Value)
			v[len(v)/2] ^= 1
			c.Value = string(v)
		}
	}
	b2.c.Jar.SetCookies(u, cookies)
	if p := b2.get("/cases"); p.status != http.StatusSeeOther {
		t.Errorf("tampered cookie: %d, want 303 to sign in", p.status)
	}
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t, auth.ModeDev, func(d *web.Deps) { d.Config.SecureCookies = true })
	p := e.browser(t).get("/signin")
	if ck := p.header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") {
		t.Errorf("cookie %q is not Secure", ck)
	}
}

// TestDeclareDecide walks the employee and approver pages: a declaration
// with errors comes back with them; a valid one is pending; the manager
// approves it from the inbox with conditions; the employee sees it approved.
func TestDeclareDecide(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	emp := e.browser(t)
	emp.signIn("E1")
	tok := emp.csrf("/declarations/new")
	start := string(civil.Of(e.clock.Now()).AddDays(14))

	// Inline validation answers by field, with the domain's rules.
	p := emp.post("/declarations/validate", url.Values{"csrf": {tok}, "kind": {"speaking"}, "paid": {"1"}, "amount": {"0"}, "currency": {"CNY"},
		"start_date": {start}, "end_date": {"2000-01-01"}})
	for _, want := range []string{`"counterparty":"is required"`, `"amount":"must be more than zero when paid"`, `"end_date":"must not be before the start date"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("validate answer %s lacks %s", p.body, want)
		}
	}
	p = emp.post("/declarations", url.Values{"csrf": {tok}, "kind": {"speaking"}, "counterparty_type": {"academic"}, "topic": {"电驱动技术"},
		"start_date": {start}, "paid": {"1"}, "amount": {"abc"}, "currency": {"CNY"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "must be an amount like 3000.00") || !strings.Contains(p.body, "电驱动技术") {
		t.Fatalf("invalid declaration: %d, want 422 with the errors and the typed values", p.status)
	}
	p = emp.post("/declarations", url.Values{"csrf": {tok}, "kind": {"speaking"}, "counterparty_type": {"academic"}, "counterparty": {"同济大学汽车学院"},
		"topic": {"电驱动技术讲座"}, "start_date": {start}, "paid": {"1"}, "amount": {"2000.00"}, "currency": {"CNY"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/declarations/") {
		t.Fatalf("declare: %d %s", p.status, p.body)
	}
	detail := emp.get(p.location())
	if !strings.Contains(detail.body, "Declared. It is waiting for a decision.") || !strings.Contains(detail.body, `data-testid="decl-status">Pending`) {
		t.Errorf("declaration page does not show it pending")
	}
	id := strings.TrimPrefix(strings.Split(p.location(), "?")[0], "/declarations/")

	// Another employee cannot see it.
	nosy := e.browser(t)
	nosy.signIn("E4")
	if p := nosy.get("/declarations/" + id); p.status != http.StatusNotFound {
		t.Errorf("someone else's declaration: %d, want 404", p.status)
	}

	mgr := e.browser(t)
	mgr.signIn("E2", auth.RoleManager)
	inbox := mgr.get("/inbox")
	if !strings.Contains(inbox.body, "同济大学汽车学院") || !strings.Contains(inbox.body, "张伟") {
		t.Fatalf("manager's inbox lacks the declaration")
	}
	mtok := csrfPattern.FindStringSubmatch(inbox.body)[1]
	// Nothing is decided for the approver: no outcome pre-selected, two
	// buttons that say what they do, the adverse one asks to confirm.
	if strings.Contains(inbox.body, " checked") || !strings.Contains(inbox.body, `value="approve" class="primary" data-testid="approve">Approve</button>`) ||
		!strings.Contains(inbox.body, `data-testid="reject" data-confirm=`) {
		t.Errorf("inbox decision form pre-selects an outcome or lacks the Approve / Reject (confirm) buttons")
	}
	mver := versionPattern.FindStringSubmatch(inbox.body)[1]
	p = mgr.post("/inbox/"+id+"/decide", url.Values{"csrf": {mtok}, "decision": {"approve"}, "comment": {"Fine."}})
	if p.status != http.StatusPreconditionRequired {
		t.Errorf("approve without the version shown: %d, want 428", p.status)
	}
	p = mgr.post("/inbox/"+id+"/decide", url.Values{"csrf": {mtok}, "decision": {"approve"}, "comment": {"Fine."}, "version": {"99"}})
	if p.status != http.StatusConflict {
		t.Errorf("approve a version never shown: %d, want 409", p.status)
	}
	// Rejecting without a comment is refused with the reason shown.
	p = mgr.post("/inbox/"+id+"/decide", url.Values{"csrf": {mtok}, "decision": {"reject"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "is required") {
		t.Errorf("reject without comment: %d, want 422 with the reason", p.status)
	}
	p = mgr.post("/inbox/"+id+"/decide", url.Values{"csrf": {mtok}, "decision": {"approve"}, "comment": {"Fine."},
		"conditions": {"No unreleased products\n\nPublic material only"}, "version": {mver}})
	if p.status != http.StatusSeeOther || p.location() != "/inbox?done=decided.approved" {
		t.Fatalf("approve: %d %q", p.status, p.location())
	}
	if p := mgr.get("/inbox?done=decided.approved"); !strings.Contains(p.body, "Approved.") || strings.Contains(p.body, "同济大学汽车学院") {
		t.Errorf("inbox after approval should confirm and no longer list it")
	}
	detail = emp.get("/declarations/" + id)
	for _, want := range []string{`data-testid="decl-status">Approved`, "No unreleased products", "Public material only", "E2"} {
		if !strings.Contains(detail.body, want) {
			t.Errorf("approved declaration page lacks %q", want)
		}
	}
	// Withdraw it.
	p = emp.post("/declarations/"+id+"/withdraw", url.Values{"csrf": {tok}, "comment": {"Cancelled"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", p.status)
	}
	if d, err := e.decls.Get(context.Background(), id); err != nil || d.Status != disclosure.StatusWithdrawn {
		t.Errorf("stored status %v (%v), want withdrawn", d.Status, err)
	}
}

// TestCaseReview: the queue filters, opening a case is audited, the page
// shows the timeline, the finding's explanation and evidence, and a
// reviewer clears it.
func TestCaseReview(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance)
	q := b.get("/cases")
	if !strings.Contains(q.body, `data-testid="open-case-E1"`) {
		t.Fatal("the queue does not list the open case")
	}
	if q := b.get("/cases?status=open&severity=low"); strings.Contains(q.body, `data-testid="open-case-E1"`) {
		t.Error("severity filter low still lists a high case")
	}
	if q := b.get("/cases?status=&department=EV+Powertrain&rule=expense-at-research-counterparty&counterparty=CITIC+Securities&sort=opened"); !strings.Contains(q.body, `data-testid="open-case-E1"`) {
		t.Error("matching filters do not list the case")
	}
	ctx := context.Background()
	reads := func() int {
		es, _, err := e.audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead, ResourceID: e.caseID, Actor: "E3"}, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range es {
			if x.Details["via"] == "get" {
				n++
			}
		}
		return n
	}
	before := reads()
	p := b.get("/cases/" + e.caseID)
	if p.status != http.StatusOK {
		t.Fatalf("case page: %d", p.status)
	}
	if reads() != before+1 {
		t.Errorf("opening the case was not audited")
	}
	// How the score was made: each finding's parts and the thresholds.
	for _, want := range []string{`data-testid="score-breakdown"`, "rule weight 30 + seminar or fee words 10 + project blackout 20",
		"Severity thresholds", "≥ 30", "≥ 70"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	for _, want := range []string{`<svg class="timeline"`, "MS11", "Launch of MS11", "中信证券股份有限公司", "no approved disclosure covers it",
		"expense.claim.submitted", "咨询费", "Expense at a research counterparty", ">Clear case</button>", ">Confirm breach</button>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if strings.Contains(p.body, " checked") || !strings.Contains(p.body, `data-testid="confirm-case" data-confirm=`) {
		t.Errorf("case decision form pre-selects an outcome or does not ask to confirm a breach")
	}
	tok := csrfPattern.FindStringSubmatch(p.body)[1]
	ver := versionPattern.FindStringSubmatch(p.body)[1]
	if p := b.post("/cases/"+e.caseID+"/decide", url.Values{"csrf": {tok}, "outcome": {"cleared"}, "version": {ver}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("decide without reason: %d, want 422", p.status)
	}
	p = b.post("/cases/"+e.caseID+"/decide", url.Values{"csrf": {tok}, "outcome": {"cleared"}, "reason": {"Talk was declared late; approved."}, "version": {ver}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("decide: %d", p.status)
	}
	if p := b.get(p.location()); !strings.Contains(p.body, `data-testid="case-status">Cleared`) || !strings.Contains(p.body, "Case cleared.") {
		t.Error("the case page does not show it cleared")
	}
	// An auditor reads it, without a decision form, and sees the actions in the log.
	a := e.browser(t)
	a.signIn("E4", auth.RoleAuditor)
	if p := a.get("/cases/" + e.caseID); strings.Contains(p.body, "Clear case") {
		t.Error("an auditor gets the decision form")
	}
	log := a.get("/audit?resource_id=" + e.caseID)
	for _, want := range []string{"case.decide", "case.read", "Talk was declared late; approved."} {
		if !strings.Contains(log.body, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	if p := a.get("/audit?from=yesterday"); p.status != http.StatusBadRequest {
		t.Errorf("bad date filter: %d, want 400", p.status)
	}
}

func TestDashboard(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance)
	p := b.get("/dashboard")
	for _, want := range []string{`<svg class="chart"`, "EV Powertrain", "CITIC Securities", "hr.events", "120", "schema"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

// TestPagesFitTheCSP: no inline script, style element or style attribute
// on any page, and the security headers are on UI responses.
func TestPagesFitTheCSP(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance, auth.RoleAuditor, auth.RoleManager)
	inline := regexp.MustCompile(`(?i)<script(?:\s+[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	for _, path := range []string{"/signin", "/declarations", "/declarations/new", "/inbox", "/cases", "/cases/" + e.caseID, "/dashboard", "/audit"} {
		p := b.get(path)
		if m := inline.FindString(p.body); m != "" {
			t.Errorf("%s has inline script or style: %q", path, m)
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s lacks nosniff", path)
		}
		if !strings.Contains(p.body, `<html lang="en">`) {
			t.Errorf("%s lacks the lang attribute", path)
		}
	}
	for _, asset := range []string{"/static/app.css", "/static/app.js", "/static/favicon.svg"} {
		if p := b.get(asset); p.status != http.StatusOK {
			t.Errorf("%s: %d", asset, p.status)
		}
	}
	if p := b.get("/static/../web.go"); p.status == http.StatusOK {
		t.Error("static serves outside its folder")
	}
}

// TestLanguage: the browser's language picks Chinese; the switch's cookie wins.
func TestLanguage(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.lang = "zh-CN,zh;q=0.9,en;q=0.5"
	p := b.get("/signin")
	if !strings.Contains(p.body, `<html lang="zh-Hans">`) || !strings.Contains(p.body, "开发环境登录") {
		t.Fatalf("zh-CN browser did not get Chinese")
	}
	sw := b.get("/lang?to=en&next=/signin")
	if sw.status != http.StatusSeeOther || sw.location() != "/signin" {
		t.Fatalf("switch: %d %q", sw.status, sw.location())
	}
	if p := b.get("/signin"); !strings.Contains(p.body, `<html lang="en">`) {
		t.Error("the switch did not win over Accept-Language")
	}
	if sw := b.get("/lang?to=zh-Hans&next=//evil.example/x"); sw.location() != "/" {
		t.Errorf("switch redirects off-site: %q", sw.location())
	}
}

func TestNewRefusesShortSecret(t *testing.T) {
	if _, err := web.New(web.Deps{Config: web.Config{SessionSecret: []byte("short")}}); err == nil {
		t.Error("a short session secret was accepted")
	}
}
