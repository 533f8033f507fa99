package review_test

import (
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// TestCaseChangesWriteTheirNotices: detection opening a case writes the
// on-duty list's notice with the opening as its cause (stored once,
// whatever the redeliveries); an assignment to someone else tells the
// assignee, whose notice's cause is the stored assignment; a reviewer who
// takes the case themselves is not told.
func TestCaseChangesWriteTheirNotices(t *testing.T) {
	w := evaluatetest.New(t)
	outbox := mongostore.NewOutboxStore(w.DB)
	w.Engine.Notices = outbox
	w.Feed(evaluatetest.Hired(t, "E5", "2018-05-01"), evaluatetest.Claim(t, "X-5", "E5", "2024-01-25", "中国国际金融股份有限公司", "EV research seminar speaker fee"))
	w.Feed(evaluatetest.Claim(t, "X-5", "E5", "2024-01-25", "中国国际金融股份有限公司", "EV research seminar speaker fee")) // redelivered
	c, ok := w.Open("E5")
	if !ok {
		t.Fatal("no case opened")
	}
	list := func(f notify.Filter) []notify.Listed {
		ls, _, err := outbox.List(t.Context(), f, 50, "")
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	opened := list(notify.Filter{Kind: notify.KindCaseOpened})
	if len(opened) != 1 || opened[0].ID != notify.KindCaseOpened+":"+c.ID || opened[0].Recipient != notify.ListComplianceOnDuty ||
		opened[0].Params["case_id"] != c.ID || opened[0].Params["employee_id"] != "" {
		t.Fatalf("opening notices %+v, want one to the on-duty list naming the case, not the employee", opened)
	}
	if st, err := outbox.CauseState(t.Context(), *opened[0].Cause); err != nil || st != notify.CauseStored {
		t.Errorf("opening's cause %v %v, want stored", st, err)
	}

	svc := &review.Service{Cases: w.Cases, Audit: w.Audit, Now: func() time.Time { return w.Now }, Notices: outbox,
		Reviewers: mongostore.NewReviewerStore(w.DB)}
	reviewer := review.Actor{ID: "R1", Roles: []string{"compliance"}}
	if err := svc.Reviewers.Seen(t.Context(), "R2", w.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Assign(t.Context(), reviewer, c.ID, ""); err != nil { // takes it
		t.Fatal(err)
	}
	got, err := svc.Assign(t.Context(), reviewer, c.ID, "R2")
	if err != nil {
		t.Fatal(err)
	}
	assigned := list(notify.Filter{Kind: notify.KindCaseAssigned})
	if len(assigned) != 1 || assigned[0].Recipient != "R2" || assigned[0].Params["assigned_by"] != "R1" {
		t.Fatalf("assignment notices %+v, want one to R2 only", assigned)
	}
	cause := *assigned[0].Cause
	if cause.Version != got.Version || cause.Fields["assignee"] != "R2" {
		t.Errorf("cause %+v, want the assignment's version %d", cause, got.Version)
	}
	if st, err := outbox.CauseState(t.Context(), cause); err != nil || st != notify.CauseStored {
		t.Errorf("assignment's cause %v %v, want stored", st, err)
	}
	other := cause
	other.Fields = map[string]string{"assignee": "R3"}
	if st, _ := outbox.CauseState(t.Context(), other); st != notify.CauseLost {
		t.Errorf("a cause the stored change does not match is %v, want lost", st)
	}
}
