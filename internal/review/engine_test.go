package review_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/lease"
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
		Rules: rules, Employees: employees, Signals: w.signals, Seminars: w.signals, Presence: w.signals,
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
		got.Findings[0].CoveredBy != "D-31" || !strings.Contains(got.Findings[0].Summary, "covered by the approved declaration (paid seminar, 2024-01-25)") {
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
	sw := &review.Sweeper{Engine: w.engine, Due: w.discl, State: mongostore.NewSweepState(w.db), Log: discardLog()}
	if res, err := sw.Round(t.Context()); err != nil || res.Employees != 0 {
		t.Fatalf("sweep before the start date: %+v, %v; want 0 employees", res, err)
	}
	if _, ok := w.open("E7"); ok {
		t.Fatal("case before the engagement's date")
	}
	w.now = w.now.AddDate(0, 0, 5)
	if res, err := sw.Round(t.Context()); err != nil || res.Employees != 1 {
		t.Fatalf("sweep after the start date: %+v, %v; want 1 employee", res, err)
	}
	c, ok := w.open("E7")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("after sweep: %v %+v, want one unapproved-engagement finding", ok, c.Findings)
	}
	v := c.Version
	// The next rounds look only at what became due since the day before the
	// last complete round: D-70 was swept.
	for _, days := range []int{0, 3} {
		w.now = w.now.AddDate(0, 0, days)
		if res, err := sw.Round(t.Context()); err != nil || res.Employees != 0 {
			t.Fatalf("sweep %d days later: %+v, %v; want nobody", days, res, err)
		}
	}
	if c, _ := w.open("E7"); c.Version != v {
		t.Errorf("a second sweep changed the case (version %d -> %d)", v, c.Version)
	}
}

// failingEmployees makes Get fail for one employee, as a database error
// limited to one document would.
type failingEmployees struct {
	employee.Store
	bad string
}

func (f *failingEmployees) Get(ctx context.Context, id string) (employee.Employee, error) {
	if id == f.bad {
		return employee.Employee{}, errors.New("read failed")
	}
	return f.Store.Get(ctx, id)
}

// TestSweeperIsolatesFailingEmployees: one failing employee does not stop
// the others, and is swept again next round (the window stays open).
func TestSweeperIsolatesFailingEmployees(t *testing.T) {
	w := newWorld(t)
	w.feed(hired(t, "E5", "2020-01-01"), hired(t, "E6", "2020-01-01"))
	for _, e := range []string{"E5", "E6"} {
		x := disclosure.New("D-"+e, e, disclosure.Input{
			Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
			Topic: "battery costs", StartDate: d("2024-06-01"), EndDate: d("2024-06-01"),
		}, disclosure.DefaultPolicy(), w.now)
		if err := w.discl.Create(t.Context(), x); err != nil {
			t.Fatal(err)
		}
	}
	real := w.engine.Employees
	w.engine.Employees = &failingEmployees{Store: real, bad: "E5"}
	state := mongostore.NewSweepState(w.db)
	sw := &review.Sweeper{Engine: w.engine, Due: w.discl, State: state, Log: discardLog()}
	res, err := sw.Round(t.Context())
	if err != nil || res != (review.SweepResult{Employees: 1, Failed: 1}) {
		t.Fatalf("round with E5 failing = %+v, %v; want E6 swept and E5 failed", res, err)
	}
	if _, ok := w.open("E6"); !ok {
		t.Error("E6 has no case although E5 failed first")
	}
	if through, _ := state.SweptThrough(t.Context()); through != "" {
		t.Errorf("swept through %q after a failure; want the window kept open", through)
	}
	w.engine.Employees = real
	w.now = w.now.AddDate(0, 0, 1)
	if res, err := sw.Round(t.Context()); err != nil || res != (review.SweepResult{Employees: 2}) {
		t.Fatalf("next round = %+v, %v; want both", res, err)
	}
	if _, ok := w.open("E5"); !ok {
		t.Error("E5 has no case after the retry")
	}
}

// TestSweepersShareOneLease: of two replicas' sweepers only the lease
// holder sweeps within an interval.
func TestSweepersShareOneLease(t *testing.T) {
	w := newWorld(t)
	leases := mongostore.NewLeases(w.db, func() time.Time { return w.now })
	a, okA, err := leases.Acquire(t.Context(), review.SweepLease, "replica-a", time.Hour)
	if err != nil || !okA {
		t.Fatalf("a: %v %v", okA, err)
	}
	if _, okB, err := leases.Acquire(t.Context(), review.SweepLease, "replica-b", time.Hour); err != nil || okB {
		t.Fatalf("b took a held lease: %v %v", okB, err)
	}
	w.now = w.now.Add(time.Hour + time.Second)
	b, okB, err := leases.Acquire(t.Context(), review.SweepLease, "replica-b", time.Hour)
	if err != nil || !okB || b.Epoch() != a.Epoch()+1 {
		t.Fatalf("b after expiry: %v %v", okB, err)
	}
	if err := a.Renew(t.Context()); !errors.Is(err, lease.ErrLost) {
		t.Errorf("a renewed a lease b took over: %v", err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestDrainerRetriesFailedReevaluations: a disclosure change leaves a
// marker in the same store call; while re-evaluation fails the marker
// stays, and once it succeeds the employee's case is right and the marker
// is gone.
func TestDrainerRetriesFailedReevaluations(t *testing.T) {
	w := newWorld(t)
	w.feed(hired(t, "E4", "2020-01-01"))
	x := disclosure.New("D-40", "E4", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-06-01"), EndDate: d("2024-06-01"),
	}, disclosure.DefaultPolicy(), w.now)
	// The change is stored, and the re-evaluation that should follow it
	// never happens (the replica crashed, or it failed).
	if err := w.discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	markers := mongostore.NewMarkerStore(w.db)
	real := w.engine.Employees
	w.engine.Employees = &failingEmployees{Store: real, bad: "E4"}
	dr := &review.Drainer{Engine: w.engine, Markers: markers, Grace: time.Minute, Log: discardLog()}
	if n, err := dr.Drain(t.Context()); err != nil || n != 0 {
		t.Fatalf("drain within the grace: %d, %v; want nothing", n, err)
	}
	w.now = w.now.Add(2 * time.Minute)
	if n, err := dr.Drain(t.Context()); err != nil || n != 0 {
		t.Fatalf("drain while failing: %d, %v; want 0 done", n, err)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.now, 10); len(ms) != 1 || ms[0].EmployeeID != "E4" {
		t.Fatalf("markers after a failed drain = %+v, want E4's kept", ms)
	}
	w.engine.Employees = real
	if n, err := dr.Drain(t.Context()); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v; want E4", n, err)
	}
	if c, ok := w.open("E4"); !ok || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("E4 after the drain: %v %+v, want an unapproved-engagement case", ok, c.Findings)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.now, 10); len(ms) != 0 {
		t.Errorf("markers after a good drain = %+v, want none", ms)
	}
	// A decision (an update) writes the next marker.
	x.Version = 1
	if _, err := w.discl.Update(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.now.Add(time.Hour), 10); len(ms) != 1 || ms[0].ID != "D-40:2" {
		t.Errorf("markers after an update = %+v, want D-40:2", ms)
	}
}

// TestEngineTodayIsTheBusinessDay: at 20:31 UTC on 30 June it is already 1
// July in Asia/Shanghai, so a pending engagement dated 30 June has taken
// place there and needs approval, while in UTC it is still today. The case
// is stamped with the UTC instant either way.
func TestEngineTodayIsTheBusinessDay(t *testing.T) {
	w := newWorld(t)
	w.now = time.Date(2024, 6, 30, 20, 31, 0, 0, time.UTC)
	w.feed(hired(t, "E8", "2020-01-01"))
	x := disclosure.New("D-80", "E8", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-06-30"), EndDate: d("2024-06-30"), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "2000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), w.now.Add(-48*time.Hour))
	if err := w.discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	w.engine.Zone = time.UTC
	if got := w.engine.Today(); got != "2024-06-30" {
		t.Fatalf("today in UTC = %s", got)
	}
	if err := w.engine.Reevaluate(t.Context(), "E8"); err != nil {
		t.Fatal(err)
	}
	if c, ok := w.open("E8"); ok {
		t.Fatalf("UTC: a case on the engagement's own day: %+v", c.Findings)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	w.engine.Zone = shanghai
	if got := w.engine.Today(); got != "2024-07-01" {
		t.Fatalf("today in Asia/Shanghai = %s", got)
	}
	if err := w.engine.Reevaluate(t.Context(), "E8"); err != nil {
		t.Fatal(err)
	}
	c, ok := w.open("E8")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("Asia/Shanghai: %v %+v, want one unapproved-engagement finding", ok, c.Findings)
	}
	if !c.OpenedAt.Equal(w.now) || c.OpenedAt.Location() != time.UTC {
		t.Errorf("opened at %v, want the UTC instant %v", c.OpenedAt, w.now)
	}
}
