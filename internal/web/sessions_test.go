package web_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/session"
)

// signedOut reports whether a page that needs a sign-in sends b to sign in.
func signedOut(b *browser) bool {
	p := b.get("/declarations")
	return p.status == http.StatusSeeOther && strings.HasPrefix(p.location(), "/signin")
}

// copyCookies gives a second browser the cookies of b, as an attacker who
// saved them would have.
func copyCookies(t *testing.T, e *env, b *browser) *browser {
	u, _ := url.Parse(e.srv.URL)
	thief := e.browser(t)
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, b.c.Jar.Cookies(u))
	thief.c.Jar = jar
	return thief
}

// Issue 10, hole 2: a saved cookie kept working for 8 hours after sign-out.
func TestSignOutEndsTheSessionEverywhere(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E1")
	saved := copyCookies(t, e, b)
	if signedOut(saved) {
		t.Fatal("the copied cookie does not work before sign-out")
	}
	tok := csrfPattern.FindStringSubmatch(b.get("/declarations").body)[1]
	if p := b.post("/signout", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.status)
	}
	if !signedOut(b) || !signedOut(saved) {
		t.Error("after sign-out the saved cookie still signs in")
	}
}

func TestIdleSessionEnds(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E1")
	e.clock.Add(20 * time.Minute)
	if signedOut(b) {
		t.Fatal("signed out after 20 minutes of use")
	}
	e.clock.Add(20 * time.Minute) // last use 20 minutes ago: still within the 30-minute idle limit
	if signedOut(b) {
		t.Fatal("signed out 20 minutes after the last use")
	}
	e.clock.Add(31 * time.Minute)
	p := b.get("/declarations")
	if p.status != http.StatusSeeOther || !strings.Contains(p.location(), "expired=1") {
		t.Errorf("after 31 idle minutes: %d %q, want a redirect to sign in (expired)", p.status, p.location())
	}
}

func TestAdminRevokesAllSessionsOfAPerson(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	laptop, phone, other := e.browser(t), e.browser(t), e.browser(t)
	laptop.signIn("E1")
	phone.signIn("E1")
	other.signIn("E3", auth.RoleCompliance)
	r := &session.Revoker{Store: e.sess, Audit: e.audit, Now: e.clock.Now}
	ctx := t.Context()
	if _, err := r.RevokeAll(ctx, session.Actor{ID: "E3", Roles: []string{"employee", "compliance"}}, "E1"); !errors.Is(err, session.ErrForbidden) {
		t.Fatalf("a non-admin revoked: %v", err)
	}
	n, err := r.RevokeAll(ctx, session.Actor{ID: "E4", Roles: []string{"employee", "admin"}, RequestID: "req-r"}, "E1")
	if err != nil || n != 2 {
		t.Fatalf("revoke = %d, %v; want 2 sessions", n, err)
	}
	if !signedOut(laptop) || !signedOut(phone) {
		t.Error("a revoked session still signs in")
	}
	if signedOut(other) {
		t.Error("revoking E1 ended E3's session")
	}
	for action, actor := range map[audit.Action]string{session.ActionRevoke: "E4", audit.ActionAccessDenied: "E3"} {
		es, _, err := e.audit.List(ctx, audit.Filter{Action: action, OwnerID: "E1"}, 10, "")
		if err != nil || len(es) != 1 || es[0].Actor != actor {
			t.Errorf("%s entries = %+v, %v; want one by %s", action, es, err, actor)
		}
	}
}

func TestTerminatedEmployeeLosesEverySession(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E1")
	ctx := t.Context()
	emp, err := e.emps.Get(ctx, "E1")
	if err != nil {
		t.Fatal(err)
	}
	yesterday := civil.Of(e.clock.Now()).AddDays(-1)
	emp.Add(employee.Fact{Ref: event.Ref{Source: "hr/test", ID: "term-E1"}, Type: event.TypeEmployeeTerminated, Effective: yesterday,
		Data: &event.EmployeeTerminated{EmployeeID: "E1", TerminationDate: yesterday, Reason: "dismissed"}})
	if _, err := e.emps.Save(ctx, emp); err != nil {
		t.Fatal(err)
	}
	if !signedOut(b) {
		t.Fatal("a dismissed employee is still signed in")
	}
	if n, err := e.sess.DeleteSubject(ctx, "E1"); err != nil || n != 0 {
		t.Errorf("%d sessions of E1 left, %v; want all deleted", n, err)
	}
}

// Issue 10, item 9: /inbox?cursor=garbage was a 500.
func TestGarbageCursorIsABadRequest(t *testing.T) {
	e := newEnv(t, auth.ModeDev, nil)
	b := e.browser(t)
	b.signIn("E3", auth.RoleCompliance, auth.RoleAuditor)
	for _, path := range []string{"/inbox?cursor=garbage", "/inbox?cursor=%00%ff"} {
		if p := b.get(path); p.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, p.status)
		}
	}
}
