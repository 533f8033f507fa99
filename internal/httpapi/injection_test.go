package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNoSQLInjection sends MongoDB operators where ids, filters and body
// values go. Each is refused with 400 before it reaches the store, and the
// database is left exactly as it was (no disclosure changed or added, and
// not even an audit entry for a read).
func TestNoSQLInjection(t *testing.T) {
	ts := newTestServer(t)
	e1, c1, a1 := token(t, "E1"), token(t, "C1", "compliance"), token(t, "A1", "auditor")
	target := ts.seed("E1", true)
	op := url.PathEscape(`{"$ne": null}`)
	withKey := func(key, value string) string { // complianceBody with one more top-level member
		return strings.Replace(complianceBody(), `{`, `{"`+key+`":`+value+`,`, 1)
	}

	tests := []struct {
		name, method, path, tok, body string
		wantCode                      string
	}{
		{"operator as get id", "GET", "/api/v1/disclosures/" + op, c1, "", "invalid_id"},
		{"operator as decision id", "POST", "/api/v1/disclosures/" + op + "/decision", c1, approve(), "invalid_id"},
		{"operator as edit id", "PUT", "/api/v1/me/disclosures/" + op, e1, managerBody(), "invalid_id"},
		{"operator as withdraw id", "POST", "/api/v1/me/disclosures/" + op + "/withdraw", e1, "", "invalid_id"},
		{"$ prefix id", "GET", "/api/v1/disclosures/$where", c1, "", "invalid_id"},
		{"bracket operator in status", "GET", "/api/v1/disclosures?status[$ne]=x", c1, "", "invalid_query"},
		{"operator as status", "GET", "/api/v1/disclosures?status=" + url.QueryEscape(`{"$ne":null}`), c1, "", "invalid_query"},
		{"operator as employee_id", "GET", "/api/v1/disclosures?employee_id=" + url.QueryEscape(`{"$ne":null}`), c1, "", "invalid_query"},
		{"bracket operator in employee_id", "GET", "/api/v1/disclosures?employee_id[$gt]=", c1, "", "invalid_query"},
		{"operator as audit actor", "GET", "/api/v1/audit?actor=" + url.QueryEscape(`{"$gt":""}`), a1, "", "invalid_query"},
		{"bracket operator in audit owner", "GET", "/api/v1/audit?owner_id[$ne]=E1", a1, "", "invalid_query"},
		{"operator as audit action", "GET", "/api/v1/audit?action=" + url.QueryEscape(`$where`), a1, "", "invalid_query"},
		{"top-level $ key", "POST", "/api/v1/me/disclosures", e1, withKey("$where", `"1 == 1"`), "invalid_body"},
		{"$set in body", "POST", "/api/v1/me/disclosures", e1, withKey("$set", `{"status":"approved"}`), "invalid_body"},
		{"nested $ key", "POST", "/api/v1/me/disclosures", e1,
			strings.Replace(complianceBody(), `{"amount":"3000.00","currency":"CNY"}`, `{"$gt": ""}`, 1), "invalid_body"},
		{"dotted key", "POST", "/api/v1/me/disclosures", e1, withKey("decision.by", `"C1"`), "invalid_body"},
		{"operator as value", "POST", "/api/v1/me/disclosures", e1,
			strings.Replace(complianceBody(), `"Capvision"`, `{"$ne": null}`, 1), "invalid_body"},
		{"operator in array", "POST", "/api/v1/disclosures/" + target.ID + "/decision", c1,
			`{"decision":"approve","conditions":[{"$ne":null}]}`, "invalid_body"},
		{"$ key in decision", "POST", "/api/v1/disclosures/" + target.ID + "/decision", c1,
			`{"decision":"approve","$set":{"status":"approved"}}`, "invalid_body"},
		{"$ key in edit", "PUT", "/api/v1/me/disclosures/" + target.ID, e1, withKey("$inc", `{"version":1}`), "invalid_body"},
		{"$ key in withdraw", "POST", "/api/v1/me/disclosures/" + target.ID + "/withdraw", e1, `{"comment":{"$ne":""}}`, "invalid_body"},
	}

	before := map[string]int64{"disclosures": ts.count("disclosures"), "audit": ts.count("audit")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(tt.method, tt.path, tt.tok, tt.body), http.StatusBadRequest, tt.wantCode, "")
		})
	}
	for coll, n := range before {
		if got := ts.count(coll); got != n {
			t.Errorf("%s: %d documents after the attempts, %d before", coll, got, n)
		}
	}
	got, err := ts.disclosures.Get(t.Context(), target.ID)
	if err != nil || got.Status != target.Status || got.Version != target.Version {
		t.Errorf("target disclosure changed: %+v, %v", got, err)
	}
}
