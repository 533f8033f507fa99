package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
)

// TestDisclosureWorkflow walks the whole declaration flow over HTTP against
// the real database: declare, read, edit, approve, edit again (back to
// pending, approval kept), manager decisions on reports, withdraw, and the
// audit trail each step leaves.
func TestDisclosureWorkflow(t *testing.T) {
	ts := newTestServer(t)
	e1, m1, c1 := token(t, "E1", "employee"), token(t, "M1", "manager"), token(t, "C1", "compliance")

	// Declare: pending, compliance decides a paid expert-network seminar.
	w := ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, complianceBody())
	d := decode[disclosureResp](t, w)
	if d.Status != "pending" || d.Approver != "compliance" || d.EmployeeID != "E1" || d.Version != 1 || d.ID == "" {
		t.Fatalf("created = %+v", d)
	}
	if loc := w.Header().Get("Location"); loc != "/api/v1/disclosures/"+d.ID {
		t.Errorf("Location = %q", loc)
	}
	id := d.ID

	// The owner reads it (not audited) and lists it.
	// What create answered is what is stored, timestamps included.
	if got := decode[disclosureResp](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures/"+id, e1, "")); !got.CreatedAt.Equal(d.CreatedAt) || !got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("read back created_at %v updated_at %v, create answered %v %v", got.CreatedAt, got.UpdatedAt, d.CreatedAt, d.UpdatedAt)
	}
	mine := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/me/disclosures", e1, ""))
	if len(mine.Items) != 1 || mine.Items[0].ID != id || mine.NextCursor != "" {
		t.Fatalf("own list = %+v", mine)
	}

	// Edit while pending: stays pending, version moves on.
	edited := strings.Replace(complianceBody(), "EV supply chain outlook", "Battery supply chain", 1)
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "PUT", "/api/v1/me/disclosures/"+id, e1, edited))
	if d.Status != "pending" || d.Topic != "Battery supply chain" || d.Version != 2 {
		t.Fatalf("edited = %+v", d)
	}

	// The manager may not decide a compliance-level one; compliance approves with conditions.
	wantError(t, ts.do("POST", "/api/v1/disclosures/"+id+"/decision", m1, `{"decision":"approve"}`), http.StatusForbidden, "forbidden", "")
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "POST", "/api/v1/disclosures/"+id+"/decision", c1,
		`{"decision":"approve","comment":"fine","conditions":["no unreleased products"],"version":2}`))
	if d.Status != "approved" || d.Decision == nil || d.Decision.By != "C1" || d.Decision.Role != "compliance" ||
		!slices.Equal(d.Decision.Conditions, []string{"no unreleased products"}) {
		t.Fatalf("approved = %+v", d)
	}
	// A second decision on a decided disclosure is 422.
	wantError(t, ts.do("POST", "/api/v1/disclosures/"+id+"/decision", c1, `{"decision":"reject","comment":"changed my mind","version":3}`),
		http.StatusUnprocessableEntity, "invalid_state", "")

	// Editing the approved disclosure sends it back to pending, the approval kept in history.
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "PUT", "/api/v1/me/disclosures/"+id, e1, complianceBody()))
	last := d.History[len(d.History)-1]
	if d.Status != "pending" || d.Decision != nil || last.Action != "edited" || last.From != "approved" ||
		!strings.Contains(string(last.PreviousDecision), `"by":"C1"`) {
		t.Fatalf("re-edited = %+v", d)
	}

	// Withdraw; a decision on a withdrawn disclosure is 422, and so is a second withdrawal.
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "POST", "/api/v1/me/disclosures/"+id+"/withdraw", e1, `{"comment":"not going"}`))
	if d.Status != "withdrawn" {
		t.Fatalf("withdrawn = %+v", d)
	}
	wantError(t, ts.do("POST", "/api/v1/disclosures/"+id+"/decision", c1, `{"decision":"approve","version":5}`), http.StatusUnprocessableEntity, "invalid_state", "")
	wantError(t, ts.do("POST", "/api/v1/me/disclosures/"+id+"/withdraw", e1, ""), http.StatusUnprocessableEntity, "invalid_state", "")
	wantError(t, ts.do("PUT", "/api/v1/me/disclosures/"+id, e1, complianceBody()), http.StatusUnprocessableEntity, "invalid_state", "")

	// Manager-level disclosures of reports: M1 approves E1's, rejects E2's (a reason is required).
	mID := decode[disclosureResp](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, managerBody())).ID
	rID := decode[disclosureResp](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", token(t, "E2"), managerBody())).ID
	inbox := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures?inbox=true", m1, ""))
	if got := ids(inbox.Items); !slices.Equal(got, []string{rID, mID}) {
		t.Errorf("manager inbox = %v, want [%s %s]", got, rID, mID)
	}
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "POST", "/api/v1/disclosures/"+mID+"/decision", m1, `{"decision":"approve","comment":"ok","version":1}`))
	if d.Status != "approved" || d.Decision.Role != "manager" {
		t.Fatalf("manager approval = %+v", d)
	}
	wantError(t, ts.do("POST", "/api/v1/disclosures/"+rID+"/decision", m1, `{"decision":"reject"}`), http.StatusBadRequest, "invalid_body", "comment")
	d = decode[disclosureResp](t, ts.must(http.StatusOK, "POST", "/api/v1/disclosures/"+rID+"/decision", m1, `{"decision":"reject","comment":"clashes with the launch","version":1}`))
	if d.Status != "rejected" {
		t.Fatalf("manager rejection = %+v", d)
	}
	// M2 manages E3 only: E1's disclosure is not found for them.
	wantError(t, ts.do("GET", "/api/v1/disclosures/"+mID, token(t, "M2", "manager"), ""), http.StatusNotFound, "not_found", "")

	// Re-detection ran after every stored change, and only then.
	ts.mu.Lock()
	changed := slices.Clone(ts.changed)
	ts.mu.Unlock()
	if want := []string{"E1", "E1", "E1", "E1", "E1", "E1", "E2", "E1", "E2"}; !slices.Equal(changed, want) {
		t.Errorf("OnChange calls = %v, want %v", changed, want)
	}

	// The audit trail of the first disclosure: every change and decision,
	// the manager's refused attempt, no owner reads.
	trail := ts.auditEntries("resource_id=" + id)
	var actions []string
	for _, e := range trail {
		actions = append(actions, e.Actor+" "+e.Action)
		if e.OwnerID != "E1" || e.ResourceType != "disclosure" || e.RequestID == "" {
			t.Errorf("entry %+v lacks owner, type or request id", e)
		}
	}
	want := []string{ // newest first
		"E1 disclosure.withdraw", "E1 disclosure.edit", "C1 disclosure.decide", "M1 access.denied", "E1 disclosure.edit", "E1 disclosure.create",
	}
	if !slices.Equal(actions, want) {
		t.Errorf("audit trail = %v, want %v", actions, want)
	}
	if denied := trail[3]; denied.Details["attempt"] != "disclosure.decide" || denied.Reason == "" {
		t.Errorf("refusal entry = %+v", denied)
	}
	decide := trail[2]
	if decide.Reason != "fine" || decide.Details["from"] != "pending" || decide.Details["status"] != "approved" || decide.Details["decision"] != "approve" {
		t.Errorf("decision entry = %+v", decide)
	}
	// Entries carry ids and statuses, never the declaration's contents.
	for _, e := range ts.auditEntries("limit=200") {
		for _, v := range append(mapValues(e.Details), e.Reason) {
			if strings.Contains(v, "Capvision") || strings.Contains(v, "supply chain") || strings.Contains(v, "3000") {
				t.Errorf("audit entry %+v leaks contents", e)
			}
		}
	}
}

// TestDisclosureReadAudit checks reads by anyone but the owner are audited
// (who, what, when, why), by get and by list, and the owner's are not.
func TestDisclosureReadAudit(t *testing.T) {
	ts := newTestServer(t)
	d := ts.seed("E2", false)
	ts.must(http.StatusOK, "GET", "/api/v1/disclosures/"+d.ID, token(t, "E2"), "")
	ts.must(http.StatusOK, "GET", "/api/v1/me/disclosures", token(t, "E2"), "")
	if got := ts.auditEntries("action=disclosure.read"); len(got) != 0 {
		t.Fatalf("owner reads were audited: %+v", got)
	}
	ts.must(http.StatusOK, "GET", "/api/v1/disclosures/"+d.ID, token(t, "M1", "manager"), "")
	ts.must(http.StatusOK, "GET", "/api/v1/disclosures/"+d.ID, token(t, "C1", "compliance"), "")
	ts.must(http.StatusOK, "GET", "/api/v1/disclosures?employee_id=E2", token(t, "A1", "auditor"), "")
	// A refused read (E3's manager) reads nothing, so nothing is audited.
	ts.must(http.StatusNotFound, "GET", "/api/v1/disclosures/"+d.ID, token(t, "M2", "manager"), "")

	got := ts.auditEntries("action=disclosure.read&owner_id=E2")
	var summary []string
	for _, e := range got {
		summary = append(summary, e.Actor+"/"+e.Details["via"]+"/"+e.Reason)
		if e.ResourceID != d.ID && !slices.Equal(e.ResourceIDs, []string{d.ID}) {
			t.Errorf("entry %+v names another disclosure", e)
		}
	}
	want := []string{"A1/list/audit", "C1/get/compliance review", "M1/get/manager of the employee"}
	if !slices.Equal(summary, want) {
		t.Errorf("read audit = %v, want %v", summary, want)
	}
}

// TestDisclosureListVisibility: a manager's list holds only their direct
// reports' disclosures, whatever employee_id asks for; compliance sees all.
func TestDisclosureListVisibility(t *testing.T) {
	ts := newTestServer(t)
	e1, e2, e3 := ts.seed("E1", false), ts.seed("E2", true), ts.seed("E3", false)
	m1, c1 := token(t, "M1", "manager"), token(t, "C1", "compliance")
	tests := []struct {
		name  string
		tok   string
		query string
		want  []string
	}{
		{"manager sees reports", m1, "", []string{e2.ID, e1.ID}},
		{"manager filters a report", m1, "?employee_id=E1", []string{e1.ID}},
		{"manager asks for a non-report", m1, "?employee_id=E3", nil},
		{"manager inbox has manager-level only", m1, "?inbox=true", []string{e1.ID}},
		{"compliance sees all", c1, "", []string{e3.ID, e2.ID, e1.ID}},
		{"compliance filters status", c1, "?status=approved", nil},
		{"compliance filters approver", c1, "?approver=compliance", []string{e2.ID}},
		{"compliance inbox has every pending one", c1, "?inbox=true", []string{e3.ID, e2.ID, e1.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures"+tt.query, tt.tok, ""))
			if !slices.Equal(ids(got.Items), tt.want) {
				t.Errorf("got %v, want %v", ids(got.Items), tt.want)
			}
		})
	}
}

// TestDisclosurePagination pages through the own list with limit and cursor.
func TestDisclosurePagination(t *testing.T) {
	ts := newTestServer(t)
	e1 := token(t, "E1")
	var created []string
	for range 5 {
		created = append(created, decode[disclosureResp](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, managerBody())).ID)
	}
	slices.Reverse(created) // newest first
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/me/disclosures"+q, e1, ""))
		if len(p.Items) > 2 {
			t.Fatalf("page of %d items, limit 2", len(p.Items))
		}
		got = append(got, ids(p.Items)...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, created) {
		t.Errorf("paged = %v, want %v", got, created)
	}
}

// TestDisclosureBadRequests: strict binding and parameter validation.
func TestDisclosureBadRequests(t *testing.T) {
	ts := newTestServer(t)
	e1, c1 := token(t, "E1"), token(t, "C1", "compliance")
	d := ts.seed("E1", true)
	tests := []struct {
		name, method, path, tok, body string
		wantStatus                    int
		wantCode, wantField           string
	}{
		{"unknown field", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"paid"`, `"approved":true,"paid"`, 1), 400, "invalid_body", "approved"},
		{"unknown nested field", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"currency"`, `"rate":1,"currency"`, 1), 400, "invalid_body", "rate"},
		{"wrong type", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"paid":true`, `"paid":"yes"`, 1), 400, "invalid_body", "paid"},
		{"wrong nested type", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"3000.00"`, `3000`, 1), 400, "invalid_body", "compensation.amount"},
		{"duplicate key", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"paid":true`, `"paid":true,"paid":false`, 1), 400, "invalid_body", "paid"},
		{"not an object", "POST", "/api/v1/me/disclosures", e1, `[1,2]`, 400, "invalid_body", ""},
		{"trailing data", "POST", "/api/v1/me/disclosures", e1, complianceBody() + `{}`, 400, "invalid_body", ""},
		{"malformed", "POST", "/api/v1/me/disclosures", e1, `{"kind":`, 400, "invalid_body", ""},
		{"empty body", "POST", "/api/v1/me/disclosures", e1, "", 400, "invalid_body", ""},
		{"bad enum", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"paid_seminar"`, `"party"`, 1), 400, "invalid_body", "kind"},
		{"end before start", "POST", "/api/v1/me/disclosures", e1, strings.Replace(complianceBody(), `"end_date":"`+day(-10), `"end_date":"`+day(-20), 1), 400, "invalid_body", "end_date"},
		{"absurd date", "POST", "/api/v1/me/disclosures", e1, strings.ReplaceAll(complianceBody(), day(-10), "2203-11-20"), 400, "invalid_body", "start_date"},
		{"bad decision", "POST", "/api/v1/disclosures/" + d.ID + "/decision", c1, `{"decision":"maybe"}`, 400, "invalid_body", "decision"},
		{"decision unknown field", "POST", "/api/v1/disclosures/" + d.ID + "/decision", c1, `{"decision":"approve","status":"approved"}`, 400, "invalid_body", "status"},
		{"bad id", "GET", "/api/v1/disclosures/a%20b", c1, "", 400, "invalid_id", "id"},
		{"unknown id", "GET", "/api/v1/disclosures/nope", c1, "", 404, "not_found", ""},
		{"limit zero", "GET", "/api/v1/me/disclosures?limit=0", e1, "", 400, "invalid_query", "limit"},
		{"limit too big", "GET", "/api/v1/me/disclosures?limit=201", e1, "", 400, "invalid_query", "limit"},
		{"limit not a number", "GET", "/api/v1/disclosures?limit=ten", c1, "", 400, "invalid_query", "limit"},
		{"bad cursor", "GET", "/api/v1/me/disclosures?cursor=xyz", e1, "", 400, "bad_cursor", "cursor"},
		{"unknown parameter", "GET", "/api/v1/disclosures?sort=asc", c1, "", 400, "invalid_query", "sort"},
		{"repeated parameter", "GET", "/api/v1/disclosures?status=pending&status=approved", c1, "", 400, "invalid_query", "status"},
		{"bad status", "GET", "/api/v1/disclosures?status=open", c1, "", 400, "invalid_query", "status"},
		{"inbox with filter", "GET", "/api/v1/disclosures?inbox=true&status=pending", c1, "", 400, "invalid_query", "inbox"},
		{"bad audit time", "GET", "/api/v1/audit?from=yesterday", token(t, "A1", "auditor"), "", 400, "invalid_query", "from"},
		{"bad audit cursor", "GET", "/api/v1/audit?cursor=abc", token(t, "A1", "auditor"), "", 400, "bad_cursor", "cursor"},
		{"audit from after to", "GET", "/api/v1/audit?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z", token(t, "A1", "auditor"), "", 400, "invalid_query", "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(tt.method, tt.path, tt.tok, tt.body), tt.wantStatus, tt.wantCode, tt.wantField)
		})
	}
	if n := ts.count("disclosures"); n != 1 {
		t.Errorf("%d disclosures stored after bad requests, want 1", n)
	}
}

// TestBodyTooLarge: over HTTP.MaxBodyBytes is 413, whether the length is
// declared up front or only discovered while reading a chunked body.
func TestBodyTooLarge(t *testing.T) {
	ts := newTestServer(t)
	big := strings.Replace(managerBody(), `"paid":false`, `"paid":false,"notes":"`+strings.Repeat("x", testMaxBody)+`"`, 1)
	wantError(t, ts.do("POST", "/api/v1/me/disclosures", token(t, "E1"), big), http.StatusRequestEntityTooLarge, "body_too_large", "")

	req := httptest.NewRequest("POST", "/api/v1/me/disclosures", strings.NewReader(big))
	req.ContentLength = -1 // as a chunked request arrives
	req.Header.Set("Authorization", "Bearer "+token(t, "E1"))
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, req)
	wantError(t, w, http.StatusRequestEntityTooLarge, "body_too_large", "")
	if n := ts.count("disclosures"); n != 0 {
		t.Errorf("%d disclosures stored, want 0", n)
	}
}

// TestAuditListFilters exercises GET /api/v1/audit's filters and pages.
func TestAuditListFilters(t *testing.T) {
	ts := newTestServer(t)
	e1, c1 := token(t, "E1"), token(t, "C1", "compliance")
	var created []string
	for range 3 {
		created = append(created, decode[disclosureResp](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, complianceBody())).ID)
	}
	ts.must(http.StatusOK, "POST", "/api/v1/disclosures/"+created[0]+"/decision", c1, `{"decision":"approve","version":1}`)
	ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", token(t, "E3"), managerBody())

	tests := []struct {
		query string
		want  int
	}{
		{"", 5},
		{"actor=E1", 3},
		{"actor=C1&action=disclosure.decide", 1},
		{"action=disclosure.create", 4},
		{"owner_id=E3", 1},
		{"resource_type=disclosure&resource_id=" + created[0], 2},
		{"resource_type=case", 0},
		{"from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z", 5},
		{"to=2000-01-01T00:00:00Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := ts.auditEntries(tt.query); len(got) != tt.want {
				t.Errorf("%d entries, want %d: %+v", len(got), tt.want, got)
			}
		})
	}

	// Paging two at a time yields all five, newest first, each once.
	all := ts.auditEntries("")
	var paged []string
	cursor := ""
	for range 4 {
		q := "limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := decode[pageResp[auditResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/audit?"+q, token(t, "AD1", "admin"), ""))
		for _, e := range p.Items {
			paged = append(paged, e.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	var want []string
	for _, e := range all {
		want = append(want, e.ID)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged %v, want %v", paged, want)
	}
}

func ids(ds []disclosureResp) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestMapDisclosureErrors: the workflow's sentinels, however wrapped, get
// their status and code; other errors are left to the next mapper.
func TestMapDisclosureErrors(t *testing.T) {
	tests := []struct {
		give       error
		wantStatus int
		wantCode   string
	}{
		{fmt.Errorf("get disclosure x: %w", disclosure.ErrNotFound), 404, "not_found"},
		{fmt.Errorf("update: %w", disclosure.ErrConflict), 409, "conflict"},
		{fmt.Errorf("decide: %w", disclosure.ErrInvalidState), 422, "invalid_state"},
		{fmt.Errorf("decide: %w", disclosure.ErrForbidden), 403, "forbidden"},
		{fmt.Errorf("list: %w", disclosure.ErrBadCursor), 400, "bad_cursor"},
		{&disclosure.ValidationError{Details: []disclosure.FieldError{{Field: "kind", Message: "bad"}}}, 400, "invalid_body"},
		{errors.New("connection refused"), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.give.Error(), func(t *testing.T) {
			got, ok := httpapi.MapDisclosureErrors(tt.give)
			if !ok {
				if tt.wantStatus != 0 {
					t.Fatalf("not mapped, want %d", tt.wantStatus)
				}
				return
			}
			if got.Status != tt.wantStatus || got.Code != tt.wantCode {
				t.Errorf("= %d %s, want %d %s", got.Status, got.Code, tt.wantStatus, tt.wantCode)
			}
		})
	}
	if e, ok := httpapi.MapAuditErrors(fmt.Errorf("list: %w", audit.ErrBadCursor)); !ok || e.Code != "bad_cursor" {
		t.Errorf("audit cursor error = %+v, %v", e, ok)
	}
}

// TestInternalErrorsDoNotLeak: with the database gone, the client gets a
// bare 500, nothing of the driver's message.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	ts := newTestServer(t)
	d := ts.seed("E1", false)
	if err := ts.db.Client.Disconnect(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/me/disclosures", "/api/v1/disclosures/" + d.ID} {
		w := ts.do("GET", path, token(t, "E1"), "")
		wantError(t, w, http.StatusInternalServerError, "internal", "")
		if body := strings.ToLower(w.Body.String()); strings.Contains(body, "client") || strings.Contains(body, "mongo") || strings.Contains(body, "disclosure") {
			t.Errorf("500 body leaks internals: %s", w.Body.String())
		}
	}
}
