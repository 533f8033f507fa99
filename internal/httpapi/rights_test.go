package httpapi_test

import (
	"archive/zip"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/rights"
)

// TestRightsAPI: GET /me/data as JSON and as a zip of CSV files with a
// byte-order mark; the export only for a privacy officer, never of
// themselves; unknown formats are 400 naming the parameter.
func TestRightsAPI(t *testing.T) {
	ts := newTestServer(t)
	db := ts.db
	svc := &rights.Service{Employees: mongostore.NewEmployeeStore(db), Signals: mongostore.NewSignalStore(db), Disclosures: ts.disclosures,
		Cases: mongostore.NewCaseStore(db), Audit: ts.audit, Store: mongostore.NewRights(db), FindingsPolicy: privacy.FindingsAfterDecision, Now: time.Now}
	v, err := auth.NewVerifier(t.Context(), testAuthConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{MaxBodyBytes: testMaxBody, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: v,
		Gatherer: prometheus.NewRegistry(), Routes: []httpapi.Routes{httpapi.RightsRoutes{Service: svc}},
		Mappers: []httpapi.Mapper{httpapi.MapRightsErrors}, Audit: ts.audit})
	get := func(path, tok string, check bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if check {
			checkResponse(t, req, nil, w)
		}
		return w
	}
	e1 := token(t, "E1", "employee")
	w := get("/api/v1/me/data", e1, true)
	if w.Code != http.StatusOK {
		t.Fatalf("me/data = %d %s", w.Code, w.Body)
	}
	body := decode[struct {
		EmployeeID string `json:"employee_id"`
		Employee   struct {
			Name    string `json:"name"`
			Manager string `json:"manager_id"`
		} `json:"employee"`
		Policy string `json:"findings_policy"`
	}](t, w)
	if body.EmployeeID != "E1" || body.Employee.Name != "Test E1" || body.Employee.Manager != "M1" || body.Policy != "after_decision" {
		t.Fatalf("me/data = %+v", body)
	}

	w = get("/api/v1/me/data?format=csv", e1, false)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("me/data csv = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	z, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		files[f.Name] = string(b)
	}
	for _, name := range []string{"employee.csv", "projects.csv", "leave.csv", "signals.csv", "events.csv", "declarations.csv", "cases.csv", "reads.csv"} {
		if !strings.HasPrefix(files[name], "\ufeff") {
			t.Errorf("%s does not start with a UTF-8 byte-order mark: %q", name, files[name])
		}
	}
	if !strings.Contains(files["employee.csv"], "E1,Test E1,") {
		t.Errorf("employee.csv = %q", files["employee.csv"])
	}
	wantError(t, get("/api/v1/me/data?format=xml", e1, true), http.StatusBadRequest, "invalid_query", "format")

	officer := token(t, "C1", "employee", auth.RolePrivacyOfficer)
	w = get("/api/v1/privacy/employees/E1/export", officer, true)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"employees"`) {
		t.Fatalf("export = %d %s", w.Code, w.Body)
	}
	w = get("/api/v1/privacy/employees/E1/export?format=zip&reason=request%20of%202026-12-01", officer, false)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("export zip = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	wantError(t, get("/api/v1/privacy/employees/E1/export", token(t, "A1", "employee", "auditor", "compliance"), true), http.StatusForbidden, "forbidden", "")
	wantError(t, get("/api/v1/privacy/employees/C1/export", officer, true), http.StatusForbidden, "forbidden", "")
	wantError(t, get("/api/v1/privacy/employees/nobody/export", officer, true), http.StatusNotFound, "not_found", "")
}
