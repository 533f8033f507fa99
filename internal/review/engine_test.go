package review_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// world is the engine on a fresh real database, fed through the ingest
// pipeline as the consumer feeds it.
type world struct {
	t        *testing.T
	db       *mongostore.DB
	now      time.Time
	events   *mongostore.EventStore
	cases    *mongostore.CaseStore
	signals  *mongostore.SignalStore
	discl    *mongostore.DisclosureStore
	audit    *mongostore.AuditStore
	rules    *review.RuleHolder
	engine   *review.Engine
	pipeline *ingest.Pipeline
	offset   int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, now: time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)}
	w.events, w.cases, w.signals = mongostore.NewEventStore(db), mongostore.NewCaseStore(db), mongostore.NewSignalStore(db)
	w.discl, w.audit = mongostore.NewDisclosureStore(db), mongostore.NewAuditStore(db)
	rules, err := review.NewRuleHolder("", "", configs.Rules, configs.Watchlist)
	if err != nil {
		t.Fatal(err)
	}
	w.rules = rules
	employees := mongostore.NewEmployeeStore(db)
	w.engine = &review.Engine{
		Rules: rules, Employees: employees, Signals: w.signals, Seminars: w.signals,
		Engagements: review.DisclosureEngagements{Store: w.discl}, Cases: w.cases, Audit: w.audit,
		Now: func() time.Time { return w.now },
	}
	w.pipeline = &ingest.Pipeline{Events: w.events, Employees: employees, Stages: []ingest.Stage{w.engine}}
	return w
}

// feed runs the events through the pipeline as one batch.
func (w *world) feed(evs ...event.Event) {
	w.t.Helper()
	batch := make([]event.Received, 0, len(evs))
	for _, e := range evs {
		raw, err := event.Encode(e)
		if err != nil {
			w.t.Fatal(err)
		}
		e.Raw = raw
		w.offset++
		batch = append(batch, event.Received{Event: e, Topic: "t", Offset: w.offset, ReceivedAt: w.now})
	}
	if _, err := w.pipeline.Process(w.t.Context(), batch); err != nil {
		w.t.Fatalf("process: %v", err)
	}
}

func (w *world) open(id string) (review.Case, bool) {
	w.t.Helper()
	c, err := w.cases.OpenFor(w.t.Context(), id)
	if errors.Is(err, review.ErrNotFound) {
		return review.Case{}, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return c, true
}

func (w *world) allCases() []review.Case {
	w.t.Helper()
	cs, _, err := w.cases.List(w.t.Context(), review.Filter{}, 200, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return cs
}

func (w *world) auditActions(owner string) []string {
	w.t.Helper()
	es, _, err := w.audit.List(w.t.Context(), audit.Filter{OwnerID: owner}, 100, "")
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, string(es[i].Action))
	}
	return out
}

func d(s string) civil.Date { return civil.MustParse(s) }

func mustEvent(t *testing.T, source, id string, data any) event.Event {
	t.Helper()
	e, err := event.New(source, id, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func hired(t *testing.T, emp, date string) event.Event {
	return mustEvent(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Unit", HireDate: d(date)})
}

func onMS11(t *testing.T, emp string) event.Event {
	return mustEvent(t, "hris/test", "p-"+emp, &event.ProjectAssigned{EmployeeID: emp, ProjectCode: "MS11", ProjectName: "EV sedan",
		Sensitivity: "confidential", LaunchDate: d("2024-03-28"), EffectiveDate: d("2023-09-01")})
}

func claim(t *testing.T, id, emp, date, merchant, desc string) event.Event {
	return mustEvent(t, "expense/test", id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: d(date), Merchant: merchant,
		Description: desc, City: "上海", Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Category: "conference"})
}

func TestEngineLateContextGivesTheInOrderOutcome(t *testing.T) {
	inOrder, late := newWorld(t), newWorld(t)
	exp := claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费")

	inOrder.feed(hired(t, "E1", "2019-03-01"), onMS11(t, "E1"))
	inOrder.feed(exp)

	late.feed(exp)
	c, ok := late.open("E1")
	if !ok || c.Findings[0].Employment != detect.EmploymentUnknown || c.Severity != detect.SeverityMedium {
		t.Fatalf("before HR facts: case %v %+v, want a medium case with employment unknown", ok, c)
	}
	late.feed(hired(t, "E1", "2019-03-01"))
	late.feed(onMS11(t, "E1"))

	a, _ := inOrder.open("E1")
	b, ok := late.open("E1")
	if !ok {
		t.Fatal("late: no open case")
	}
	if a.ID != b.ID || a.Severity != b.Severity || a.Score != b.Score || !reflect.DeepEqual(a.Findings, b.Findings) {
		t.Errorf("late context gave another outcome:\n in order %s %s %d %+v\n late     %s %s %d %+v",
			a.ID, a.Severity, a.Score, a.Findings, b.ID, b.Severity, b.Score, b.Findings)
	}
	if a.Severity != detect.SeverityHigh || a.Findings[0].Project != "MS11" {
		t.Errorf("in order: severity %s project %q, want high in MS11's blackout", a.Severity, a.Findings[0].Project)
	}

	// The same events again add nothing.
	before := inOrder.allCases()
	inOrder.feed(hired(t, "E1", "2019-03-01"), onMS11(t, "E1"), exp)
	if after := inOrder.allCases(); !reflect.DeepEqual(before, after) {
		t.Errorf("redelivery changed cases:\n %+v\n %+v", before, after)
	}
}

func approved(t *testing.T, w *world, id, emp, counterparty string, start string, at time.Time) disclosure.Disclosure {
	t.Helper()
	x := disclosure.New(id, emp, disclosure.Input{
		Kind: disclosure.KindPaidSeminar, Counterparty: counterparty, CounterpartyType: disclosure.CounterpartyBrokerage,
		Topic: "EV outlook", StartDate: d(start), EndDate: d(start), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "5000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), at)
	if err := w.discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if err := x.Decide("C1", disclosure.ApproverCompliance, disclosure.OutcomeApprove, "fine", nil, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.discl.Update(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestEngineLateApprovalAutoClearsWithAudit(t *testing.T) {
	w := newWorld(t)
	w.feed(hired(t, "E3", "2018-05-01"), claim(t, "X-3", "E3", "2024-01-25", "中国国际金融股份有限公司", "EV research seminar speaker fee"))
	c, ok := w.open("E3")
	if !ok {
		t.Fatal("no case before the disclosure")
	}
	approved(t, w, "D-31", "E3", "CICC", "2024-01-25", w.now)
	if err := w.engine.Reevaluate(t.Context(), "E3"); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.open("E3"); ok {
		t.Fatal("case still open after the approval covered its finding")
	}
	got, err := w.cases.Get(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != review.StatusCleared || got.Decision == nil || got.Decision.By != review.System ||
		got.Findings[0].CoveredBy != "D-31" || !strings.Contains(got.Findings[0].Summary, "covered by approved disclosure D-31") {
		t.Errorf("after approval: %s decision %+v finding %+v", got.Status, got.Decision, got.Findings[0])
	}
	if acts := w.auditActions("E3"); !reflect.DeepEqual(acts, []string{"case.open", "case.auto_clear"}) {
		t.Errorf("audit = %v, want case.open then case.auto_clear", acts)
	}
	// Nothing more on a re-run, and no case comes back.
	if err := w.engine.Reevaluate(t.Context(), "E3"); err != nil {
		t.Fatal(err)
	}
	if n := len(w.allCases()); n != 1 {
		t.Errorf("%d cases after a re-run, want 1", n)
	}
}

func TestEngineSweepRaisesStartedUnapprovedEngagements(t *testing.T) {
	w := newWorld(t)
	w.feed(hired(t, "E7", "2020-01-01"))
	x := disclosure.New("D-70", "E7", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-07-02"), EndDate: d("2024-07-02"), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "2000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), w.now)
	if err := w.discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if n, err := w.engine.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("sweep before the start date: %d, %v; want 0 employees", n, err)
	}
	if _, ok := w.open("E7"); ok {
		t.Fatal("case before the engagement's date")
	}
	w.now = w.now.AddDate(0, 0, 5)
	if n, err := w.engine.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep after the start date: %d, %v; want 1 employee", n, err)
	}
	c, ok := w.open("E7")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("after sweep: %v %+v, want one unapproved-engagement finding", ok, c.Findings)
	}
	v := c.Version
	if _, err := w.engine.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, _ := w.open("E7"); c.Version != v {
		t.Errorf("a second sweep changed the case (version %d -> %d)", v, c.Version)
	}
}

func TestRescanAfterWatchlistChangeIsIdempotent(t *testing.T) {
	w := newWorld(t)
	// 星河证券 is on no watchlist: a claim at it with no seminar vocabulary
	// is no signal until the watchlist names it.
	w.feed(hired(t, "E8", "2019-01-01"), hired(t, "E9", "2019-01-01"),
		claim(t, "X-8", "E8", "2024-02-01", "星河证券有限公司", "午餐"),
		claim(t, "X-9", "E9", "2024-02-02", "中信证券股份有限公司", "EV行业研讨会 咨询费"))
	if _, ok := w.open("E8"); ok {
		t.Fatal("E8 has a case before the watchlist names 星河证券")
	}
	if _, ok := w.open("E9"); !ok {
		t.Fatal("E9 has no case")
	}

	dir := t.TempDir()
	path := dir + "/watchlist.yaml"
	extra := string(configs.Watchlist) + "\n  - id: xinghe\n    type: brokerage\n    name: Xinghe Securities\n    name_zh: 星河证券\n"
	if err := os.WriteFile(path, []byte(extra), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := review.NewRuleHolder("", path, configs.Rules, configs.Watchlist)
	if err != nil {
		t.Fatalf("watchlist with an extra firm: %v", err)
	}
	w.engine.Rules = rules

	var progress []review.RescanProgress
	rs := &review.Rescan{Engine: w.engine, Events: w.events, Signals: w.signals, PageSize: 2,
		Others:   []review.EmployeeLister{review.DisclosureEngagements{Store: w.discl}, review.OpenCases{Store: w.cases}},
		Progress: func(p review.RescanProgress) { progress = append(progress, p) }}
	res, err := rs.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (review.RescanResult{Events: 4, Signals: 2, Employees: 2}); res != want {
		t.Errorf("rescan = %+v, want %+v", res, want)
	}
	if len(progress) == 0 || progress[len(progress)-1] != (review.RescanProgress{Stage: "employees", Done: 2, Total: 2}) {
		t.Errorf("progress = %+v", progress)
	}
	c, ok := w.open("E8")
	if !ok || c.Findings[0].Counterparty != "Xinghe Securities" {
		t.Fatalf("after rescan E8: %v %+v, want a case naming Xinghe Securities", ok, c.Findings)
	}

	before, auditBefore := w.allCases(), w.auditActions("")
	if _, err := rs.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if after := w.allCases(); !reflect.DeepEqual(before, after) {
		t.Errorf("second rescan changed cases:\n %+v\n %+v", before, after)
	}
	if a := w.auditActions(""); !reflect.DeepEqual(a, auditBefore) {
		t.Errorf("second rescan wrote audit entries: %v -> %v", auditBefore, a)
	}

	// Back to the built-in watchlist: the signal goes and E8's case clears itself.
	w.engine.Rules, _ = review.NewRuleHolder("", "", configs.Rules, configs.Watchlist)
	if _, err := rs.Run(context.WithoutCancel(t.Context())); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.open("E8"); ok {
		t.Error("E8's case still open after its counterparty left the watchlist")
	}
	if sigs, _ := w.signals.Signals(t.Context(), "E8"); len(sigs) != 0 {
		t.Errorf("E8 still has %d signals", len(sigs))
	}
}
