package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/session"
)

// Issue 10, hole 5: the approver read version 1 ("public talk, unpaid"), the
// employee edited it to "launch roadmap, 50,000 CNY", and the approval landed
// on the new content. A decision now names the version it decides.
func TestDecisionAppliesOnlyToTheVersionRead(t *testing.T) {
	ts := newTestServer(t)
	e1, c1 := token(t, "E1"), token(t, "C1", "compliance")
	talk := `{"kind":"speaking","counterparty":"Caixin","counterparty_type":"media","topic":"public talk",
		"start_date":"` + day(5) + `","end_date":"` + day(5) + `","paid":false}`
	d := decode[disclosureResp](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, talk))
	if d.Version != 1 {
		t.Fatalf("created version %d", d.Version)
	}
	roadmap := `{"kind":"paid_seminar","counterparty":"Capvision","counterparty_type":"expert_network","topic":"launch roadmap",
		"start_date":"` + day(5) + `","end_date":"` + day(5) + `","paid":true,"compensation":{"amount":"50000.00","currency":"CNY"}}`
	ts.must(http.StatusOK, "PUT", "/api/v1/me/disclosures/"+d.ID, e1, roadmap)

	path := "/api/v1/disclosures/" + d.ID + "/decision"
	wantError(t, ts.do("POST", path, c1, `{"decision":"approve","comment":"ok"}`), http.StatusPreconditionRequired, "precondition_required", "version")
	wantError(t, ts.do("POST", path, c1, `{"decision":"approve","comment":"ok","version":1}`), http.StatusConflict, "stale_version", "version")
	wantError(t, ts.doHeader("POST", path, c1, `{"decision":"approve","comment":"ok"}`, "If-Match", `"1"`), http.StatusConflict, "stale_version", "version")
	wantError(t, ts.doHeader("POST", path, c1, `{"decision":"approve","version":2}`, "If-Match", `"1"`), http.StatusBadRequest, "invalid_version", "version")
	wantError(t, ts.doHeader("POST", path, c1, `{"decision":"approve"}`, "If-Match", `*`), http.StatusBadRequest, "invalid_version", "If-Match")
	if got := decode[disclosureResp](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures/"+d.ID, c1, "")); got.Status != "pending" {
		t.Fatalf("a stale approval changed the disclosure: %+v", got)
	}
	// Read again, decide what it says now: If-Match with the version read.
	w := ts.doHeader("POST", path, c1, `{"decision":"reject","comment":"a launch roadmap is confidential"}`, "If-Match", `"2"`)
	if w.Code != http.StatusOK || decode[disclosureResp](t, w).Status != "rejected" {
		t.Fatalf("decision on the current version = %d %s", w.Code, w.Body.String())
	}
	if n := len(ts.auditEntries("action=disclosure.decide&resource_id=" + d.ID)); n != 1 {
		t.Errorf("%d decision entries, want 1 (refused attempts decide nothing)", n)
	}
}

// Issue 10, hole 7: ten parallel decisions on one disclosure gave six 200s
// and six conflicting audit entries on FerretDB. Of 20 concurrent decisions
// on one version exactly one succeeds and exactly one entry is written (on
// the embedded FerretDB by default, on mongo-java-server in make test-real).
func TestConcurrentDisclosureDecisionsHaveOneWinner(t *testing.T) {
	ts := newTestServer(t)
	d := ts.seed("E1", true)
	path := "/api/v1/disclosures/" + d.ID + "/decision"
	codes := race(20, func(i int) *httptest.ResponseRecorder {
		outcome := []string{"approve", "reject"}[i%2]
		return ts.do("POST", path, token(t, fmt.Sprintf("C%d", i+1), "compliance"),
			`{"decision":"`+outcome+`","comment":"decided by reviewer `+fmt.Sprint(i+1)+`","version":1}`)
	})
	if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 19 {
		t.Fatalf("answers %v, want one 200 and nineteen 409", codes)
	}
	if n := len(ts.auditEntries("action=disclosure.decide&resource_id=" + d.ID)); n != 1 {
		t.Errorf("%d disclosure.decide entries, want 1", n)
	}
	got, err := ts.disclosures.Get(t.Context(), d.ID)
	if err != nil || got.Version != 2 || len(got.History) != 2 {
		t.Errorf("stored disclosure: version %d, %d history entries, %v; want version 2 with one decision", got.Version, len(got.History), err)
	}
}

// The same for cases: one reviewer's decision wins, one case.decide entry.
func TestConcurrentCaseDecisionsHaveOneWinner(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-race", "E1", "high", 90, "CITIC Securities")
	codes := race(20, func(i int) *httptest.ResponseRecorder {
		outcome := []string{"cleared", "confirmed"}[i%2]
		return cs.do("POST", "/api/v1/cases/case-race/decision", token(t, fmt.Sprintf("C%d", i+1), "compliance"),
			`{"outcome":"`+outcome+`","reason":"reviewer `+fmt.Sprint(i+1)+`","version":1}`)
	})
	if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 19 {
		t.Fatalf("answers %v, want one 200 and nineteen 409", codes)
	}
	w := cs.must(http.StatusOK, "GET", "/api/v1/audit?action=case.decide&resource_id=case-race", token(t, "A1", "auditor"), "")
	if n := len(decode[pageResp[auditResp]](t, w).Items); n != 1 {
		t.Errorf("%d case.decide entries, want 1", n)
	}
}

// race runs n calls at once and counts their status codes.
func race(n int, call func(i int) *httptest.ResponseRecorder) map[int]int {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		codes = map[int]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w := call(i)
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// Issue 10, hole 4: a reviewer read their own case, with no audit entry.
// Nobody, whatever their roles, reads, lists or acts on a case about
// themselves, and each refusal is audited as access.denied.
func TestNobodyReviewsTheirOwnCase(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-self", "E1", "high", 90, "CITIC Securities")
	cs.seed("case-other", "E2", "high", 80, "GLG")
	self := token(t, "E1", "compliance", "auditor", "admin", "manager")
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cases/case-self", ""},
		{"GET", "/api/v1/cases?employee_id=E1", ""},
		{"POST", "/api/v1/cases/case-self/decision", `{"outcome":"cleared","reason":"mine","version":1}`},
		{"POST", "/api/v1/cases/case-self/assign", `{}`},
		{"POST", "/api/v1/cases/case-self/comments", `{"text":"not me"}`},
	} {
		wantError(t, cs.do(tt.method, tt.path, self, tt.body), http.StatusForbidden, "forbidden", "")
	}
	page := decode[pageResp[caseResp]](t, cs.must(http.StatusOK, "GET", "/api/v1/cases", self, ""))
	for _, c := range page.Items {
		if c.EmployeeID == "E1" {
			t.Errorf("the queue of E1 lists their own case %s", c.ID)
		}
	}
	if len(page.Items) != 1 {
		t.Errorf("queue = %d cases, want case-other only", len(page.Items))
	}
	w := cs.must(http.StatusOK, "GET", "/api/v1/audit?action=access.denied&actor=E1", token(t, "A1", "auditor"), "")
	denied := decode[pageResp[auditResp]](t, w).Items
	if len(denied) != 5 {
		t.Fatalf("%d access.denied entries, want 5: %+v", len(denied), denied)
	}
	for _, e := range denied {
		if e.OwnerID != "E1" || e.Reason == "" || !strings.HasPrefix(e.Details["attempt"], "case.") {
			t.Errorf("refusal entry %+v lacks owner, reason or attempt", e)
		}
	}
}

// doHeader is do with one extra request header.
func (ts *testServer) doHeader(method, path, token, body, name, value string) *httptest.ResponseRecorder {
	ts.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(name, value)
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, req)
	return w
}

// Every refused authorisation attempt is audited the same way, by the
// service that decided (with the attempt and the resource); the audit log's
// own service records a refused read of it.
func TestRefusalsAreAudited(t *testing.T) {
	ts := newTestServer(t)
	e1 := token(t, "E1")
	d := ts.seed("E3", false)
	wantError(t, ts.do("GET", "/api/v1/audit", e1, ""), http.StatusForbidden, "forbidden", "")
	wantError(t, ts.do("GET", "/api/v1/disclosures", e1, ""), http.StatusForbidden, "forbidden", "")
	wantError(t, ts.do("GET", "/api/v1/disclosures/"+d.ID, e1, ""), http.StatusNotFound, "not_found", "")
	wantError(t, ts.do("POST", "/api/v1/disclosures/"+d.ID+"/decision", e1, approve()), http.StatusNotFound, "not_found", "")
	denied := ts.auditEntries("action=access.denied&actor=E1")
	got := map[string]bool{}
	for _, e := range denied {
		got[e.Details["attempt"]+" "+e.ResourceID] = true
	}
	for _, want := range []string{"audit.list ", "disclosure.list ", "disclosure.read " + d.ID, "disclosure.decide " + d.ID} {
		if !got[want] {
			t.Errorf("no access.denied entry %q among %v", want, got)
		}
	}
}

// An admin revokes every session of a person through the API; others may not.
func TestAdminRevokesSessionsThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	now := time.Now()
	for range 2 {
		_, id := session.NewToken()
		if err := ts.sessions.Create(t.Context(), session.Record{ID: id, Subject: "E1", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	wantError(t, ts.do("DELETE", "/api/v1/people/E1/sessions", token(t, "C1", "compliance"), ""), http.StatusForbidden, "forbidden", "")
	w := ts.must(http.StatusOK, "DELETE", "/api/v1/people/E1/sessions", token(t, "AD1", "admin"), "")
	if got := decode[map[string]int](t, w); got["revoked"] != 2 {
		t.Errorf("revoked = %v, want 2", got)
	}
	if es := ts.auditEntries("action=session.revoke&owner_id=E1"); len(es) != 1 || es[0].Actor != "AD1" {
		t.Errorf("session.revoke entries = %+v", es)
	}
	if es := ts.auditEntries("action=access.denied&actor=C1"); len(es) != 1 {
		t.Errorf("the refused revocation left %d access.denied entries, want 1", len(es))
	}
}

// Issue 10, item 9: {"kind":"paid_seminar","KIND":"speaking"} was taken as
// speaking and auto-approved. Duplicate and case-variant keys are refused.
func TestCaseVariantKeysRefused(t *testing.T) {
	ts := newTestServer(t)
	e1 := token(t, "E1")
	base := strings.TrimPrefix(managerBody(), "{")
	for _, tt := range []struct{ name, body, field string }{
		{"case variant", `{"kind":"paid_seminar","KIND":"speaking",` + strings.Replace(base, `"kind":"media_interview",`, "", 1), "KIND"},
		{"upper case alone", `{"Kind":"speaking",` + strings.Replace(base, `"kind":"media_interview",`, "", 1), "Kind"},
		{"kelvin sign", `{"\u212aind":"speaking",` + strings.Replace(base, `"kind":"media_interview",`, "", 1), "\u212aind"},
		{"duplicate", `{"kind":"paid_seminar",` + base, "kind"},
		{"nested variant", `{"decision":"approve","Version":1}`, "Version"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/me/disclosures"
			if strings.HasPrefix(tt.body, `{"decision"`) {
				path = "/api/v1/disclosures/" + ts.seed("E2", false).ID + "/decision"
			}
			wantError(t, ts.do("POST", path, e1, tt.body), http.StatusBadRequest, "invalid_body", tt.field)
		})
	}
	if n := ts.count("disclosures"); n != 1 {
		t.Errorf("%d disclosures stored, want only the seeded one", n)
	}
}

// Issue 10, item 9: the client's X-Request-Id was stored as our request
// id. Ours is always ours; theirs is kept apart, only in a safe shape.
func TestClientRequestIDKeptApart(t *testing.T) {
	ts := newTestServer(t)
	for _, tt := range []struct{ give, want string }{
		{"client-42", "client-42"},
		{"evil\nforged line", ""},
		{strings.Repeat("a", 65), ""},
		{"../../etc", ""},
	} {
		req := httptest.NewRequest("POST", "/api/v1/me/disclosures", strings.NewReader(managerBody()))
		req.Header.Set("Authorization", "Bearer "+token(t, "E1"))
		req.Header.Set("X-Request-Id", tt.give)
		w := httptest.NewRecorder()
		ts.h.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body.String())
		}
		ours := w.Header().Get("X-Request-Id")
		if ours == tt.give || ours == "" {
			t.Errorf("answer's X-Request-Id = %q for a client's %q, want one of ours", ours, tt.give)
		}
		id := decode[disclosureResp](t, w).ID
		es := ts.auditEntries("resource_id=" + id)
		if len(es) != 1 || es[0].RequestID != ours || es[0].ClientID != tt.want {
			t.Errorf("client id %q: entries %+v, want request id %s and client id %q", tt.give, es, ours, tt.want)
		}
	}
}

// Issue 10, item 9: comments were accepted on closed cases, and embedded
// in the case document without bound.
func TestNoCommentsOnClosedCases(t *testing.T) {
	cs := newCaseServer(t)
	cs.seed("case-closed", "E1", "high", 90, "CITIC Securities")
	c1 := token(t, "C1", "compliance")
	// Comments live in their own collection: the case document does not
	// grow and its version does not move.
	got := decode[caseResp](t, cs.must(http.StatusCreated, "POST", "/api/v1/cases/case-closed/comments", c1, `{"text":"receipt checked"}`))
	raw, err := cs.cases.Get(t.Context(), "case-closed")
	if err != nil || len(got.Comments) != 1 || len(raw.Comments) != 0 || raw.Version != 1 {
		t.Fatalf("after a comment: answer has %d comments; stored case has %d embedded, version %d (%v)", len(got.Comments), len(raw.Comments), raw.Version, err)
	}
	cs.must(http.StatusOK, "POST", "/api/v1/cases/case-closed/decision", c1, `{"outcome":"cleared","reason":"covered","version":1}`)
	wantError(t, cs.do("POST", "/api/v1/cases/case-closed/comments", c1, `{"text":"late note"}`), http.StatusUnprocessableEntity, "invalid_state", "")
}
