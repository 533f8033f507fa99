package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// callers of the matrix: each role with the subject it signs in as. M1
// manages E2 (and E1), not E3; "none" sends no token.
var callers = []struct{ role, subject string }{
	{"employee", "E1"}, {"manager", "M1"}, {"compliance", "C1"}, {"auditor", "A1"},
	{"admin", "AD1"}, {"ingest", "S1"}, {"none", ""},
}

// Whose disclosure an id endpoint acts on, relative to the caller.
const (
	own    = "own"    // the caller's
	report = "report" // E2's: M1's direct report, nobody else's
	other  = "other"  // E3's: reports to M2
)

// endpoint is one API route as the matrix calls it; resource endpoints get a
// fresh disclosure (manager-level unless compliance) for every cell.
type endpoint struct {
	name       string
	method     string
	path       string // "{id}" is replaced by the disclosure's id
	body       func() string
	resource   bool
	compliance bool
}

// TestAuthorizationMatrix calls every endpoint as every role on their own,
// a direct report's and an unrelated employee's disclosure. Reading what
// one may not read is 404 (existence is not revealed); holding the role but
// not the relation is 403 where the caller can see the disclosure.
func TestAuthorizationMatrix(t *testing.T) {
	ts := newTestServer(t)
	eps := map[string]endpoint{
		"create":            {"create", "POST", "/api/v1/me/disclosures", complianceBody, false, false},
		"list mine":         {"list mine", "GET", "/api/v1/me/disclosures", nil, false, false},
		"list":              {"list", "GET", "/api/v1/disclosures", nil, false, false},
		"inbox":             {"inbox", "GET", "/api/v1/disclosures?inbox=true", nil, false, false},
		"audit":             {"audit", "GET", "/api/v1/audit", nil, false, false},
		"get":               {"get", "GET", "/api/v1/disclosures/{id}", nil, true, false},
		"edit":              {"edit", "PUT", "/api/v1/me/disclosures/{id}", managerBody, true, false},
		"withdraw":          {"withdraw", "POST", "/api/v1/me/disclosures/{id}/withdraw", nil, true, false},
		"decide manager":    {"decide manager-level", "POST", "/api/v1/disclosures/{id}/decision", approve, true, false},
		"decide compliance": {"decide compliance-level", "POST", "/api/v1/disclosures/{id}/decision", approve, true, true},
	}
	// want[endpoint][role] for endpoints without a resource;
	// want[endpoint][role] = [own, report, other] for the rest.
	flat := map[string]map[string]int{
		"create":    {"employee": 201, "manager": 201, "compliance": 201, "auditor": 201, "admin": 201, "ingest": 201, "none": 401},
		"list mine": {"employee": 200, "manager": 200, "compliance": 200, "auditor": 200, "admin": 200, "ingest": 200, "none": 401},
		"list":      {"employee": 403, "manager": 200, "compliance": 200, "auditor": 200, "admin": 403, "ingest": 403, "none": 401},
		"inbox":     {"employee": 403, "manager": 200, "compliance": 200, "auditor": 403, "admin": 403, "ingest": 403, "none": 401},
		"audit":     {"employee": 403, "manager": 403, "compliance": 403, "auditor": 200, "admin": 200, "ingest": 403, "none": 401},
	}
	byResource := map[string]map[string][3]int{
		"get": {
			"employee": {200, 404, 404}, "manager": {200, 200, 404}, "compliance": {200, 200, 200},
			"auditor": {200, 200, 200}, "admin": {200, 404, 404}, "ingest": {200, 404, 404}, "none": {401, 401, 401},
		},
		"edit": {
			"employee": {200, 404, 404}, "manager": {200, 404, 404}, "compliance": {200, 404, 404},
			"auditor": {200, 404, 404}, "admin": {200, 404, 404}, "ingest": {200, 404, 404}, "none": {401, 401, 401},
		},
		"withdraw": {
			"employee": {200, 404, 404}, "manager": {200, 404, 404}, "compliance": {200, 404, 404},
			"auditor": {200, 404, 404}, "admin": {200, 404, 404}, "ingest": {200, 404, 404}, "none": {401, 401, 401},
		},
		// Without the right to read it, a disclosure does not exist (404),
		// decided in the service like every other access rule.
		"decide manager": {
			"employee": {403, 404, 404}, "manager": {403, 200, 404}, "compliance": {403, 200, 200},
			"auditor": {403, 403, 403}, "admin": {403, 404, 404}, "ingest": {403, 404, 404}, "none": {401, 401, 401},
		},
		"decide compliance": {
			"employee": {403, 404, 404}, "manager": {403, 403, 404}, "compliance": {403, 200, 200},
			"auditor": {403, 403, 403}, "admin": {403, 404, 404}, "ingest": {403, 404, 404}, "none": {401, 401, 401},
		},
	}
	if len(flat)+len(byResource) != len(eps) {
		t.Fatalf("the matrix covers %d endpoints, %d are listed", len(flat)+len(byResource), len(eps))
	}

	for _, c := range callers {
		tok := ""
		if c.role != "none" {
			tok = token(t, c.subject, c.role)
		}
		for key, want := range flat {
			ep := eps[key]
			t.Run(ep.name+"/"+c.role, func(t *testing.T) {
				w := ts.do(ep.method, ep.path, tok, bodyOf(ep))
				if w.Code != want[c.role] {
					t.Errorf("%s %s as %s = %d %s, want %d", ep.method, ep.path, c.role, w.Code, w.Body.String(), want[c.role])
				}
			})
		}
		for key, wants := range byResource {
			ep := eps[key]
			for i, whose := range []string{own, report, other} {
				t.Run(ep.name+"/"+c.role+"/"+whose, func(t *testing.T) {
					owner := map[string]string{own: c.subject, report: "E2", other: "E3"}[whose]
					if owner == "" { // no caller: any owner will do
						owner = "E1"
					}
					d := ts.seed(owner, ep.compliance)
					path := strings.Replace(ep.path, "{id}", d.ID, 1)
					w := ts.do(ep.method, path, tok, bodyOf(ep))
					if w.Code != wants[c.role][i] {
						t.Errorf("%s %s as %s on %s's = %d %s, want %d", ep.method, ep.path, c.role, whose, w.Code, w.Body.String(), wants[c.role][i])
					}
					// A refused change leaves the disclosure as it was.
					if w.Code >= 400 {
						got, err := ts.disclosures.Get(t.Context(), d.ID)
						if err != nil || got.Version != d.Version || got.Status != d.Status {
							t.Errorf("refused %s changed the disclosure: %+v, %v", ep.name, got, err)
						}
					}
				})
			}
		}
	}
}

// TestManagerAndComplianceRoles: holding both roles decides as compliance,
// whose authority is the wider one.
func TestManagerAndComplianceRoles(t *testing.T) {
	ts := newTestServer(t)
	d := ts.seed("E3", true)
	w := ts.must(http.StatusOK, "POST", "/api/v1/disclosures/"+d.ID+"/decision", token(t, "M1", "manager", "compliance"), approve())
	if got := decode[disclosureResp](t, w); got.Decision == nil || got.Decision.Role != "compliance" {
		t.Errorf("decision = %+v, want by compliance", got.Decision)
	}
}

func approve() string { return `{"decision":"approve","comment":"ok","version":1}` }

func bodyOf(ep endpoint) string {
	if ep.body == nil {
		return ""
	}
	return ep.body()
}

// TestTokenAttacks: forged, expired and misdirected tokens are 401 at the
// HTTP level (the auth package tests each check in detail).
func TestTokenAttacks(t *testing.T) {
	ts := newTestServer(t)
	good := token(t, "E1")
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding.EncodeToString

	expired, err := auth.IssueDevToken(testAuthConfig(), "E1", nil, time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherKey := testAuthConfig()
	otherKey.Dev.SigningKey = "another-signing-key-of-enough-length-000"
	wrongKey, err := auth.IssueDevToken(otherKey, "E1", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherAud := testAuthConfig()
	otherAud.Audience = "another-service"
	wrongAud, err := auth.IssueDevToken(otherAud, "E1", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Claim compliance without re-signing.
	elevated := parts[0] + "." + enc([]byte(`{"sub":"E1","roles":["compliance"],"aud":"moonlight","iss":"moonlight-dev","exp":4102444800}`)) + "." + parts[2]

	tests := []struct {
		name, give string
	}{
		{"expired", expired},
		{"alg none", enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
		{"wrong key", wrongKey},
		{"wrong audience", wrongAud},
		{"tampered claims", elevated},
		{"garbage", "not-a-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do("GET", "/api/v1/me/disclosures", tt.give, "")
			wantError(t, w, http.StatusUnauthorized, "unauthorized", "")
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
	ts.must(http.StatusOK, "GET", "/api/v1/me/disclosures", good, "")
}

// seedEmployee stores an employee hired 400 days ago reporting to manager,
// terminated on terminated (if not empty), moved to movedTo (if not empty)
// ten days ago.
func (ts *testServer) seedEmployee(id, manager, terminated, movedTo string) {
	ts.t.Helper()
	hire := civil.Of(time.Now()).AddDays(-400)
	facts := []employee.Fact{{Ref: event.Ref{Source: "hr/test", ID: "hire-" + id}, Type: event.TypeEmployeeHired, Effective: hire,
		Data: &event.EmployeeHired{EmployeeID: id, Name: "Test " + id, Department: "Test", ManagerID: manager, HireDate: hire}}}
	if terminated != "" {
		d := civil.Date(terminated)
		facts = append(facts, employee.Fact{Ref: event.Ref{Source: "hr/test", ID: "term-" + id}, Type: event.TypeEmployeeTerminated,
			Effective: d, Data: &event.EmployeeTerminated{EmployeeID: id, TerminationDate: d, Reason: "dismissed"}})
	}
	if movedTo != "" {
		d := civil.Of(time.Now()).AddDays(-10)
		facts = append(facts, employee.Fact{Ref: event.Ref{Source: "hr/test", ID: "move-" + id}, Type: event.TypeEmployeeUpdated,
			Effective: d, Data: &event.EmployeeUpdated{EmployeeID: id, EffectiveDate: d, ManagerID: &movedTo}})
	}
	if _, err := mongostore.NewEmployeeStore(ts.db).Save(ts.t.Context(), employee.Build(id, facts)); err != nil {
		ts.t.Fatalf("seed employee %s: %v", id, err)
	}
}

// TestManagerAuthorityFromHR: authority comes from the HR projection at
// decision time (issue 10, hole 6). A dismissed manager holds none, their
// reports' approvals go to the next manager up (skip-level) or to
// compliance, and a manager decides only for current direct reports.
func TestManagerAuthorityFromHR(t *testing.T) {
	ts := newTestServer(t)
	yesterday := day(-1)
	ts.seedEmployee("M3", "M1", yesterday, "") // dismissed yesterday; reported to M1
	ts.seedEmployee("E4", "M3", "", "")        // M3's report: now M1 decides
	ts.seedEmployee("M4", "", yesterday, "")   // dismissed, nobody above
	ts.seedEmployee("E5", "M4", "", "")        // only compliance decides now
	ts.seedEmployee("E6", "M1", "", "M2")      // moved from M1 to M2 ten days ago
	ts.seedEmployee("E7", "M1", yesterday, "") // left: no manager decides
	tests := []struct {
		decider, owner string
		want           int
	}{
		{"M3", "E4", 404}, // dismissed: no authority, not even to read
		{"M1", "E4", 200}, // skip-level
		{"M4", "E5", 404},
		{"M1", "E5", 404},
		{"C1", "E5", 200}, // compliance, as for every disclosure
		{"M1", "E6", 404}, // no longer M1's report
		{"M2", "E6", 200},
		{"M1", "E7", 404},
		{"M1", "E1", 200}, // a current direct report, as before
	}
	for _, tt := range tests {
		t.Run(tt.decider+" decides "+tt.owner, func(t *testing.T) {
			d := ts.seed(tt.owner, false)
			roles := []string{"manager"}
			if tt.decider == "C1" {
				roles = []string{"compliance"}
			}
			w := ts.do("POST", "/api/v1/disclosures/"+d.ID+"/decision", token(t, tt.decider, roles...), approve())
			if w.Code != tt.want {
				t.Errorf("= %d %s, want %d", w.Code, w.Body.String(), tt.want)
			}
		})
	}
	// Inboxes follow: M1 sees E4's pending declaration (skip-level), M3 nothing.
	e4 := ts.seed("E4", false)
	inbox := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures?inbox=true", token(t, "M1", "manager"), ""))
	if !slices.Contains(ids(inbox.Items), e4.ID) {
		t.Errorf("M1's inbox lacks E4's declaration (its manager M3 was dismissed)")
	}
	if got := decode[pageResp[disclosureResp]](t, ts.must(http.StatusOK, "GET", "/api/v1/disclosures?inbox=true", token(t, "M3", "manager"), "")); len(got.Items) != 0 {
		t.Errorf("dismissed M3's inbox = %d items, want none", len(got.Items))
	}
}

// TestRecusalAcrossRoles: the matrix's self column for deciders. Whatever the
// roles, one's own disclosure is never decided (403 for every role set);
// an ingest account without a grant publishes nothing (see TestIngestGrants).
func TestRecusalAcrossRoles(t *testing.T) {
	ts := newTestServer(t)
	for _, roles := range [][]string{{"compliance"}, {"manager"}, {"compliance", "manager", "admin", "auditor"}} {
		d := ts.seed("M1", true)
		w := ts.do("POST", "/api/v1/disclosures/"+d.ID+"/decision", token(t, "M1", roles...), `{"decision":"approve","comment":"mine","version":1}`)
		wantError(t, w, http.StatusForbidden, "forbidden", "")
	}
	if n := len(ts.auditEntries("action=access.denied&actor=M1")); n != 3 {
		t.Errorf("%d access.denied entries for self-decisions, want 3", n)
	}
}
