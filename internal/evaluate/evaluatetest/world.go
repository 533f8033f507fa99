// Package evaluatetest runs the evaluation engine on a fresh real database,
// fed through the ingest pipeline as the consumer feeds it. The engine's
// tests use it, and so do the case domain's (internal/review), whose
// service tests need cases that detection opened; one helper serves both so
// the two never drift apart. Test code only: nothing outside tests imports it.
package evaluatetest

import (
	"errors"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// World is the engine on a fresh real database. Now is the clock the engine
// reads; a test moves it.
type World struct {
	T        *testing.T
	DB       *mongostore.DB
	Now      time.Time
	Events   *mongostore.EventStore
	Cases    *mongostore.CaseStore
	Signals  *mongostore.SignalStore
	Discl    *mongostore.DisclosureStore
	Audit    *mongostore.AuditStore
	Rules    *evaluate.RuleHolder
	Engine   *evaluate.Engine
	Pipeline *ingest.Pipeline
	offset   int64
}

// New starts a world on its own database, its clock at 2024-06-30 12:00 UTC,
// with the built-in rules and watchlist.
func New(t *testing.T) *World {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := &World{T: t, DB: db, Now: time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)}
	w.Events, w.Cases, w.Signals = mongostore.NewEventStore(db), mongostore.NewCaseStore(db), mongostore.NewSignalStore(db)
	w.Discl, w.Audit = mongostore.NewDisclosureStore(db), mongostore.NewAuditStore(db)
	rules, err := evaluate.NewRuleHolder("", "", configs.Rules, configs.Watchlist)
	if err != nil {
		t.Fatal(err)
	}
	w.Rules = rules
	employees := mongostore.NewEmployeeStore(db)
	w.Engine = &evaluate.Engine{
		Rules: rules, Employees: employees, Signals: w.Signals, Seminars: w.Signals, Presence: w.Signals,
		Engagements: evaluate.DisclosureEngagements{Store: w.Discl}, Cases: w.Cases, Audit: w.Audit,
		Now: func() time.Time { return w.Now },
	}
	w.Pipeline = &ingest.Pipeline{Events: w.Events, Employees: employees, Stages: []ingest.Stage{w.Engine}}
	return w
}

// Feed runs the events through the pipeline as one batch.
func (w *World) Feed(evs ...event.Event) {
	w.T.Helper()
	batch := make([]event.Received, 0, len(evs))
	for _, e := range evs {
		raw, err := event.Encode(e)
		if err != nil {
			w.T.Fatal(err)
		}
		e.Raw = raw
		w.offset++
		batch = append(batch, event.Received{Event: e, Topic: "t", Offset: w.offset, ReceivedAt: w.Now})
	}
	if _, err := w.Pipeline.Process(w.T.Context(), batch); err != nil {
		w.T.Fatalf("process: %v", err)
	}
}

// Open returns the employee's open case, if any.
func (w *World) Open(id string) (review.Case, bool) {
	w.T.Helper()
	c, err := w.Cases.OpenFor(w.T.Context(), id)
	if errors.Is(err, review.ErrNotFound) {
		return review.Case{}, false
	}
	if err != nil {
		w.T.Fatal(err)
	}
	return c, true
}

// AllCases lists every case (up to 200).
func (w *World) AllCases() []review.Case {
	w.T.Helper()
	cs, _, err := w.Cases.List(w.T.Context(), review.Filter{}, 200, "")
	if err != nil {
		w.T.Fatal(err)
	}
	return cs
}

// AuditActions are the actions of the audit entries about owner, oldest first.
func (w *World) AuditActions(owner string) []string {
	w.T.Helper()
	es, _, err := w.Audit.List(w.T.Context(), audit.Filter{OwnerID: owner}, 100, "")
	if err != nil {
		w.T.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, string(es[i].Action))
	}
	return out
}

// D parses a calendar day.

// Event builds an event of source with id and data.
func Event(t *testing.T, source, id string, data any) event.Event {
	t.Helper()
	e, err := event.New(source, id, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Hired is emp's hiring into the EV unit on date.
func Hired(t *testing.T, emp, date string) event.Event {
	return Event(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Unit", HireDate: civil.MustParse(date)})
}

// OnMS11 puts emp on the confidential EV sedan project MS11 (launch 2024-03-28).
func OnMS11(t *testing.T, emp string) event.Event {
	return Event(t, "hris/test", "p-"+emp, &event.ProjectAssigned{EmployeeID: emp, ProjectCode: "MS11", ProjectName: "EV sedan",
		Sensitivity: "confidential", LaunchDate: civil.MustParse("2024-03-28"), EffectiveDate: civil.MustParse("2023-09-01")})
}

// Claim is emp's conference expense claim id in Shanghai on date.
func Claim(t *testing.T, id, emp, date, merchant, desc string) event.Event {
	return Event(t, "expense/test", id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: civil.MustParse(date), Merchant: merchant,
		Description: desc, City: "上海", Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Category: "conference"})
}
