package detect

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

func testWatchlist(t testing.TB) *watchlist.Watchlist {
	t.Helper()
	w, err := watchlist.Load(repoFile("configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func d(s string) civil.Date { return civil.MustParse(s) }

// HR facts for employee.Build.

func hire(date string) employee.Fact {
	return fact(event.TypeEmployeeHired, date, "", &event.EmployeeHired{EmployeeID: "E1", Name: "Test", Department: "EV", HireDate: d(date)})
}

func terminate(date string) employee.Fact {
	return fact(event.TypeEmployeeTerminated, date, "", &event.EmployeeTerminated{EmployeeID: "E1", TerminationDate: d(date), Reason: "resigned"})
}

func assign(code, sensitivity, launch, from string) employee.Fact {
	var l civil.Date
	if launch != "" {
		l = d(launch)
	}
	return fact(event.TypeProjectAssigned, from, code, &event.ProjectAssigned{
		EmployeeID: "E1", ProjectCode: code, ProjectName: "Project " + code, Sensitivity: sensitivity, LaunchDate: l, EffectiveDate: d(from),
	})
}

func unassign(code, date string) employee.Fact {
	return fact(event.TypeProjectUnassigned, date, code, &event.ProjectUnassigned{EmployeeID: "E1", ProjectCode: code, EffectiveDate: d(date)})
}

func fact(typ, date, key string, data any) employee.Fact {
	return employee.Fact{Ref: event.Ref{Source: "hris/test", ID: fmt.Sprintf("%s/%s/%s", typ, date, key)}, Type: typ, Effective: d(date), Data: data}
}

func emp(facts ...employee.Fact) employee.Employee { return employee.Build("E1", facts) }

// Expense events.

type claimOpt func(*event.ExpenseClaim)

func desc(s string) claimOpt         { return func(c *event.ExpenseClaim) { c.Description = s } }
func city(s string) claimOpt         { return func(c *event.ExpenseClaim) { c.City = s } }
func attendees(a ...string) claimOpt { return func(c *event.ExpenseClaim) { c.Attendees = a } }

func claim(id, date, merchant string, opts ...claimOpt) event.Event {
	c := &event.ExpenseClaim{
		ClaimID: id, EmployeeID: "E1", IncurredOn: d(date), Merchant: merchant,
		Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Category: "other",
	}
	for _, o := range opts {
		o(c)
	}
	return event.Event{Ref: event.Ref{Source: "expense/concur-cn", ID: id}, Type: event.TypeExpenseClaim, Subject: "E1", Data: c}
}

func card(id, at, merchant string) event.Event {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return event.Event{Ref: event.Ref{Source: "card/amex-cn", ID: id}, Type: event.TypeCardTransaction, Subject: "E1",
		Data: &event.CardTransaction{TransactionID: id, EmployeeID: "E1", OccurredAt: t, Merchant: merchant,
			Amount: event.Money{Amount: "88.5", Currency: "CNY"}}}
}

func seminar(id, date, organizer, cityName string) event.Event {
	paid := true
	return event.Event{Ref: event.Ref{Source: "intel/feed", ID: id}, Type: event.TypeSeminarReported,
		Data: &event.SeminarReported{SeminarID: id, Organizer: organizer, Title: "EV industry research seminar", Date: d(date), City: cityName, Paid: &paid}}
}

// signal is SignalOf that must succeed.
func signal(t testing.TB, wl *watchlist.Watchlist, ev event.Event) Signal {
	t.Helper()
	s, ok := SignalOf(DefaultConfig(), wl, ev)
	if !ok {
		t.Fatalf("SignalOf(%s) found no signal", ev.ID)
	}
	return s
}

func sem(t testing.TB, wl *watchlist.Watchlist, ev event.Event) Seminar {
	t.Helper()
	s, ok := SeminarOf(wl, ev)
	if !ok {
		t.Fatalf("SeminarOf(%s) failed", ev.ID)
	}
	return s
}

func engagement(id, status, counterparty, start string) Engagement {
	return Engagement{ID: id, EmployeeID: "E1", Kind: "paid_seminar", Counterparty: counterparty, CounterpartyType: "brokerage",
		Start: d(start), End: d(start), Status: status, Paid: true, Compensation: event.Money{Amount: "3000.00", Currency: "CNY"}}
}

func decided(e Engagement, at string) Engagement {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	e.DecidedAt = t
	return e
}

// got is a finding reduced to what tests compare.
type got struct {
	Rule       string
	Severity   string
	Score      int
	Employment string
	CoveredBy  string
	Project    string
}

func reduce(fs []Finding) []got {
	out := make([]got, 0, len(fs))
	for _, f := range fs {
		out = append(out, got{f.Rule, f.Severity, f.Score, f.Employment, f.CoveredBy, f.Project})
	}
	return out
}
