package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"
)

// Which server this is, asked once (buildInfo) and kept: the few places
// where FerretDB needs another query shape choose it here, inside this
// package, never in domain code (docs/compatibility.md).

// detect asks the server's buildInfo once; FerretDB says so with a
// ferretdbVersion field. An error leaves the MongoDB shapes chosen, which
// are correct everywhere (only slower on FerretDB), and is asked again next
// time.
func (d *DB) detect(ctx context.Context) {
	d.kindMu.Lock()
	defer d.kindMu.Unlock()
	if d.kindKnown {
		return
	}
	var info bson.M
	if err := d.DB.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return
	}
	_, d.ferret = info["ferretdbVersion"]
	// MongoDB's buildInfo names its git commit; mongo-java-server's answers
	// only a version, and it sorts every find in memory.
	_, git := info["gitVersion"]
	d.sorted = git && !d.ferret
	d.exactKeys = !git && !d.ferret
	d.kindKnown = true
}

// exactKeyIndexes reports whether the server uses an index only for a
// filter on exactly the index's fields (mongo-java-server: its
// AbstractUniqueIndex.canHandle compares the filter's key set with the
// index's). There {_id, version}, the compare-and-set of every versioned
// replace, scans the collection: about a second per replace with 10,000
// cases. EnsureIndexes gives such servers a unique {_id, version} index on
// each versioned collection, which serves that filter by key (and is
// trivially unique, _id being unique). MongoDB serves the same filter from
// _id alone and FerretDB is handled in transitions.replaceAt, so neither
// gets it.
func (d *DB) exactKeyIndexes(ctx context.Context) bool {
	d.detect(ctx)
	d.kindMu.Lock()
	defer d.kindMu.Unlock()
	return d.exactKeys
}

// versionedCollections are those replaced with a {_id, version} filter:
// the targets of the transitions arbiter and the employee projection's Save.
var versionedCollections = []string{
	casesCollection, disclosuresCollection, attestationsCollection, partnersCollection,
	unmaskRequestsCollection, employeesCollection,
}

func versionedIndexes() []index {
	out := make([]index, 0, len(versionedCollections))
	for _, c := range versionedCollections {
		out = append(out, index{c, mongo.IndexModel{
			Keys:    bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}},
			Options: options.Index().SetName("id_version").SetUnique(true),
		}})
	}
	return out
}

// Queue modes (DB.queueMode).
const (
	queueByIndex  = 1
	queueByFacets = 2
)

// queueByFacets reports whether the queue, its counts and its pages come
// from the facet documents (queuefacets.go) instead of queries on
// case_queue: on every server that cannot serve a sorted, filtered find
// from an index. The choice is made once per process, at EnsureIndexes.
func (d *DB) queueByFacets(ctx context.Context) bool {
	d.detect(ctx)
	d.kindMu.Lock()
	defer d.kindMu.Unlock()
	switch d.queueMode {
	case queueByIndex:
		return false
	case queueByFacets:
		return true
	}
	return !d.sorted
}

// IsFerretDB reports whether the server is FerretDB.
func (d *DB) IsFerretDB(ctx context.Context) bool {
	d.detect(ctx)
	d.kindMu.Lock()
	defer d.kindMu.Unlock()
	return d.ferret
}

// findByID reads the document of coll with _id id; found is false (and
// err nil) when there is none. Every server serves it from the _id index
// (FerretDB pushes exactly this filter down to SQLite).
func findByID[D any](ctx context.Context, coll *mongo.Collection, id any) (doc D, found bool, err error) {
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return doc, false, nil
	}
	if err != nil {
		return doc, false, fmt.Errorf("find %s %v: %w", coll.Name(), id, err)
	}
	return doc, true, nil
}

// getByID is findByID for a document that must exist: a missing one is
// notFound, the domain's sentinel (wrapped, so errors.Is finds it).
func getByID[D any](ctx context.Context, coll *mongo.Collection, id any, notFound error) (D, error) {
	doc, found, err := findByID[D](ctx, coll, id)
	if err == nil && !found {
		err = fmt.Errorf("find %s %v: %w", coll.Name(), id, notFound)
	}
	return doc, err
}

// byIDs reads the documents of coll with the given _ids (missing ones are
// left out). MongoDB serves one $in from the _id index. FerretDB's SQLite
// backend pushes only a filter that is exactly {_id: <string>} down to
// SQLite (where internal/embedded's expression index serves it, ~1 ms) and
// decodes the whole collection for any other filter, $in included: there,
// one find per id, up to byIDsAtOnce of them at a time (FerretDB serves
// each connection on its own goroutine and SQLite's WAL lets reads run
// side by side, so the second core works while the first decodes), the
// documents in the order of ids.
func byIDs[D any](ctx context.Context, db *DB, coll *mongo.Collection, ids []string) ([]D, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if !db.IsFerretDB(ctx) {
		return findAll[D](ctx, coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	}
	docs := make([]D, len(ids))
	found := make([]bool, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(byIDsAtOnce)
	for i, id := range ids {
		g.Go(func() error {
			var err error
			docs[i], found[i], err = findByID[D](gctx, coll, id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]D, 0, len(ids))
	for i := range ids {
		if found[i] {
			out = append(out, docs[i])
		}
	}
	return out, nil
}

// byIDsAtOnce bounds the concurrent finds of one byIDs on FerretDB.
const byIDsAtOnce = 4

// transitionError maps the outcome of arbiter.apply for what ("update
// partner P1"): a lost transition is conflict, a vanished resource
// notFound (the domain's sentinels, wrapped); any other error is wrapped
// as it is, and nil stays nil.
func transitionError(err error, what string, notFound, conflict error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errResourceGone):
		return fmt.Errorf("%s: %w", what, notFound)
	case errors.Is(err, errTransitionLost):
		return fmt.Errorf("%s: %w", what, conflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// insertUnique inserts doc, whose unique _id (or other unique index) is
// the arbiter of concurrent creates: a duplicate key is conflict (the
// domain's sentinel, wrapped) for what ("create partner P1"); any other
// error is wrapped as it is.
func insertUnique(ctx context.Context, coll *mongo.Collection, doc any, what string, conflict error) error {
	_, err := coll.InsertOne(ctx, doc)
	switch {
	case err == nil:
		return nil
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%s: %w", what, conflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}
