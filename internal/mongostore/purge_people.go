package mongostore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/retention"
)

// The purge of the collections added with the launch workflow,
// notifications, the reviewer's day and unmasking (issue 15's remainder):
// attestations, former employees' records and what is kept per person
// beside them, notices, idempotent answers, NDA partners, and the queue's
// facet documents and unmask requests of purged cases. classify.go says,
// for every collection, where it is purged and exported.

// peoplePurgeSpecs are purgeTable's entries for those kinds.
func peoplePurgeSpecs() []purgeSpec {
	in := func(field string, values ...string) bson.D {
		a := bson.A{}
		for _, v := range values {
			a = append(a, v)
		}
		return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: a}}}}
	}
	return []purgeSpec{
		{kind: retention.Attestations, coll: attestationsCollection, field: "updated_at", bound: timeBound,
			filter: in("status", attest.StatusDone, attest.StatusLapsed, attest.StatusOverdue),
			fields: []string{"employee_id", "project_code"}, keep: keepCaseAttestations, cascade: cascadeTransitions("attestation/")},
		{kind: retention.FormerEmployees, coll: employeesCollection, walk: purgeFormerEmployees},
		{kind: retention.Notices, coll: outboxCollection, field: "created_at", bound: timeBound,
			filter: in("state", notify.StateDispatched, notify.StateCancelled), keep: keepRetriedNotices, cascade: cascadeDeliveries},
		{kind: retention.Notices, coll: mailSinkCollection, field: "received_at", bound: timeBound},
		{kind: retention.Idempotency, coll: idempotencyCollection, field: "at", bound: timeBound},
		// A partner without an expiry date has no end to count from: it stays.
		{kind: retention.Partners, coll: partnersCollection, field: "nda_expires_on", bound: dateBound,
			filter: bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "nda_expires_on", Value: bson.D{{Key: "$gt", Value: ""}}}}}}},
			fields: []string{"embargo_until"}, keep: keepEmbargoedPartners, cascade: cascadeTransitions("partner/")},
		// The facets' version claims are the arbiter's documents, like transitions.
		{kind: retention.Transitions, coll: queueClaimsCollection, field: "at", bound: timeBound},
	}
}

// keepCaseAttestations keeps the tasks whose overdue finding is in a case
// still kept.
func keepCaseAttestations(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	cases, err := p.cases.CasesOf(ctx, employeesOf(docs))
	if err != nil {
		return nil, err
	}
	inCase := map[string]bool{} // employee|project
	for id, cs := range cases {
		for _, c := range cs {
			for _, f := range c.Findings {
				if f.Rule == attest.RuleOverdue {
					inCase[id+"|"+f.Project] = true
				}
			}
		}
	}
	keep := map[string]bool{}
	for _, d := range docs {
		if inCase[rawString(d, "employee_id")+"|"+rawString(d, "project_code")] {
			keep[rawString(d, "_id")] = true
		}
	}
	return keep, nil
}

// keepEmbargoedPartners keeps partners whose embargo has not ended.
func keepEmbargoedPartners(_ context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	today := string(civil.Of(p.now().UTC()))
	keep := map[string]bool{}
	for _, d := range docs {
		if rawString(d, "embargo_until") >= today {
			keep[rawString(d, "_id")] = true
		}
	}
	return keep, nil
}

// keepRetriedNotices keeps the notices with a delivery still pending (a
// retry waits): the dispatcher reads the notice to send it.
func keepRetriedNotices(ctx context.Context, p *Purge, docs []bson.Raw) (map[string]bool, error) {
	ds, err := p.deliveriesOf(ctx, idsOf(docs))
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, d := range ds {
		if d.State == notify.DeliveryPending {
			keep[d.NoticeID] = true
		}
	}
	return keep, nil
}

func idsOf(docs []bson.Raw) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = rawString(d, "_id")
	}
	return out
}

func (p *Purge) deliveriesOf(ctx context.Context, noticeIDs []string) ([]deliveryDoc, error) {
	if len(noticeIDs) == 0 {
		return nil, nil
	}
	ds, err := findAll[deliveryDoc](ctx, p.db.DB.Collection(deliveriesCollection),
		bson.D{{Key: "notice_id", Value: bson.D{{Key: "$in", Value: noticeIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "notice_id", Value: 1}, {Key: "state", Value: 1}, {Key: "attempts", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("deliveries of %d notices: %w", len(noticeIDs), err)
	}
	return ds, nil
}

// cascadeDeliveries removes the deliveries of removed notices and the
// claims of their attempts ("<delivery>#<attempt>", attempt 0 up to the
// attempts made: the last claim may be of an attempt never recorded).
func cascadeDeliveries(ctx context.Context, p *Purge, docs []bson.Raw, _ map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	ds, err := p.deliveriesOf(ctx, idsOf(docs))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ds))
	var claims []string
	for i, d := range ds {
		ids[i] = d.ID
		for a := 0; a <= d.Attempts; a++ {
			claims = append(claims, d.ID+"#"+strconv.Itoa(a))
		}
	}
	held, err := p.existing(ctx, claimsCollection, claims)
	if err != nil {
		return nil, err
	}
	claims = sortedKeysOf(held)
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(deliveriesCollection), ids); err != nil {
			return nil, err
		}
		if err := p.deleteIDs(ctx, p.db.DB.Collection(claimsCollection), claims); err != nil {
			return nil, err
		}
	}
	return []retention.Removed{{Collection: deliveriesCollection, Count: len(ids)}, {Collection: claimsCollection, Count: len(claims)}}, nil
}

// purgeFormerEmployees removes the HR records of people whose every
// employment has ended before the cutoff, unless a case, a declaration or
// an attestation about them is still kept (each goes by its own period;
// the record goes after the last of them), and what is kept per person
// beside the record.
func purgeFormerEmployees(ctx context.Context, p *Purge, cutoff time.Time, dry bool) ([]retention.Removed, error) {
	coll := p.db.DB.Collection(employeesCollection)
	bound := string(civil.Of(cutoff.UTC()))
	counts := map[string]int{}
	after := ""
	for {
		filter := bson.D{}
		if after != "" {
			filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
		}
		docs, err := findAll[struct {
			ID          string        `bson:"_id"`
			Employments []intervalDoc `bson:"employments"`
		}](ctx, coll, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
			SetProjection(bson.D{{Key: "employments", Value: 1}}).SetLimit(int64(p.batchSize)))
		if err != nil {
			return removed(retention.FormerEmployees, counts), err
		}
		if len(docs) == 0 {
			break
		}
		var ended []string
		for _, d := range docs {
			if endedBefore(d.Employments, bound) {
				ended = append(ended, d.ID)
			}
		}
		gone, err := p.withNothingKept(ctx, ended)
		if err != nil {
			return removed(retention.FormerEmployees, counts), err
		}
		if !dry {
			if err := p.deleteIDs(ctx, coll, gone); err != nil {
				return removed(retention.FormerEmployees, counts), err
			}
		}
		counts[employeesCollection] += len(gone)
		rs, err := p.cascadePerson(ctx, gone, dry)
		for _, r := range rs {
			counts[r.Collection] += r.Count
		}
		if err != nil {
			return removed(retention.FormerEmployees, counts), err
		}
		if len(docs) < p.batchSize {
			break
		}
		after = docs[len(docs)-1].ID
	}
	return removed(retention.FormerEmployees, counts), nil
}

// endedBefore reports whether every employment has an end, the last
// before bound (a record with no employment is kept: nothing to count from).
func endedBefore(es []intervalDoc, bound string) bool {
	if len(es) == 0 {
		return false
	}
	for _, e := range es {
		if e.End == "" || e.End >= bound {
			return false
		}
	}
	return true
}

// withNothingKept returns the ids about whom no case, declaration or
// attestation is stored.
func (p *Purge) withNothingKept(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	kept := map[string]bool{}
	cases, err := p.cases.CasesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, cs := range cases {
		if len(cs) > 0 {
			kept[id] = true
		}
	}
	for _, coll := range []string{disclosuresCollection, attestationsCollection} {
		docs, err := findAll[struct {
			EmployeeID string `bson:"employee_id"`
		}](ctx, p.db.DB.Collection(coll), bson.D{{Key: "employee_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			options.Find().SetProjection(bson.D{{Key: "employee_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("%s of %d former employees: %w", coll, len(ids), err)
		}
		for _, d := range docs {
			kept[d.EmployeeID] = true
		}
	}
	var out []string
	for _, id := range ids {
		if !kept[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// cascadePerson removes what is kept per person beside a purged HR record:
// the notifier's and the UI's profiles, the (empty) indexes of their cases
// and attestations,
// their place in the presence index's function and seniority lists, and,
// unless the reviewer registry still lists them (then the reviewers kind
// removes them with the registry entry), their saved filters and unmask
// states.
func (p *Purge) cascadePerson(ctx context.Context, ids []string, dry bool) ([]retention.Removed, error) {
	var out []retention.Removed
	if len(ids) == 0 {
		return out, nil
	}
	for _, coll := range []string{profilesCollection, uiProfilesCollection, caseRefsCollection, attestRefsCollection} {
		held, err := p.existing(ctx, coll, ids)
		if err != nil {
			return out, err
		}
		if !dry {
			if err := p.deleteIDs(ctx, p.db.DB.Collection(coll), sortedKeysOf(held)); err != nil {
				return out, err
			}
		}
		out = append(out, retention.Removed{Collection: coll, Count: len(held)})
	}
	n, err := p.pullFromLists(ctx, presenceDaysCollection, "employees", ids, dry)
	out = append(out, retention.Removed{Collection: presenceDaysCollection, Count: n})
	if err != nil {
		return out, err
	}
	reviewers, err := p.existing(ctx, reviewersCollection, ids)
	if err != nil {
		return out, err
	}
	var users []string
	for _, id := range ids {
		if !reviewers[id] {
			users = append(users, id)
		}
	}
	rs, err := p.cascadeUser(ctx, users, dry)
	return append(out, rs...), err
}

// pullFromLists takes ids out of the list field of every document of coll
// that holds one of them, by _id (one update per document).
func (p *Purge) pullFromLists(ctx context.Context, coll, field string, ids []string, dry bool) (int, error) {
	c := p.db.DB.Collection(coll)
	docs, err := findAll[bson.Raw](ctx, c, bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: field, Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("%s listing %d people: %w", coll, len(ids), err)
	}
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	n := 0
	for _, d := range docs {
		var listed []string
		if v, err := d.LookupErr(field); err == nil {
			vals, _ := v.Array().Values()
			for _, x := range vals {
				if s, ok := x.StringValueOK(); ok && gone[s] {
					listed = append(listed, s)
				}
			}
		}
		if len(listed) == 0 {
			continue
		}
		n += len(listed)
		if dry {
			continue
		}
		if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: rawString(d, "_id")}},
			bson.D{{Key: "$pullAll", Value: bson.D{{Key: field, Value: listed}}}}); err != nil {
			return n, fmt.Errorf("%s %s: %w", coll, rawString(d, "_id"), err)
		}
	}
	return n, nil
}

// cascadeReviewers removes, with the registry entries of reviewers not
// seen for the period, their saved queue filters and unmask states.
func cascadeReviewers(ctx context.Context, p *Purge, docs []bson.Raw, _ map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	return p.cascadeUser(ctx, idsOf(docs), dry)
}

// cascadeUser removes a user's saved filters and unmask states.
func (p *Purge) cascadeUser(ctx context.Context, users []string, dry bool) ([]retention.Removed, error) {
	var out []retention.Removed
	if len(users) == 0 {
		return out, nil
	}
	n, err := p.deleteWhere(ctx, savedFiltersCollection, bson.D{{Key: "user", Value: bson.D{{Key: "$in", Value: users}}}}, dry)
	out = append(out, retention.Removed{Collection: savedFiltersCollection, Count: n})
	if err != nil {
		return out, err
	}
	held, err := p.existing(ctx, unmaskStatesCollection, users)
	if err != nil {
		return out, err
	}
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(unmaskStatesCollection), sortedKeysOf(held)); err != nil {
			return out, err
		}
	}
	return append(out, retention.Removed{Collection: unmaskStatesCollection, Count: len(held)}), nil
}

// cascadeCaseProjections removes what the queue's facets and the unmask
// flow keep of purged cases: each case's row in the facet chunks and its
// placement (FerretDB and mongo-java-server keep the queue there,
// through the facets' own arbiter), and the unmask requests about the
// case with their transitions and the requesters' states of it.
func (p *Purge) cascadeCaseProjections(ctx context.Context, ids []string, cutoffs map[retention.Kind]time.Time, dry bool) ([]retention.Removed, error) {
	var out []retention.Removed
	q := newFacets(p.db)
	q.now = p.now // its claims are stamped on the purge's clock, so this run's transitions cutoff leaves them
	rows, err := q.removeCases(ctx, ids, dry)
	out = append(out, retention.Removed{Collection: queueChunksCollection, Count: rows}, retention.Removed{Collection: queuePlacesCollection, Count: rows})
	if err != nil {
		return out, err
	}
	reqs, err := findAll[bson.Raw](ctx, p.db.DB.Collection(unmaskRequestsCollection), bson.D{{Key: "case_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "case_id", Value: 1}, {Key: "requester", Value: 1}}))
	if err != nil {
		return out, fmt.Errorf("unmask requests of %d cases: %w", len(ids), err)
	}
	if !dry {
		if err := p.deleteIDs(ctx, p.db.DB.Collection(unmaskRequestsCollection), idsOf(reqs)); err != nil {
			return out, err
		}
	}
	out = append(out, retention.Removed{Collection: unmaskRequestsCollection, Count: len(reqs)})
	if len(reqs) > 0 {
		rs, err := cascadeTransitions("unmask/")(ctx, p, reqs, cutoffs, dry)
		out = append(out, rs...)
		if err != nil {
			return out, err
		}
	}
	// The requesters' states of the cases: one $unset per reviewer and case.
	states := p.db.DB.Collection(unmaskStatesCollection)
	seen := map[string]bool{}
	n := 0
	for _, r := range reqs {
		who, caseID := rawString(r, "requester"), rawString(r, "case_id")
		if who == "" || seen[who+"\x00"+caseID] {
			continue
		}
		seen[who+"\x00"+caseID] = true
		c, err := states.CountDocuments(ctx, bson.D{{Key: "_id", Value: who}, {Key: "cases." + caseID, Value: bson.D{{Key: "$exists", Value: true}}}})
		if err != nil {
			return out, fmt.Errorf("unmask states of %s: %w", who, err)
		}
		if c == 0 {
			continue
		}
		n++
		if !dry {
			if _, err := states.UpdateOne(ctx, bson.D{{Key: "_id", Value: who}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "cases." + caseID, Value: ""}}}}); err != nil {
				return out, fmt.Errorf("unmask state of %s for case %s: %w", who, caseID, err)
			}
		}
	}
	return append(out, retention.Removed{Collection: unmaskStatesCollection, Count: n}), nil
}

// removeCases takes purged cases out of the facets: each case's row leaves
// every facet it was placed in (a change per facet, through the facet's
// version claim like every placement), then its placement goes. It returns
// how many rows it removed (or, when dry, would).
func (q *facets) removeCases(ctx context.Context, ids []string, dry bool) (int, error) {
	q.db.facetMu.Lock()
	defer q.db.facetMu.Unlock()
	places, err := byIDs[placeDoc](ctx, q.db, q.pl, ids)
	if err != nil {
		return 0, fmt.Errorf("placements of %d purged cases: %w", len(ids), err)
	}
	if dry || len(places) == 0 {
		return len(places), nil
	}
	ops := map[string][]facetOp{}
	for _, pd := range places {
		keys := map[string][]key{}
		at := []placement{pd.At}
		if !pd.Done {
			at = append(at, pd.Leaving...)
		}
		for _, pl := range at {
			keys[pl.facet()] = append(keys[pl.facet()], key{pl.Score, pd.ID})
		}
		for f, ks := range keys {
			ops[f] = append(ops[f], facetOp{caseID: pd.ID, keys: ks})
		}
	}
	for _, f := range sortedKeysOf(ops) {
		if err := q.change(ctx, f, ops[f]); err != nil {
			return 0, err
		}
	}
	gone := make([]string, len(places))
	for i, pd := range places {
		gone[i] = pd.ID
	}
	for _, id := range gone {
		if _, err := q.pl.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return 0, fmt.Errorf("placement of purged case %s: %w", id, err)
		}
	}
	return len(places), nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
