package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The queue's API (issue 14): search with a total, assignment with reason
// and version, reopen, bulk, and exports that keep Chinese intact.
func TestQueueAPI(t *testing.T) {
	cs := newCaseServer(t)
	c1, c2 := token(t, "C1", "compliance"), token(t, "C2", "compliance")
	cs.seed("case-1", "E1", "high", 70, "中信证券")
	cs.seed("case-2", "E2", "low", 20, "GLG")
	cs.must(http.StatusOK, "GET", "/api/v1/cases", c2, "") // C2 acts as a reviewer once

	// Take case-1, then the default queue (open,in_review) still has it.
	cs.must(http.StatusOK, "POST", "/api/v1/cases/case-1/assign", c1, "")
	page := decode[struct {
		Items []caseResp `json:"items"`
		Total *int       `json:"total"`
	}](t, cs.must(http.StatusOK, "GET", "/api/v1/cases?status=open,in_review&with_total=true", c1, ""))
	if len(page.Items) != 2 || page.Total == nil || *page.Total != 2 {
		t.Fatalf("default queue = %d items, total %v", len(page.Items), page.Total)
	}
	mine := decode[struct {
		Items []caseResp `json:"items"`
	}](t, cs.must(http.StatusOK, "GET", "/api/v1/cases?status=open,in_review&assignee=C1", c1, ""))
	if len(mine.Items) != 1 || mine.Items[0].ID != "case-1" || mine.Items[0].Assignee != "C1" {
		t.Fatalf("my cases = %+v", mine.Items)
	}
	wantError(t, cs.do("GET", "/api/v1/cases?status=open,nope", c1, ""), http.StatusBadRequest, "invalid_query", "status")
	wantError(t, cs.do("GET", "/api/v1/cases?opened_from=2024-13-01", c1, ""), http.StatusBadRequest, "invalid_query", "opened_from")

	// Reassign: reason and version required; then to C2.
	cur := decode[caseResp](t, cs.must(http.StatusOK, "GET", "/api/v1/cases/case-1", c1, ""))
	wantError(t, cs.do("POST", "/api/v1/cases/case-1/assignment", c1, `{"assignee":"C2","version":1}`), http.StatusBadRequest, "invalid_body", "reason")
	wantError(t, cs.do("POST", "/api/v1/cases/case-1/assignment", c1, `{"assignee":"C2","reason":"leave"}`), http.StatusPreconditionRequired, "precondition_required", "version")
	wantError(t, cs.do("POST", "/api/v1/cases/case-1/assignment", c1, `{"assignee":"C2","reason":"leave","version":1}`), http.StatusConflict, "stale_version", "version")
	got := decode[caseResp](t, cs.must(http.StatusOK, "POST", "/api/v1/cases/case-1/assignment", c1,
		`{"assignee":"C2","reason":"on leave","version":`+itoa(cur.Version)+`}`))
	if got.Assignee != "C2" || got.Status != "in_review" {
		t.Fatalf("reassigned = %+v", got)
	}

	// Bulk clear both: case-1 at its new version, case-2 at a stale one.
	res := decode[struct {
		Results []struct {
			ID    string `json:"id"`
			OK    bool   `json:"ok"`
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		} `json:"results"`
	}](t, cs.must(http.StatusOK, "POST", "/api/v1/cases/bulk", c1,
		`{"action":"clear","reason":"public information only","cases":[{"id":"case-1","version":`+itoa(got.Version)+`},{"id":"case-2","version":9}]}`))
	if len(res.Results) != 2 || !res.Results[0].OK || res.Results[1].OK || res.Results[1].Error.Code != "stale_version" {
		t.Fatalf("bulk = %+v", res.Results)
	}
	wantError(t, cs.do("POST", "/api/v1/cases/bulk", c1, `{"action":"assign","reason":"x","cases":[]}`), http.StatusBadRequest, "invalid_body", "cases")

	// Reopen the cleared one.
	closed := decode[caseResp](t, cs.must(http.StatusOK, "GET", "/api/v1/cases/case-1", c1, ""))
	re := decode[caseResp](t, cs.must(http.StatusOK, "POST", "/api/v1/cases/case-1/reopen", c1,
		`{"reason":"approval was for another date","version":`+itoa(closed.Version)+`}`))
	if re.Status != "open" || re.Decision != nil {
		t.Fatalf("reopened = %+v", re)
	}

	// Exports: CSV with a BOM and XLSX, both with Chinese intact.
	w := cs.must(http.StatusOK, "GET", "/api/v1/cases/export?format=csv&status=open,in_review", c1, "")
	b := w.Body.Bytes()
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: % x… %v", b[:min(3, len(b))], w.Header())
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "case_id" || !strings.Contains(strings.Join(recs[1], ","), "中信证券") {
		t.Fatalf("csv records = %q, %v", recs, err)
	}
	w = cs.must(http.StatusOK, "GET", "/api/v1/cases/export?format=xlsx&rule=expense-at-research-counterparty", c1, "")
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("cases")
	if len(rows) != 3 || !strings.Contains(strings.Join(rows[1], ","), "中信证券") {
		t.Fatalf("xlsx rows = %q", rows)
	}
	wantError(t, cs.do("GET", "/api/v1/cases/export?format=pdf", c1, ""), http.StatusBadRequest, "invalid_query", "format")
	wantError(t, cs.do("GET", "/api/v1/cases/export", token(t, "E5"), ""), http.StatusForbidden, "forbidden", "")
}

// POST /me/disclosures with an Idempotency-Key creates once: retries get
// the same answer, concurrent ones too, and another body with the key 422.
func TestDisclosureIdempotencyKey(t *testing.T) {
	ts := newTestServer(t)
	e1 := token(t, "E1")
	first := ts.doHeader("POST", "/api/v1/me/disclosures", e1, complianceBody(), "Idempotency-Key", "k-1")
	if first.Code != http.StatusCreated {
		t.Fatalf("first = %d %s", first.Code, first.Body)
	}
	again := ts.doHeader("POST", "/api/v1/me/disclosures", e1, complianceBody(), "Idempotency-Key", "k-1")
	if again.Code != http.StatusCreated || again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %d %q %s", again.Code, again.Header().Get("Idempotent-Replayed"), again.Body)
	}
	other := ts.doHeader("POST", "/api/v1/me/disclosures", e1, managerBody(), "Idempotency-Key", "k-1")
	wantError(t, other, http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	bad := ts.doHeader("POST", "/api/v1/me/disclosures", e1, complianceBody(), "Idempotency-Key", "has space")
	wantError(t, bad, http.StatusBadRequest, "invalid_header", "Idempotency-Key")
	// Another caller's same key is their own.
	if w := ts.doHeader("POST", "/api/v1/me/disclosures", token(t, "E2"), complianceBody(), "Idempotency-Key", "k-1"); w.Code != http.StatusCreated {
		t.Fatalf("E2 = %d", w.Code)
	}
	// Ten concurrent requests with one key: one declaration.
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = ts.doHeader("POST", "/api/v1/me/disclosures", e1, managerBody(), "Idempotency-Key", "k-race").Code
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusCreated && c != http.StatusConflict {
			t.Errorf("concurrent create answered %d", c)
		}
	}
	mine := decode[pageResp[map[string]any]](t, ts.must(http.StatusOK, "GET", "/api/v1/me/disclosures", e1, ""))
	if len(mine.Items) != 2 {
		t.Errorf("E1 has %d declarations, want 2 (one per key)", len(mine.Items))
	}
}

// An empty end date is the start date; messages name fields in words.
func TestDisclosureEndDateAndMessages(t *testing.T) {
	ts := newTestServer(t)
	e1 := token(t, "E1")
	body := strings.Replace(managerBody(), `"end_date":"`+day(5)+`"`, `"end_date":""`, 1)
	d := decode[map[string]any](t, ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", e1, body))
	if d["end_date"] != d["start_date"] {
		t.Errorf("end_date = %v, want the start date %v", d["end_date"], d["start_date"])
	}
	bad := strings.Replace(managerBody(), `"end_date":"`+day(5)+`"`, `"end_date":"`+day(1)+`"`, 1)
	w := ts.do("POST", "/api/v1/me/disclosures", e1, bad)
	e := decode[struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				Field string `json:"field"`
			} `json:"details"`
		} `json:"error"`
	}](t, w)
	if w.Code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "end date") || strings.Contains(e.Error.Message, "end_date") ||
		len(e.Error.Details) == 0 || e.Error.Details[0].Field != "end_date" {
		t.Errorf("error = %d %+v", w.Code, e.Error)
	}
}
