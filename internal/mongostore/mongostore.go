// Package mongostore holds every MongoDB store of the service: one file per
// store, each mapping BSON documents to domain types explicitly. Queries stay
// within what both MongoDB and FerretDB do correctly (see docs/compatibility.md):
// large collections are insert-only with deterministic _ids, small ones are
// updated one document at a time, and no update command carries more than
// maxUpdatesPerCommand statements.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// maxUpdatesPerCommand keeps bulk updates under FerretDB's measured hang (a
// single update command with ~100 updates of existing documents deadlocks it).
const maxUpdatesPerCommand = 40

// ErrUnavailable wraps errors that mean the database could not be reached;
// callers retry them.
var ErrUnavailable = errors.New("database unavailable")

// DB is a connected database.
type DB struct {
	Client *mongo.Client
	DB     *mongo.Database

	kindMu    sync.Mutex
	kindKnown bool
	ferret    bool // the server is FerretDB (flavor.go)
	// sorted says the server serves a filtered, sorted, limited find from
	// an index (MongoDB; not FerretDB nor mongo-java-server): the queue
	// queries case_queue there, and keeps facets elsewhere (flavor.go).
	sorted bool
	// exactKeys says the server's indexes serve only a filter whose fields
	// are exactly the index's (mongo-java-server): {_id, version} is a
	// scan there unless an index on exactly those fields exists (flavor.go).
	exactKeys bool
	// queueMode, when not 0, overrides the choice (tests): queueByIndex
	// or queueByFacets.
	queueMode int
	// facetMu serialises the placements of cases in the queue facets
	// within this process (queuefacets.go).
	facetMu sync.Mutex
	// chunks caches immutable queue chunks by id (chunkcache.go).
	chunkOnce sync.Once
	chunks    *lru.Cache[string, chunkDoc]
	rows      *lru.Cache[string, []caseDoc] // decoded rows of cached chunks
}

// Connect opens a client to uri and selects database name. It does not wait
// for the server: Ping does.
func Connect(uri, name string, timeout time.Duration, with ...Option) (*DB, error) {
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second)
	if timeout > 0 {
		opts.SetTimeout(timeout)
	}
	for _, w := range with {
		w(opts)
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect mongodb: %w", err)
	}
	return &DB{Client: c, DB: c.Database(name)}, nil
}

// Use wraps an existing database handle (tests).
func Use(db *mongo.Database) *DB { return &DB{Client: db.Client(), DB: db} }

// Ping checks the server answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.Client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Close disconnects.
func (d *DB) Close(ctx context.Context) error { return d.Client.Disconnect(ctx) }

// index is one index to create at start-up.
type index struct {
	collection string
	model      mongo.IndexModel
}

// EnsureIndexes creates every store's indexes; it is idempotent.
func (d *DB) EnsureIndexes(ctx context.Context) error {
	d.detect(ctx)
	var all []index
	all = append(all, eventIndexes()...)
	all = append(all, employeeIndexes()...)
	all = append(all, extraIndexes()...)
	ferret := d.IsFerretDB(ctx)
	if d.exactKeyIndexes(ctx) {
		all = append(all, versionedIndexes()...)
	}
	for _, ix := range all {
		if ferret && !isUnique(ix.model) {
			continue // serves no query there, costs every write (secondaryIndexesOnFerretDB)
		}
		if _, err := d.DB.Collection(ix.collection).Indexes().CreateOne(ctx, ix.model); err != nil {
			return fmt.Errorf("create index on %s: %w", ix.collection, err)
		}
	}
	d.kindMu.Lock()
	known := d.kindKnown
	d.kindMu.Unlock()
	if !known {
		// The queue's shape must be chosen from the server, not guessed.
		return fmt.Errorf("ask the server what it is (buildInfo): %w", d.DB.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Err())
	}
	if err := backfillNearby(ctx, d); err != nil {
		return err
	}
	if err := backfillOutboxDue(ctx, d); err != nil {
		return err
	}
	if d.queueByFacets(ctx) {
		if err := backfillFacets(ctx, d); err != nil {
			return err
		}
	}
	return backfillCaseViews(ctx, d)
}

// secondaryIndexesOnFerretDB: FerretDB v1.24's SQLite backend creates
// each index as a SQLite expression index on _ferretdb_sjson->"field" but
// pushes no filter other than {_id} down to SQLite, so no query ever uses
// one: each costs a JSON extraction and a B-tree insert on every write of
// its collection and saves nothing (docs/compatibility.md). There only the
// unique indexes are created: they are arbiters (one open case per
// employee, one event per source id), not accelerators.
func isUnique(m mongo.IndexModel) bool {
	if m.Options == nil {
		return false
	}
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		if err := set(&o); err != nil {
			return false
		}
	}
	return o.Unique != nil && *o.Unique
}

// bulkWriteChunked runs models in commands of at most maxUpdatesPerCommand,
// unordered; duplicate-key errors are returned to the caller to judge.
func bulkWriteChunked(ctx context.Context, coll *mongo.Collection, models []mongo.WriteModel) error {
	for start := 0; start < len(models); start += maxUpdatesPerCommand {
		end := min(start+maxUpdatesPerCommand, len(models))
		if _, err := coll.BulkWrite(ctx, models[start:end], options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
	}
	return nil
}

// onlyDuplicates reports whether err is a bulk/insert error made only of
// duplicate-key errors (the documents were already there: a redelivery).
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		if bwe.WriteConcernError != nil {
			return false
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return false
			}
		}
		return len(bwe.WriteErrors) > 0
	}
	return mongo.IsDuplicateKeyError(err)
}

// findAll runs a find and decodes every document it returns into D.
func findAll[D any](ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]D, error) {
	cur, err := coll.Find(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// idDoc decodes a document projected to its _id.
type idDoc struct {
	ID string `bson:"_id"`
}
