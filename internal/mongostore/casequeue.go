package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/review"
)

// Two small collections beside cases keep every hot read of cases by key
// or bounded (docs/benchmarks.md, issue 12):
//
//   - case_refs: {_id: employee id, cases: [case ids]}. Detection reads an
//     employee's cases by _id twice (the refs, then the cases) instead of a
//     query on employee_id over all cases. A case's id is added before the
//     case is inserted, so a crash between the two leaves an id that reads
//     as missing (skipped), never a case nobody can find.
//   - case_queue: one row per open or in-review case (the case document
//     without its history and comments), written right after the case and
//     deleted when it closes. The queue and the dashboard read only these.
//     A crash between the case write and the row write leaves the row one
//     version behind until the case's next change rewrites it; MoveQueue
//     on start repairs nothing of that (it backfills once), see
//     docs/compatibility.md.

const (
	caseRefsCollection  = "case_refs"
	caseQueueCollection = "case_queue"
	// backfillMarker is the case_refs document saying both collections
	// were filled from the cases stored before they existed.
	backfillMarker = "~backfilled-v1"
	// maxQueueRows bounds the dashboard's one read of the queue.
	maxQueueRows = 5000
)

// queueRow is a case_queue document: the fields the queue filters and
// sorts on at the top level, and the case itself (without history and
// comments) as one BSON blob. FerretDB decodes every row a query matches
// against in Go, and a flat row with one binary field decodes 3-5 times
// faster than the nested findings (measured: 1,000 rows, 0.3 s against
// 1.0-1.7 s on the loaded 2-core machine); MongoDB's index serves the
// query either way.
type queueRow struct {
	ID             string   `bson:"_id"`
	EmployeeID     string   `bson:"employee_id"`
	Department     string   `bson:"department,omitempty"`
	Status         string   `bson:"status"`
	Severity       string   `bson:"severity"`
	Score          int      `bson:"score"`
	Rules          []string `bson:"rules"`
	Counterparties []string `bson:"counterparties"`
	Version        int64    `bson:"version"`
	Subject        string   `bson:"subject,omitempty"`
	Month          string   `bson:"month"` // caseMonth: the dashboard's "over time"
	Case           []byte   `bson:"case"`
}

func toQueueRow(d caseDoc) (queueRow, error) {
	d.History, d.Comments = nil, nil
	b, err := bson.Marshal(d)
	if err != nil {
		return queueRow{}, err
	}
	return queueRow{ID: d.ID, EmployeeID: d.EmployeeID, Department: d.Department, Status: d.Status, Severity: d.Severity,
		Score: d.Score, Rules: d.Rules, Counterparties: d.Counterparties, Version: d.Version, Subject: d.Subject, Month: caseMonth(d), Case: b}, nil
}

func fromQueueRow(r queueRow) (caseDoc, error) {
	var d caseDoc
	if err := bson.Unmarshal(r.Case, &d); err != nil {
		return caseDoc{}, fmt.Errorf("queue row %s: %w", r.ID, err)
	}
	return d, nil
}

type caseRefsDoc struct {
	ID    string   `bson:"_id"`
	Cases []string `bson:"cases"`
}

func caseQueueIndexes() []index {
	return []index{
		// Filter and sort of the queue, _id as the tie-break the cursor uses.
		{caseQueueCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("status_score_id")}},
		{caseQueueCollection, mongo.IndexModel{Keys: bson.D{{Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("score_id")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("status_score_id")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("score_id")}},
	}
}

// queued reports whether cases of this status are in the queue.
func queued(status string) bool {
	return status == review.StatusOpen || status == review.StatusInReview
}

// addRef records that employeeID has case caseID (idempotent).
func (s *CaseStore) addRef(ctx context.Context, employeeID, caseID string) error {
	_, err := s.refs.UpdateOne(ctx, bson.D{{Key: "_id", Value: employeeID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "cases", Value: caseID}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record case %s of %s: %w", caseID, employeeID, err)
	}
	return nil
}

// syncQueue makes the queue row of a case just written match it: the
// compact row while it is open or in review, no row once closed. It is the
// one hook every write of a case calls after the case itself is stored.
func (s *CaseStore) syncQueue(ctx context.Context, d caseDoc) error {
	if s.db.queueByFacets(ctx) {
		return s.facets.place(ctx, d)
	}
	if !queued(d.Status) {
		if _, err := s.queue.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return fmt.Errorf("case %s leaves the queue: %w", d.ID, err)
		}
		return nil
	}
	// A slower writer of an older version must not overwrite a newer row.
	// Plain {_id} filters only: FerretDB serves those from its index.
	var cur struct {
		Version int64 `bson:"version"`
	}
	err := s.queue.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&cur)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return fmt.Errorf("queue row of %s: %w", d.ID, err)
	case cur.Version >= d.Version:
		return nil
	}
	row, err := toQueueRow(d)
	if err != nil {
		return fmt.Errorf("queue row of %s: %w", d.ID, err)
	}
	if _, err := s.queue.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, row, options.Replace().SetUpsert(true)); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil // a concurrent writer inserted it first; its next change rewrites it
		}
		return fmt.Errorf("queue row of %s: %w", d.ID, err)
	}
	return nil
}

// CasesOf implements review.Store: every case of many employees, read by
// _id through case_refs.
func (s *CaseStore) CasesOf(ctx context.Context, ids []string) (map[string][]review.Case, error) {
	out := make(map[string][]review.Case, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	refs, err := byIDs[caseRefsDoc](ctx, s.db, s.refs, ids)
	if err != nil {
		return nil, fmt.Errorf("case refs of %d employees: %w", len(ids), err)
	}
	var caseIDs []string
	for _, r := range refs {
		caseIDs = append(caseIDs, r.Cases...)
	}
	docs, err := byIDs[caseDoc](ctx, s.db, s.coll, caseIDs)
	if err != nil {
		return nil, fmt.Errorf("cases of %d employees: %w", len(ids), err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].ID < docs[j].ID })
	for _, d := range docs {
		out[d.EmployeeID] = append(out[d.EmployeeID], fromCaseDoc(d))
	}
	return out, nil
}

// casesOfOne is CasesOf for one employee.
func (s *CaseStore) casesOfOne(ctx context.Context, employeeID string) ([]review.Case, error) {
	m, err := s.CasesOf(ctx, []string{employeeID})
	if err != nil {
		return nil, err
	}
	return m[employeeID], nil
}

// Queue implements review.Store: the open and in-review cases as queue rows
// (no history or comments), highest score first, at most maxQueueRows;
// truncated says there were more.
func (s *CaseStore) Queue(ctx context.Context) (rows []review.Case, truncated bool, err error) {
	if s.db.queueByFacets(ctx) {
		docs, err := s.facets.list(ctx, append(facetsFor(review.StatusOpen, ""), facetsFor(review.StatusInReview, "")...), nil, maxQueueRows, nil)
		if err != nil {
			return nil, false, fmt.Errorf("read the queue: %w", err)
		}
		if len(docs) > maxQueueRows {
			docs, truncated = docs[:maxQueueRows], true
		}
		rows = make([]review.Case, len(docs))
		for i, d := range docs {
			rows[i] = fromCaseDoc(d)
		}
		return rows, truncated, nil
	}
	docs, err := findQueue(ctx, s.queue, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "score", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(maxQueueRows+1))
	if err != nil {
		return nil, false, fmt.Errorf("read the queue: %w", err)
	}
	if len(docs) > maxQueueRows {
		docs, truncated = docs[:maxQueueRows], true
	}
	rows = make([]review.Case, len(docs))
	for i, d := range docs {
		rows[i] = fromCaseDoc(d)
	}
	return rows, truncated, nil
}

// Counts implements review.Store: cases by status, one aggregation with a
// single accumulator (FerretDB computes only the first of several wrongly).
func (s *CaseStore) Counts(ctx context.Context) (map[string]int, error) {
	if s.db.queueByFacets(ctx) {
		st, err := s.facets.stats(ctx)
		if err != nil {
			return nil, fmt.Errorf("count cases: %w", err)
		}
		return st.ByStatus, nil
	}
	cur, err := s.coll.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	var rows []struct {
		Status string `bson:"_id"`
		N      int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// backfillCaseViews fills case_refs and case_queue from the cases stored
// before they existed, once per database (a marker document says it ran).
// Running it twice (two replicas starting together) writes the same.
func backfillCaseViews(ctx context.Context, d *DB) error {
	s := NewCaseStore(d)
	err := s.refs.FindOne(ctx, bson.D{{Key: "_id", Value: backfillMarker}}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("case views marker: %w", err)
	}
	cur, err := s.coll.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("backfill case views: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var c caseDoc
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("backfill case views: %w", err)
		}
		if err := s.addRef(ctx, c.EmployeeID, c.ID); err != nil {
			return err
		}
		if err := s.syncQueue(ctx, c); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("backfill case views: %w", err)
	}
	if _, err := s.refs.InsertOne(ctx, bson.D{{Key: "_id", Value: backfillMarker}, {Key: "cases", Value: bson.A{}}}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("case views marker: %w", err)
	}
	return nil
}

// findQueue runs a find on case_queue and returns the cases of its rows.
func findQueue(ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]caseDoc, error) {
	rows, err := findAll[queueRow](ctx, coll, filter, opts...)
	if err != nil {
		return nil, err
	}
	out := make([]caseDoc, len(rows))
	for i, r := range rows {
		if out[i], err = fromQueueRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listByFacets is List on the servers without sorted indexes: the rows of
// the facets the status and severity select, merged in queue order, read
// chunk by chunk from the cursor on; the other parts of the filter are
// applied to the rows as they come. A page costs a few reads by _id; a
// filter that keeps few rows reads on until it has a page or the facets
// end (bounded by the facets' size, never by all cases).
func (s *CaseStore) listByFacets(ctx context.Context, f review.Filter, limit int, cursor string) ([]review.Case, string, error) {
	var after *key
	if cursor != "" {
		score, id, err := decodeCaseCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		after = &key{score, id}
	}
	facets := facetsFor(f.Status, f.Severity)
	if f.Status == "" && len(f.Statuses) > 0 {
		facets = nil
		for _, st := range f.Statuses {
			facets = append(facets, facetsFor(st, f.Severity)...)
		}
	}
	// keepRow selects by the rows' top-level fields; the search's fields
	// (assignee, project, opened date, statuses) by review.Filter.Match.
	docs, err := s.facets.list(ctx, facets, after, limit, func(d caseDoc) bool {
		return keepRow(f, d) && (!f.Extended() || f.Match(fromCaseDoc(d)))
	})
	if err != nil {
		return nil, "", fmt.Errorf("list cases: %w", err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[len(docs)-1]
		next = encodeCaseCursor(last.Score, last.ID)
	}
	out := make([]review.Case, len(docs))
	for i, d := range docs {
		out[i] = fromCaseDoc(d)
	}
	return out, next, nil
}

// keepRow applies the parts of a filter a facet does not select. New
// filters (assignee, search...) go here and into List's query alike.
func keepRow(f review.Filter, d caseDoc) bool {
	switch {
	case f.Status != "" && d.Status != f.Status,
		f.Severity != "" && d.Severity != f.Severity,
		f.EmployeeID != "" && d.EmployeeID != f.EmployeeID,
		f.Department != "" && d.Department != f.Department,
		f.Rule != "" && !slices.Contains(d.Rules, f.Rule),
		f.Counterparty != "" && !slices.Contains(d.Counterparties, f.Counterparty),
		f.Subject != "" && d.Subject != f.Subject:
		return false
	}
	return true
}

// Stats implements review.Store. With facets: one read by _id per facet.
// On MongoDB: one count per status on the status_score_id index and one
// single-accumulator aggregation per fact over the queue rows.
func (s *CaseStore) Stats(ctx context.Context) (review.QueueStats, error) {
	if s.db.queueByFacets(ctx) {
		st, err := s.facets.stats(ctx)
		if err != nil {
			return review.QueueStats{}, fmt.Errorf("case stats: %w", err)
		}
		return st, nil
	}
	st := review.NewQueueStats()
	for _, status := range facetStatuses {
		n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "status", Value: status}})
		if err != nil {
			return review.QueueStats{}, fmt.Errorf("count %s cases: %w", status, err)
		}
		if n > 0 {
			st.ByStatus[status] = int(n)
		}
	}
	for _, g := range []struct {
		field string
		into  map[string]int
	}{{"severity", st.BySeverity}, {"department", st.ByDepartment}, {"rules", st.ByRule}, {"counterparties", st.ByCounterparty}} {
		pipe := mongo.Pipeline{}
		if g.field == "rules" || g.field == "counterparties" {
			pipe = append(pipe, bson.D{{Key: "$unwind", Value: "$" + g.field}})
		}
		pipe = append(pipe, bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$" + g.field}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}})
		if err := groupInto(ctx, s.queue, pipe, func(k bson.RawValue, n int) {
			v, _ := k.StringValueOK()
			g.into[v] += n
		}); err != nil {
			return review.QueueStats{}, fmt.Errorf("case stats by %s: %w", g.field, err)
		}
	}
	// Months need the findings: read the rows' months from the queue rows.
	pipe := mongo.Pipeline{{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: bson.D{{Key: "m", Value: "$month"}, {Key: "s", Value: "$severity"}}},
		{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}}
	if err := groupInto(ctx, s.queue, pipe, func(k bson.RawValue, n int) {
		var id struct {
			M string `bson:"m"`
			S string `bson:"s"`
		}
		if k.Unmarshal(&id) != nil {
			return
		}
		if st.ByMonth[id.M] == nil {
			st.ByMonth[id.M] = map[string]int{}
		}
		st.ByMonth[id.M][id.S] += n
	}); err != nil {
		return review.QueueStats{}, fmt.Errorf("case stats by month: %w", err)
	}
	return st, nil
}

func groupInto(ctx context.Context, coll *mongo.Collection, pipe mongo.Pipeline, add func(k bson.RawValue, n int)) error {
	cur, err := coll.Aggregate(ctx, pipe)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var row struct {
			ID bson.RawValue `bson:"_id"`
			N  int           `bson:"n"`
		}
		if err := cur.Decode(&row); err != nil {
			return err
		}
		add(row.ID, row.N)
	}
	return cur.Err()
}
