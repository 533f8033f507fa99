package evaluate_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/lease"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
)

func d(s string) civil.Date { return civil.MustParse(s) }

func TestEngineLateContextGivesTheInOrderOutcome(t *testing.T) {
	inOrder, late := evaluatetest.New(t), evaluatetest.New(t)
	exp := evaluatetest.Claim(t, "X-1", "E1", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费")

	inOrder.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.OnMS11(t, "E1"))
	inOrder.Feed(exp)

	late.Feed(exp)
	c, ok := late.Open("E1")
	if !ok || c.Findings[0].Employment != detect.EmploymentUnknown || c.Severity != detect.SeverityMedium {
		t.Fatalf("before HR facts: case %v %+v, want a medium case with employment unknown", ok, c)
	}
	late.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"))
	late.Feed(evaluatetest.OnMS11(t, "E1"))

	a, _ := inOrder.Open("E1")
	b, ok := late.Open("E1")
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
	before := inOrder.AllCases()
	inOrder.Feed(evaluatetest.Hired(t, "E1", "2019-03-01"), evaluatetest.OnMS11(t, "E1"), exp)
	if after := inOrder.AllCases(); !reflect.DeepEqual(before, after) {
		t.Errorf("redelivery changed cases:\n %+v\n %+v", before, after)
	}
}

func approved(t *testing.T, w *evaluatetest.World, id, emp, counterparty string, start string, at time.Time) disclosure.Disclosure {
	t.Helper()
	x := disclosure.New(id, emp, disclosure.Input{
		Kind: disclosure.KindPaidSeminar, Counterparty: counterparty, CounterpartyType: disclosure.CounterpartyBrokerage,
		Topic: "EV outlook", StartDate: d(start), EndDate: d(start), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "5000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), at)
	if err := w.Discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if err := x.Decide("C1", disclosure.ApproverCompliance, disclosure.OutcomeApprove, "fine", nil, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Discl.Update(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestEngineLateApprovalAutoClearsWithAudit(t *testing.T) {
	w := evaluatetest.New(t)
	w.Feed(evaluatetest.Hired(t, "E3", "2018-05-01"), evaluatetest.Claim(t, "X-3", "E3", "2024-01-25", "中国国际金融股份有限公司", "EV research seminar speaker fee"))
	c, ok := w.Open("E3")
	if !ok {
		t.Fatal("no case before the disclosure")
	}
	approved(t, w, "D-31", "E3", "CICC", "2024-01-25", w.Now)
	if err := w.Engine.Reevaluate(t.Context(), "E3"); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Open("E3"); ok {
		t.Fatal("case still open after the approval covered its finding")
	}
	got, err := w.Cases.Get(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != review.StatusCleared || got.Decision == nil || got.Decision.By != review.System ||
		got.Findings[0].CoveredBy != "D-31" || !strings.Contains(got.Findings[0].Summary, "covered by the approved declaration (paid seminar, 2024-01-25)") {
		t.Errorf("after approval: %s decision %+v finding %+v", got.Status, got.Decision, got.Findings[0])
	}
	if acts := w.AuditActions("E3"); !reflect.DeepEqual(acts, []string{"case.open", "case.auto_clear"}) {
		t.Errorf("audit = %v, want case.open then case.auto_clear", acts)
	}
	// Nothing more on a re-run, and no case comes back.
	if err := w.Engine.Reevaluate(t.Context(), "E3"); err != nil {
		t.Fatal(err)
	}
	if n := len(w.AllCases()); n != 1 {
		t.Errorf("%d cases after a re-run, want 1", n)
	}
}

func TestEngineSweepRaisesStartedUnapprovedEngagements(t *testing.T) {
	w := evaluatetest.New(t)
	w.Feed(evaluatetest.Hired(t, "E7", "2020-01-01"))
	x := disclosure.New("D-70", "E7", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-07-02"), EndDate: d("2024-07-02"), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "2000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), w.Now)
	if err := w.Discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	sw := &evaluate.Sweeper{Engine: w.Engine, Due: w.Discl, State: mongostore.NewSweepState(w.DB), Log: discardLog()}
	if res, err := sw.Round(t.Context()); err != nil || res.Employees != 0 {
		t.Fatalf("sweep before the start date: %+v, %v; want 0 employees", res, err)
	}
	if _, ok := w.Open("E7"); ok {
		t.Fatal("case before the engagement's date")
	}
	w.Now = w.Now.AddDate(0, 0, 5)
	if res, err := sw.Round(t.Context()); err != nil || res.Employees != 1 {
		t.Fatalf("sweep after the start date: %+v, %v; want 1 employee", res, err)
	}
	c, ok := w.Open("E7")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("after sweep: %v %+v, want one unapproved-engagement finding", ok, c.Findings)
	}
	v := c.Version
	// The next rounds look only at what became due since the day before the
	// last complete round: D-70 was swept.
	for _, days := range []int{0, 3} {
		w.Now = w.Now.AddDate(0, 0, days)
		if res, err := sw.Round(t.Context()); err != nil || res.Employees != 0 {
			t.Fatalf("sweep %d days later: %+v, %v; want nobody", days, res, err)
		}
	}
	if c, _ := w.Open("E7"); c.Version != v {
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
	w := evaluatetest.New(t)
	w.Feed(evaluatetest.Hired(t, "E5", "2020-01-01"), evaluatetest.Hired(t, "E6", "2020-01-01"))
	for _, e := range []string{"E5", "E6"} {
		x := disclosure.New("D-"+e, e, disclosure.Input{
			Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
			Topic: "battery costs", StartDate: d("2024-06-01"), EndDate: d("2024-06-01"),
		}, disclosure.DefaultPolicy(), w.Now)
		if err := w.Discl.Create(t.Context(), x); err != nil {
			t.Fatal(err)
		}
	}
	real := w.Engine.Employees
	w.Engine.Employees = &failingEmployees{Store: real, bad: "E5"}
	state := mongostore.NewSweepState(w.DB)
	sw := &evaluate.Sweeper{Engine: w.Engine, Due: w.Discl, State: state, Log: discardLog()}
	res, err := sw.Round(t.Context())
	if err != nil || res != (evaluate.SweepResult{Employees: 1, Failed: 1}) {
		t.Fatalf("round with E5 failing = %+v, %v; want E6 swept and E5 failed", res, err)
	}
	if _, ok := w.Open("E6"); !ok {
		t.Error("E6 has no case although E5 failed first")
	}
	if through, _ := state.SweptThrough(t.Context()); through != "" {
		t.Errorf("swept through %q after a failure; want the window kept open", through)
	}
	w.Engine.Employees = real
	w.Now = w.Now.AddDate(0, 0, 1)
	if res, err := sw.Round(t.Context()); err != nil || res != (evaluate.SweepResult{Employees: 2}) {
		t.Fatalf("next round = %+v, %v; want both", res, err)
	}
	if _, ok := w.Open("E5"); !ok {
		t.Error("E5 has no case after the retry")
	}
}

// TestSweepersShareOneLease: of two replicas' sweepers only the lease
// holder sweeps within an interval.
func TestSweepersShareOneLease(t *testing.T) {
	w := evaluatetest.New(t)
	leases := mongostore.NewLeases(w.DB, func() time.Time { return w.Now })
	a, okA, err := leases.Acquire(t.Context(), evaluate.SweepLease, "replica-a", time.Hour)
	if err != nil || !okA {
		t.Fatalf("a: %v %v", okA, err)
	}
	if _, okB, err := leases.Acquire(t.Context(), evaluate.SweepLease, "replica-b", time.Hour); err != nil || okB {
		t.Fatalf("b took a held lease: %v %v", okB, err)
	}
	w.Now = w.Now.Add(time.Hour + time.Second)
	b, okB, err := leases.Acquire(t.Context(), evaluate.SweepLease, "replica-b", time.Hour)
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
	w := evaluatetest.New(t)
	w.Feed(evaluatetest.Hired(t, "E4", "2020-01-01"))
	x := disclosure.New("D-40", "E4", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-06-01"), EndDate: d("2024-06-01"),
	}, disclosure.DefaultPolicy(), w.Now)
	// The change is stored, and the re-evaluation that should follow it
	// never happens (the replica crashed, or it failed).
	if err := w.Discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	markers := mongostore.NewMarkerStore(w.DB)
	real := w.Engine.Employees
	w.Engine.Employees = &failingEmployees{Store: real, bad: "E4"}
	dr := &evaluate.Drainer{Engine: w.Engine, Markers: markers, Grace: time.Minute, Log: discardLog()}
	if n, err := dr.Drain(t.Context()); err != nil || n != 0 {
		t.Fatalf("drain within the grace: %d, %v; want nothing", n, err)
	}
	w.Now = w.Now.Add(2 * time.Minute)
	if n, err := dr.Drain(t.Context()); err != nil || n != 0 {
		t.Fatalf("drain while failing: %d, %v; want 0 done", n, err)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.Now, 10); len(ms) != 1 || ms[0].EmployeeID != "E4" {
		t.Fatalf("markers after a failed drain = %+v, want E4's kept", ms)
	}
	w.Engine.Employees = real
	if n, err := dr.Drain(t.Context()); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v; want E4", n, err)
	}
	if c, ok := w.Open("E4"); !ok || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("E4 after the drain: %v %+v, want an unapproved-engagement case", ok, c.Findings)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.Now, 10); len(ms) != 0 {
		t.Errorf("markers after a good drain = %+v, want none", ms)
	}
	// A decision (an update) writes the next marker.
	x.Version = 1
	if _, err := w.Discl.Update(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if ms, _ := markers.MarkersBefore(t.Context(), w.Now.Add(time.Hour), 10); len(ms) != 1 || ms[0].ID != "D-40:2" {
		t.Errorf("markers after an update = %+v, want D-40:2", ms)
	}
}

// TestEngineTodayIsTheBusinessDay: at 20:31 UTC on 30 June it is already 1
// July in Asia/Shanghai, so a pending engagement dated 30 June has taken
// place there and needs approval, while in UTC it is still today. The case
// is stamped with the UTC instant either way.
func TestEngineTodayIsTheBusinessDay(t *testing.T) {
	w := evaluatetest.New(t)
	w.Now = time.Date(2024, 6, 30, 20, 31, 0, 0, time.UTC)
	w.Feed(evaluatetest.Hired(t, "E8", "2020-01-01"))
	x := disclosure.New("D-80", "E8", disclosure.Input{
		Kind: disclosure.KindExpertCall, Counterparty: "AlphaSights", CounterpartyType: disclosure.CounterpartyExpertNetwork,
		Topic: "battery costs", StartDate: d("2024-06-30"), EndDate: d("2024-06-30"), Paid: true,
		Compensation: &disclosure.Compensation{Amount: "2000.00", Currency: "CNY"},
	}, disclosure.DefaultPolicy(), w.Now.Add(-48*time.Hour))
	if err := w.Discl.Create(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	w.Engine.Zone = time.UTC
	if got := w.Engine.Today(); got != "2024-06-30" {
		t.Fatalf("today in UTC = %s", got)
	}
	if err := w.Engine.Reevaluate(t.Context(), "E8"); err != nil {
		t.Fatal(err)
	}
	if c, ok := w.Open("E8"); ok {
		t.Fatalf("UTC: a case on the engagement's own day: %+v", c.Findings)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	w.Engine.Zone = shanghai
	if got := w.Engine.Today(); got != "2024-07-01" {
		t.Fatalf("today in Asia/Shanghai = %s", got)
	}
	if err := w.Engine.Reevaluate(t.Context(), "E8"); err != nil {
		t.Fatal(err)
	}
	c, ok := w.Open("E8")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleUnapproved {
		t.Fatalf("Asia/Shanghai: %v %+v, want one unapproved-engagement finding", ok, c.Findings)
	}
	if !c.OpenedAt.Equal(w.Now) || c.OpenedAt.Location() != time.UTC {
		t.Errorf("opened at %v, want the UTC instant %v", c.OpenedAt, w.Now)
	}
}
