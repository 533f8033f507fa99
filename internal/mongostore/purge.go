package mongostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/retention"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// The retention purge (internal/retention) on MongoDB and FerretDB.
//
// purgeTable lists, per kind of data, every collection that holds it and
// the time field its age is read from. Adding a collection is one entry
// here (and, for a new kind, a period in retention.Config): the generic
// walk pages through the expired documents in (time, _id) order, asks the
// entry's keep guard which must stay, deletes the rest by _id, and lets
// the entry's cascade remove what other collections derived from them.
//
// Reads are bounded (BatchSize documents) and resume after the last
// document seen, so documents a guard keeps are not read again. On
// MongoDB each time field has an index (purgeIndexes); FerretDB scans the
// collection for every page, which a daily job can afford. Deletes go by
// _id: one deleteMany with $in on MongoDB, and on FerretDB commands of at
// most maxUpdatesPerCommand single-_id deletes (a larger delete of stored
// documents hangs it).

// purgeSpec is one collection holding one kind.
type purgeSpec struct {
	kind retention.Kind
	coll string
	// field holds the time the age is counted from ("_id" for keys that
	// are times); bound turns the cutoff into the stored form.
	field string
	bound func(cutoff time.Time) any
	// filter narrows the documents of the collection that are this kind.
	filter bson.D
	// fields are read besides _id and field, for keep and cascade.
	fields []string
	// keep returns the ids among docs that must stay (evidence of a case
	// still kept, say).
	keep func(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error)
	// cascade removes what other collections hold of the removed docs.
	// cutoffs are every kind's, for evidence that goes with a case.
	cascade func(ctx context.Context, p *Purge, docs []bson.Raw, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error)
	// walk replaces the generic walk (signals are removed from inside
	// documents, not as documents).
	walk func(ctx context.Context, p *Purge, cutoff time.Time, dry bool) ([]retention.Removed, error)
}

func timeBound(t time.Time) any { return storedTime(t) }
func dateBound(t time.Time) any { return string(civil.Of(t.UTC())) }
func hourBound(t time.Time) any { return t.UTC().Format(hourKey) }

// caseFields are what a case's cascade reads: whose, and its evidence.
var caseFields = []string{"employee_id", "findings.event_refs", "findings.disclosure_ids", "findings.covered_by"}

func purgeTable() []purgeSpec {
	closed := func(status string) bson.D { return bson.D{{Key: "status", Value: status}} }
	decided := bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{
		string(disclosure.StatusApproved), string(disclosure.StatusRejected), string(disclosure.StatusWithdrawn)}}}}}
	table := []purgeSpec{
		{kind: retention.RawEvents, coll: eventsCollection, field: "received_at", bound: timeBound,
			fields: []string{"employee_id"}, keep: keepCaseEvidence},
		{kind: retention.RawEvents, coll: seminarsCollection, field: "date", bound: dateBound},
		{kind: retention.RawEvents, coll: eventStatsCollection, field: "_id", bound: hourBound},
		{kind: retention.Signals, coll: activityCollection, walk: purgeSignals},
		// Payment and leave days of seminar-speaker-match (presence.go), by their day.
		{kind: retention.Signals, coll: presenceDaysCollection, field: "d", bound: dateBound},
		// Speaker seminars by month ("sem:<YYYY-MM>"), with the seminars.
		{kind: retention.RawEvents, coll: presenceDaysCollection, field: "_id", bound: func(t time.Time) any { return speakerKey(civil.Of(t.UTC())) },
			filter: bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: "sem:"}}}}}}}},
		{kind: retention.Declarations, coll: disclosuresCollection, field: "end_date", bound: dateBound, filter: decided,
			fields: []string{"employee_id"}, keep: keepCaseDeclarations, cascade: cascadeTransitions("disclosure/")},
		{kind: retention.AuditLog, coll: auditCollection, field: "at", bound: timeBound,
			fields: []string{"resource_type", "resource_id"}, keep: keepAuditOfKeptData},
		{kind: retention.ClearedCases, coll: casesCollection, field: "decision.at", bound: timeBound,
			filter: closed(review.StatusCleared), fields: caseFields, cascade: cascadeCases},
		{kind: retention.ConfirmedCases, coll: casesCollection, field: "decision.at", bound: timeBound,
			filter: closed(review.StatusConfirmed), fields: caseFields, cascade: cascadeCases},
		{kind: retention.Sessions, coll: sessionsCollection, field: "expires", bound: timeBound},
		{kind: retention.Transitions, coll: transitionsCollection, field: "at", bound: timeBound},
		{kind: retention.Leases, coll: leasesCollection, field: "expires_at", bound: timeBound},
		{kind: retention.Reviewers, coll: reviewersCollection, field: "last_seen", bound: timeBound, cascade: cascadeReviewers},
	}
	return append(table, peoplePurgeSpecs()...)
}

// purgeIndexes serve the purge's range reads on MongoDB.
func purgeIndexes() []index {
	ix := func(coll, name string, keys ...string) index {
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: 1})
		}
		return index{coll, mongo.IndexModel{Keys: d, Options: options.Index().SetName(name)}}
	}
	return []index{
		ix(eventsCollection, "received_id", "received_at", "_id"),
		ix(activityCollection, "signal_date", "signals.date"),
		ix(activityCollection, "presence_date", "presence.date"),
		ix(presenceDaysCollection, "day_id", "d", "_id"),
		ix(disclosuresCollection, "end_id", "end_date", "_id"),
		ix(casesCollection, "status_decided_id", "status", "decision.at", "_id"),
		ix(sessionsCollection, "expires_id", "expires", "_id"),
		ix(transitionsCollection, "at_id", "at", "_id"),
		ix(transitionsCollection, "resource", "resource"),
		ix(leasesCollection, "expires_id", "expires_at", "_id"),
		ix(reviewersCollection, "last_seen_id", "last_seen", "_id"),
		ix(attestationsCollection, "status_updated_id", "status", "updated_at", "_id"),
		ix(partnersCollection, "nda_expires_id", "nda_expires_on", "_id"),
		ix(unmaskRequestsCollection, "case", "case_id"),
	}
}

// Purge implements retention.Store.
type Purge struct {
	db        *DB
	cases     *CaseStore
	batchSize int
	now       func() time.Time
}

// signalGrace leaves alone a signal whose event arrived this recently,
// however old its date: detection may still be opening the case that
// will refer to it (a late claim for an old expense).
const signalGrace = 24 * time.Hour

var _ retention.Store = (*Purge)(nil)

// NewPurge returns the purge on db, reading batchSize documents at a time.
func NewPurge(db *DB, batchSize int) *Purge {
	if batchSize < 1 {
		batchSize = 500
	}
	return &Purge{db: db, cases: NewCaseStore(db), batchSize: batchSize, now: time.Now}
}

// WithClock sets the clock the purge reads (time.Now by default; tests
// inject theirs, the same as retention.Purger's).
func (p *Purge) WithClock(now func() time.Time) *Purge {
	p.now = now
	return p
}

// Purge implements retention.Store: every collection of kind k.
func (p *Purge) Purge(ctx context.Context, k retention.Kind, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	cutoff, ok := cutoffs[k]
	if !ok {
		return nil, fmt.Errorf("purge %s: no cutoff", k)
	}
	var out []retention.Removed
	for _, s := range purgeTable() {
		if s.kind != k {
			continue
		}
		walk := p.walk
		if s.walk != nil {
			walk = func(ctx context.Context, _ purgeSpec, cutoff time.Time, _ map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
				return s.walk(ctx, p, cutoff, dry)
			}
		}
		rs, err := walk(ctx, s, cutoff, cutoffs, dry)
		out = append(out, rs...)
		if err != nil {
			return out, fmt.Errorf("purge %s from %s: %w", k, s.coll, err)
		}
	}
	return out, nil
}

// walk is the generic purge of one spec.
func (p *Purge) walk(ctx context.Context, s purgeSpec, cutoff time.Time, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	coll := p.db.DB.Collection(s.coll)
	counts := map[string]int{}
	path := strings.Split(s.field, ".")
	proj := bson.D{{Key: "_id", Value: 1}, {Key: s.field, Value: 1}}
	for _, f := range s.fields {
		proj = append(proj, bson.E{Key: f, Value: 1})
	}
	sort := bson.D{{Key: s.field, Value: 1}, {Key: "_id", Value: 1}}
	if s.field == "_id" {
		sort, proj = bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 1}}
	}
	var lastT bson.RawValue
	lastID := ""
	for {
		filter := append(bson.D{}, s.filter...)
		cond := bson.D{{Key: "$lt", Value: s.bound(cutoff)}}
		if lastID != "" && s.field == "_id" {
			cond = append(cond, bson.E{Key: "$gt", Value: lastID}) // one _id condition: no key twice
		}
		filter = append(filter, bson.E{Key: s.field, Value: cond})
		if lastID != "" {
			if s.field != "_id" {
				filter = append(filter, bson.E{Key: "$or", Value: bson.A{
					bson.D{{Key: s.field, Value: bson.D{{Key: "$gt", Value: lastT}}}},
					bson.D{{Key: s.field, Value: lastT}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: lastID}}}},
				}})
			}
		}
		docs, err := findAll[bson.Raw](ctx, coll, filter, options.Find().SetSort(sort).SetProjection(proj).SetLimit(int64(p.batchSize)))
		if err != nil {
			return removed(s.kind, counts), err
		}
		if len(docs) == 0 {
			break
		}
		keep := map[string]bool{}
		if s.keep != nil {
			if keep, err = s.keep(ctx, p, docs); err != nil {
				return removed(s.kind, counts), err
			}
		}
		var gone []bson.Raw
		var ids []string
		for _, d := range docs {
			if id := rawString(d, "_id"); !keep[id] {
				gone, ids = append(gone, d), append(ids, id)
			}
		}
		if !dry {
			if err := p.deleteIDs(ctx, coll, ids); err != nil {
				return removed(s.kind, counts), err
			}
		}
		counts[s.coll] += len(ids)
		if s.cascade != nil && len(gone) > 0 {
			rs, err := s.cascade(ctx, p, gone, cutoffs, dry)
			for _, r := range rs {
				counts[r.Collection] += r.Count
			}
			if err != nil {
				return removed(s.kind, counts), err
			}
		}
		last := docs[len(docs)-1]
		lastID = rawString(last, "_id")
		if s.field != "_id" {
			if lastT, err = last.LookupErr(path...); err != nil {
				return removed(s.kind, counts), fmt.Errorf("document %s has no %s", lastID, s.field)
			}
		}
		if len(docs) < p.batchSize {
			break
		}
	}
	return removed(s.kind, counts), nil
}

func removed(k retention.Kind, counts map[string]int) []retention.Removed {
	var out []retention.Removed
	for c, n := range counts {
		out = append(out, retention.Removed{Kind: k, Collection: c, Count: n})
	}
	return out
}

func rawString(d bson.Raw, path ...string) string {
	v, err := d.LookupErr(path...)
	if err != nil {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

// deleteIDs deletes documents by _id, in commands FerretDB survives.
func (p *Purge) deleteIDs(ctx context.Context, coll *mongo.Collection, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if !p.db.IsFerretDB(ctx) {
		for start := 0; start < len(ids); start += 1000 {
			end := min(start+1000, len(ids))
			if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[start:end]}}}}); err != nil {
				return err
			}
		}
		return nil
	}
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}})
	}
	return bulkWriteChunked(ctx, coll, models)
}

// existing returns which of ids are documents of coll.
func (p *Purge) existing(ctx context.Context, coll string, ids []string) (map[string]bool, error) {
	docs, err := byIDs[idDoc](ctx, p.db, p.db.DB.Collection(coll), ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(docs))
	for _, d := range docs {
		out[d.ID] = true
	}
	return out, nil
}

// evidence is what the cases of some employees refer to: the events of
// their findings and the disclosures that cover or concern them.
type evidence struct {
	events, disclosures map[string]bool
}

// evidenceOf reads the cases of the employees by key (case_refs).
func (p *Purge) evidenceOf(ctx context.Context, employeeIDs []string) (evidence, error) {
	ev := evidence{events: map[string]bool{}, disclosures: map[string]bool{}}
	seen := map[string]bool{}
	var ids []string
	for _, id := range employeeIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	cases, err := p.cases.CasesOf(ctx, ids)
	if err != nil {
		return ev, err
	}
	for _, cs := range cases {
		for _, c := range cs {
			for _, f := range c.Findings {
				for _, r := range f.EventRefs {
					ev.events[r.Key()] = true
				}
				for _, d := range f.DisclosureIDs {
					ev.disclosures[d] = true
				}
				if f.CoveredBy != "" {
					ev.disclosures[f.CoveredBy] = true
				}
			}
		}
	}
	return ev, nil
}

func employeesOf(docs []bson.Raw) []string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, rawString(d, "employee_id"))
	}
	return out
}

// keepCaseEvidence keeps the events a case still kept refers to.
func keepCaseEvidence(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	ev, err := p.evidenceOf(ctx, employeesOf(docs))
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, d := range docs {
		if id := rawString(d, "_id"); ev.events[id] {
			keep[id] = true
		}
	}
	return keep, nil
}

// keepCaseDeclarations keeps the disclosures a case still kept refers to.
func keepCaseDeclarations(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	ev, err := p.evidenceOf(ctx, employeesOf(docs))
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, d := range docs {
		if id := rawString(d, "_id"); ev.disclosures[id] {
			keep[id] = true
		}
	}
	return keep, nil
}

// keepAuditOfKeptData keeps the entries about a case or a declaration
// that is still stored: the log is never purged before what it records.
func keepAuditOfKeptData(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	byColl := map[string][]string{}
	for _, d := range docs {
		switch rawString(d, "resource_type") {
		case "case":
			byColl[casesCollection] = append(byColl[casesCollection], rawString(d, "resource_id"))
		case "disclosure":
			byColl[disclosuresCollection] = append(byColl[disclosuresCollection], rawString(d, "resource_id"))
		}
	}
	live := map[string]map[string]bool{}
	for coll, ids := range byColl {
		m, err := p.existing(ctx, coll, ids)
		if err != nil {
			return nil, err
		}
		live[coll] = m
	}
	keep := map[string]bool{}
	for _, d := range docs {
		rid := rawString(d, "resource_id")
		switch rawString(d, "resource_type") {
		case "case":
			if live[casesCollection][rid] {
				keep[rawString(d, "_id")] = true
			}
		case "disclosure":
			if live[disclosuresCollection][rid] {
				keep[rawString(d, "_id")] = true
			}
		}
	}
	return keep, nil
}

// cascadeCases removes what is kept beside removed cases: their queue
// rows (case_queue, or the facets), their ids in case_refs, their
// comments, their unmask requests and their transitions.
func cascadeCases(ctx context.Context, p *Purge, docs []bson.Raw, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, rawString(d, "_id"))
	}
	var out []retention.Removed
	add := func(coll string, n int) {
		out = append(out, retention.Removed{Collection: coll, Count: n})
	}
	queued, err := p.existing(ctx, caseQueueCollection, ids)
	if err != nil {
		return out, err
	}
	var qids []string
	for id := range queued {
		qids = append(qids, id)
	}
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(caseQueueCollection), qids); err != nil {
			return out, err
		}
	}
	add(caseQueueCollection, len(qids))
	refs := p.db.DB.Collection(caseRefsCollection)
	for _, d := range docs {
		if !dry {
			if _, err := refs.UpdateOne(ctx, bson.D{{Key: "_id", Value: rawString(d, "employee_id")}},
				bson.D{{Key: "$pull", Value: bson.D{{Key: "cases", Value: rawString(d, "_id")}}}}); err != nil {
				return out, fmt.Errorf("case_refs of %s: %w", rawString(d, "employee_id"), err)
			}
		}
	}
	add(caseRefsCollection, len(docs))
	n, err := p.deleteWhere(ctx, commentsCollection, bson.D{{Key: "case_id", Value: bson.D{{Key: "$in", Value: ids}}}}, dry)
	add(commentsCollection, n)
	if err != nil {
		return out, err
	}
	rs, err := cascadeTransitions("case/")(ctx, p, docs, cutoffs, dry)
	out = append(out, rs...)
	if err != nil {
		return out, err
	}
	rs, err = p.cascadeCaseProjections(ctx, ids, cutoffs, dry)
	out = append(out, rs...)
	if err != nil {
		return out, err
	}
	rs, err = p.freeEvidence(ctx, docs, cutoffs, dry)
	return append(out, rs...), err
}

// cascadeTransitions removes the transition documents of removed
// resources ("<prefix><id>:<version>").
// Transitions older than their own period are left to the transitions
// kind, purged later in the run, so a dry run counts none twice.
func cascadeTransitions(prefix string) func(ctx context.Context, p *Purge, docs []bson.Raw, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	return func(ctx context.Context, p *Purge, docs []bson.Raw, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
		resources := make([]string, 0, len(docs))
		for _, d := range docs {
			resources = append(resources, prefix+rawString(d, "_id"))
		}
		filter := bson.D{{Key: "resource", Value: bson.D{{Key: "$in", Value: resources}}}}
		if t, ok := cutoffs[retention.Transitions]; ok {
			filter = append(filter, bson.E{Key: "at", Value: bson.D{{Key: "$gte", Value: storedTime(t)}}})
		}
		n, err := p.deleteWhere(ctx, transitionsCollection, filter, dry)
		return []retention.Removed{{Collection: transitionsCollection, Count: n}}, err
	}
}

// deleteWhere deletes the documents matching filter by _id, in pages.
func (p *Purge) deleteWhere(ctx context.Context, coll string, filter bson.D, dry bool) (int, error) {
	c := p.db.DB.Collection(coll)
	total := 0
	after := ""
	for {
		f := append(bson.D{}, filter...)
		if after != "" {
			f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		docs, err := findAll[idDoc](ctx, c, f, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
			SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(p.batchSize)))
		if err != nil {
			return total, err
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		if !dry {
			if err := p.deleteIDs(ctx, c, ids); err != nil {
				return total, err
			}
		}
		total += len(ids)
		if len(docs) < p.batchSize {
			return total, nil
		}
		after = ids[len(ids)-1]
	}
}

// recentEvents returns the keys of the events behind the old signals of
// docs that arrived within signalGrace.
func (p *Purge) recentEvents(ctx context.Context, docs []rawActivity, bound string) (map[string]bool, error) {
	var keys []string
	for _, a := range docs {
		for _, raw := range append(append([]bson.Raw{}, a.Signals...), a.Presence...) {
			if rawString(raw, "date") < bound {
				keys = append(keys, event.Ref{Source: rawString(raw, "source"), ID: rawString(raw, "id")}.Key())
			}
		}
	}
	evs, err := byIDs[struct {
		ID         string    `bson:"_id"`
		ReceivedAt time.Time `bson:"received_at"`
	}](ctx, p.db, p.db.DB.Collection(eventsCollection), keys)
	if err != nil {
		return nil, err
	}
	since := p.now().Add(-signalGrace)
	out := map[string]bool{}
	for _, e := range evs {
		if e.ReceivedAt.After(since) {
			out[e.ID] = true
		}
	}
	return out, nil
}

// rawActivity is an activity document with its signals and kept
// presence as stored.
type rawActivity struct {
	ID       string     `bson:"_id"`
	Signals  []bson.Raw `bson:"signals"`
	Presence []bson.Raw `bson:"presence"`
}

// pullPresence removes from one activity document the kept payments
// (seminar-speaker-match's corroboration) remove picks.
func (p *Purge) pullPresence(ctx context.Context, a rawActivity, remove func(pd presenceDoc) bool, dry bool) (int, error) {
	var gone []any
	for _, raw := range a.Presence {
		var pd presenceDoc
		if err := bson.Unmarshal(raw, &pd); err != nil {
			return 0, fmt.Errorf("presence of %s: %w", a.ID, err)
		}
		if remove(pd) {
			gone = append(gone, raw)
		}
	}
	if len(gone) == 0 || dry {
		return len(gone), nil
	}
	if _, err := p.db.DB.Collection(activityCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "presence", Value: gone}}}}); err != nil {
		return 0, fmt.Errorf("remove %d kept payments of %s: %w", len(gone), a.ID, err)
	}
	return len(gone), nil
}

// purgeSignals removes expired signals from inside the activity documents
// (one per employee): those dated before the cutoff that no case still
// kept refers to, with their entries in counterparty_months when no signal
// left keeps them.
func purgeSignals(ctx context.Context, p *Purge, cutoff time.Time, dry bool) ([]retention.Removed, error) {
	coll := p.db.DB.Collection(activityCollection)
	bound := string(civil.Of(cutoff.UTC()))
	removedSignals, removedMonths, removedPresence := 0, 0, 0
	result := func() []retention.Removed {
		return []retention.Removed{{Kind: retention.Signals, Collection: activityCollection, Count: removedSignals + removedPresence},
			{Kind: retention.Signals, Collection: counterpartyMonthsCollection, Count: removedMonths}}
	}
	after := ""
	for {
		filter := bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "signals.date", Value: bson.D{{Key: "$lt", Value: bound}}}},
			bson.D{{Key: "presence.date", Value: bson.D{{Key: "$lt", Value: bound}}}},
		}}}
		if after != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		docs, err := findAll[rawActivity](ctx, coll, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(p.batchSize)))
		if err != nil {
			return result(), err
		}
		if len(docs) == 0 {
			return result(), nil
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		ev, err := p.evidenceOf(ctx, ids)
		if err != nil {
			return result(), err
		}
		recent, err := p.recentEvents(ctx, docs, bound)
		if err != nil {
			return result(), err
		}
		for _, a := range docs {
			ns, nm, err := p.pullSignals(ctx, a, func(sd signalDoc, key string) bool {
				return sd.Date < bound && !ev.events[key] && !recent[key]
			}, dry)
			removedSignals, removedMonths = removedSignals+ns, removedMonths+nm
			if err != nil {
				return result(), err
			}
			np, err := p.pullPresence(ctx, a, func(pd presenceDoc) bool {
				key := event.Ref{Source: pd.Source, ID: pd.EventID}.Key()
				return pd.Date < bound && !ev.events[key] && !recent[key]
			}, dry)
			removedPresence += np
			if err != nil {
				return result(), err
			}
		}
		if len(docs) < p.batchSize {
			return result(), nil
		}
		after = ids[len(ids)-1]
	}
}

// pullSignals removes from one activity document the signals remove
// picks (by the signal and its event's key), and the employee's entries in
// counterparty_months that no signal left keeps. It returns how many
// signals and entries it removed (or would, when dry).
func (p *Purge) pullSignals(ctx context.Context, a rawActivity, remove func(sd signalDoc, key string) bool, dry bool) (int, int, error) {
	coll := p.db.DB.Collection(activityCollection)
	months := p.db.DB.Collection(counterpartyMonthsCollection)
	var gone []any
	goneMonths, keptMonths := map[string]bool{}, map[string]bool{}
	for _, raw := range a.Signals {
		var sd signalDoc
		if err := bson.Unmarshal(raw, &sd); err != nil {
			return 0, 0, fmt.Errorf("signal of %s: %w", a.ID, err)
		}
		month := ""
		if sd.CounterpartyID != "" && sd.Date != "" {
			month = monthKey(sd.CounterpartyID, civil.Date(sd.Date))
		}
		if remove(sd, event.Ref{Source: sd.Source, ID: sd.ID}.Key()) {
			gone = append(gone, raw)
			if month != "" {
				goneMonths[month] = true
			}
		} else if month != "" {
			keptMonths[month] = true
		}
	}
	if len(gone) == 0 {
		return 0, 0, nil
	}
	if !dry {
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
			bson.D{{Key: "$pullAll", Value: bson.D{{Key: "signals", Value: gone}}}}); err != nil {
			return 0, 0, fmt.Errorf("remove %d signals of %s: %w", len(gone), a.ID, err)
		}
		if len(gone) == len(a.Signals) && !p.db.IsFerretDB(ctx) {
			// Atomic on MongoDB: a signal added meanwhile keeps the document.
			if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: a.ID}, {Key: "signals", Value: bson.D{{Key: "$size", Value: 0}}},
				{Key: "$or", Value: bson.A{bson.D{{Key: "presence", Value: bson.D{{Key: "$exists", Value: false}}}},
					bson.D{{Key: "presence", Value: bson.D{{Key: "$size", Value: 0}}}}}}}); err != nil {
				return 0, 0, fmt.Errorf("remove the empty activity of %s: %w", a.ID, err)
			}
		}
	}
	n := 0
	for k := range goneMonths {
		if keptMonths[k] {
			continue
		}
		if !dry {
			if _, err := months.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
				bson.D{{Key: "$pull", Value: bson.D{{Key: "employees", Value: a.ID}}}}); err != nil {
				return len(gone), n, fmt.Errorf("counterparty month %s of %s: %w", k, a.ID, err)
			}
		}
		n++
	}
	return len(gone), n, nil
}

// freeEvidence removes, with purged cases, what only they kept: their
// evidence events and signals and their declarations, where those have
// expired by their own kind's period. Left behind, they would make the
// next re-evaluation raise the same findings again, no longer handled by
// a decided case.
func (p *Purge) freeEvidence(ctx context.Context, docs []bson.Raw, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	type caseEvidence struct {
		ID         string `bson:"_id"`
		EmployeeID string `bson:"employee_id"`
		Findings   []struct {
			EventRefs     []refDoc `bson:"event_refs"`
			DisclosureIDs []string `bson:"disclosure_ids"`
			CoveredBy     string   `bson:"covered_by"`
		} `bson:"findings"`
	}
	purged := map[string]bool{}
	events, decls := map[string]bool{}, map[string]bool{}
	var employees []string
	for _, raw := range docs {
		var c caseEvidence
		if err := bson.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("evidence of case: %w", err)
		}
		purged[c.ID] = true
		employees = append(employees, c.EmployeeID)
		for _, f := range c.Findings {
			for _, r := range f.EventRefs {
				events[event.Ref{Source: r.Source, ID: r.ID}.Key()] = true
			}
			for _, d := range f.DisclosureIDs {
				decls[d] = true
			}
			if f.CoveredBy != "" {
				decls[f.CoveredBy] = true
			}
		}
	}
	// What the employees' other cases still refer to stays.
	others, err := p.cases.CasesOf(ctx, employees)
	if err != nil {
		return nil, err
	}
	for _, cs := range others {
		for _, c := range cs {
			if purged[c.ID] {
				continue // still stored in a dry run
			}
			for _, f := range c.Findings {
				for _, r := range f.EventRefs {
					delete(events, r.Key())
				}
				for _, d := range f.DisclosureIDs {
					delete(decls, d)
				}
				delete(decls, f.CoveredBy)
			}
		}
	}
	var out []retention.Removed
	// Events, expired by time received.
	keys := make([]string, 0, len(events))
	for k := range events {
		keys = append(keys, k)
	}
	evs, err := byIDs[struct {
		ID         string    `bson:"_id"`
		ReceivedAt time.Time `bson:"received_at"`
	}](ctx, p.db, p.db.DB.Collection(eventsCollection), keys)
	if err != nil {
		return out, err
	}
	var goneEvents []string
	for _, e := range evs {
		if e.ReceivedAt.Before(cutoffs[retention.RawEvents]) {
			goneEvents = append(goneEvents, e.ID)
		}
	}
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(eventsCollection), goneEvents); err != nil {
			return out, err
		}
	}
	out = append(out, retention.Removed{Collection: eventsCollection, Count: len(goneEvents)})
	// Signals, expired by date.
	bound := string(civil.Of(cutoffs[retention.Signals].UTC()))
	acts, err := byIDs[rawActivity](ctx, p.db, p.db.DB.Collection(activityCollection), employees)
	if err != nil {
		return out, err
	}
	ns, nm := 0, 0
	for _, a := range acts {
		s, m, err := p.pullSignals(ctx, a, func(sd signalDoc, key string) bool { return events[key] && sd.Date < bound }, dry)
		ns, nm = ns+s, nm+m
		if err != nil {
			return out, err
		}
	}
	out = append(out, retention.Removed{Collection: activityCollection, Count: ns}, retention.Removed{Collection: counterpartyMonthsCollection, Count: nm})
	// Declarations, decided and expired by end date.
	ids := make([]string, 0, len(decls))
	for id := range decls {
		ids = append(ids, id)
	}
	ds, err := byIDs[bson.Raw](ctx, p.db, p.db.DB.Collection(disclosuresCollection), ids)
	if err != nil {
		return out, err
	}
	endBound := string(civil.Of(cutoffs[retention.Declarations].UTC()))
	var goneDecls []bson.Raw
	var goneIDs []string
	for _, d := range ds {
		switch disclosure.Status(rawString(d, "status")) {
		case disclosure.StatusApproved, disclosure.StatusRejected, disclosure.StatusWithdrawn:
			if rawString(d, "end_date") < endBound {
				goneDecls, goneIDs = append(goneDecls, d), append(goneIDs, rawString(d, "_id"))
			}
		}
	}
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(disclosuresCollection), goneIDs); err != nil {
			return out, err
		}
	}
	out = append(out, retention.Removed{Collection: disclosuresCollection, Count: len(goneIDs)})
	if len(goneDecls) > 0 {
		rs, err := cascadeTransitions("disclosure/")(ctx, p, goneDecls, cutoffs, dry)
		out = append(out, rs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
