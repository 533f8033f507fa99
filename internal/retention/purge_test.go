package retention_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/session"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// purgeWorld seeds, for two employees, data of every kind on both sides of
// its retention period, and says which documents must go and which stay.
type purgeWorld struct {
	t    *testing.T
	db   *mongostore.DB
	now  time.Time
	gone map[string][]string // collection -> ids that must be removed
	kept map[string][]string // collection -> ids that must stay
	// extra are the counts per kind of seedPeople's documents.
	extra map[retention.Kind]int
}

func (w *purgeWorld) ago(months, days int) time.Time { return w.now.AddDate(0, -months, -days) }

func (w *purgeWorld) insert(coll string, doc bson.D) {
	w.t.Helper()
	if _, err := w.db.DB.Collection(coll).InsertOne(w.t.Context(), doc); err != nil {
		w.t.Fatalf("insert into %s: %v", coll, err)
	}
}

func (w *purgeWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func ref(id string) event.Ref { return event.Ref{Source: "expense/test", ID: id} }

func (w *purgeWorld) event(id, employee string, received time.Time) string {
	key := ref(id).Key()
	w.insert("events", bson.D{{Key: "_id", Value: key}, {Key: "source", Value: "expense/test"}, {Key: "id", Value: id},
		{Key: "type", Value: event.TypeExpenseClaim}, {Key: "employee_id", Value: employee},
		{Key: "received_at", Value: received.UTC().Truncate(time.Millisecond)}, {Key: "raw", Value: "{}"}})
	return key
}

func (w *purgeWorld) closedCase(id, employee, outcome string, decided time.Time, evidence []event.Ref, covering string) review.Case {
	f := detect.Finding{ID: "f-" + id, EmployeeID: employee, Rule: "expense-at-watchlisted-counterparty", Severity: "high", Score: 80,
		Summary: "an expense", OccurredOn: civil.Of(decided), EventRefs: evidence, CoveredBy: covering}
	return review.Case{ID: id, EmployeeID: employee, Status: outcome, Severity: "high", Score: 80, Findings: []detect.Finding{f},
		Decision: &review.Decision{Outcome: outcome, By: "R9", Reason: "decided", At: decided},
		OpenedAt: decided.AddDate(0, -1, 0), UpdatedAt: decided}
}

func newPurgeWorld(t *testing.T) *purgeWorld {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The injected clock runs 100 days ahead of the real one (which stamps
	// the arbiter's transitions); every seeded age is relative to it.
	w := &purgeWorld{t: t, db: db, now: time.Now().UTC().Truncate(time.Second).AddDate(0, 0, 100),
		gone: map[string][]string{}, kept: map[string][]string{}}
	ctx := t.Context()
	cases, signals := mongostore.NewCaseStore(db), mongostore.NewSignalStore(db)

	// Raw events: A's old expense in no case goes; one that is evidence of
	// a cleared case purged today goes tomorrow; B's old evidence of a kept
	// confirmed case stays, and so does a new one.
	w.gone["events"] = []string{w.event("ev-old", "E1", w.ago(25, 0))}
	// The evidence of the cleared case purged below goes with it.
	w.gone["events"] = append(w.gone["events"], w.event("ev-in-cleared", "E1", w.ago(30, 0)))
	w.kept["events"] = []string{w.event("ev-evidence", "E2", w.ago(40, 0)), w.event("ev-new", "E2", w.ago(1, 0))}
	w.insert("seminars", bson.D{{Key: "_id", Value: "sem-old"}, {Key: "date", Value: string(civil.Of(w.ago(25, 0)))}})
	w.insert("seminars", bson.D{{Key: "_id", Value: "sem-new"}, {Key: "date", Value: string(civil.Of(w.ago(1, 0)))}})
	w.gone["seminars"], w.kept["seminars"] = []string{"sem-old"}, []string{"sem-new"}
	oldHour, newHour := w.ago(25, 0).Format("2006-01-02T15Z"), w.ago(1, 0).Format("2006-01-02T15Z")
	w.insert("event_stats", bson.D{{Key: "_id", Value: oldHour}, {Key: "count", Value: 3}})
	w.insert("event_stats", bson.D{{Key: "_id", Value: newHour}, {Key: "count", Value: 3}})
	w.gone["event_stats"], w.kept["event_stats"] = []string{oldHour}, []string{newHour}

	// Signals: A's old one at CP1 goes with A's entry in that month; B's
	// old one is evidence of the kept case; new ones stay.
	sig := func(id, employee string, d time.Time) detect.Signal {
		return detect.Signal{Ref: ref(id), Kind: detect.KindExpenseClaim, EmployeeID: employee, Date: civil.Of(d),
			Amount: event.Money{Amount: "100.00", Currency: "CNY"}, Merchant: "CP1", CounterpartyID: "CP1"}
	}
	oldMonth := w.ago(13, 0)
	w.must(signals.AddSignals(ctx, "E1", []detect.Signal{sig("ev-sig-old", "E1", oldMonth), sig("ev-sig-new", "E1", w.ago(1, 0))}))
	// A late claim for an old expense, received an hour ago: detection may
	// still be opening its case, so it stays (and its event, by age).
	w.kept["events"] = append(w.kept["events"], w.event("ev-late", "E1", w.now.Add(-time.Hour)))
	w.must(signals.AddSignals(ctx, "E1", []detect.Signal{sig("ev-late", "E1", oldMonth)}))
	w.must(signals.AddSignals(ctx, "E2", []detect.Signal{sig("ev-evidence", "E2", w.ago(40, 0)), sig("ev-sig-b", "E2", oldMonth)}))
	w.must(signals.AddSignals(ctx, "E1", []detect.Signal{sig("ev-in-cleared", "E1", w.ago(30, 0))}))

	// Presence of seminar-speaker-match: old payment days and kept payments
	// go with the signals' period, old speaker-seminar months with the raw
	// events'; HR function keys have no age and stay.
	day := func(t time.Time) string { return string(civil.Of(t)) }
	for _, e := range []struct {
		id, d string
		gone  bool
	}{{"at:shanghai:" + day(w.ago(13, 0)) + ":E1", day(w.ago(13, 0)), true}, {"at:shanghai:" + day(w.ago(1, 0)) + ":E1", day(w.ago(1, 0)), false},
		{"leave:" + day(w.ago(14, 0)) + ":E1", day(w.ago(14, 0)), true}} {
		w.insert("presence_days", bson.D{{Key: "_id", Value: e.id}, {Key: "d", Value: e.d}})
		if e.gone {
			w.gone["presence_days"] = append(w.gone["presence_days"], e.id)
		} else {
			w.kept["presence_days"] = append(w.kept["presence_days"], e.id)
		}
	}
	oldSem, newSem := "sem:"+day(w.ago(25, 0))[:7], "sem:"+day(w.ago(1, 0))[:7]
	w.insert("presence_days", bson.D{{Key: "_id", Value: oldSem}, {Key: "seminars", Value: bson.A{}}})
	w.insert("presence_days", bson.D{{Key: "_id", Value: newSem}, {Key: "seminars", Value: bson.A{}}})
	w.insert("presence_days", bson.D{{Key: "_id", Value: "fit:fn:motor"}, {Key: "employees", Value: bson.A{"E1"}}})
	w.gone["presence_days"] = append(w.gone["presence_days"], oldSem)
	w.kept["presence_days"] = append(w.kept["presence_days"], newSem, "fit:fn:motor")
	_, err := db.DB.Collection("activity").UpdateOne(ctx, bson.D{{Key: "_id", Value: "E1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "presence", Value: bson.A{
		bson.D{{Key: "source", Value: "expense/test"}, {Key: "id", Value: "pay-old"}, {Key: "date", Value: day(w.ago(13, 0))}, {Key: "city", Value: "上海"}},
		bson.D{{Key: "source", Value: "expense/test"}, {Key: "id", Value: "pay-new"}, {Key: "date", Value: day(w.ago(1, 0))}, {Key: "city", Value: "上海"}},
	}}}}})
	w.must(err)

	// Declarations: A's old decided one goes (with its transition), B's old
	// one covering the kept case stays, a pending one never goes, a recent
	// one stays.
	discl := mongostore.NewDisclosureStore(db)
	decl := func(id, employee string, status disclosure.Status, end time.Time) disclosure.Disclosure {
		d := disclosure.Disclosure{ID: id, EmployeeID: employee, Input: disclosure.Input{Kind: disclosure.KindPaidSeminar,
			Counterparty: "CP1", CounterpartyType: disclosure.CounterpartyExpertNetwork, Topic: "talk",
			StartDate: civil.Of(end), EndDate: civil.Of(end)}, Status: status, Approver: disclosure.ApproverCompliance,
			Version: 1, CreatedAt: end, UpdatedAt: end}
		w.must(discl.Create(ctx, d))
		return d
	}
	old := decl("D-old", "E1", disclosure.StatusPending, w.ago(61, 0))
	old.Status = disclosure.StatusApproved
	_, err = discl.Update(ctx, old)
	w.must(err)
	decl("D-covering", "E2", disclosure.StatusApproved, w.ago(70, 0))
	decl("D-pending", "E1", disclosure.StatusPending, w.ago(70, 0))
	decl("D-rejected-old", "E1", disclosure.StatusRejected, w.ago(65, 0)) // goes with the old confirmed case that refers to it
	decl("D-new", "E1", disclosure.StatusApproved, w.ago(1, 0))
	w.gone["disclosures"] = []string{"D-old", "D-rejected-old"}
	w.kept["disclosures"] = []string{"D-covering", "D-pending", "D-new"}
	w.gone["transitions"] = []string{"disclosure/D-old:1"}

	// Cases: A's cleared case closed 25 months ago goes with its comment,
	// its transition, a queue row left behind and its id in case_refs; A's
	// confirmed case closed 61 months ago goes; B's confirmed case closed 30
	// months ago and A's open case stay.
	cleared := w.closedCase("case-cleared", "E1", review.StatusCleared, w.ago(25, 0), []event.Ref{ref("ev-in-cleared")}, "")
	openFirst := cleared
	openFirst.Status, openFirst.Decision = review.StatusOpen, nil
	w.must(cases.Create(ctx, openFirst))
	cleared.Version = 1
	w.must(cases.Update(ctx, cleared))
	w.must(mongostore.NewCommentStore(db).Add(ctx, "case-cleared", "cm-1", review.Comment{At: w.ago(25, 1), By: "R9", Text: "note"}))
	w.insert("case_queue", bson.D{{Key: "_id", Value: "case-cleared"}, {Key: "employee_id", Value: "E1"}, {Key: "status", Value: "open"}})
	confirmedOld := w.closedCase("case-confirmed-old", "E1", review.StatusConfirmed, w.ago(61, 0), nil, "")
	confirmedOld.Findings[0].DisclosureIDs = []string{"D-rejected-old"}
	w.must(cases.Create(ctx, confirmedOld))
	w.must(cases.Create(ctx, w.closedCase("case-confirmed", "E2", review.StatusConfirmed, w.ago(30, 0), []event.Ref{ref("ev-evidence")}, "D-covering")))
	openCase := w.closedCase("case-open", "E1", review.StatusOpen, w.ago(1, 0), nil, "")
	openCase.Decision = nil
	w.must(cases.Create(ctx, openCase))
	w.gone["cases"] = []string{"case-cleared", "case-confirmed-old"}
	w.kept["cases"] = []string{"case-confirmed", "case-open"}
	w.gone["case_comments"] = []string{"cm-1"}
	w.gone["transitions"] = append(w.gone["transitions"], "case/case-cleared:1")
	// A recent transition of it (by this clock) goes with the case, not by age.
	w.insert("transitions", bson.D{{Key: "_id", Value: "case/case-cleared:7"}, {Key: "resource", Value: "case/case-cleared"}, {Key: "at", Value: w.ago(0, 1)}})
	w.gone["transitions"] = append(w.gone["transitions"], "case/case-cleared:7")
	// On FerretDB and mongo-java-server the queue is kept by facets
	// (queuefacets.go) and case_queue is not written.
	if w.exists("case_queue", "case-open") {
		w.kept["case_queue"] = []string{"case-open"}
	}
	w.gone["case_queue"] = []string{"case-cleared"}

	// Audit: old entries about nothing still stored go; an old read of the
	// open case stays while the case does; a read of the purged cleared
	// case within 84 months stays though the case is gone.
	entry := func(id string, at time.Time, resource string) {
		e := audit.Entry{ID: id, At: at, Actor: "R9", ActorRoles: []string{"compliance"}, Action: audit.ActionCaseRead, OwnerID: "E1"}
		if resource != "" {
			e.ResourceType, e.ResourceID = audit.ResourceCase, resource
		}
		w.must(mongostore.NewAuditStore(db).AppendMany(ctx, []audit.Entry{e}))
	}
	entry("au-old-open", w.ago(85, 0), "case-open")
	entry("au-old-gone", w.ago(85, 0), "case-never")
	entry("au-old-plain", w.ago(85, 0), "")
	entry("au-mid-cleared", w.ago(30, 0), "case-cleared")
	w.gone["audit"] = []string{"au-old-gone", "au-old-plain"}
	w.kept["audit"] = []string{"au-old-open", "au-mid-cleared"}

	// Housekeeping.
	sessions := mongostore.NewSessionStore(db)
	w.must(sessions.Create(ctx, session.Record{ID: "s-old", Subject: "E1", CSRF: "x", Created: w.ago(0, 10), LastSeen: w.ago(0, 9), Expires: w.ago(0, 2)}))
	w.must(sessions.Create(ctx, session.Record{ID: "s-live", Subject: "E1", CSRF: "x", Created: w.now, LastSeen: w.now, Expires: w.now.Add(time.Hour)}))
	w.gone["sessions"], w.kept["sessions"] = []string{"s-old"}, []string{"s-live"}
	w.insert("transitions", bson.D{{Key: "_id", Value: "case/x:1"}, {Key: "resource", Value: "case/x"}, {Key: "at", Value: w.ago(0, 31)}})
	w.gone["transitions"] = append(w.gone["transitions"], "case/x:1")
	w.insert("leases", bson.D{{Key: "_id", Value: "old:000000000001"}, {Key: "name", Value: "old"}, {Key: "epoch", Value: 1}, {Key: "expires_at", Value: w.ago(0, 31)}})
	w.insert("leases", bson.D{{Key: "_id", Value: "live:000000000001"}, {Key: "name", Value: "live"}, {Key: "epoch", Value: 1}, {Key: "expires_at", Value: w.now.Add(time.Hour)}})
	w.gone["leases"], w.kept["leases"] = []string{"old:000000000001"}, []string{"live:000000000001"}
	reviewers := mongostore.NewReviewerStore(db)
	w.must(reviewers.Seen(ctx, "R-old", w.ago(13, 0)))
	w.must(reviewers.Seen(ctx, "R9", w.ago(1, 0)))
	w.gone["reviewers"], w.kept["reviewers"] = []string{"R-old"}, []string{"R9"}
	w.extra = w.seedPeople()
	return w
}

func (w *purgeWorld) exists(coll, id string) bool {
	w.t.Helper()
	n, err := w.db.DB.Collection(coll).CountDocuments(w.t.Context(), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		w.t.Fatal(err)
	}
	return n > 0
}

func (w *purgeWorld) check(sets map[string][]string, want bool, when string) {
	w.t.Helper()
	for coll, ids := range sets {
		for _, id := range ids {
			if got := w.exists(coll, id); got != want {
				w.t.Errorf("%s: %s %s exists = %v, want %v", when, coll, id, got, want)
			}
		}
	}
}

// signalIDs returns the event ids of an employee's stored signals.
func (w *purgeWorld) signalIDs(employee string) string {
	w.t.Helper()
	sigs, err := mongostore.NewSignalStore(w.db).Signals(w.t.Context(), employee)
	w.must(err)
	var ids []string
	for _, s := range sigs {
		ids = append(ids, s.Ref.ID)
	}
	return strings.Join(ids, ",")
}

func (w *purgeWorld) monthEmployees(id string) string {
	w.t.Helper()
	var d struct {
		Employees []string `bson:"employees"`
	}
	w.must(w.db.DB.Collection("counterparty_months").FindOne(w.t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&d))
	return strings.Join(d.Employees, ",")
}

// TestPurgeRemovesExactlyTheExpired: with an injected clock, the purge
// removes every expired document from every collection that holds it and
// keeps the rest: evidence of kept cases, pending declarations, the audit
// of data still stored and entries younger than the audit period. A dry
// run counts the same and changes nothing; counts are audited.
func TestPurgeRemovesExactlyTheExpired(t *testing.T) {
	w := newPurgeWorld(t)
	cfg := retention.DefaultConfig()
	cfg.BatchSize = 2 // pages, on few documents
	auditStore := mongostore.NewAuditStore(w.db)
	clock := func() time.Time { return w.now }
	p := &retention.Purger{Store: mongostore.NewPurge(w.db, cfg.BatchSize).WithClock(clock), Audit: auditStore, Config: cfg, Now: clock}

	dry, err := p.Run(t.Context(), true, "test")
	if err != nil {
		t.Fatal(err)
	}
	w.check(w.gone, true, "after the dry run")
	w.check(w.kept, true, "after the dry run")
	want := map[retention.Kind]int{
		// The transitions of the removed case and declaration are older than
		// 30 days by this clock: the transitions kind counts them.
		retention.RawEvents: 4, retention.Signals: 6, retention.Declarations: 1, retention.AuditLog: 2,
		retention.ClearedCases: 8, retention.ConfirmedCases: 3, retention.Sessions: 1, retention.Transitions: 3,
		retention.Leases: 1, retention.Reviewers: 1,
	}
	for k, n := range w.extra {
		want[k] += n
	}
	// The facets' version claims (FerretDB, mongo-java-server) are as many
	// as the seeding's queue changes: checked by age below, not counted.
	byKind := map[retention.Kind]int{}
	for _, r := range dry.Removed {
		if r.Collection != "queue_claims" {
			byKind[r.Kind] += r.Count
		}
	}
	for _, k := range retention.Kinds() {
		if got := byKind[k]; got != want[k] {
			t.Errorf("dry run counts %d of %s, want %d\n%s", got, k, want[k], dry)
		}
	}
	// Every collection the purge removes from has an expired document here.
	// (Removed from inside documents, checked below: activity's signals,
	// counterparty_months' entries, the facets' rows in queue_chunks; the
	// facet claims by age; queue_places exists with facets only.)
	inside := map[string]bool{"activity": true, "counterparty_months": true, "queue_chunks": true, "queue_claims": true,
		"queue_places": !w.exists("queue_places", "case-open")}
	for _, c := range mongostore.Collections() {
		if len(c.Kinds) > 0 && len(w.gone[c.Name]) == 0 && !inside[c.Name] {
			t.Errorf("the purge removes from %s (%v) but the test seeds nothing there that must go", c.Name, c.Kinds)
		}
	}

	real, err := p.Run(t.Context(), false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if real.String() != strings.Replace(dry.String(), "would remove", "removed", 1) {
		t.Errorf("the run removed other counts than the dry run said:\n%s\n%s", dry, real)
	}
	w.check(w.gone, false, "after the purge")
	w.check(w.kept, true, "after the purge")
	w.checkPeople()
	// The purged cases are in no queue listing or count, whichever way the
	// server keeps the queue.
	for _, st := range []string{review.StatusCleared, review.StatusConfirmed} {
		cs, _, err := mongostore.NewCaseStore(w.db).List(t.Context(), review.Filter{Status: st}, 50, "")
		w.must(err)
		for _, c := range cs {
			if c.ID == "case-cleared" || c.ID == "case-confirmed-old" {
				t.Errorf("the queue still lists the purged case %s", c.ID)
			}
		}
	}
	stats, err := mongostore.NewCaseStore(w.db).Stats(t.Context())
	w.must(err)
	if stats.ByStatus[review.StatusCleared] != 0 || stats.ByStatus[review.StatusConfirmed] != 1 {
		t.Errorf("queue counts after the purge = %+v, want no cleared and one confirmed case", stats.ByStatus)
	}
	if n, err := w.db.DB.Collection("queue_claims").CountDocuments(t.Context(), bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: w.ago(0, 30)}}}}); err != nil || n != 0 {
		t.Errorf("%d facet claims older than the transitions period left (%v)", n, err)
	}
	if got := w.signalIDs("E1"); got != "ev-sig-new,ev-late" {
		t.Errorf("E1's signals = %s, want the new one and the one just received", got)
	}
	if got := w.signalIDs("E2"); got != "ev-evidence" {
		t.Errorf("E2's signals = %s, want only the evidence of the kept case (the old one in no case goes)", got)
	}
	var act struct {
		Presence []struct {
			ID string `bson:"id"`
		} `bson:"presence"`
	}
	w.must(w.db.DB.Collection("activity").FindOne(t.Context(), bson.D{{Key: "_id", Value: "E1"}}).Decode(&act))
	if len(act.Presence) != 1 || act.Presence[0].ID != "pay-new" {
		t.Errorf("E1's kept payments = %+v, want only the new one", act.Presence)
	}
	oldKey := "CP1|" + string(civil.Of(w.ago(13, 0)))[:7]
	if got := w.monthEmployees(oldKey); got != "E1" {
		t.Errorf("counterparty month %s lists %q, want only E1 (its late signal stays; E2's went)", oldKey, got)
	}
	refs, err := mongostore.NewCaseStore(w.db).CasesOf(t.Context(), []string{"E1"})
	w.must(err)
	if len(refs["E1"]) != 1 || refs["E1"][0].ID != "case-open" {
		t.Errorf("E1's cases after the purge = %+v, want only the open one", refs["E1"])
	}

	// The counts, not the contents, are audited.
	es, _, err := auditStore.List(t.Context(), audit.Filter{Action: retention.ActionPurge}, 10, "")
	w.must(err)
	if len(es) != 1 || es[0].Actor != audit.SystemActor || es[0].Details["raw_events"] != "4" ||
		es[0].Details["cleared_cases"] != strconv.Itoa(real.ByKind()[retention.ClearedCases]) || es[0].Details["former_employees"] != "9" {
		t.Fatalf("purge audit entries = %+v, want one by the system with counts per kind", es)
	}

	// A second run finds nothing more: what the purged cases kept went with them.
	again, err := p.Run(t.Context(), false, "test")
	w.must(err)
	w.check(w.kept, true, "after the second purge")
	for k, n := range again.ByKind() {
		if n != 0 {
			t.Errorf("second purge removed %d of %s, want nothing\n%s", n, k, again)
		}
	}

}
