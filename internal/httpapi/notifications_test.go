package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

type notificationPageResp struct {
	Items []struct {
		ID         string            `json:"id"`
		Kind       string            `json:"kind"`
		Recipient  string            `json:"recipient"`
		State      string            `json:"state"`
		Params     map[string]string `json:"params"`
		Deliveries []struct {
			State string `json:"state"`
		} `json:"deliveries"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// TestNotificationsList: a declaration through the API writes its
// approver's notice; the approver lists it, the declarant sees none of
// someone else's (and is refused when naming them), an admin sees all and
// filters; every answer matches openapi.yaml.
func TestNotificationsList(t *testing.T) {
	ts := newTestServer(t)
	emp, mgr, adm := token(t, "E1", "employee"), token(t, "M1", "employee", "manager"), token(t, "AD1", "admin")
	ts.must(http.StatusCreated, "POST", "/api/v1/me/disclosures", emp, managerBody())

	mine := decode[notificationPageResp](t, ts.must(http.StatusOK, "GET", "/api/v1/notifications", mgr, ""))
	if len(mine.Items) != 1 || mine.Items[0].Kind != "declaration.submitted" || mine.Items[0].Recipient != "M1" ||
		mine.Items[0].State != "pending" || mine.Items[0].Params["path"] != "/inbox" {
		t.Fatalf("manager's notifications %+v", mine.Items)
	}
	if got := decode[notificationPageResp](t, ts.must(http.StatusOK, "GET", "/api/v1/notifications", emp, "")); len(got.Items) != 0 {
		t.Errorf("the declarant sees %d notifications not addressed to them", len(got.Items))
	}
	wantError(t, ts.do("GET", "/api/v1/notifications?recipient=M1", emp, ""), http.StatusForbidden, "forbidden", "")
	all := decode[notificationPageResp](t, ts.must(http.StatusOK, "GET", "/api/v1/notifications?recipient=M1&kind=declaration.submitted", adm, ""))
	if len(all.Items) != 1 || !strings.HasPrefix(all.Items[0].ID, "declaration.submitted:") {
		t.Errorf("admin's filtered list %+v", all.Items)
	}
	wantError(t, ts.do("GET", "/api/v1/notifications?state=lost", adm, ""), http.StatusBadRequest, "invalid_query", "state")
	wantError(t, ts.do("GET", "/api/v1/notifications?kind=DROP", adm, ""), http.StatusBadRequest, "invalid_query", "kind")
}

// TestRenewsNamesAnApprovedDeclaration: renews must name one of the
// caller's approved declarations (400 naming the field otherwise).
func TestRenewsNamesAnApprovedDeclaration(t *testing.T) {
	ts := newTestServer(t)
	emp := token(t, "E1", "employee")
	pending := ts.seed("E1", false)
	body := strings.Replace(managerBody(), `"paid":false}`, `"paid":false,"renews":"`+pending.ID+`"}`, 1)
	wantError(t, ts.do("POST", "/api/v1/me/disclosures", emp, body), http.StatusBadRequest, "invalid_body", "renews")
}
