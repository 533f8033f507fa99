package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
)

// TestDeclarationApproverSeesTheDeclarant settles issue 15's open point
// (docs/privacy.md, "Declarations are not monitoring"): with pseudonymised
// review on, the declarant's own manager deciding the declaration sees
// the declarant's name in the inbox: a declaration is the employee's own
// request to a named approver, not monitoring. A manager who is not theirs
// sees neither the declaration nor the name.
func TestDeclarationApproverSeesTheDeclarant(t *testing.T) {
	e, _ := privacyEnv(t)
	emp := e.browser(t)
	emp.signIn("E1")
	tok := emp.csrf("/declarations/new")
	start := string(civil.Of(e.clock.Now()).AddDays(7))
	p := emp.post("/declarations", url.Values{"csrf": {tok}, "kind": {"media_interview"}, "counterparty_type": {"media"}, "counterparty": {"财新"},
		"topic": {"招聘"}, "start_date": {start}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("declare: %d", p.status)
	}
	id := strings.TrimPrefix(strings.Split(p.location(), "?")[0], "/declarations/")
	mgr := e.browser(t)
	mgr.signIn("E2", auth.RoleManager)
	inbox := mgr.get("/inbox")
	if inbox.status != http.StatusOK || !strings.Contains(inbox.body, id) || !strings.Contains(inbox.body, "张伟") {
		t.Errorf("the declarant's manager's inbox (status %d) lacks the declaration %s or the declarant's name", inbox.status, id)
	}
	other := e.browser(t)
	other.signIn("E4", auth.RoleManager)
	if p := other.get("/inbox"); strings.Contains(p.body, id) || strings.Contains(p.body, "张伟") {
		t.Error("a manager who is not the declarant's sees the declaration or the name")
	}
}
