package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/session"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// testSigningKey signs the tests' dev tokens (real HS256 JWTs).
const testSigningKey = "httpapi-test-signing-key-0123456789abcdef"

// testMaxBody is the body limit of the test server, small so 413 is cheap to provoke.
const testMaxBody = 4096

func testAuthConfig() auth.Config {
	cfg := auth.DefaultConfig()
	cfg.Dev.SigningKey = auth.Secret(testSigningKey)
	return cfg
}

// The test organisation: M1 manages E1 and E2, M2 manages E3; C1 is
// compliance, A1 an auditor, AD1 an admin, S1 an ingest service account.
var testOrg = []struct{ id, manager string }{
	{"M1", ""}, {"M2", ""}, {"E1", "M1"}, {"E2", "M1"}, {"E3", "M2"}, {"C1", ""}, {"A1", ""}, {"AD1", ""},
}

// testServer is the HTTP API over a fresh real database.
type testServer struct {
	t           *testing.T
	h           http.Handler
	db          *mongostore.DB
	disclosures *mongostore.DisclosureStore
	audit       *mongostore.AuditStore
	sessions    *mongostore.SessionStore
	svc         *disclosure.Service

	mu      sync.Mutex
	changed []string // employees OnChange was called for
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatalf("ensure indexes: %v", err)
	}
	emps := mongostore.NewEmployeeStore(db)
	for _, o := range testOrg {
		hire := civil.Of(time.Now()).AddDays(-400)
		e := employee.Build(o.id, []employee.Fact{{
			Ref: event.Ref{Source: "hr/test", ID: "hire-" + o.id}, Type: event.TypeEmployeeHired, Effective: hire,
			Data: &event.EmployeeHired{EmployeeID: o.id, Name: "Test " + o.id, Department: "Test", ManagerID: o.manager, HireDate: hire},
		}})
		if _, err := emps.Save(t.Context(), e); err != nil {
			t.Fatalf("seed employee %s: %v", o.id, err)
		}
	}
	ts := &testServer{t: t, db: db, disclosures: mongostore.NewDisclosureStore(db), audit: mongostore.NewAuditStore(db),
		sessions: mongostore.NewSessionStore(db)}
	ts.svc = &disclosure.Service{
		Store: ts.disclosures, Directory: disclosure.EmployeeDirectory{Employees: emps}, Audit: ts.audit,
		Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(), Now: time.Now,
		Notices: mongostore.NewOutboxStore(db), Validity: disclosure.DefaultValidity(),
		OnChange: func(_ context.Context, employeeID string) error {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			ts.changed = append(ts.changed, employeeID)
			return nil
		},
	}
	v, err := auth.NewVerifier(t.Context(), testAuthConfig())
	if err != nil {
		t.Fatal(err)
	}
	ts.h = httpapi.New(httpapi.Config{
		MaxBodyBytes: testMaxBody,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Verifier:     v,
		Gatherer:     prometheus.NewRegistry(),
		Routes: []httpapi.Routes{httpapi.DisclosureRoutes{Service: ts.svc, Idempotency: mongostore.NewIdempotencyStore(db)}, httpapi.AuditRoutes{Log: &auditlog.Service{Store: ts.audit, Now: time.Now}},
			httpapi.SessionRoutes{Revoker: &session.Revoker{Store: ts.sessions, Audit: ts.audit, Now: time.Now}},
			httpapi.NotificationRoutes{Service: &notify.Service{Store: mongostore.NewOutboxStore(db)}}},
		Mappers: []httpapi.Mapper{httpapi.MapDisclosureErrors, httpapi.MapAuditErrors, httpapi.MapSessionErrors,
			httpapi.MapNotifyErrors},
		Audit: ts.audit,
	})
	return ts
}

// token returns a real signed dev token for subject with roles.
func token(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	tok, err := auth.IssueDevToken(testAuthConfig(), subject, roles, time.Now())
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return tok
}

// do sends one request; token "" sends none.
func (ts *testServer) do(method, path, token, body string) *httptest.ResponseRecorder {
	ts.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, req)
	checkResponse(ts.t, req, []byte(body), w)
	return w
}

// must sends a request and fails the test unless it answers want.
func (ts *testServer) must(want int, method, path, token, body string) *httptest.ResponseRecorder {
	ts.t.Helper()
	w := ts.do(method, path, token, body)
	if w.Code != want {
		ts.t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body.String(), want)
	}
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body.String(), err)
	}
	return v
}

// apiError is the contract's error shape.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// wantError fails unless w is status with code and, when field is not "",
// a detail naming field.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d %s, want %d", w.Code, w.Body.String(), status)
	}
	e := decode[apiError](t, w)
	if e.Error.Code != code {
		t.Errorf("code = %q, want %q (%s)", e.Error.Code, code, w.Body.String())
	}
	if field == "" {
		return
	}
	for _, d := range e.Error.Details {
		if d.Field == field {
			return
		}
	}
	t.Errorf("details %+v name no field %q", e.Error.Details, field)
}

// disclosureResp is the response body of one disclosure, as a client reads it.
type disclosureResp struct {
	ID           string `json:"id"`
	EmployeeID   string `json:"employee_id"`
	Kind         string `json:"kind"`
	Counterparty string `json:"counterparty"`
	Topic        string `json:"topic"`
	Status       string `json:"status"`
	Approver     string `json:"approver"`
	Version      int64  `json:"version"`
	Decision     *struct {
		Decision   string   `json:"decision"`
		By         string   `json:"by"`
		Role       string   `json:"role"`
		Comment    string   `json:"comment"`
		Conditions []string `json:"conditions"`
	} `json:"decision"`
	History []struct {
		Actor            string          `json:"actor"`
		Action           string          `json:"action"`
		From             string          `json:"from"`
		To               string          `json:"to"`
		PreviousDecision json.RawMessage `json:"previous_decision"`
	} `json:"history"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type pageResp[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

type auditResp struct {
	ID           string            `json:"id"`
	Actor        string            `json:"actor"`
	Action       string            `json:"action"`
	ResourceType string            `json:"resource_type"`
	ResourceID   string            `json:"resource_id"`
	OwnerID      string            `json:"owner_id"`
	ResourceIDs  []string          `json:"resource_ids"`
	OwnerIDs     []string          `json:"owner_ids"`
	Reason       string            `json:"reason"`
	Details      map[string]string `json:"details"`
	RequestID    string            `json:"request_id"`
	ClientID     string            `json:"client_request_id"`
}

// day returns a date n days from today, so bodies stay within the limits.
func day(n int) string { return string(civil.Of(time.Now()).AddDays(n)) }

// complianceBody declares a paid expert-network seminar (compliance decides).
func complianceBody() string {
	return `{"kind":"paid_seminar","counterparty":"Capvision","counterparty_type":"expert_network",
		"topic":"EV supply chain outlook","start_date":"` + day(-10) + `","end_date":"` + day(-10) + `",
		"paid":true,"compensation":{"amount":"3000.00","currency":"CNY"}}`
}

// managerBody declares an unpaid media interview (the manager decides).
func managerBody() string {
	return `{"kind":"media_interview","counterparty":"Caixin","counterparty_type":"media",
		"topic":"Campus hiring","start_date":"` + day(5) + `","end_date":"` + day(5) + `","paid":false}`
}

// seed stores a disclosure of owner directly (as the service would), for
// tests that need one in place without going through the API.
func (ts *testServer) seed(owner string, compliance bool) disclosure.Disclosure {
	ts.t.Helper()
	in := disclosure.Input{Kind: disclosure.KindMediaInterview, Counterparty: "Caixin",
		CounterpartyType: disclosure.CounterpartyMedia, Topic: "Campus hiring",
		StartDate: civil.Date(day(5)), EndDate: civil.Date(day(5))}
	if compliance {
		in = disclosure.Input{Kind: disclosure.KindPaidSeminar, Counterparty: "Capvision",
			CounterpartyType: disclosure.CounterpartyExpertNetwork, Topic: "EV supply chain",
			StartDate: civil.Date(day(-10)), EndDate: civil.Date(day(-10)), Paid: true,
			Compensation: &disclosure.Compensation{Amount: "3000.00", Currency: "CNY"}}
	}
	d := disclosure.New(disclosure.NewID(), owner, in, disclosure.DefaultPolicy(), time.Now())
	if err := ts.disclosures.Create(ts.t.Context(), d); err != nil {
		ts.t.Fatalf("seed disclosure: %v", err)
	}
	return d
}

// count returns the number of documents in a collection.
func (ts *testServer) count(collection string) int64 {
	ts.t.Helper()
	n, err := ts.db.DB.Collection(collection).CountDocuments(ts.t.Context(), bson.D{})
	if err != nil {
		ts.t.Fatalf("count %s: %v", collection, err)
	}
	return n
}

// auditEntries lists audit entries matching the query string, as an auditor.
func (ts *testServer) auditEntries(query string) []auditResp {
	ts.t.Helper()
	w := ts.must(http.StatusOK, "GET", "/api/v1/audit?"+query, token(ts.t, "A1", "auditor"), "")
	return decode[pageResp[auditResp]](ts.t, w).Items
}
