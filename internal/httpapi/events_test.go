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

	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/grant"
	"github.com/moonlight-oss/moonlight/internal/httpapi"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func hrUpdate(id, source string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"hr.employee.updated","subject":"E1",
		"data":{"employee_id":"E1","effective_date":"2024-01-01","manager_id":"E9"}}`
}

func expenseClaim(id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"expense/concur-cn","type":"expense.claim.submitted","subject":"E1",
		"data":{"claim_id":"` + id + `","employee_id":"E1","incurred_on":"2024-01-10","amount":"10.00","currency":"CNY","merchant":"Taxi"}}`
}

// Issue 10, hole 3: any ingest account could post hr.employee.updated and
// make an accomplice someone's manager. Each account publishes only the
// types and sources granted to it (default: none), and every accepted
// publish is audited with the account.
func TestIngestGrants(t *testing.T) {
	topics := ingest.Topics{HR: testenv.UniqueName("hr"), Expense: testenv.UniqueName("expense"), Intel: testenv.UniqueName("intel")}
	brokers := testenv.KafkaBrokers(t)
	if err := ingest.EnsureTopics(t.Context(), brokers, []string{topics.HR, topics.Expense, topics.Intel}, 1); err != nil {
		t.Fatal(err)
	}
	pub := ingest.NewPublisher(brokers, topics)
	t.Cleanup(func() { _ = pub.Close() })
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditStore := mongostore.NewAuditStore(db)
	v, err := auth.NewVerifier(t.Context(), testAuthConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{
		MaxBodyBytes: 1 << 20, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: v, Gatherer: prometheus.NewRegistry(),
		Audit: auditStore,
		Routes: []httpapi.Routes{
			httpapi.EventRoutes{MaxEvents: 100, Gateway: &ingest.Gateway{Publisher: pub, Decoder: event.NewDecoder(1 << 20), Audit: auditStore, Now: time.Now,
				Grants: grant.Set{
					"svc-hris":    {Types: []string{"hr.*"}, Sources: []string{"hris/workday-cn"}},
					"svc-expense": {Types: []string{"expense.*"}, Sources: []string{"expense/concur-cn"}},
				}}},
			httpapi.AuditRoutes{Log: &auditlog.Service{Store: auditStore, Now: time.Now}},
		},
	})
	post := func(account, body string) map[string]any {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token(t, account, "ingest"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			t.Fatalf("post as %s = %d %s", account, w.Code, w.Body.String())
		}
		return decode[map[string]any](t, w)
	}
	tests := []struct {
		name, account, body string
		accepted            float64
		rejected            []float64
	}{
		{"expense account rewrites a reporting line", "svc-expense", "[" + hrUpdate("u1", "expense/concur-cn") + "]", 0, []float64{0}},
		{"hr account from another source", "svc-hris", "[" + hrUpdate("u2", "hris/rogue") + "]", 0, []float64{0}},
		{"account without a grant", "svc-new", "[" + expenseClaim("x0") + "]", 0, []float64{0}},
		{"granted, mixed", "svc-expense", "[" + expenseClaim("x1") + "," + hrUpdate("u3", "expense/concur-cn") + "," + expenseClaim("x2") + "]", 2, []float64{1}},
		{"hr account, its own source", "svc-hris", "[" + hrUpdate("u4", "hris/workday-cn") + "]", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(tt.account, tt.body)
			var idx []float64
			for _, r := range got["rejected"].([]any) {
				idx = append(idx, r.(map[string]any)["index"].(float64))
			}
			if got["accepted"] != tt.accepted || len(idx) != len(tt.rejected) {
				t.Fatalf("answer %v, want %v accepted, rejected at %v", got, tt.accepted, tt.rejected)
			}
			for i := range idx {
				if idx[i] != tt.rejected[i] {
					t.Errorf("rejected at %v, want %v", idx, tt.rejected)
				}
			}
		})
	}
	req := httptest.NewRequest("GET", "/api/v1/audit?action=event.publish", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, "A1", "auditor"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	entries := decode[pageResp[auditResp]](t, w).Items
	byAccount := map[string]int{}
	for _, e := range entries {
		byAccount[e.Actor]++
		if e.OwnerID != "E1" || e.ResourceID == "" || e.Details["type"] == "" {
			t.Errorf("publish entry %+v lacks owner, event or type", e)
		}
	}
	if byAccount["svc-expense"] != 2 || byAccount["svc-hris"] != 1 || len(entries) != 3 {
		t.Errorf("event.publish entries by account = %v, want svc-expense 2, svc-hris 1", byAccount)
	}

	// Without the ingest (or admin) role: 403 from the gateway, which the
	// route leaves to it.
	req = httptest.NewRequest("POST", "/api/v1/events", strings.NewReader("["+hrUpdate("h-9", "hris/workday-cn")+"]"))
	req.Header.Set("Authorization", "Bearer "+token(t, "svc-hris", "compliance"))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	wantError(t, w, http.StatusForbidden, "forbidden", "")
}
