package rescan_test

import (
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

type world struct {
	t      *testing.T
	db     *mongostore.DB
	cases  *mongostore.CaseStore
	audit  *mongostore.AuditStore
	rules  *ruleset.Service
	runner *rescan.Runner
	pipe   *ingest.Pipeline
	offset int64
}

func newWorld(t *testing.T, pageSize int) *world {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC) }
	store := mongostore.NewRuleSetStore(db)
	if _, _, err := ruleset.Seed(t.Context(), store, configs.Rules, configs.Watchlist, now()); err != nil {
		t.Fatal(err)
	}
	holder, err := ruleset.NewHolder(t.Context(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, cases: mongostore.NewCaseStore(db), audit: mongostore.NewAuditStore(db)}
	signals, employees := mongostore.NewSignalStore(db), mongostore.NewEmployeeStore(db)
	engine := &evaluate.Engine{Rules: holder, Employees: employees, Signals: signals, Seminars: signals, Presence: signals,
		Engagements: evaluate.DisclosureEngagements{Store: mongostore.NewDisclosureStore(db)}, Cases: w.cases, Audit: w.audit, Now: now}
	w.rules = &ruleset.Service{Store: store, Holder: holder, Audit: w.audit, Now: now}
	w.runner = &rescan.Runner{Store: mongostore.NewRescanStore(db), Leases: mongostore.NewLeases(db, time.Now), Engine: engine,
		Events: mongostore.NewEventStore(db), Employees: mongostore.NewRescanEmployees(db), Signals: signals, Audit: w.audit,
		Holder: "test", PageSize: pageSize, LeaseTTL: time.Minute, Log: slog.New(slog.DiscardHandler), Now: now}
	w.pipe = &ingest.Pipeline{Events: mongostore.NewEventStore(db), Employees: employees, Stages: []ingest.Stage{engine}}
	return w
}

func (w *world) feed(evs ...event.Event) {
	w.t.Helper()
	var batch []event.Received
	for _, e := range evs {
		raw, err := event.Encode(e)
		if err != nil {
			w.t.Fatal(err)
		}
		e.Raw = raw
		w.offset++
		batch = append(batch, event.Received{Event: e, Topic: "t", Offset: w.offset, ReceivedAt: time.Now()})
	}
	if _, err := w.pipe.Process(w.t.Context(), batch); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) ev(source, id string, data any) event.Event {
	e, err := event.New(source, id, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), data)
	if err != nil {
		w.t.Fatal(err)
	}
	return e
}

func (w *world) hired(emp string) event.Event {
	return w.ev("hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Unit", HireDate: civil.MustParse("2019-01-01")})
}

func (w *world) claim(id, emp, date, merchant, desc string) event.Event {
	return w.ev("expense/test", id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: civil.MustParse(date), Merchant: merchant,
		Description: desc, City: "上海", Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Category: "conference"})
}

func (w *world) open(id string) (review.Case, bool) {
	c, err := w.cases.OpenFor(w.t.Context(), id)
	if errors.Is(err, review.ErrNotFound) {
		return review.Case{}, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return c, true
}

// run starts a job and works on it to the end, returning its last step.
func (w *world) run() rescan.Step {
	w.t.Helper()
	j, err := w.runner.Start(w.t.Context(), rescanAdmin("AD1"))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.runner.Work(w.t.Context()); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.runner.Progress(w.t.Context(), rescan.Operator(), j.ID)
	if err != nil || !p.Job.Done {
		w.t.Fatalf("job %s after Work: %+v, %v", j.ID, p, err)
	}
	return p.Last
}

func rescanAdmin(id string) rescan.Caller {
	return rescan.Caller{ID: id, Roles: []string{auth.RoleAdmin, auth.RoleEmployee}}
}

// TestRescanNeedsAdmin: the runner decides who may start or follow a
// rescan (the transports only authenticate): anyone but an admin or the
// command line's Operator is refused with ErrForbidden, nothing is started,
// and each refusal is audited as access.denied.
func TestRescanNeedsAdmin(t *testing.T) {
	w := newWorld(t, 2)
	for _, give := range []rescan.Caller{
		{ID: "E1", Roles: []string{auth.RoleEmployee}, RequestID: "r1"},
		{ID: "C1", Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleAuditor}, RequestID: "r2"},
		{ID: audit.SystemActor, RequestID: "r3"}, // the name alone is no authority
	} {
		if _, err := w.runner.Start(t.Context(), give); !errors.Is(err, rescan.ErrForbidden) {
			t.Errorf("Start by %+v: %v, want ErrForbidden", give, err)
		}
		if _, err := w.runner.Progress(t.Context(), give, "latest"); !errors.Is(err, rescan.ErrForbidden) {
			t.Errorf("Progress by %+v: %v, want ErrForbidden", give, err)
		}
		denied, _, err := w.audit.List(t.Context(), audit.Filter{Actor: give.ID, Action: audit.ActionAccessDenied}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		var attempts []string
		for _, e := range denied {
			if e.RequestID == give.RequestID {
				attempts = append(attempts, e.Details["attempt"])
			}
		}
		if len(attempts) != 2 {
			t.Errorf("refusals of %s audited as %v, want rescan.start and rescan.progress", give.ID, attempts)
		}
	}
	if _, err := w.runner.Progress(t.Context(), rescan.Operator(), "latest"); !errors.Is(err, rescan.ErrNotFound) {
		t.Fatalf("after refusals only: %v, want no job (ErrNotFound)", err)
	}
	j, err := w.runner.Start(t.Context(), rescan.Operator())
	if err != nil || j.RequestedBy != audit.SystemActor {
		t.Fatalf("Operator start: %+v, %v; want a job requested by %s", j, err, audit.SystemActor)
	}
	if _, err := w.runner.Progress(t.Context(), rescanAdmin("AD1"), j.ID); err != nil {
		t.Fatalf("admin progress: %v", err)
	}
}

var admin = ruleset.Caller{Principal: auth.Principal{Subject: "AD1", Roles: []string{auth.RoleAdmin, auth.RoleEmployee}}}

// TestRescanAfterWatchlistChangeIsIdempotent: a counterparty added through
// the rule-set service flags stored events once a rescan runs; a second
// rescan changes nothing; retiring it clears the case again.
func TestRescanAfterWatchlistChangeIsIdempotent(t *testing.T) {
	w := newWorld(t, 2)
	// 星河证券 is on no watchlist: a claim at it with no seminar vocabulary
	// is no signal until the watchlist names it.
	w.feed(w.hired("E8"), w.hired("E9"),
		w.claim("X-8", "E8", "2024-02-01", "星河证券有限公司", "午餐"),
		w.claim("X-9", "E9", "2024-02-02", "中信证券股份有限公司", "EV行业研讨会 咨询费"))
	if _, ok := w.open("E8"); ok {
		t.Fatal("E8 has a case before the watchlist names 星河证券")
	}
	set, err := w.rules.AddCounterparty(t.Context(), admin,
		watchlist.Counterparty{ID: "xinghe", Type: "brokerage", Name: "Xinghe Securities", NameZH: "星河证券"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := w.run()
	if last.Events != 4 || last.Signals != 2 || last.Employees != 2 || last.Seq != 5 {
		// 4 events in pages of 2, the switch to employees, 1 page of 2 employees, done.
		t.Errorf("rescan = %+v, want 4 events, 2 signals, 2 employees in 5 steps", last)
	}
	c, ok := w.open("E8")
	if !ok || c.Findings[0].Counterparty != "Xinghe Securities" || c.Findings[0].RulesVersion != set.Version.Number {
		t.Fatalf("after rescan E8: %v %+v, want a case naming Xinghe Securities from version %d", ok, c.Findings, set.Version.Number)
	}
	before, _, _ := w.cases.List(t.Context(), review.Filter{}, 100, "")
	auditBefore, _, _ := w.audit.List(t.Context(), audit.Filter{OwnerID: "E8"}, 100, "")
	w.run()
	after, _, _ := w.cases.List(t.Context(), review.Filter{}, 100, "")
	auditAfter, _, _ := w.audit.List(t.Context(), audit.Filter{OwnerID: "E8"}, 100, "")
	if !reflect.DeepEqual(before, after) || len(auditBefore) != len(auditAfter) {
		t.Errorf("second rescan changed cases or audit:\n %+v\n %+v", before, after)
	}

	if _, err := w.rules.RetireCounterparty(t.Context(), admin, "xinghe", 0); err != nil {
		t.Fatal(err)
	}
	w.run()
	if _, ok := w.open("E8"); ok {
		t.Error("E8's case still open after its counterparty was retired")
	}
}

// TestStaleHolderStopsAtTheRecordedStep: a replica that did a page another
// replica recorded first (it lost its lease without knowing) records
// nothing and stops, so no page counts twice.
func TestStaleHolderStopsAtTheRecordedStep(t *testing.T) {
	w := newWorld(t, 2)
	w.feed(w.hired("E1"), w.claim("X-1", "E1", "2024-02-01", "中信证券股份有限公司", "研讨会"))
	j, err := w.runner.Start(t.Context(), rescanAdmin("AD1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.runner.Start(t.Context(), rescanAdmin("AD2")); !errors.Is(err, rescan.ErrRunning) {
		t.Errorf("second start: %v, want ErrRunning", err)
	}
	store := mongostore.NewRescanStore(w.db)
	// Another replica recorded step 1 already.
	if err := store.AddStep(t.Context(), rescan.Step{Job: j.ID, Seq: 1, Stage: rescan.StageEvents, Cursor: "~", Events: 2, Page: 2, By: "other", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := store.AddStep(t.Context(), rescan.Step{Job: j.ID, Seq: 1, Stage: rescan.StageEvents, By: "stale"}); !errors.Is(err, rescan.ErrConflict) {
		t.Fatalf("second step 1: %v, want ErrConflict", err)
	}
	// Work resumes after the recorded step (cursor past every event).
	if err := w.runner.Work(t.Context()); err != nil {
		t.Fatal(err)
	}
	steps, err := store.Steps(t.Context(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 4 || steps[0].By != "other" || steps[len(steps)-1].Stage != rescan.StageDone || steps[len(steps)-1].Events != 2 {
		t.Errorf("steps = %+v, want other's step 1, then employees and done with 2 events", steps)
	}
}
