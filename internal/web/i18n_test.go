package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/sample"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// watchlistNames is web.Names over one watchlist (the shipped one).
type watchlistNames struct{ wl *watchlist.Watchlist }

func (n watchlistNames) For(context.Context, int64) explain.Names { return n.wl.Get }
func (n watchlistNames) ByName(name string) (watchlist.Counterparty, bool) {
	m, ok := n.wl.Lookup(name)
	return m.Counterparty, ok
}

// sampleEnv is the UI over the demo's sample set, loaded as the demo loads
// it: every event through the ingest pipeline and the detection engine,
// then the sample declarations through the declaration service (which
// re-evaluates their owners). It returns the env and the case ids.
func sampleEnv(t *testing.T) (*env, []string) {
	t.Helper()
	ctx := context.Background()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	rules, err := evaluate.NewRuleHolder("", "", configs.Rules, configs.Watchlist)
	if err != nil {
		t.Fatal(err)
	}
	_, wl := rules.Current()
	emps, events, signals := mongostore.NewEmployeeStore(db), mongostore.NewEventStore(db), mongostore.NewSignalStore(db)
	cases, decls, auditStore := mongostore.NewCaseStore(db), mongostore.NewDisclosureStore(db), mongostore.NewAuditStore(db)
	engine := &evaluate.Engine{Rules: rules, Employees: emps, Signals: signals, Seminars: signals, Presence: signals,
		Engagements: evaluate.DisclosureEngagements{Store: decls}, Cases: cases, Audit: auditStore, Now: clk.Now}
	pipe := &ingest.Pipeline{Events: events, Employees: emps, Stages: []ingest.Stage{engine}}

	var batch []event.Received
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := pipe.Process(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i, m := range sample.Generate(11, clk.Now()) {
		ev, err := event.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, event.Received{Event: ev, Topic: m.Topic, Offset: int64(i), ReceivedAt: clk.Now()})
		if len(batch) == 500 {
			flush()
		}
	}
	flush()
	declSvc := &disclosure.Service{Store: decls, Directory: disclosure.EmployeeDirectory{Employees: emps}, Audit: auditStore,
		Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(), Now: clk.Now, OnChange: engine.Reevaluate}
	for _, sd := range sample.Disclosures(clk.Now()) {
		in := disclosure.Input{Kind: disclosure.Kind(sd.Body.Kind), Counterparty: sd.Body.Counterparty,
			CounterpartyType: disclosure.CounterpartyType(sd.Body.CounterpartyType), Topic: sd.Body.Topic,
			StartDate: sd.Body.StartDate, EndDate: sd.Body.EndDate, Paid: sd.Body.Paid}
		if c := sd.Body.Compensation; c != nil {
			in.Compensation = &disclosure.Compensation{Amount: c.Amount, Currency: c.Currency}
		}
		d, err := declSvc.Create(ctx, disclosure.Actor{ID: sd.EmployeeID, Roles: []string{"employee"}}, in)
		if err != nil {
			t.Fatal(err)
		}
		if sd.Decision != "" && string(d.Status) != sd.WantStatus {
			decider := disclosure.Actor{ID: sd.DecidedBy, Roles: []string{"employee", sd.DeciderRole}}
			if _, err := declSvc.Decide(ctx, decider, d.ID, disclosure.DecisionInput{Outcome: disclosure.Outcome(sd.Decision),
				Comment: sd.Comment, Version: d.Version}); err != nil {
				t.Fatal(err)
			}
		}
	}

	log := slog.New(slog.DiscardHandler)
	ui, err := web.New(web.Deps{
		Config: web.Config{SessionSecret: []byte(secret), Auth: auth.Config{Mode: auth.ModeDev, Dev: auth.DevConfig{SigningKey: auth.Secret(secret)}},
			SessionTTL: time.Hour},
		Log: log, Now: clk.Now, Employees: emps, Sessions: mongostore.NewSessionStore(db), Audit: auditStore, Events: events, Signals: signals,
		Disclosures: declSvc, Cases: &review.Service{Cases: cases, Audit: auditStore, Now: clk.Now}, CaseStore: cases,
		Names: watchlistNames{wl}, Preferences: mongostore.NewProfileStore(db),
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(ctx, auth.Config{Mode: auth.ModeDev, Dev: auth.DevConfig{SigningKey: auth.Secret(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{MaxBodyBytes: 1 << 20, Log: log, Verifier: verifier,
		Routes:  []httpapi.Routes{httpapi.CaseRoutes{Service: &review.Service{Cases: cases, Audit: auditStore, Now: clk.Now}, Names: watchlistNames{wl}}},
		Mappers: []httpapi.Mapper{httpapi.MapCaseErrors},
		Extra:   func(r *gin.Engine) { ui.Register(r) }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	var ids []string
	for cursor := ""; ; {
		cs, next, err := cases.List(ctx, review.Filter{}, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(ids) < 5 {
		t.Fatalf("the sample set made %d cases; the story has more", len(ids))
	}
	return &env{srv: srv, clock: clk, audit: auditStore, cases: cases, decls: decls, emps: emps}, ids
}

// TestSampleInTheReadersLanguage loads the sample set once and reads it as
// a Chinese and an English reader, in the UI and the API, and in two zones.
func TestSampleInTheReadersLanguage(t *testing.T) {
	e, ids := sampleEnv(t)
	t.Run("zh case pages have no English sentence", func(t *testing.T) { testChineseCasePageHasNoEnglishSentence(t, e, ids) })
	t.Run("the API answers in Accept-Language", func(t *testing.T) { testCaseAPIAnswersInTheCallersLanguage(t, e, ids) })
	t.Run("the audit log reads in Chinese", func(t *testing.T) { testAuditLogInChinese(t, e, ids) })
	t.Run("times in the viewer's zone, named", func(t *testing.T) { testTimesShowTheViewersZone(t, e, ids) })
	t.Run("an attestation-overdue finding reads in Chinese", func(t *testing.T) { testAttestationFindingInChinese(t, e, ids) })
}

// testAttestationFindingInChinese: the attestation job's finding is
// structured like every rule's: the zh case page and the zh API answer
// carry no English sentence for it, and the English reader reads English.
func testAttestationFindingInChinese(t *testing.T, e *env, ids []string) {
	ctx := t.Context()
	// The sample's auditor has no case: the attestation finding opens theirs.
	const who = "E1005"
	recv := e.clock.Now().UTC().AddDate(0, 0, -20)
	f := attest.OverdueFinding(attest.Task{ID: "att-zh", EmployeeID: who, ProjectCode: "MS11", ProjectName: "小米 MS11",
		Sensitivity: "secret", AssignedOn: civil.Of(recv), ReceivedAt: recv, DueAt: recv.AddDate(0, 0, 5)}, 5, nil)
	c := review.Case{ID: "case-a77e5700", EmployeeID: who, Status: review.StatusOpen, Severity: f.Severity,
		Score: f.Score, Findings: []detect.Finding{f}, OpenedAt: recv, UpdatedAt: recv}
	if err := e.cases.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.lang = "zh-CN"
	b.signIn("E1045", "employee", "compliance")
	p := b.get("/cases/" + c.ID)
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	for _, m := range englishRun.FindAllString(visibleText(p.body), -1) {
		t.Errorf("English on the Chinese page of an attestation finding: %q", m)
	}
	if ex := explanations(p.body); !strings.Contains(ex, "保密确认") || strings.Contains(ex, "No attestation") {
		t.Errorf("the zh explanation of the attestation finding = %q", ex)
	}
	token := devToken(t, "E1045", "compliance")
	for _, tc := range []struct{ lang, want string }{{"zh-CN", "保密确认"}, {"en", "No attestation for"}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/cases/"+c.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Language", tc.lang)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		_ = res.Body.Close()
		sum := regexp.MustCompile(`"summary":"((?:[^"\\]|\\.)*)"`).FindStringSubmatch(body)
		if res.StatusCode != http.StatusOK || sum == nil || !strings.Contains(sum[1], tc.want) {
			t.Errorf("%s: status %d, summary %v, want %q", tc.lang, res.StatusCode, sum, tc.want)
			continue
		}
		if tc.lang == "zh-CN" && englishRun.MatchString(sum[1]) {
			t.Errorf("English in the zh API summary: %s", sum[1])
		}
	}
}

// testAuditLogInChinese: the audit log's actions, roles, the system actor
// and the reasons the service wrote read in Chinese; the entries keep their
// codes.
func testAuditLogInChinese(t *testing.T, e *env, ids []string) {
	b := e.browser(t)
	b.lang = "zh-CN"
	b.signIn("E1045", "employee", "compliance")
	b.get("/cases/" + ids[0]) // a read, audited with the purpose "case review"
	a := e.browser(t)
	a.lang = "zh-CN"
	a.signIn("E1005", "employee", "auditor")
	p := a.get("/audit")
	if p.status != http.StatusOK {
		t.Fatalf("audit log: %d", p.status)
	}
	for _, want := range []string{"立案", "查看案件", "Moonlight（自动）", "项发现没有获批的申报", "审查案件", "合规", "<code class=\"muted\">case.read</code>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Chinese audit log lacks %q", want)
		}
	}
	for _, unwanted := range []string{"finding(s)", "case review", ">system<"} {
		if strings.Contains(p.body, unwanted) {
			t.Errorf("the Chinese audit log shows %q", unwanted)
		}
	}
}

var (
	// Markup whose text is data shown as given (event text, names,
	// pseudonyms): translate="no" elements, and code (ids).
	rawElement = regexp.MustCompile(`(?s)<(span|code|a|strong|td|dd|bdi)\b[^>]*translate="no"[^>]*>.*?</(span|code|a|strong|td|dd|bdi)>|<code\b[^>]*>.*?</code>`)
	tags       = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<svg.*?</svg>|<[^>]+>`)
	// An English sentence: three Latin words in a row (a word: 2+ letters).
	englishRun = regexp.MustCompile(`\b[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){2,}\b`)
	// ids, codes and pseudonyms the page shows on purpose.
	allowedLatin = regexp.MustCompile(`\b(case-[0-9a-f]+|E\d{4}|P-[0-9A-Z]{4}|CST|UTC|Asia/Shanghai|Moonlight|CNY|USD|YYYY-MM-DD)\b`)
)

// visibleText is the page's text a reader reads as the UI's language: tags
// stripped, data marked translate="no" and code removed.
func visibleText(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	s := rawElement.ReplaceAllString(body, " ")
	s = tags.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return allowedLatin.ReplaceAllString(s, " ")
}

// TestChineseCasePageHasNoEnglishSentence opens every case of the sample
// set as a Chinese-speaking reviewer: the page (explanations, history,
// declarations, evidence labels, HR facts) must have no run of three
// English words outside ids, codes and data shown as given.
func testChineseCasePageHasNoEnglishSentence(t *testing.T, e *env, ids []string) {
	b := e.browser(t)
	b.lang = "zh-CN"
	b.signIn("E1045", "employee", "compliance")
	for _, id := range ids {
		p := b.get("/cases/" + id)
		if p.status != http.StatusOK {
			t.Fatalf("%s: status %d", id, p.status)
		}
		text := visibleText(p.body)
		for _, m := range englishRun.FindAllString(text, -1) {
			t.Errorf("%s: English on the Chinese page: %q", id, m)
		}
		if !strings.Contains(p.body, `data-testid="explanation"`) {
			t.Errorf("%s: no explanation shown", id)
		}
		if strings.Contains(text, "⟦") {
			t.Errorf("%s: a message key is missing: %s", id, text[strings.Index(text, "⟦"):][:40])
		}
		if uuidPattern.MatchString(rawElement.ReplaceAllString(explanations(p.body), "")) {
			t.Errorf("%s: a raw UUID in a finding's text", id)
		}
	}
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

var explanationPattern = regexp.MustCompile(`(?s)<p class="explanation"[^>]*>(.*?)</p>`)

// explanations is the text of the findings' explanations, links' targets dropped.
func explanations(body string) string {
	var b strings.Builder
	for _, m := range explanationPattern.FindAllStringSubmatch(body, -1) {
		b.WriteString(tags.ReplaceAllString(m[1], " "))
	}
	return b.String()
}

// TestCaseAPIAnswersInTheCallersLanguage: the case API renders each
// finding's summary in the Accept-Language of the call, with the structured
// explanation beside it, and names the counterparty in that language.
func testCaseAPIAnswersInTheCallersLanguage(t *testing.T, e *env, ids []string) {
	token := devToken(t, "E1045", "compliance")
	get := func(lang string) (string, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/cases/"+ids[0], nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf strings.Builder
		_, _ = fmt.Fprint(&buf, readAll(t, res))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, buf.String())
		}
		return buf.String(), res.Header
	}
	zh, zhHeader := get("zh-CN,zh;q=0.9,en;q=0.5")
	en, enHeader := get("")
	if zhHeader.Get("Content-Language") != "zh-Hans" || enHeader.Get("Content-Language") != "en" {
		t.Errorf("Content-Language zh %q, en %q", zhHeader.Get("Content-Language"), enHeader.Get("Content-Language"))
	}
	summary := regexp.MustCompile(`"summary":"((?:[^"\\]|\\.)*)"`)
	zs, es := summary.FindStringSubmatch(zh), summary.FindStringSubmatch(en)
	if zs == nil || es == nil {
		t.Fatalf("no summary in\n%s\n%s", zh, en)
	}
	if zs[1] == es[1] || !regexp.MustCompile(`\p{Han}`).MatchString(zs[1]) || !strings.HasSuffix(zs[1], "。") {
		t.Errorf("Chinese summary %q (English %q)", zs[1], es[1])
	}
	if englishRun.MatchString(regexp.MustCompile(`“[^”]*”`).ReplaceAllString(zs[1], "")) {
		t.Errorf("English words in the Chinese summary: %s", zs[1])
	}
	for _, body := range []string{zh, en} {
		if !strings.Contains(body, `"explanation":{"lang":`) || !strings.Contains(body, `"clauses":[{"code":`) {
			t.Errorf("no structured explanation: %.300s", body)
		}
	}
	if !strings.Contains(zh, `"lang":"zh-Hans"`) {
		t.Errorf("explanation.lang is not zh-Hans")
	}

	// A finding stored before explanations were data answers with its
	// English text in any language, and a null explanation.
	old := review.Case{ID: "case-legacy-1", EmployeeID: "E1046", Status: review.StatusOpen, Severity: "medium", Score: 30,
		OpenedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
		Findings: []detect.Finding{{ID: "legacy", EmployeeID: "E1046", Rule: detect.RuleExpense, Severity: "medium", Score: 30,
			Summary: "Card payment to GLG (expert network) on 2024-01-10; no approved disclosure covers it", OccurredOn: "2024-01-10",
			Employment: detect.EmploymentEmployed}}}
	if err := e.cases.Create(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/cases/case-legacy-1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "zh")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	res.Body.Close()
	if !strings.Contains(body, `"summary":"Card payment to GLG (expert network) on 2024-01-10; no approved disclosure covers it","explanation":null`) {
		t.Errorf("legacy finding: %s", body)
	}
}

// TestTimesShowTheViewersZone: the same instant reads in the business zone
// by default and in the zone the person chose on the profile page, always
// with the zone named; the choice is stored server-side, so a new browser
// of the same person shows it too.
func testTimesShowTheViewersZone(t *testing.T, e *env, ids []string) {
	b := e.browser(t)
	b.signIn("E1045", "employee", "compliance")
	zoned := regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2} ([A-Z+\-0-9]+) \(([A-Za-z_/]+)\)`)
	p := b.get("/cases/" + ids[0])
	m := zoned.FindStringSubmatch(p.body)
	if m == nil || m[1] != "CST" || m[2] != "Asia/Shanghai" {
		t.Fatalf("default zone: %v", m)
	}
	opened := zoned.FindString(p.body)

	form := url.Values{"csrf": {b.csrf("/profile")}, "lang": {"zh-Hans"}, "time_zone": {"Europe/London"}}
	if r := b.post("/profile", form); r.status != http.StatusSeeOther {
		t.Fatalf("save profile: %d %s", r.status, r.body)
	}
	other := e.browser(t) // another browser: no language cookie
	other.signIn("E1045", "employee", "compliance")
	p = other.get("/cases/" + ids[0])
	m = zoned.FindStringSubmatch(p.body)
	if m == nil || (m[1] != "GMT" && m[1] != "BST") || m[2] != "Europe/London" {
		t.Fatalf("profile zone: %v", m)
	}
	if !strings.Contains(p.body, `<html lang="zh-Hans">`) {
		t.Errorf("the profile's language does not follow the person")
	}
	// The same instant: 8 hours (winter) or 7 (summer) earlier on the London clock.
	a, _ := time.Parse("2006-01-02 15:04", opened[:16])
	c, _ := time.Parse("2006-01-02 15:04", zoned.FindString(p.body)[:16])
	if d := a.Sub(c); d != 8*time.Hour && d != 7*time.Hour {
		t.Errorf("Shanghai %s vs London %s: %v apart", opened, zoned.FindString(p.body), d)
	}
	bad := url.Values{"csrf": {other.csrf("/profile")}, "time_zone": {"Mars/Olympus"}}
	if r := other.post("/profile", bad); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a zone that is not IANA: %d", r.status)
	}
}

func devToken(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	tok, err := auth.IssueDevToken(auth.Config{Mode: auth.ModeDev, Dev: auth.DevConfig{SigningKey: auth.Secret(secret)}}.WithDefaults(), subject, roles, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
