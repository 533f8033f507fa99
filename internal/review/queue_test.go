package review_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// seedCase stores an open case of employee with one finding on project.
func seedCase(t *testing.T, w *evaluatetest.World, employee string, score int, project string, opened time.Time) review.Case {
	t.Helper()
	c := review.Case{
		ID: "case-" + employee, EmployeeID: employee, EmployeeName: "名字 " + employee, Department: "动力总成",
		Status: review.StatusOpen, Severity: detect.SeverityHigh, Score: score, OpenedAt: opened, UpdatedAt: opened,
		Findings: []detect.Finding{{ID: "f-" + employee, EmployeeID: employee, Rule: detect.RuleExpense, Severity: detect.SeverityHigh,
			Score: score, Summary: "x", OccurredOn: civil.Of(opened), Counterparty: "CITIC Securities", Project: project}},
		History: []review.Change{{At: opened, Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen}},
	}
	if err := w.Cases.Create(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := w.Cases.Get(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func queueService(w *evaluatetest.World) *review.Service {
	return &review.Service{Cases: w.Cases, Audit: w.Audit, Now: func() time.Time { return w.Now },
		Reviewers: mongostore.NewReviewerStore(w.DB)}
}

// A taken case stays in the default queue (open and in review), shows its
// assignee, and the filters, counts, reassignment, reopening and bulk
// actions work as the issue asks, each change audited with its reason.
func TestQueueAssignReassignReopenBulk(t *testing.T) {
	w := evaluatetest.New(t)
	ctx := t.Context()
	svc := queueService(w)
	c1 := review.Actor{ID: "C1", Roles: []string{"compliance"}, RequestID: "r1"}
	c2 := review.Actor{ID: "C2", Roles: []string{"compliance"}, RequestID: "r2"}
	day := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	a := seedCase(t, w, "E1", 90, "MS11", day)
	b := seedCase(t, w, "E2", 50, "", day.AddDate(0, 0, 10))
	cc := seedCase(t, w, "C2", 40, "", day.AddDate(0, 0, 20)) // a case about reviewer C2

	// C2 is seen as a reviewer (so they can be given cases).
	if _, _, err := svc.List(ctx, c2, review.Filter{}, 10, ""); err != nil {
		t.Fatal(err)
	}
	taken, err := svc.Assign(ctx, c1, a.ID, "")
	if err != nil || taken.Status != review.StatusInReview {
		t.Fatalf("take: %v %+v", err, taken.Status)
	}
	active := review.Filter{Statuses: review.ActiveStatuses()}
	got, _, err := svc.List(ctx, c1, active, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if ids := caseIDs(got); !slices.Equal(ids, []string{a.ID, b.ID, cc.ID}) {
		t.Fatalf("default queue = %v, want the taken case too", ids)
	}
	for _, tt := range []struct {
		name string
		f    review.Filter
		want []string
	}{
		{"mine", review.Filter{Statuses: review.ActiveStatuses(), Assignee: "C1"}, []string{a.ID}},
		{"unassigned", review.Filter{Statuses: review.ActiveStatuses(), Unassigned: true}, []string{b.ID, cc.ID}},
		{"project", review.Filter{Project: "MS11"}, []string{a.ID}},
		{"opened range", review.Filter{OpenedFrom: day.AddDate(0, 0, 5), OpenedTo: day.AddDate(0, 0, 15)}, []string{b.ID}},
		{"status open only", review.Filter{Status: review.StatusOpen}, []string{b.ID, cc.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := svc.List(ctx, c1, tt.f, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			if ids := caseIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("List = %v, want %v", ids, tt.want)
			}
			n, err := svc.Count(ctx, c1, tt.f)
			if err != nil || n != len(tt.want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tt.want))
			}
		})
	}
	// Paging through a search keeps the filter.
	page, next, err := svc.List(ctx, c1, review.Filter{Statuses: review.ActiveStatuses(), Unassigned: true}, 1, "")
	if err != nil || len(page) != 1 || next == "" {
		t.Fatalf("page 1: %v %d %q", err, len(page), next)
	}
	page2, next2, err := svc.List(ctx, c1, review.Filter{Statuses: review.ActiveStatuses(), Unassigned: true}, 1, next)
	if err != nil || len(page2) != 1 || page2[0].ID != cc.ID || next2 != "" {
		t.Fatalf("page 2: %v %v %q", err, caseIDs(page2), next2)
	}

	// Reassign: a reason and the version read are required; a stale
	// version is refused; the subject never gets their own case.
	if _, err := svc.Reassign(ctx, c1, a.ID, taken.Version, "C2", ""); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("no reason: %v", err)
	}
	if _, err := svc.Reassign(ctx, c1, a.ID, 0, "C2", "holiday"); !errors.Is(err, review.ErrVersionRequired) {
		t.Errorf("no version: %v", err)
	}
	if _, err := svc.Reassign(ctx, c1, a.ID, taken.Version-1, "C2", "holiday"); !errors.Is(err, review.ErrStale) {
		t.Errorf("stale: %v", err)
	}
	if _, err := svc.Reassign(ctx, c1, a.ID, taken.Version, "X9", "holiday"); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("not a reviewer: %v", err)
	}
	if _, err := svc.Reassign(ctx, c1, cc.ID, cc.Version, "C2", "theirs"); !errors.Is(err, review.ErrForbidden) {
		t.Errorf("to the subject: %v", err)
	}
	moved, err := svc.Reassign(ctx, c1, a.ID, taken.Version, "C2", "on holiday next week")
	if err != nil || moved.Assignee != "C2" || moved.Status != review.StatusInReview {
		t.Fatalf("reassign: %v %+v", err, moved)
	}
	back, err := svc.Reassign(ctx, c2, a.ID, moved.Version, "", "not mine after all")
	if err != nil || back.Assignee != "" || back.Status != review.StatusOpen {
		t.Fatalf("give back: %v %s %s", err, back.Assignee, back.Status)
	}
	es, _, err := w.Audit.List(ctx, audit.Filter{Action: review.ActionAuditCaseReassign, ResourceID: a.ID}, 10, "")
	byReason := map[string]audit.Entry{}
	for _, e := range es {
		byReason[e.Reason] = e
	}
	if err != nil || len(es) != 2 || byReason["on holiday next week"].Details["assignee"] != "C2" ||
		byReason["not mine after all"].Details["previous_assignee"] != "C2" {
		t.Fatalf("reassign audit = %+v, %v", es, err)
	}

	// Bulk clear with one reason: each case its own versioned change; the
	// case about C2 is refused for C2 (and audited), a stale one too.
	b2, _ := w.Cases.Get(ctx, b.ID)
	res, err := svc.Bulk(ctx, c2, review.BulkClear, []review.BulkItem{{ID: b.ID, Version: b2.Version}, {ID: cc.ID, Version: cc.Version},
		{ID: a.ID, Version: 1}}, "", "public information only")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]error{b.ID: nil, cc.ID: review.ErrForbidden, a.ID: review.ErrStale}
	for _, r := range res {
		if w := want[r.ID]; w == nil && r.Err != nil || w != nil && !errors.Is(r.Err, w) {
			t.Errorf("bulk %s: %v, want %v", r.ID, r.Err, w)
		}
	}
	denied, _, _ := w.Audit.List(ctx, audit.Filter{Action: audit.ActionAccessDenied, Actor: "C2", ResourceID: cc.ID}, 10, "")
	if len(denied) != 1 {
		t.Errorf("recusal in bulk not audited: %+v", denied)
	}
	cleared, _, _ := w.Audit.List(ctx, audit.Filter{Action: audit.ActionCaseDecide, ResourceID: b.ID}, 10, "")
	if len(cleared) != 1 || cleared[0].Reason != "public information only" {
		t.Errorf("bulk clear audit = %+v", cleared)
	}
	// Bulk assign.
	a3, _ := w.Cases.Get(ctx, a.ID)
	res, err = svc.Bulk(ctx, c1, review.BulkAssign, []review.BulkItem{{ID: a.ID, Version: a3.Version}, {ID: cc.ID, Version: cc.Version}}, "C1", "mine now")
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil || res[0].Case.Assignee != "C1" {
		t.Fatalf("bulk assign: %v %+v", err, res)
	}

	// Reopen a cleared case: it is open and nobody's, its decision in the
	// history; the employee's other open case makes it refused.
	bc, _ := w.Cases.Get(ctx, b.ID)
	if _, err := svc.Reopen(ctx, c1, b.ID, bc.Version, " "); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("reopen without reason: %v", err)
	}
	re, err := svc.Reopen(ctx, c1, b.ID, bc.Version, "the approval was for another date")
	if err != nil || re.Status != review.StatusOpen || re.Decision != nil || re.History[len(re.History)-1].Action != review.ActionReopened {
		t.Fatalf("reopen: %v %+v", err, re)
	}
	if _, err := svc.Reopen(ctx, c1, b.ID, re.Version, "again"); !errors.Is(err, review.ErrInvalidState) {
		t.Errorf("reopen an open case: %v", err)
	}
	ro, _, _ := w.Audit.List(ctx, audit.Filter{Action: review.ActionAuditCaseReopen, ResourceID: b.ID}, 10, "")
	if len(ro) != 1 || ro[0].Reason != "the approval was for another date" {
		t.Errorf("reopen audit = %+v", ro)
	}
}

// Listing a page writes one audit entry naming every case and person, and
// an export one entry for the file; the reviewer's own case is in neither.
func TestListAndExportWriteOneEntry(t *testing.T) {
	w := evaluatetest.New(t)
	ctx := t.Context()
	svc := queueService(w)
	c1 := review.Actor{ID: "C1", Roles: []string{"compliance"}, Purpose: "case queue"}
	for i := range 5 {
		seedCase(t, w, fmt.Sprintf("E%d", i), 10+i, "", w.Now)
	}
	seedCase(t, w, "C1", 99, "", w.Now)
	got, _, err := svc.List(ctx, c1, review.Filter{}, 50, "")
	if err != nil || len(got) != 5 {
		t.Fatalf("list: %v %d", err, len(got))
	}
	reads, _, _ := w.Audit.List(ctx, audit.Filter{Action: audit.ActionCaseRead}, 50, "")
	if len(reads) != 1 || len(reads[0].ResourceIDs) != 5 || len(reads[0].OwnerIDs) != 5 || slices.Contains(reads[0].OwnerIDs, "C1") {
		t.Fatalf("list reads = %+v, want one entry naming the 5 cases", reads)
	}
	// "Who looked at E3's data" finds the list entry.
	of3, _, _ := w.Audit.List(ctx, audit.Filter{OwnerID: "E3"}, 50, "")
	if len(of3) != 1 {
		t.Errorf("entries about E3 = %d, want the list read", len(of3))
	}
	rows, truncated, err := svc.Export(ctx, c1, review.Filter{Statuses: review.ActiveStatuses()})
	if err != nil || truncated || len(rows) != 5 {
		t.Fatalf("export: %v %v %d", err, truncated, len(rows))
	}
	ex, _, _ := w.Audit.List(ctx, audit.Filter{Action: audit.ActionCaseExport}, 50, "")
	if len(ex) != 1 || ex[0].Details["count"] != "5" {
		t.Fatalf("export entries = %+v", ex)
	}
	if _, _, err := svc.Export(ctx, review.Actor{ID: "E9", Roles: []string{"employee"}}, review.Filter{}); !errors.Is(err, review.ErrForbidden) {
		t.Errorf("export by an employee: %v", err)
	}
}

// A reopened case stays open while its findings do not change, even when
// all are covered; the history never shows the same update twice in a row.
func TestSyncReopenedAndNoDoubledUpdates(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	f := detect.Finding{ID: "f1", Rule: detect.RuleExpense, Severity: detect.SeverityHigh, Score: 30, Summary: "a"}
	open := review.Case{ID: "c1", EmployeeID: "E1", Status: review.StatusOpen, Findings: []detect.Finding{f},
		History: []review.Change{{Action: review.ActionOpened}}}
	g := f
	g.Summary = "b" // detail refined, counts the same
	r1 := review.Sync(detect.Config{}, &open, nil, []detect.Finding{g}, review.Subject{EmployeeID: "E1"}, now)
	h := g
	h.Summary = "c"
	r2 := review.Sync(detect.Config{}, &r1.Case, nil, []detect.Finding{h}, review.Subject{EmployeeID: "E1"}, now.Add(time.Hour))
	var updates int
	for _, x := range r2.Case.History {
		if x.Action == review.ActionFindingsUpdated {
			updates++
		}
	}
	if updates != 1 || r2.Case.History[len(r2.Case.History)-1].At != now.Add(time.Hour) {
		t.Errorf("history = %+v, want one findings_updated line at the last time", r2.Case.History)
	}

	covered := h
	covered.CoveredBy = "d1"
	reopened := r2.Case
	reopened.Findings = []detect.Finding{covered}
	reopened.History = append(reopened.History, review.Change{Action: review.ActionReopened, Actor: "C1"})
	r3 := review.Sync(detect.Config{}, &reopened, nil, []detect.Finding{covered}, review.Subject{EmployeeID: "E1"}, now)
	if r3.AutoCleared || r3.Case.Status != review.StatusOpen {
		t.Errorf("a reopened case was cleared again without any change: %+v", r3.Case.Status)
	}
}

func caseIDs(cs []review.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
