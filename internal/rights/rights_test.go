package rights_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/rights"
	"github.com/moonlight-oss/moonlight/internal/session"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func TestShows(t *testing.T) {
	open := review.Case{Status: review.StatusOpen}
	inReview := review.Case{Status: review.StatusInReview}
	cleared := review.Case{Status: review.StatusCleared}
	confirmed := review.Case{Status: review.StatusConfirmed}
	for _, tc := range []struct {
		policy string
		give   review.Case
		want   bool
	}{
		{privacy.FindingsNever, open, false}, {privacy.FindingsNever, cleared, false}, {privacy.FindingsNever, confirmed, true},
		{privacy.FindingsAfterDecision, open, false}, {privacy.FindingsAfterDecision, inReview, false},
		{privacy.FindingsAfterDecision, cleared, true}, {privacy.FindingsAfterDecision, confirmed, true},
		{privacy.FindingsAlways, open, true}, {privacy.FindingsAlways, cleared, true}, {privacy.FindingsAlways, confirmed, true},
	} {
		if got := rights.Shows(tc.policy, tc.give); got != tc.want {
			t.Errorf("Shows(%s, %s) = %v, want %v", tc.policy, tc.give.Status, got, tc.want)
		}
	}
}

// Two monitored employees and a reviewer; A's and B's data share a
// counterparty month, and the reviewer read both.
const (
	idA, nameA = "E2001", "甲一"
	idB, nameB = "E2002", "乙二"
	reviewer   = "R9"
)

type rightsWorld struct {
	t   *testing.T
	db  *mongostore.DB
	svc *rights.Service
	now time.Time
}

func (w *rightsWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func newRightsWorld(t *testing.T) *rightsWorld {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := &rightsWorld{t: t, db: db, now: time.Now().UTC().Truncate(time.Second)}
	ctx := t.Context()
	emps, signals, cases := mongostore.NewEmployeeStore(db), mongostore.NewSignalStore(db), mongostore.NewCaseStore(db)
	discl, auditStore := mongostore.NewDisclosureStore(db), mongostore.NewAuditStore(db)
	hire := civil.Of(w.now).AddDays(-400)
	for _, p := range []struct{ id, name string }{{idA, nameA}, {idB, nameB}} {
		e := employee.Build(p.id, []employee.Fact{{Ref: event.Ref{Source: "hr/test", ID: "hire-" + p.id}, Type: event.TypeEmployeeHired, Effective: hire,
			Data: &event.EmployeeHired{EmployeeID: p.id, Name: p.name, Department: "Powertrain", ManagerID: "M9", HireDate: hire}}})
		_, err := emps.Save(ctx, e)
		w.must(err)
		key := event.Ref{Source: "expense/test", ID: "ev-" + p.id}.Key()
		_, err = db.DB.Collection("events").InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "source", Value: "expense/test"},
			{Key: "id", Value: "ev-" + p.id}, {Key: "type", Value: event.TypeExpenseClaim}, {Key: "employee_id", Value: p.id},
			{Key: "topic", Value: "expense.events"}, {Key: "received_at", Value: w.now}, {Key: "raw", Value: `{"data":{"employee_id":"` + p.id + `"}}`}})
		w.must(err)
		w.must(signals.AddSignals(ctx, p.id, []detect.Signal{{Ref: event.Ref{Source: "expense/test", ID: "ev-" + p.id}, Kind: detect.KindExpenseClaim,
			EmployeeID: p.id, Date: civil.Of(w.now), Amount: event.Money{Amount: "900.00", Currency: "CNY"}, Merchant: "中信证券",
			Counterparty: "CITIC Securities", CounterpartyID: "citic"}}))
		d := disclosure.New("D-"+p.id, p.id, disclosure.Input{Kind: disclosure.KindPaidSeminar, Counterparty: "CITIC", Topic: "talk",
			CounterpartyType: disclosure.CounterpartyBrokerage, StartDate: civil.Of(w.now), EndDate: civil.Of(w.now)}, disclosure.DefaultPolicy(), w.now)
		w.must(discl.Create(ctx, d))
		d.Topic = "talk, edited"
		_, err = discl.Update(ctx, d, audit.Entry{ID: "au-edit-" + p.id, At: w.now, Actor: p.id, Action: audit.ActionDisclosureEdit,
			ResourceType: audit.ResourceDisclosure, ResourceID: d.ID, OwnerID: p.id})
		w.must(err)
		w.must(mongostore.NewSessionStore(db).Create(ctx, session.Record{ID: "sess-" + p.id, Subject: p.id, Name: p.name, Roles: []string{"employee"},
			CSRF: "secret-" + p.id, Created: w.now, LastSeen: w.now, Expires: w.now.Add(time.Hour)}))
	}
	finding := func(employee string) []detect.Finding {
		return []detect.Finding{{ID: "f-" + employee, EmployeeID: employee, Rule: "expense-at-watchlisted-counterparty", Severity: "high",
			Score: 80, Summary: "Expense at CITIC Securities", OccurredOn: civil.Of(w.now),
			EventRefs: []event.Ref{{Source: "expense/test", ID: "ev-" + employee}}}}
	}
	mk := func(id, employee, status string) {
		c := review.Case{ID: id, EmployeeID: employee, Status: status, Severity: "high", Score: 80, Findings: finding(employee),
			OpenedAt: w.now.Add(-time.Hour), UpdatedAt: w.now}
		if status != review.StatusOpen {
			c.Decision = &review.Decision{Outcome: status, By: reviewer, Reason: "the reviewer's reason for " + id, At: w.now}
		}
		w.must(cases.Create(ctx, c))
	}
	mk("case-a-open", idA, review.StatusOpen)
	mk("case-a-cleared", idA, review.StatusCleared)
	mk("case-b-confirmed", idB, review.StatusConfirmed)
	w.must(mongostore.NewCommentStore(db).Add(ctx, "case-a-open", "cm-a", review.Comment{At: w.now, By: reviewer, Text: "looking"}))
	w.must(mongostore.NewCommentStore(db).Add(ctx, "case-b-confirmed", "cm-b", review.Comment{At: w.now, By: reviewer, Text: "confirmed"}))
	for _, r := range []struct{ id, owner, c string }{{"au-read-a", idA, "case-a-open"}, {"au-read-b", idB, "case-b-confirmed"}} {
		w.must(auditStore.AppendMany(ctx, []audit.Entry{{ID: r.id, At: w.now, Actor: reviewer, ActorRoles: []string{"compliance", "employee"},
			Action: audit.ActionCaseRead, ResourceType: audit.ResourceCase, ResourceID: r.c, OwnerID: r.owner, Reason: "case review"}}))
	}
	w.must(mongostore.NewReviewerStore(db).Seen(ctx, reviewer, w.now))
	// seminar-speaker-match's presence index: payment days of both, and an
	// HR function key listing both.
	for _, doc := range []bson.D{
		{{Key: "_id", Value: "at:shanghai:2026-01-05:" + idA}, {Key: "d", Value: "2026-01-05"}},
		{{Key: "_id", Value: "at:shanghai:2026-01-05:" + idB}, {Key: "d", Value: "2026-01-05"}},
		{{Key: "_id", Value: "leave:2026-02-01:" + idA}, {Key: "d", Value: "2026-02-01"}},
		{{Key: "_id", Value: "fit:fn:motor"}, {Key: "employees", Value: bson.A{idA, idB}}},
	} {
		_, err := db.DB.Collection("presence_days").InsertOne(ctx, doc)
		w.must(err)
	}
	w.seedPeople()
	w.svc = &rights.Service{Employees: emps, Signals: signals, Disclosures: discl, Cases: cases, Audit: auditStore,
		Store: mongostore.NewRights(db), FindingsPolicy: privacy.FindingsAfterDecision, Now: func() time.Time { return w.now }}
	return w
}

var officer = rights.Actor{ID: "P1", Roles: []string{auth.RoleEmployee, auth.RolePrivacyOfficer}}

// TestExportHasEverythingAboutTheEmployeeAndNothingAboutOthers: the
// privacy officer's export of A holds every stored document that mentions
// A (every collection scanned) and no trace of B, though A and B share a
// counterparty month and a reviewer.
func TestExportHasEverythingAboutTheEmployeeAndNothingAboutOthers(t *testing.T) {
	w := newRightsWorld(t)
	ctx := t.Context()
	b, err := w.svc.Export(ctx, officer, idA, "")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	w.must(b.WriteJSON(&out))
	text := out.String()
	for _, other := range []string{idB, nameB, "case-b-confirmed", "cm-b", "D-" + idB, "um-b", "P-ABCD-EFGH", "b@example.com", "m9@example.com"} {
		if strings.Contains(text, other) {
			t.Errorf("the export of %s mentions %q, which is about %s", idA, other, idB)
		}
	}
	for _, secret := range []string{"secret-" + idA, "sess-" + idA, "secret-token"} {
		if strings.Contains(text, secret) {
			t.Errorf("the export carries the session secret %q", secret)
		}
	}
	exported := map[string]map[string]bool{}
	counts := map[string]int{}
	for _, c := range b.Collections {
		exported[c.Name] = map[string]bool{}
		for _, d := range c.Documents {
			var m map[string]any
			w.must(json.Unmarshal(d, &m))
			if id, ok := m["_id"].(string); ok {
				exported[c.Name][id] = true
			}
			counts[c.Name]++
		}
	}
	// Every stored document that mentions A, in every collection, is there.
	names, err := w.db.DB.ListCollectionNames(ctx, bson.D{})
	w.must(err)
	mentions := 0
	// Collections the export leaves out on purpose (each with its reason
	// in mongostore's classification), and those whose exported documents
	// carry redacted ids (a notice to A about B keeps neither B's ids nor
	// its own): the latter are checked by count.
	skipped := mongostore.NotExported()
	byCount := map[string]bool{"outbox": true, "outbox_deliveries": true, "mail_sink": true, "unmask_requests": true}
	for _, name := range names {
		if skipped[name] != "" {
			continue
		}
		cur, err := w.db.DB.Collection(name).Find(ctx, bson.D{})
		w.must(err)
		var docs []bson.D
		w.must(cur.All(ctx, &docs))
		n := 0
		for _, d := range docs {
			js, err := bson.MarshalExtJSON(d, false, false)
			w.must(err)
			if !strings.Contains(string(js), idA) || strings.Contains(string(js), string(rights.ActionExport)) {
				continue // the export's own audit entry is written after it
			}
			mentions++
			n++
			id := ""
			for _, e := range d {
				if e.Key == "_id" {
					id, _ = e.Value.(string)
				}
			}
			if name != "sessions" && !byCount[name] && !exported[name][id] {
				t.Errorf("%s document %s mentions %s but is not in the export", name, id, idA)
			}
		}
		if name == "sessions" && counts[name] != n {
			t.Errorf("export has %d sessions of %s, the database %d", counts[name], idA, n)
		}
		if byCount[name] && counts[name] < n {
			t.Errorf("export has %d %s documents of %s, the database %d that mention them", counts[name], name, idA, n)
		}
	}
	// (case_queue rows exist only where the queue is not kept in facets:
	// on MongoDB; every document that exists is checked above.)
	for _, want := range []string{"employees", "events", "activity", "counterparty_months", "presence_days", "disclosures", "reevaluations", "cases",
		"case_refs", "case_comments", "transitions", "audit", "sessions",
		"attestations", "profiles", "ui_profiles", "saved_filters", "unmask_requests", "unmask_states", "outbox", "outbox_deliveries",
		"mail_sink", "idempotency"} {
		if counts[want] == 0 {
			t.Errorf("the export has no %s document (has %v)", want, counts)
		}
	}
	// Exact counts where the direction "nothing about others" is subtle:
	// A's own notice, the one about A sent to the manager, and the one sent
	// to A about B (as a bare fact); their deliveries (A's mail and webhook,
	// the manager's mail, A's mail about B) and the sink's three mails; the
	// unmask request about A and A's own request about B (without B).
	for name, want := range map[string]int{"outbox": 3, "outbox_deliveries": 4, "mail_sink": 3, "unmask_requests": 2, "attestations": 1,
		"idempotency": 1, "saved_filters": 1} {
		if counts[name] != want {
			t.Errorf("the export has %d %s documents, want %d", counts[name], name, want)
		}
	}
	if n, _ := w.db.DB.Collection("queue_places").CountDocuments(ctx, bson.D{}); n > 0 && (counts["queue_places"] != 2 || counts["queue_chunks"] == 0) {
		t.Errorf("the queue is kept in facets, but the export has %d placements and %d chunks of A's 2 cases", counts["queue_places"], counts["queue_chunks"])
	}
	if mentions < 15 {
		t.Errorf("only %d documents mention %s: the seed is thinner than meant", mentions, idA)
	}
	es, _, err := mongostore.NewAuditStore(w.db).List(ctx, audit.Filter{Action: rights.ActionExport}, 10, "")
	w.must(err)
	if len(es) != 1 || es[0].Actor != officer.ID || es[0].OwnerID != idA || es[0].Reason != "subject-access request" {
		t.Fatalf("export audit = %+v, want one entry by the officer about %s", es, idA)
	}
}

func TestExportRefusals(t *testing.T) {
	w := newRightsWorld(t)
	for _, tc := range []struct {
		name  string
		actor rights.Actor
		id    string
	}{
		{"a reviewer", rights.Actor{ID: reviewer, Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleAuditor}}, idA},
		{"the officer's own data", rights.Actor{ID: idA, Roles: officer.Roles}, idA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.svc.Export(t.Context(), tc.actor, tc.id, ""); !errors.Is(err, rights.ErrForbidden) {
				t.Fatalf("export = %v, want forbidden", err)
			}
			es, _, err := mongostore.NewAuditStore(w.db).List(t.Context(), audit.Filter{Action: audit.ActionAccessDenied, Actor: tc.actor.ID}, 10, "")
			if err != nil || len(es) == 0 || es[0].Details["attempt"] != string(rights.ActionExport) {
				t.Fatalf("refusal audit = %+v (%v)", es, err)
			}
		})
	}
	if _, err := w.svc.Export(t.Context(), officer, "E-nobody", ""); !errors.Is(err, rights.ErrNotFound) {
		t.Fatalf("export of nobody = %v, want not found", err)
	}
}

// TestMyData: the employee's facts, signals, events, declarations; the
// cases the policy shows; who read their data by role only.
func TestMyData(t *testing.T) {
	w := newRightsWorld(t)
	ctx := t.Context()
	me := rights.Actor{ID: idA, Roles: []string{auth.RoleEmployee}}
	for _, tc := range []struct {
		policy     string
		wantCases  []string
		wantHidden int
	}{
		{privacy.FindingsNever, nil, 2},
		{privacy.FindingsAfterDecision, []string{"case-a-cleared"}, 1},
		{privacy.FindingsAlways, []string{"case-a-open", "case-a-cleared"}, 0},
	} {
		w.svc.FindingsPolicy = tc.policy
		d, err := w.svc.MyData(ctx, me, "json")
		w.must(err)
		var got []string
		for _, c := range d.Cases {
			got = append(got, c.ID)
			if c.Decision != nil && c.Decision.By != auth.RoleCompliance {
				t.Errorf("decision by %q shown, want the role", c.Decision.By)
			}
		}
		slices.Sort(got)
		want := slices.Clone(tc.wantCases)
		slices.Sort(want)
		if !slices.Equal(got, want) || d.HiddenCases != tc.wantHidden {
			t.Errorf("policy %s shows %v (%d hidden), want %v (%d hidden)", tc.policy, got, d.HiddenCases, want, tc.wantHidden)
		}
	}
	d, err := w.svc.MyData(ctx, me, "json")
	w.must(err)
	if d.Employee.Name != nameA || len(d.Signals) != 1 || len(d.Events) != 1 || len(d.Declarations) != 1 {
		t.Fatalf("my data = %+v", d)
	}
	if len(d.Reads) != 1 || !slices.Equal(d.Reads[0].Roles, []string{"compliance"}) || d.Reads[0].Action != "case.read" || d.Reads[0].Purpose != "case review" {
		t.Fatalf("reads = %+v, want the reviewer's one read by role", d.Reads)
	}
	js, err := json.Marshal(d.JSON())
	w.must(err)
	for _, never := range []string{reviewer, idB, nameB} {
		if strings.Contains(string(js), never) {
			t.Errorf("my data names %q", never)
		}
	}
	es, _, err := mongostore.NewAuditStore(w.db).List(ctx, audit.Filter{Action: rights.ActionAccess, OwnerID: idA}, 10, "")
	if err != nil || len(es) != 4 {
		t.Fatalf("%d rights.access entries (%v), want one per access", len(es), err)
	}
}
