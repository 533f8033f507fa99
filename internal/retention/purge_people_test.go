package retention_test

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/retention"
)

// seedPeople adds, on both sides of their periods, documents of the kinds
// and collections added for issue 15's remainder: attestations, former
// employees and what is kept per person beside their record, notices with
// their deliveries, claims and the demo sink's mails, idempotent answers,
// NDA partners, and unmask requests and states of purged cases. It returns
// the counts per kind the purge must report for them.
func (w *purgeWorld) seedPeople() map[retention.Kind]int {
	ctx := w.t.Context()
	day := func(t time.Time) string { return string(civil.Of(t)) }
	goes := func(coll string, ids ...string) { w.gone[coll] = append(w.gone[coll], ids...) }
	stays := func(coll string, ids ...string) { w.kept[coll] = append(w.kept[coll], ids...) }

	// Attestations: an old done one goes; an old overdue one whose finding
	// is in B's kept confirmed case stays; a pending one never goes; a
	// recent one stays.
	att := func(id, employee, status string, updated time.Time) {
		w.insert("attestations", bson.D{{Key: "_id", Value: id}, {Key: "employee_id", Value: employee}, {Key: "project_code", Value: "MS11"},
			{Key: "status", Value: status}, {Key: "updated_at", Value: updated}, {Key: "version", Value: 1}})
	}
	att("att-old-done", "E1", attest.StatusDone, w.ago(61, 0))
	att("att-old-in-case", "E2", attest.StatusOverdue, w.ago(61, 0))
	att("att-old-pending", "E1", attest.StatusPending, w.ago(70, 0))
	att("att-new", "E1", attest.StatusDone, w.ago(1, 0))
	goes("attestations", "att-old-done")
	stays("attestations", "att-old-in-case", "att-old-pending", "att-new")
	c, err := mongostore.NewCaseStore(w.db).Get(ctx, "case-confirmed")
	w.must(err)
	c.Findings = append(c.Findings, detect.Finding{ID: "f-att", EmployeeID: "E2", Rule: attest.RuleOverdue, Severity: detect.SeverityLow,
		Score: 5, Project: "MS11", OccurredOn: civil.Of(w.ago(61, 0))})
	w.must(mongostore.NewCaseStore(w.db).Update(ctx, c))

	// Former employees: E-gone left 61 months ago with nothing kept about
	// them: the record goes with their profiles, saved filter, unmask
	// state, case index and place in a function list. E-rev left as long
	// ago but was seen as a reviewer last month: the record goes, their
	// filter and state stay for the reviewers kind. E-declared has a
	// pending declaration; E-recent left last month; E-still works here.
	emp := func(id, end string) {
		w.insert("employees", bson.D{{Key: "_id", Value: id}, {Key: "name", Value: "name of " + id},
			{Key: "employments", Value: bson.A{bson.D{{Key: "start", Value: "2010-01-04"}, {Key: "end", Value: end}}}}, {Key: "version", Value: 1}})
	}
	emp("E-gone", day(w.ago(61, 0)))
	emp("E-rev", day(w.ago(62, 0)))
	emp("E-declared", day(w.ago(61, 0)))
	emp("E-recent", day(w.ago(1, 0)))
	emp("E-still", "")
	goes("employees", "E-gone", "E-rev")
	stays("employees", "E-declared", "E-recent", "E-still")
	w.insert("disclosures", bson.D{{Key: "_id", Value: "D-left"}, {Key: "employee_id", Value: "E-declared"}, {Key: "status", Value: "pending"},
		{Key: "end_date", Value: day(w.ago(61, 0))}, {Key: "version", Value: 1}})
	stays("disclosures", "D-left")
	for _, id := range []string{"E-gone", "E-recent"} {
		w.insert("profiles", bson.D{{Key: "_id", Value: id}, {Key: "language", Value: "zh"}})
		w.insert("ui_profiles", bson.D{{Key: "_id", Value: id}, {Key: "lang", Value: "zh"}, {Key: "updated_at", Value: w.ago(61, 0)}})
		w.insert("unmask_states", bson.D{{Key: "_id", Value: id}, {Key: "cases", Value: bson.D{}}})
	}
	w.insert("unmask_states", bson.D{{Key: "_id", Value: "E-rev"}, {Key: "cases", Value: bson.D{}}})
	w.insert("case_refs", bson.D{{Key: "_id", Value: "E-gone"}, {Key: "cases", Value: bson.A{}}})
	w.insert("attestation_refs", bson.D{{Key: "_id", Value: "E-gone"}, {Key: "tasks", Value: bson.A{}}})
	w.insert("attestation_refs", bson.D{{Key: "_id", Value: "E-recent"}, {Key: "tasks", Value: bson.A{}}})
	w.insert("saved_filters", bson.D{{Key: "_id", Value: "sf-gone"}, {Key: "user", Value: "E-gone"}, {Key: "name", Value: "mine"}, {Key: "query", Value: "q"}, {Key: "at", Value: w.ago(62, 0)}})
	w.insert("saved_filters", bson.D{{Key: "_id", Value: "sf-rev"}, {Key: "user", Value: "E-rev"}, {Key: "name", Value: "mine"}, {Key: "query", Value: "q"}, {Key: "at", Value: w.ago(62, 0)}})
	w.must(mongostore.NewReviewerStore(w.db).Seen(ctx, "E-rev", w.ago(1, 0)))
	w.insert("presence_days", bson.D{{Key: "_id", Value: "fit:fn:battery"}, {Key: "employees", Value: bson.A{"E1", "E-gone"}}})
	goes("profiles", "E-gone")
	goes("ui_profiles", "E-gone")
	goes("unmask_states", "E-gone")
	goes("case_refs", "E-gone")
	goes("attestation_refs", "E-gone")
	stays("attestation_refs", "E-recent")
	goes("saved_filters", "sf-gone")
	stays("profiles", "E-recent")
	stays("ui_profiles", "E-recent")
	stays("unmask_states", "E-recent", "E-rev")
	stays("saved_filters", "sf-rev")
	stays("presence_days", "fit:fn:battery")
	stays("reviewers", "E-rev")

	// Notices: an old sent one goes with its delivery, the claims of its
	// two attempts and the sink's copy; an old one still being retried, an
	// old pending one and a new one stay.
	notice := func(id, state string, created time.Time, delivery, dstate string, attempts int) {
		w.insert("outbox", bson.D{{Key: "_id", Value: id}, {Key: "kind", Value: "attestation-due"}, {Key: "recipient", Value: "E1"},
			{Key: "params", Value: bson.D{}}, {Key: "created_at", Value: created}, {Key: "state", Value: state}, {Key: "next_at", Value: created}})
		if delivery != "" {
			w.insert("outbox_deliveries", bson.D{{Key: "_id", Value: delivery}, {Key: "notice_id", Value: id}, {Key: "channel", Value: "email"},
				{Key: "target", Value: "e1@example.com"}, {Key: "state", Value: dstate}, {Key: "attempts", Value: attempts}, {Key: "next_at", Value: created}})
		}
	}
	notice("n-old", "dispatched", w.ago(0, 91), "n-old|email:e1", "sent", 1)
	notice("n-retrying", "dispatched", w.ago(0, 91), "n-retrying|email:e1", "pending", 3)
	notice("n-pending", "pending", w.ago(0, 100), "", "", 0)
	notice("n-new", "dispatched", w.ago(0, 1), "n-new|email:e1", "sent", 1)
	for _, id := range []string{"n-old|email:e1#0", "n-old|email:e1#1", "n-new|email:e1#0"} {
		w.insert("outbox_claims", bson.D{{Key: "_id", Value: id}, {Key: "holder", Value: "r1"}, {Key: "at", Value: w.ago(0, 91)}})
	}
	w.insert("mail_sink", bson.D{{Key: "_id", Value: "m-old"}, {Key: "to", Value: bson.A{"e1@example.com"}}, {Key: "received_at", Value: w.ago(0, 91)}})
	w.insert("mail_sink", bson.D{{Key: "_id", Value: "m-new"}, {Key: "to", Value: bson.A{"e1@example.com"}}, {Key: "received_at", Value: w.ago(0, 1)}})
	goes("outbox", "n-old")
	goes("outbox_deliveries", "n-old|email:e1")
	goes("outbox_claims", "n-old|email:e1#0", "n-old|email:e1#1")
	goes("mail_sink", "m-old")
	stays("outbox", "n-retrying", "n-pending", "n-new")
	stays("outbox_deliveries", "n-retrying|email:e1", "n-new|email:e1")
	stays("outbox_claims", "n-new|email:e1#0")
	stays("mail_sink", "m-new")

	// Idempotent answers: kept a week.
	w.insert("idempotency", bson.D{{Key: "_id", Value: "idem-old"}, {Key: "owner", Value: "E1"}, {Key: "at", Value: w.ago(0, 8)}})
	w.insert("idempotency", bson.D{{Key: "_id", Value: "idem-new"}, {Key: "owner", Value: "E1"}, {Key: "at", Value: w.ago(0, 2)}})
	goes("idempotency", "idem-old")
	stays("idempotency", "idem-new")

	// NDA partners: by the NDA's expiry, unless an embargo runs or there
	// is no expiry.
	partner := func(id, expires, embargo string) {
		d := bson.D{{Key: "_id", Value: id}, {Key: "project_code", Value: "MS11"}, {Key: "name", Value: id},
			{Key: "contacts", Value: bson.A{bson.D{{Key: "name", Value: "王经理"}, {Key: "email", Value: "wang@partner.example"}}}}}
		if expires != "" {
			d = append(d, bson.E{Key: "nda_expires_on", Value: expires})
		}
		if embargo != "" {
			d = append(d, bson.E{Key: "embargo_until", Value: embargo})
		}
		w.insert("partners", d)
	}
	partner("p-old", day(w.ago(61, 0)), "")
	partner("p-embargo", day(w.ago(61, 0)), day(w.now.AddDate(0, 0, 10)))
	partner("p-open", "", "")
	partner("p-new", day(w.ago(1, 0)), "")
	goes("partners", "p-old")
	stays("partners", "p-embargo", "p-open", "p-new")

	// Unmask requests of the purged cleared case go with it, with the
	// requester's state of that case; those of the open case stay.
	w.insert("unmask_requests", bson.D{{Key: "_id", Value: "um-cleared"}, {Key: "case_id", Value: "case-cleared"}, {Key: "employee_id", Value: "E1"},
		{Key: "requester", Value: "R9"}, {Key: "status", Value: "approved"}, {Key: "requested_at", Value: w.ago(26, 0)}})
	w.insert("unmask_requests", bson.D{{Key: "_id", Value: "um-open"}, {Key: "case_id", Value: "case-open"}, {Key: "employee_id", Value: "E1"},
		{Key: "requester", Value: "R9"}, {Key: "status", Value: "approved"}, {Key: "requested_at", Value: w.ago(0, 2)}})
	w.insert("unmask_states", bson.D{{Key: "_id", Value: "R9"}, {Key: "cases", Value: bson.D{
		{Key: "case-cleared", Value: bson.D{{Key: "request", Value: "um-cleared"}, {Key: "status", Value: "approved"}}},
		{Key: "case-open", Value: bson.D{{Key: "request", Value: "um-open"}, {Key: "status", Value: "approved"}}},
	}}})
	goes("unmask_requests", "um-cleared")
	stays("unmask_requests", "um-open")
	stays("unmask_states", "R9")

	want := map[retention.Kind]int{
		retention.Attestations:    1,
		retention.FormerEmployees: 2 + 7, // 2 records; E-gone's 2 profiles, case and attestation indexes, function list entry, filter, state
		retention.Notices:         1 + 1 + 2 + 1,
		retention.Idempotency:     1,
		retention.Partners:        1,
		retention.ClearedCases:    2, // the unmask request and R9's state of the case
		retention.Transitions:     1, // case-confirmed's update above, older than 30 days by the injected clock
	}
	// On FerretDB and mongo-java-server the queue is kept in facets: each
	// purged case's row and placement go too.
	if w.exists("queue_places", "case-cleared") {
		goes("queue_places", "case-cleared", "case-confirmed-old")
		stays("queue_places", "case-confirmed", "case-open")
		want[retention.ClearedCases] += 2
		want[retention.ConfirmedCases] += 2
	}
	return want
}

// checkPeople checks what the ids cannot show: inside documents.
func (w *purgeWorld) checkPeople() {
	w.t.Helper()
	ctx := w.t.Context()
	var fit struct {
		Employees []string `bson:"employees"`
	}
	w.must(w.db.DB.Collection("presence_days").FindOne(ctx, bson.D{{Key: "_id", Value: "fit:fn:battery"}}).Decode(&fit))
	if len(fit.Employees) != 1 || fit.Employees[0] != "E1" {
		w.t.Errorf("fit:fn:battery lists %v, want only E1 (E-gone's record was purged)", fit.Employees)
	}
	var st struct {
		Cases map[string]any `bson:"cases"`
	}
	w.must(w.db.DB.Collection("unmask_states").FindOne(ctx, bson.D{{Key: "_id", Value: "R9"}}).Decode(&st))
	if _, ok := st.Cases["case-cleared"]; ok || st.Cases["case-open"] == nil {
		w.t.Errorf("R9's unmask states = %v, want only the open case's", st.Cases)
	}
}
