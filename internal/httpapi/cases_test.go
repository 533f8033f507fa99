package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// caseServer is the case and admin API over a fresh real database.
type caseServer struct {
	t       *testing.T
	h       http.Handler
	cases   *mongostore.CaseStore
	rescans *rescan.Runner
}

func newCaseServer(t *testing.T) *caseServer {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	cs := &caseServer{t: t, cases: mongostore.NewCaseStore(db)}
	auditStore := mongostore.NewAuditStore(db)
	signals, discl := mongostore.NewSignalStore(db), mongostore.NewDisclosureStore(db)
	ruleStore := mongostore.NewRuleSetStore(db)
	if _, _, err := ruleset.Seed(t.Context(), ruleStore, configs.Rules, configs.Watchlist, time.Now()); err != nil {
		t.Fatal(err)
	}
	rules, err := ruleset.NewHolder(t.Context(), ruleStore, nil)
	if err != nil {
		t.Fatal(err)
	}
	engine := &evaluate.Engine{Rules: rules, Employees: mongostore.NewEmployeeStore(db), Signals: signals, Seminars: signals, Presence: signals,
		Engagements: evaluate.DisclosureEngagements{Store: discl}, Cases: cs.cases, Audit: auditStore, Now: time.Now}
	rescans := &rescan.Runner{Store: mongostore.NewRescanStore(db), Leases: mongostore.NewLeases(db, time.Now), Engine: engine,
		Events: mongostore.NewEventStore(db), Employees: mongostore.NewRescanEmployees(db), Signals: signals, Audit: auditStore,
		Holder: "test", Log: slog.New(slog.DiscardHandler), Now: time.Now}
	cs.rescans = rescans
	ruleService := &ruleset.Service{Store: ruleStore, Holder: rules, Audit: auditStore, Now: time.Now}
	v, err := auth.NewVerifier(t.Context(), testAuthConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs.h = httpapi.New(httpapi.Config{
		MaxBodyBytes: testMaxBody,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Verifier:     v,
		Gatherer:     prometheus.NewRegistry(),
		Routes: []httpapi.Routes{
			httpapi.CaseRoutes{Service: &review.Service{Cases: cs.cases, Audit: auditStore, Now: time.Now, Reviewers: mongostore.NewReviewerStore(db),
				Comments: mongostore.NewCommentStore(db)}},
			&httpapi.AdminRoutes{Rules: ruleService, Rescans: rescans},
			httpapi.AuditRoutes{Log: &auditlog.Service{Store: auditStore, Now: time.Now}},
		},
		Mappers: []httpapi.Mapper{httpapi.MapCaseErrors, httpapi.MapAuditErrors, httpapi.MapRulesErrors},
	})
	return cs
}

func (cs *caseServer) do(method, path, token, body string) *httptest.ResponseRecorder {
	cs.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Request-Id", "req-"+strings.ReplaceAll(cs.t.Name(), "/", "-"))
	w := httptest.NewRecorder()
	cs.h.ServeHTTP(w, req)
	checkResponse(cs.t, req, []byte(body), w)
	return w
}

func (cs *caseServer) must(want int, method, path, token, body string) *httptest.ResponseRecorder {
	cs.t.Helper()
	w := cs.do(method, path, token, body)
	if w.Code != want {
		cs.t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body.String(), want)
	}
	return w
}

func (cs *caseServer) seed(id, employee, severity string, score int, counterparty string) {
	cs.t.Helper()
	at := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	c := review.Case{
		ID: id, EmployeeID: employee, EmployeeName: "Name " + employee, Department: "EV Unit",
		Status: review.StatusOpen, Severity: severity, Score: score, OpenedAt: at, UpdatedAt: at,
		Findings: []detect.Finding{{
			ID: "f-" + id, EmployeeID: employee, Rule: detect.RuleExpense, Severity: severity, Score: score,
			Summary: "Expense claim at 中信证券 (CITIC Securities, brokerage) on 2024-01-10", OccurredOn: civil.MustParse("2024-01-10"),
			Counterparty: counterparty, CounterpartyType: "brokerage", Employment: detect.EmploymentEmployed,
			EventRefs: []event.Ref{{Source: "expense/concur-cn", ID: "X-" + id}},
			Points:    []detect.Point{{Part: detect.PartWeight, Points: score}},
		}},
		Scoring: detect.Scoring{Sum: score, MaxScore: 100, Score: score, Medium: 30, High: 70, FindingsSeverity: severity, Severity: severity},
		History: []review.Change{{At: at, Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen, Reason: "1 finding"}},
	}
	if err := cs.cases.Create(cs.t.Context(), c); err != nil {
		cs.t.Fatal(err)
	}
}

// caseResp is a case as a client reads it.
type caseResp struct {
	ID         string `json:"id"`
	EmployeeID string `json:"employee_id"`
	Status     string `json:"status"`
	Severity   string `json:"severity"`
	Score      int    `json:"score"`
	Findings   []struct {
		Rule         string  `json:"rule"`
		Summary      string  `json:"summary"`
		OccurredOn   string  `json:"occurred_on"`
		Counterparty string  `json:"counterparty"`
		CoveredBy    *string `json:"covered_by"`
		EventRefs    []struct {
			Source string `json:"source"`
			ID     string `json:"id"`
		} `json:"event_refs"`
	} `json:"findings"`
	Assignee string `json:"assignee"`
	Decision *struct {
		Outcome string `json:"outcome"`
		By      string `json:"by"`
		Reason  string `json:"reason"`
	} `json:"decision"`
	Comments []struct {
		By   string `json:"by"`
		Text string `json:"text"`
	} `json:"comments"`
	History []struct {
		Actor  string `json:"actor"`
		Action string `json:"action"`
	} `json:"history"`
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

func TestCasesAPIContractShape(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-1", "E1", "high", 70, "CITIC Securities")
	w := cs.must(http.StatusOK, "GET", "/api/v1/cases/case-1", token(t, "C1", "compliance"), "")
	raw := decode[map[string]any](t, w)
	for _, k := range []string{"id", "employee_id", "status", "severity", "score", "findings", "opened_at", "updated_at",
		"employee_name", "department", "decision", "comments", "history"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("case has no %q: %s", k, w.Body.String())
		}
	}
	f := raw["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"rule", "summary", "occurred_on", "counterparty", "event_refs", "covered_by", "id", "severity", "score"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding has no %q: %v", k, f)
		}
	}
	if f["covered_by"] != nil {
		t.Errorf("covered_by = %v, want null", f["covered_by"])
	}
	// How the score was made, as fields a page can render in any language.
	pts, _ := f["points"].([]any)
	if len(pts) != 1 || pts[0].(map[string]any)["part"] != "weight" || pts[0].(map[string]any)["points"] != 70.0 {
		t.Errorf("finding points = %v, want [{weight 70}]", f["points"])
	}
	sb, _ := raw["score_breakdown"].(map[string]any)
	want := map[string]any{"sum": 70.0, "max_score": 100.0, "score": 70.0, "medium_threshold": 30.0, "high_threshold": 70.0,
		"findings_severity": "high", "severity": "high"}
	for k, v := range want {
		if sb[k] != v {
			t.Errorf("score_breakdown.%s = %v, want %v (%v)", k, sb[k], v, raw["score_breakdown"])
		}
	}
	ref := f["event_refs"].([]any)[0].(map[string]any)
	if ref["source"] != "expense/concur-cn" || ref["id"] != "X-case-1" {
		t.Errorf("event ref = %v", ref)
	}
}

func TestCasesAPIAccessAndValidation(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-1", "E1", "high", 70, "CITIC Securities")
	compliance, auditor, employee := token(t, "C1", "compliance"), token(t, "A1", "auditor"), token(t, "E2")
	tests := []struct {
		name, method, path, token, body string
		wantStatus                      int
		wantCode, wantField             string
	}{
		{"no token", "GET", "/api/v1/cases", "", "", 401, "unauthorized", ""},
		{"employee may not list", "GET", "/api/v1/cases", employee, "", 403, "forbidden", ""},
		{"employee may not read", "GET", "/api/v1/cases/case-1", employee, "", 403, "forbidden", ""},
		{"auditor may not decide", "POST", "/api/v1/cases/case-1/decision", auditor, `{"outcome":"cleared","reason":"x"}`, 403, "forbidden", ""},
		{"unknown case", "GET", "/api/v1/cases/case-404", compliance, "", 404, "not_found", ""},
		{"bad id", "GET", "/api/v1/cases/%24where", compliance, "", 404, "not_found", ""},
		{"limit too large", "GET", "/api/v1/cases?limit=201", compliance, "", 400, "invalid_query", "limit"},
		{"limit zero", "GET", "/api/v1/cases?limit=0", compliance, "", 400, "invalid_query", "limit"},
		{"unknown status", "GET", "/api/v1/cases?status=closed", compliance, "", 400, "invalid_query", "status"},
		{"unknown rule", "GET", "/api/v1/cases?rule=x", compliance, "", 400, "invalid_query", "rule"},
		{"operator in query", "GET", "/api/v1/cases?status[$ne]=open", compliance, "", 400, "invalid_query", "status[$ne]"},
		{"repeated parameter", "GET", "/api/v1/cases?status=open&status=cleared", compliance, "", 400, "invalid_query", "status"},
		{"bad employee id", "GET", "/api/v1/cases?employee_id=%7B%22%24gt%22%3A%22%22%7D", compliance, "", 400, "invalid_query", "employee_id"},
		{"bad cursor", "GET", "/api/v1/cases?cursor=abc", compliance, "", 400, "bad_cursor", "cursor"},
		{"bad outcome", "POST", "/api/v1/cases/case-1/decision", compliance, `{"outcome":"dismissed","reason":"x"}`, 400, "invalid_body", "outcome"},
		{"missing reason", "POST", "/api/v1/cases/case-1/decision", compliance, `{"outcome":"cleared"}`, 400, "invalid_body", "reason"},
		{"unknown field", "POST", "/api/v1/cases/case-1/decision", compliance, `{"outcome":"cleared","reason":"x","by":"E9"}`, 400, "invalid_body", "by"},
		{"dollar key", "POST", "/api/v1/cases/case-1/decision", compliance, `{"outcome":"cleared","reason":"x","$set":{}}`, 400, "invalid_body", "$set"},
		{"not an object", "POST", "/api/v1/cases/case-1/decision", compliance, `["cleared"]`, 400, "invalid_body", ""},
		{"empty comment", "POST", "/api/v1/cases/case-1/comments", compliance, `{"text":"  "}`, 400, "invalid_body", "text"},
		{"decide own case", "POST", "/api/v1/cases/case-1/decision", token(t, "E1", "compliance"), `{"outcome":"cleared","reason":"mine"}`, 403, "forbidden", ""},
		{"decide unknown case", "POST", "/api/v1/cases/case-404/decision", compliance, `{"outcome":"cleared","reason":"x"}`, 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, cs.do(tt.method, tt.path, tt.token, tt.body), tt.wantStatus, tt.wantCode, tt.wantField)
		})
	}
	// None of the refused requests changed the case.
	got := decode[caseResp](t, cs.must(200, "GET", "/api/v1/cases/case-1", compliance, ""))
	if got.Status != review.StatusOpen || got.Version != 1 {
		t.Errorf("after refused requests: status %s version %d", got.Status, got.Version)
	}
}

func TestCasesAPIReviewFlow(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-a", "E1", "high", 90, "CITIC Securities")
	cs.seed("case-b", "E2", "medium", 50, "GLG")
	cs.seed("case-c", "E3", "low", 5, "GLG")
	compliance, auditor := token(t, "C1", "compliance"), token(t, "A1", "auditor")

	// Filters and pages.
	page := decode[pageResp[caseResp]](t, cs.must(200, "GET", "/api/v1/cases?limit=2", auditor, ""))
	if len(page.Items) != 2 || page.Items[0].ID != "case-a" || page.Items[1].ID != "case-b" || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	next := decode[pageResp[caseResp]](t, cs.must(200, "GET", "/api/v1/cases?limit=2&cursor="+page.NextCursor, auditor, ""))
	if len(next.Items) != 1 || next.Items[0].ID != "case-c" || next.NextCursor != "" {
		t.Fatalf("second page = %+v", next)
	}
	for q, want := range map[string]string{
		"severity=medium": "case-b", "employee_id=E3": "case-c", "counterparty=CITIC%20Securities": "case-a",
	} {
		got := decode[pageResp[caseResp]](t, cs.must(200, "GET", "/api/v1/cases?"+q, compliance, "")).Items
		if len(got) != 1 || got[0].ID != want {
			t.Errorf("?%s = %d items, want %s", q, len(got), want)
		}
	}

	// Assign (only to a compliance reviewer: E2 never acted as one, C2 has), comment, decide.
	wantError(t, cs.do("POST", "/api/v1/cases/case-a/assign", compliance, `{"assignee":"E2"}`), 400, "invalid_request", "")
	cs.must(200, "GET", "/api/v1/cases", token(t, "C2", "compliance"), "")
	c := decode[caseResp](t, cs.must(200, "POST", "/api/v1/cases/case-a/assign", compliance, `{"assignee":"C2"}`))
	if c.Status != review.StatusInReview || c.Assignee != "C2" {
		t.Errorf("after assign: %s %s", c.Status, c.Assignee)
	}
	c = decode[caseResp](t, cs.must(201, "POST", "/api/v1/cases/case-a/comments", compliance, `{"text":"receipt names 中信证券研究部"}`))
	if len(c.Comments) != 1 || c.Comments[0].By != "C1" {
		t.Errorf("comments = %+v", c.Comments)
	}
	c = decode[caseResp](t, cs.must(200, "POST", "/api/v1/cases/case-a/decision", compliance,
		`{"outcome":"confirmed","reason":"paid brokerage seminar without approval","version":2}`))
	if c.Status != review.StatusConfirmed || c.Decision == nil || c.Decision.By != "C1" || c.Version != 3 || len(c.Comments) != 1 {
		t.Errorf("after decision: %+v", c)
	}
	wantError(t, cs.do("POST", "/api/v1/cases/case-a/decision", compliance, `{"outcome":"cleared","reason":"again","version":3}`), 422, "invalid_state", "")
	var actions []string
	for _, h := range c.History {
		actions = append(actions, h.Action)
	}
	// A comment lives in its own collection (case_comments), with its own
	// time and author: it is not a change of the case, nor in its history.
	if got := strings.Join(actions, ","); got != "opened,assigned,decided" {
		t.Errorf("history = %s", got)
	}

	// The audit log has the reads and the decision, with the request id.
	reads := decode[pageResp[auditResp]](t, cs.must(200, "GET", "/api/v1/audit?action=case.read&resource_id=case-a", auditor, "")).Items
	if len(reads) < 2 {
		t.Errorf("%d case.read entries for case-a, want the list reads", len(reads))
	}
	decisions := decode[pageResp[auditResp]](t, cs.must(200, "GET", "/api/v1/audit?action=case.decide", auditor, "")).Items
	if len(decisions) != 1 || decisions[0].Actor != "C1" || decisions[0].OwnerID != "E1" || decisions[0].ResourceID != "case-a" ||
		!strings.HasPrefix(decisions[0].ClientID, "req-") || strings.HasPrefix(decisions[0].RequestID, "req-") {
		t.Errorf("case.decide entries = %+v", decisions)
	}
}

func TestAdminAPI(t *testing.T) {
	cs := newCaseServer(t)
	admin, compliance := token(t, "AD1", "admin"), token(t, "C1", "compliance")
	wl := decode[struct {
		Version int64 `json:"version"`
		Items   []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
		Count int `json:"count"`
	}](t, cs.must(200, "GET", "/api/v1/admin/watchlist", admin, ""))
	if wl.Count < 20 || len(wl.Items) != wl.Count || wl.Version != 1 {
		t.Errorf("watchlist version %d has %d entries (%d items), want the seeded built-in list", wl.Version, wl.Count, len(wl.Items))
	}
	type rulesResp struct {
		Version        int64  `json:"version"`
		Change         string `json:"change"`
		Rules          string `json:"rules"`
		Counterparties []struct {
			ID     string `json:"id"`
			NameZH string `json:"name_zh"`
		} `json:"counterparties"`
		Retired []struct {
			Counterparty struct {
				ID string `json:"id"`
			} `json:"counterparty"`
			By string `json:"by"`
		} `json:"retired"`
	}
	v1 := decode[rulesResp](t, cs.must(200, "GET", "/api/v1/admin/rules", admin, ""))
	if v1.Version != 1 || v1.Change != "seed" || !strings.Contains(v1.Rules, "blackout_days") || len(v1.Counterparties) != wl.Count {
		t.Errorf("GET rules = version %d change %q, %d counterparties", v1.Version, v1.Change, len(v1.Counterparties))
	}

	const xinghe = `{"id":"xinghe","type":"brokerage","name":"Xinghe Securities","name_zh":"星河证券"}`
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"not an admin", "POST", "/api/v1/admin/counterparties", compliance, xinghe, 403, "forbidden", ""},
		{"unknown field", "POST", "/api/v1/admin/counterparties", admin, `{"id":"x","type":"brokerage","name":"X","colour":"red"}`, 400, "invalid_body", "colour"},
		{"no id", "POST", "/api/v1/admin/counterparties", admin, `{"type":"brokerage","name":"X"}`, 400, "invalid_body", "id"},
		{"bad type", "POST", "/api/v1/admin/counterparties", admin, `{"id":"x","type":"bank","name":"X"}`, 422, "invalid_rules", ""},
		{"alias of another firm", "POST", "/api/v1/admin/counterparties", admin, `{"id":"x","type":"brokerage","name":"X","aliases":["中信证券"]}`, 422, "invalid_rules", ""},
		{"edit of an unknown id", "PUT", "/api/v1/admin/counterparties/nope", admin, `{"type":"brokerage","name":"X"}`, 404, "not_found", ""},
		{"retire of an unknown id", "DELETE", "/api/v1/admin/counterparties/nope", admin, "", 404, "not_found", ""},
		{"retire, not an admin", "DELETE", "/api/v1/admin/counterparties/glg", compliance, "", 403, "forbidden", ""},
	} {
		wantError(t, cs.do(tc.method, tc.path, tc.token, tc.body), tc.status, tc.code, tc.field)
	}

	v2 := decode[rulesResp](t, cs.must(201, "POST", "/api/v1/admin/counterparties", admin, xinghe))
	if v2.Version != 2 || len(v2.Counterparties) != wl.Count+1 {
		t.Errorf("after POST: version %d, %d counterparties", v2.Version, len(v2.Counterparties))
	}
	wantError(t, cs.do("POST", "/api/v1/admin/counterparties", admin, xinghe), 422, "invalid_rules", "")
	v3 := decode[rulesResp](t, cs.must(200, "PUT", "/api/v1/admin/counterparties/xinghe", admin,
		`{"type":"brokerage","name":"Xinghe Securities","name_zh":"星河证券","aliases":["星河证券研究所"]}`))
	if v3.Version != 3 {
		t.Errorf("after PUT: version %d, want 3", v3.Version)
	}
	// A change bound to a version someone else moved past is refused.
	req := httptest.NewRequest("DELETE", "/api/v1/admin/counterparties/xinghe", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("If-Match", `"2"`)
	w := httptest.NewRecorder()
	cs.h.ServeHTTP(w, req)
	wantError(t, w, 409, "stale_version", "")
	v4 := decode[rulesResp](t, cs.must(200, "DELETE", "/api/v1/admin/counterparties/xinghe", admin, ""))
	if v4.Version != 4 || len(v4.Counterparties) != wl.Count || len(v4.Retired) != 1 || v4.Retired[0].Counterparty.ID != "xinghe" || v4.Retired[0].By != "AD1" {
		t.Errorf("after DELETE: %+v", v4.Retired)
	}

	job := decode[map[string]any](t, cs.must(202, "POST", "/api/v1/admin/rescans", admin, ""))
	id, _ := job["id"].(string)
	wantError(t, cs.do("POST", "/api/v1/admin/rescans", admin, ""), 409, "rescan_running", "")
	wantError(t, cs.do("POST", "/api/v1/admin/rescans", compliance, ""), 403, "forbidden", "")
	if err := cs.rescans.Work(t.Context()); err != nil {
		t.Fatal(err)
	}
	done := decode[map[string]any](t, cs.must(200, "GET", "/api/v1/admin/rescans/"+id, admin, ""))
	if done["done"] != true || done["events"].(float64) != 0 || done["rules_version"].(float64) != 4 {
		t.Errorf("rescan of an empty store = %v", done)
	}
	wantError(t, cs.do("GET", "/api/v1/admin/rescans/rescan-999999", admin, ""), 404, "not_found", "")
	wantError(t, cs.do("GET", "/api/v1/admin/rescans/"+id, compliance, ""), 403, "forbidden", "")

	entries := decode[pageResp[auditResp]](t, cs.must(200, "GET", "/api/v1/audit?limit=50", admin, "")).Items
	var got []string
	for _, e := range entries {
		if e.Actor == "AD1" || e.Actor == "C1" {
			got = append(got, e.Action)
		}
	}
	// Newest first: the runner audits C1's refused progress and start.
	want := "access.denied,access.denied,rescan,counterparty.retire,counterparty.edit,counterparty.add,access.denied,access.denied"
	if strings.Join(got, ",") != want {
		t.Errorf("admin audit entries = %v, want %s", got, want)
	}
}
