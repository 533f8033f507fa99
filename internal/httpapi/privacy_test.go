package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

const privacyTestKey = "httpapi-privacy-test-pseudonym-key-0123456789"

// monitored are the people cases are about (and their manager): none of
// their ids, names or emails may appear in a pseudonymised answer.
var monitored = []struct{ id, name, email, manager string }{
	{"E7001", "张伟", "zhang.wei@example.com", "E7009"},
	{"E7002", "Li Na", "li.na@example.com", "E7009"},
	{"E7009", "马超", "ma.chao@example.com", ""},
}

type privacyServer struct {
	t      *testing.T
	h      http.Handler
	db     *mongostore.DB
	policy *privacy.Policy
	cases  map[string]string // employee id -> case id
	now    time.Time
}

// newPrivacyServer serves the case and audit API with pseudonymisation on
// over db (a fresh database when nil), with pseudonyms keyed by
// privacyTestKey: a second server on the same database is another replica.
func newPrivacyServer(t *testing.T, db *mongostore.DB, unmask string) *privacyServer {
	t.Helper()
	if db == nil {
		db = mongostore.Use(testenv.Database(t))
		if err := db.EnsureIndexes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	names, err := privacy.NewPseudonymizer([]byte(privacyTestKey))
	if err != nil {
		t.Fatal(err)
	}
	cfg := privacy.DefaultConfig()
	cfg.Unmask = unmask
	ps := &privacyServer{t: t, db: db, policy: privacy.NewPolicy(cfg, names), cases: map[string]string{}, now: time.Now()}
	emps := mongostore.NewEmployeeStore(db)
	auditStore := mongostore.NewAuditStore(db)
	svc := &review.Service{Cases: mongostore.NewCaseStore(db), Audit: auditStore, Now: func() time.Time { return ps.now },
		Reviewers: mongostore.NewReviewerStore(db), Comments: mongostore.NewCommentStore(db),
		Privacy: ps.policy, Directory: emps, Names: emps, Unmasks: mongostore.NewUnmaskStore(db), ConfirmRequiresSecondReviewer: true}
	v, err := auth.NewVerifier(t.Context(), testAuthConfig())
	if err != nil {
		t.Fatal(err)
	}
	ps.h = httpapi.New(httpapi.Config{
		MaxBodyBytes: testMaxBody, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: v, Gatherer: prometheus.NewRegistry(),
		Routes:  []httpapi.Routes{httpapi.CaseRoutes{Service: svc}, httpapi.AuditRoutes{Log: &auditlog.Service{Store: auditStore, Privacy: ps.policy, Now: time.Now}}},
		Mappers: []httpapi.Mapper{httpapi.MapCaseErrors, httpapi.MapAuditErrors},
		Audit:   auditStore,
	})
	return ps
}

// seed stores the people and one case for each monitored employee whose
// findings name them, as detection and HR would.
func (ps *privacyServer) seed() {
	t := ps.t
	ctx := t.Context()
	emps := mongostore.NewEmployeeStore(ps.db)
	hire := civil.Of(time.Now()).AddDays(-400)
	for _, m := range monitored {
		e := employee.Build(m.id, []employee.Fact{{Ref: event.Ref{Source: "hr/test", ID: "hire-" + m.id}, Type: event.TypeEmployeeHired, Effective: hire,
			Data: &event.EmployeeHired{EmployeeID: m.id, Name: m.name, Email: m.email, Department: "EV Powertrain", Title: "Motor Control Engineer",
				ManagerID: m.manager, HireDate: hire}}})
		if _, err := emps.Save(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	store := mongostore.NewCaseStore(ps.db)
	for _, m := range monitored[:2] {
		c := review.Case{ID: "case-" + strings.ToLower(m.id), EmployeeID: m.id, EmployeeName: m.name, Department: "EV Powertrain",
			Subject: ps.policy.Subject(m.id), JobFamily: privacy.FamilyEngineering, Status: review.StatusOpen, Severity: "high", Score: 80,
			OpenedAt: ps.now, UpdatedAt: ps.now,
			Findings: []detect.Finding{{ID: "f-" + m.id, EmployeeID: m.id, Rule: "expense-at-research-counterparty", Severity: "high", Score: 80,
				Summary:    "Expense claim at 中信证券 with attendee " + m.name + " (" + m.email + ", " + m.id + "); approved by manager " + m.manager + "; colleagues at the dinner: Li Na, 张伟",
				OccurredOn: civil.Of(ps.now).AddDays(-10), Counterparty: "CITIC Securities", Project: "MS11",
				EventRefs: []event.Ref{{Source: "expense/test", ID: "x-" + m.id}}}},
			History: []review.Change{{At: ps.now, Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen, Reason: "1 finding(s) of " + m.name}},
		}
		if err := store.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		ps.cases[m.id] = c.ID
	}
}

func (ps *privacyServer) call(want int, method, path, tok, body string) *httptest.ResponseRecorder {
	ps.t.Helper()
	w := ps.raw(method, path, tok, body)
	if w.Code != want {
		ps.t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body.String(), want)
	}
	return w
}

// raw sends one request and checks it against openapi.yaml only (safe in
// goroutines).
func (ps *privacyServer) raw(method, path, tok, body string) *httptest.ResponseRecorder {
	ps.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	ps.h.ServeHTTP(w, req)
	checkResponse(ps.t, req, []byte(body), w)
	return w
}

// leaks lists every monitored person's id, name or email found in body
// (ids as whole words), except those of allowed.
func leaks(body string, allowed ...string) []string {
	var out []string
	for _, m := range monitored {
		if contains(allowed, m.id) {
			continue
		}
		for _, s := range []string{m.name, m.email, strings.SplitN(m.email, "@", 2)[0]} {
			if strings.Contains(strings.ToLower(body), strings.ToLower(s)) {
				out = append(out, s)
			}
		}
		if regexp.MustCompile(`\b` + m.id + `\b`).MatchString(body) {
			out = append(out, m.id)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// clean fails unless w's body names none of the monitored people.
func (ps *privacyServer) clean(what string, w *httptest.ResponseRecorder, allowed ...string) {
	ps.t.Helper()
	if l := leaks(w.Body.String(), allowed...); len(l) > 0 {
		ps.t.Errorf("%s names %v: %s", what, l, truncate(w.Body.String(), 800))
	}
}

type caseBody struct {
	ID           string `json:"id"`
	EmployeeID   string `json:"employee_id"`
	Subject      string `json:"subject"`
	Masked       bool   `json:"masked"`
	Status       string `json:"status"`
	Version      int64  `json:"version"`
	Confirmation *struct {
		By string `json:"by"`
	} `json:"confirmation"`
	Unmask *struct {
		Status string `json:"status"`
		Until  string `json:"until"`
	} `json:"unmask"`
	Decision *struct {
		By       string `json:"by"`
		SecondBy string `json:"second_by"`
	} `json:"decision"`
}

// TestPseudonymisedAPIHidesIdentities walks every case and audit answer a
// reviewer, an auditor and a privacy officer get, and scans each for the
// monitored people's ids, names and emails; then the two-person unmask and
// the four-eyes flows through the API, refusals included.
func TestPseudonymisedAPIHidesIdentities(t *testing.T) {
	ps := newPrivacyServer(t, nil, privacy.UnmaskTwoPerson)
	ps.seed()
	c1, c2 := token(t, "C7001", "compliance"), token(t, "C7002", "compliance")
	po, aud := token(t, "P7001", "privacy_officer"), token(t, "A7001", "auditor")
	caseID := ps.cases["E7001"]
	subject := ps.policy.Subject("E7001")

	queue := ps.call(http.StatusOK, "GET", "/api/v1/cases?limit=50", c1, "")
	ps.clean("the queue", queue)
	page := decode[pageResp[caseBody]](t, queue)
	if len(page.Items) != 2 || page.Items[0].Subject == "" || !page.Items[0].Masked {
		t.Fatalf("queue = %+v", page.Items)
	}
	ps.clean("the closed-case list", ps.call(http.StatusOK, "GET", "/api/v1/cases?status=cleared", aud, ""))
	bySubject := decode[pageResp[caseBody]](t, ps.call(http.StatusOK, "GET", "/api/v1/cases?subject="+strings.ToLower(subject), c1, ""))
	if len(bySubject.Items) != 1 || bySubject.Items[0].ID != caseID {
		t.Fatalf("search by pseudonym = %+v", bySubject.Items)
	}
	wantError(t, ps.call(http.StatusBadRequest, "GET", "/api/v1/cases?subject=E7001", c1, ""), 400, "invalid_query", "subject")
	ps.clean("a case as an auditor", ps.call(http.StatusOK, "GET", "/api/v1/cases/"+caseID, aud, ""))
	ps.clean("a comment naming the person", ps.call(http.StatusCreated, "POST", "/api/v1/cases/"+caseID+"/comments", c1, `{"text":"spoke with 张伟 (zhang.wei@example.com)"}`))

	// Two-person unmasking.
	asked := ps.call(http.StatusAccepted, "POST", "/api/v1/cases/"+caseID+"/unmask", c1, `{"reason":"interview the employee on Monday"}`)
	ps.clean("the pending unmask", asked)
	var req struct {
		Request struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		} `json:"request"`
	}
	if err := json.Unmarshal(asked.Body.Bytes(), &req); err != nil || req.Request.ID == "" {
		t.Fatalf("unmask answer %s: %v", asked.Body.String(), err)
	}
	wantError(t, ps.call(http.StatusForbidden, "GET", "/api/v1/unmask-requests", c1, ""), 403, "forbidden", "")
	ps.clean("the officer's requests", ps.call(http.StatusOK, "GET", "/api/v1/unmask-requests?status=pending", po, ""))
	decision := "/api/v1/unmask-requests/" + req.Request.ID + "/decision"
	wantError(t, ps.call(http.StatusForbidden, "POST", decision, c2, `{"decision":"approve","version":1}`), 403, "forbidden", "")
	wantError(t, ps.call(http.StatusPreconditionRequired, "POST", decision, po, `{"decision":"approve"}`), 428, "precondition_required", "version")
	wantError(t, ps.call(http.StatusBadRequest, "POST", decision, po, `{"decision":"maybe","version":1}`), 400, "invalid_body", "decision")
	if got := decode[caseBody](t, ps.call(http.StatusOK, "GET", "/api/v1/cases/"+caseID, c1, "")); !got.Masked || got.Unmask == nil || got.Unmask.Status != "pending" {
		t.Fatalf("before approval: %+v", got)
	}
	ps.clean("the approval", ps.call(http.StatusOK, "POST", decision, po, `{"decision":"approve","comment":"for the interview","version":1}`))
	wantError(t, ps.call(http.StatusConflict, "POST", decision, po, `{"decision":"reject","version":1}`), 409, "stale_version", "version")
	seen := decode[caseBody](t, ps.call(http.StatusOK, "GET", "/api/v1/cases/"+caseID, c1, ""))
	if seen.Masked || seen.EmployeeID != "E7001" || seen.Unmask == nil || seen.Unmask.Until == "" {
		t.Fatalf("after approval the requester sees %+v", seen)
	}
	ps.clean("the case for the other reviewer", ps.call(http.StatusOK, "GET", "/api/v1/cases/"+caseID, c2, ""))

	// Four eyes on confirmed.
	pending := ps.call(http.StatusAccepted, "POST", "/api/v1/cases/"+ps.cases["E7002"]+"/decision", c1,
		`{"outcome":"confirmed","reason":"paid call during the blackout","version":1}`)
	ps.clean("the pending confirmation", pending)
	pc := decode[caseBody](t, pending)
	if pc.Confirmation == nil || pc.Confirmation.By != "C7001" || pc.Status != "in_review" {
		t.Fatalf("pending confirmation: %+v", pc)
	}
	confirm := "/api/v1/cases/" + ps.cases["E7002"] + "/confirmation"
	body := `{"agree":true,"reason":"agreed","version":` + itoa(pc.Version) + `}`
	wantError(t, ps.call(http.StatusForbidden, "POST", confirm, c1, body), 403, "forbidden", "")
	wantError(t, ps.call(http.StatusBadRequest, "POST", confirm, c2, `{"reason":"x","version":2}`), 400, "invalid_body", "agree")
	done := decode[caseBody](t, ps.call(http.StatusOK, "POST", confirm, c2, body))
	if done.Status != "confirmed" || done.Decision == nil || done.Decision.By != "C7001" || done.Decision.SecondBy != "C7002" {
		t.Fatalf("after the second reviewer: %+v", done)
	}

	// The audit log: owners as pseudonyms, actors named, both unmask steps.
	log := ps.call(http.StatusOK, "GET", "/api/v1/audit?limit=200", aud, "")
	ps.clean("the audit log", log)
	entries := decode[pageResp[struct {
		Actor   string `json:"actor"`
		Action  string `json:"action"`
		Owner   string `json:"owner"`
		OwnerID string `json:"owner_id"`
		Reason  string `json:"reason"`
	}]](t, log).Items
	steps := map[string]bool{}
	for _, e := range entries {
		if e.Owner == subject && e.OwnerID == "" {
			steps[e.Action+" by "+e.Actor] = true
		}
	}
	for _, want := range []string{"unmask.request by C7001", "unmask.decide by P7001", "access.denied by C7002", "case.read by C7001"} {
		if !steps[want] {
			t.Errorf("the audit log has no %s about %s: %v", want, subject, steps)
		}
	}
	// Looking a person up by id is answered with the id, and audited.
	lookup := ps.call(http.StatusOK, "GET", "/api/v1/cases?employee_id=E7001", c2, "")
	ps.clean("a lookup of E7001", lookup, "E7001")
	if got := decode[pageResp[caseBody]](t, lookup).Items; len(got) != 1 || got[0].EmployeeID != "E7001" {
		t.Fatalf("lookup = %+v", got)
	}
	ps.clean("the audit log by owner", ps.call(http.StatusOK, "GET", "/api/v1/audit?owner_id=E7002", aud, ""), "E7002")
	lookups := decode[pageResp[auditResp]](t, ps.call(http.StatusOK, "GET", "/api/v1/audit?action=identity.lookup", aud, "")).Items
	if len(lookups) != 2 {
		t.Fatalf("identity lookups audited: %+v", lookups)
	}
}

// TestPseudonymsStableAcrossReplicasAndRestarts: two servers on one
// database (replicas) give the same pseudonym, and so does a third built
// afterwards (a restart); a search by the pseudonym works on each.
func TestPseudonymsStableAcrossReplicasAndRestarts(t *testing.T) {
	a := newPrivacyServer(t, nil, privacy.UnmaskSelf)
	a.seed()
	b := newPrivacyServer(t, a.db, privacy.UnmaskSelf)
	tok := token(t, "C7001", "compliance")
	var subjects []string
	for _, s := range []*privacyServer{a, b, newPrivacyServer(t, a.db, privacy.UnmaskSelf)} {
		got := decode[caseBody](t, s.call(http.StatusOK, "GET", "/api/v1/cases/"+a.cases["E7001"], tok, ""))
		subjects = append(subjects, got.Subject)
		found := decode[pageResp[caseBody]](t, s.call(http.StatusOK, "GET", "/api/v1/cases?subject="+got.Subject, tok, ""))
		if len(found.Items) != 1 || found.Items[0].ID != a.cases["E7001"] {
			t.Fatalf("search by %s = %+v", got.Subject, found.Items)
		}
	}
	if subjects[0] == "" || subjects[0] != subjects[1] || subjects[1] != subjects[2] {
		t.Fatalf("pseudonyms = %v", subjects)
	}
	if !privacy.IsSubject(subjects[0]) {
		t.Fatalf("%q is not a pseudonym", subjects[0])
	}
}

// TestUnmaskSelfThroughTheAPI: self mode grants at once (200), for the
// requester only, until privacy.unmask_ttl has passed.
func TestUnmaskSelfThroughTheAPI(t *testing.T) {
	ps := newPrivacyServer(t, nil, privacy.UnmaskSelf)
	ps.seed()
	c1, aud := token(t, "C7001", "compliance"), token(t, "A7001", "auditor")
	path := "/api/v1/cases/" + ps.cases["E7001"]
	wantError(t, ps.call(http.StatusForbidden, "POST", path+"/unmask", aud, `{"reason":"curious"}`), 403, "forbidden", "")
	wantError(t, ps.call(http.StatusBadRequest, "POST", path+"/unmask", c1, `{"reason":""}`), 400, "invalid_body", "reason")
	ps.call(http.StatusOK, "POST", path+"/unmask", c1, `{"reason":"interview"}`)
	wantError(t, ps.call(http.StatusUnprocessableEntity, "POST", path+"/unmask", c1, `{"reason":"again"}`), 422, "invalid_state", "")
	if got := decode[caseBody](t, ps.call(http.StatusOK, "GET", path, c1, "")); got.EmployeeID != "E7001" {
		t.Fatalf("granted: %+v", got)
	}
	ps.now = ps.now.Add(24*time.Hour + time.Second)
	expired := ps.call(http.StatusOK, "GET", path, c1, "")
	ps.clean("an expired grant", expired)
	if got := decode[caseBody](t, expired); !got.Masked || got.Unmask == nil || got.Unmask.Status != "expired" {
		t.Fatalf("expired: %+v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestConcurrentUnmaskAndConfirmationDecisionsHaveOneWinner: ten privacy
// officers approving one request version, and ten second reviewers
// agreeing to one confirmation, each give one 200 and nine 409, and one
// audit entry (the transition arbiter; FerretDB's filtered updates are not
// atomic).
func TestConcurrentUnmaskAndConfirmationDecisionsHaveOneWinner(t *testing.T) {
	ps := newPrivacyServer(t, nil, privacy.UnmaskTwoPerson)
	ps.seed()
	c1 := token(t, "C7001", "compliance")
	asked := ps.call(http.StatusAccepted, "POST", "/api/v1/cases/"+ps.cases["E7001"]+"/unmask", c1, `{"reason":"interview"}`)
	var req struct {
		Request struct {
			ID string `json:"id"`
		} `json:"request"`
	}
	if err := json.Unmarshal(asked.Body.Bytes(), &req); err != nil {
		t.Fatal(err)
	}
	codes := race(10, func(i int) *httptest.ResponseRecorder {
		return ps.raw("POST", "/api/v1/unmask-requests/"+req.Request.ID+"/decision", token(t, fmt.Sprintf("P%d", 7100+i), "privacy_officer"),
			`{"decision":"approve","version":1}`)
	})
	if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 9 {
		t.Fatalf("unmask decisions answered %v, want one 200 and nine 409", codes)
	}
	aud := token(t, "A7001", "auditor")
	if n := len(decode[pageResp[auditResp]](t, ps.call(http.StatusOK, "GET", "/api/v1/audit?action=unmask.decide", aud, "")).Items); n != 1 {
		t.Errorf("%d unmask.decide entries, want 1", n)
	}

	pending := decode[caseBody](t, ps.call(http.StatusAccepted, "POST", "/api/v1/cases/"+ps.cases["E7002"]+"/decision", c1,
		`{"outcome":"confirmed","reason":"paid call","version":1}`))
	codes = race(10, func(i int) *httptest.ResponseRecorder {
		return ps.raw("POST", "/api/v1/cases/"+ps.cases["E7002"]+"/confirmation", token(t, fmt.Sprintf("C%d", 7100+i), "compliance"),
			`{"agree":true,"version":`+itoa(pending.Version)+`}`)
	})
	if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 9 {
		t.Fatalf("confirmations answered %v, want one 200 and nine 409", codes)
	}
	if n := len(decode[pageResp[auditResp]](t, ps.call(http.StatusOK, "GET", "/api/v1/audit?action=case.confirm", aud, "")).Items); n != 1 {
		t.Errorf("%d case.confirm entries, want 1", n)
	}
}
