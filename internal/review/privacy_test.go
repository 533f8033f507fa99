package review_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
)

const testPseudonymKey = "review-test-pseudonym-key-0123456789abcdef"

func testPolicy(t *testing.T, mode string) *privacy.Policy {
	t.Helper()
	names, err := privacy.NewPseudonymizer([]byte(testPseudonymKey))
	if err != nil {
		t.Fatal(err)
	}
	cfg := privacy.DefaultConfig()
	cfg.Unmask = mode
	return privacy.NewPolicy(cfg, names)
}

// privacyWorld is a world whose engine stores pseudonyms, with a service
// that pseudonymises, unmasks and asks for four eyes.
func privacyWorld(t *testing.T, mode string) (*evaluatetest.World, *review.Service, review.Case) {
	t.Helper()
	w := evaluatetest.New(t)
	policy := testPolicy(t, mode)
	w.Engine.Privacy = policy
	// The subject's name is in the HR record and in the claim's description.
	w.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.Claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费 N E1"),
		evaluatetest.Hired(t, "C1", "2015-01-01"), evaluatetest.Hired(t, "C2", "2015-01-01"), evaluatetest.Hired(t, "P1", "2015-01-01"))
	c, ok := w.Open("E1")
	if !ok {
		t.Fatal("no case")
	}
	svc := &review.Service{Cases: w.Cases, Audit: w.Audit, Now: func() time.Time { return w.Now }, Privacy: policy,
		Directory: mongostore.NewEmployeeStore(w.DB), Names: mongostore.NewEmployeeStore(w.DB), Unmasks: mongostore.NewUnmaskStore(w.DB), ConfirmRequiresSecondReviewer: true}
	return w, svc, c
}

var (
	reviewer1 = review.Actor{ID: "C1", Roles: []string{"compliance", "employee"}, RequestID: "r1"}
	reviewer2 = review.Actor{ID: "C2", Roles: []string{"compliance", "employee"}, RequestID: "r2"}
	officer   = review.Actor{ID: "P1", Roles: []string{"employee", "privacy_officer"}, RequestID: "r3"}
	auditor   = review.Actor{ID: "A1", Roles: []string{"auditor", "employee"}, RequestID: "r4"}
)

// identifies reports whether c shows anything of E1's identity.
func identifies(c review.Case) string {
	if c.EmployeeID != "" || c.EmployeeName != "" {
		return "employee_id/name " + c.EmployeeID + c.EmployeeName
	}
	for _, f := range c.Findings {
		if f.EmployeeID != "" || strings.Contains(f.Summary, "N E1") || strings.Contains(f.Summary, "E1 ") {
			return "finding " + f.Summary
		}
	}
	return ""
}

func TestEngineStoresThePseudonymAndTheViewMasks(t *testing.T) {
	w, svc, stored := privacyWorld(t, privacy.UnmaskSelf)
	want := testPolicy(t, privacy.UnmaskSelf).Subject("E1")
	if stored.Subject != want {
		t.Fatalf("stored subject = %q, want %q", stored.Subject, want)
	}
	ctx := t.Context()
	page, _, err := svc.List(ctx, reviewer1, review.Filter{}, 10, "")
	if err != nil || len(page) != 1 {
		t.Fatalf("list = %d, %v", len(page), err)
	}
	if why := identifies(page[0]); why != "" || !page[0].Masked() || page[0].Subject != want {
		t.Fatalf("queue row shows %s (masked %v, subject %q)", why, page[0].Masked(), page[0].Subject)
	}
	if page[0].SubjectKey() != "E1" {
		t.Fatalf("the server's key = %q", page[0].SubjectKey())
	}
	// A search by pseudonym (any case) is a key match on the stored field.
	for _, q := range []string{want, strings.ToLower(want)} {
		got, _, err := svc.List(ctx, reviewer1, review.Filter{Subject: q}, 10, "")
		if err != nil || len(got) != 1 || got[0].ID != stored.ID {
			t.Fatalf("search %q = %d cases, %v", q, len(got), err)
		}
	}
	if got, _, err := svc.List(ctx, reviewer1, review.Filter{Subject: "P-0000-0000"}, 10, ""); err != nil || len(got) != 0 {
		t.Fatalf("search by another pseudonym = %d, %v", len(got), err)
	}
	one, err := svc.Get(ctx, auditor, stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	if why := identifies(one); why != "" {
		t.Fatalf("case page shows %s", why)
	}
	if got := one.MaskText("attendees: N E1, 王五"); strings.Contains(got, "N E1") || !strings.Contains(got, want) {
		t.Fatalf("evidence masked as %q", got)
	}
	// Looking a person up by id is allowed, audited, and answered with the id.
	got, _, err := svc.List(ctx, reviewer1, review.Filter{EmployeeID: "E1"}, 10, "")
	if err != nil || len(got) != 1 || got[0].EmployeeID != "E1" {
		t.Fatalf("lookup by id = %+v, %v", got, err)
	}
	lookups, _, err := w.Audit.List(ctx, audit.Filter{Action: privacy.ActionIdentityLookup}, 10, "")
	if err != nil || len(lookups) != 1 || lookups[0].Actor != "C1" || lookups[0].OwnerID != "E1" {
		t.Fatalf("identity lookups = %+v, %v", lookups, err)
	}
	// pseudonymise: false keeps today's behaviour.
	svc.Privacy.Config.Pseudonymise = false
	plain, err := svc.Get(ctx, reviewer1, stored.ID)
	if err != nil || plain.EmployeeID != "E1" || plain.Masked() {
		t.Fatalf("without pseudonyms: %q masked %v, %v", plain.EmployeeID, plain.Masked(), err)
	}
}

func TestUnmaskSelf(t *testing.T) {
	w, svc, c := privacyWorld(t, privacy.UnmaskSelf)
	ctx := t.Context()
	if _, _, err := svc.RequestUnmask(ctx, reviewer1, c.ID, " "); !errors.Is(err, review.ErrInvalid) {
		t.Fatalf("no reason: %v", err)
	}
	if _, _, err := svc.RequestUnmask(ctx, auditor, c.ID, "curious"); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("auditor unmasks: %v, want ErrForbidden", err)
	}
	seen, r, err := svc.RequestUnmask(ctx, reviewer1, c.ID, "interview with the employee on Monday")
	if err != nil || r.Status != review.UnmaskApproved || seen.Masked() || seen.EmployeeID != "E1" {
		t.Fatalf("self unmask: %+v masked %v id %q, %v", r, seen.Masked(), seen.EmployeeID, err)
	}
	// Only to that reviewer.
	other, err := svc.Get(ctx, reviewer2, c.ID)
	if err != nil || !other.Masked() {
		t.Fatalf("another reviewer sees masked %v, %v", other.Masked(), err)
	}
	entries, _, err := w.Audit.List(ctx, audit.Filter{Action: review.ActionAuditUnmask}, 10, "")
	if err != nil || len(entries) != 1 || entries[0].Reason != "interview with the employee on Monday" || entries[0].OwnerID != "E1" {
		t.Fatalf("unmask audited as %+v, %v", entries, err)
	}
	// The grant ends after privacy.unmask_ttl, judged by now.
	w.Now = w.Now.Add(25 * time.Hour)
	later, err := svc.Get(ctx, reviewer1, c.ID)
	if err != nil || !later.Masked() || later.Unmask() == nil || later.Unmask().Status != review.UnmaskExpired {
		t.Fatalf("after the ttl: masked %v state %+v, %v", later.Masked(), later.Unmask(), err)
	}
	if _, _, err := svc.RequestUnmask(ctx, reviewer1, c.ID, "a second interview"); err != nil {
		t.Fatalf("asking again after expiry: %v", err)
	}
}

func TestUnmaskTwoPerson(t *testing.T) {
	w, svc, c := privacyWorld(t, privacy.UnmaskTwoPerson)
	ctx := t.Context()
	pending, r, err := svc.RequestUnmask(ctx, reviewer1, c.ID, "need to call the employee")
	if err != nil || r.Status != review.UnmaskPending || !pending.Masked() || pending.Unmask().Status != review.UnmaskPending {
		t.Fatalf("request: %+v masked %v, %v", r, pending.Masked(), err)
	}
	if _, _, err := svc.RequestUnmask(ctx, reviewer1, c.ID, "again"); !errors.Is(err, review.ErrInvalidState) {
		t.Fatalf("a second pending request: %v", err)
	}
	// Refusals, each audited: wrong role, own request, request about oneself.
	officerAndRequester := review.Actor{ID: "C1", Roles: []string{"compliance", "privacy_officer"}}
	subjectOfficer := review.Actor{ID: "E1", Roles: []string{"privacy_officer"}}
	for _, tc := range []struct {
		name  string
		actor review.Actor
	}{{"reviewer without the role", reviewer2}, {"own request", officerAndRequester}, {"about themselves", subjectOfficer}} {
		if _, err := svc.DecideUnmask(ctx, tc.actor, r.ID, "approve", "", 1); !errors.Is(err, review.ErrForbidden) {
			t.Fatalf("%s: %v, want ErrForbidden", tc.name, err)
		}
	}
	denied, _, err := w.Audit.List(ctx, audit.Filter{Action: audit.ActionAccessDenied, ResourceType: review.ResourceUnmaskRequest}, 10, "")
	if err != nil || len(denied) != 3 {
		t.Fatalf("refusals audited: %d, %v", len(denied), err)
	}
	if _, err := svc.UnmaskRequests(ctx, reviewer1, ""); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("a reviewer lists requests: %v", err)
	}
	list, err := svc.UnmaskRequests(ctx, officer, review.UnmaskPending)
	if err != nil || len(list) != 1 || list[0].Subject != c.Subject {
		t.Fatalf("officer's list = %+v, %v", list, err)
	}
	if _, err := svc.DecideUnmask(ctx, officer, r.ID, "approve", "", 0); !errors.Is(err, review.ErrVersionRequired) {
		t.Fatalf("no version: %v", err)
	}
	if _, err := svc.DecideUnmask(ctx, officer, r.ID, "approve", "", 7); !errors.Is(err, review.ErrStale) {
		t.Fatalf("stale version: %v", err)
	}
	if got, err := svc.Get(ctx, reviewer1, c.ID); err != nil || !got.Masked() {
		t.Fatalf("before approval masked %v, %v", got.Masked(), err)
	}
	done, err := svc.DecideUnmask(ctx, officer, r.ID, "approve", "ok for the interview", 1)
	if err != nil || done.Status != review.UnmaskApproved || done.Version != 2 {
		t.Fatalf("approve: %+v, %v", done, err)
	}
	if _, err := svc.DecideUnmask(ctx, officer, r.ID, "reject", "", 1); !errors.Is(err, review.ErrStale) {
		t.Fatalf("deciding the old version again: %v", err)
	}
	seen, err := svc.Get(ctx, reviewer1, c.ID)
	if err != nil || seen.Masked() || seen.EmployeeID != "E1" || seen.Unmask().Until.IsZero() {
		t.Fatalf("after approval masked %v id %q, %v", seen.Masked(), seen.EmployeeID, err)
	}
	steps, _, err := w.Audit.List(ctx, audit.Filter{OwnerID: "E1"}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var asked, decided bool
	for _, e := range steps {
		asked = asked || (e.Action == review.ActionAuditUnmaskRequest && e.Reason == "need to call the employee" && e.Actor == "C1")
		decided = decided || (e.Action == review.ActionAuditUnmaskDecide && e.Actor == "P1" && e.Details["decision"] == "approve")
	}
	if !asked || !decided {
		t.Fatalf("audit log: request %v, decision %v", asked, decided)
	}
	// A pending request lapses after the ttl and can no longer be approved.
	_, r2, err := svc.RequestUnmask(ctx, reviewer2, c.ID, "second opinion")
	if err != nil {
		t.Fatal(err)
	}
	w.Now = w.Now.Add(25 * time.Hour)
	if _, err := svc.DecideUnmask(ctx, officer, r2.ID, "approve", "", 1); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("approving a lapsed request: %v", err)
	}
	if got, err := svc.Get(ctx, reviewer1, c.ID); err != nil || !got.Masked() {
		t.Fatalf("after the grant expired masked %v, %v", got.Masked(), err)
	}
}

func TestFourEyesOnConfirmed(t *testing.T) {
	w, svc, c := privacyWorld(t, privacy.UnmaskSelf)
	ctx := t.Context()
	// Cleared needs one reviewer, as before (on another service, so the
	// case under test stays open).
	pending, err := svc.Decide(ctx, reviewer1, c.ID, c.Version, review.StatusConfirmed, "paid expert call during the blackout")
	if err != nil || pending.Status != review.StatusInReview || pending.Confirmation == nil || pending.Confirmation.By != "C1" {
		t.Fatalf("first confirmation: %+v %+v, %v", pending.Status, pending.Confirmation, err)
	}
	if _, err := svc.Decide(ctx, reviewer2, c.ID, pending.Version, review.StatusCleared, "no"); !errors.Is(err, review.ErrInvalidState) {
		t.Fatalf("a decision while a confirmation waits: %v", err)
	}
	if _, err := svc.Confirm(ctx, reviewer1, c.ID, pending.Version, true, ""); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("the same reviewer twice: %v, want ErrForbidden", err)
	}
	subject := review.Actor{ID: "E1", Roles: []string{"compliance"}}
	if _, err := svc.Confirm(ctx, subject, c.ID, pending.Version, true, ""); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("the subject: %v, want ErrForbidden", err)
	}
	if _, err := svc.Confirm(ctx, reviewer2, c.ID, pending.Version-1, true, ""); !errors.Is(err, review.ErrStale) {
		t.Fatalf("an old version: %v", err)
	}
	if _, err := svc.Confirm(ctx, reviewer2, c.ID, 0, true, ""); !errors.Is(err, review.ErrVersionRequired) {
		t.Fatalf("no version: %v", err)
	}
	// Declining keeps the case in review; a new confirmation, then agreement.
	declined, err := svc.Confirm(ctx, reviewer2, c.ID, pending.Version, false, "the expense was refunded")
	if err != nil || declined.Confirmation != nil || declined.Status != review.StatusInReview {
		t.Fatalf("decline: %+v, %v", declined, err)
	}
	again, err := svc.Decide(ctx, reviewer1, c.ID, declined.Version, review.StatusConfirmed, "the refund was partial")
	if err != nil {
		t.Fatal(err)
	}
	done, err := svc.Confirm(ctx, reviewer2, c.ID, again.Version, true, "agreed")
	if err != nil || done.Status != review.StatusConfirmed || done.Decision.By != "C1" || done.Decision.SecondBy != "C2" {
		t.Fatalf("agree: %+v %+v, %v", done.Status, done.Decision, err)
	}
	want := map[audit.Action]int{review.ActionAuditConfirmRequest: 2, review.ActionAuditConfirmDecline: 1, review.ActionAuditConfirm: 1}
	for action, n := range want {
		es, _, err := w.Audit.List(ctx, audit.Filter{Action: action}, 10, "")
		if err != nil || len(es) != n {
			t.Errorf("%s audited %d times, want %d (%v)", action, len(es), n, err)
		}
	}
	denied, _, err := w.Audit.List(ctx, audit.Filter{Action: audit.ActionAccessDenied, ResourceID: c.ID}, 10, "")
	if err != nil || len(denied) != 2 {
		t.Errorf("refusals audited: %d, %v", len(denied), err)
	}
}

func TestClearedNeedsOneReviewer(t *testing.T) {
	_, svc, c := privacyWorld(t, privacy.UnmaskSelf)
	done, err := svc.Decide(t.Context(), reviewer1, c.ID, c.Version, review.StatusCleared, "covered by an approved talk")
	if err != nil || done.Status != review.StatusCleared || done.Confirmation != nil {
		t.Fatalf("cleared: %s %+v, %v", done.Status, done.Confirmation, err)
	}
}
