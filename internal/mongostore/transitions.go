package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

// transitionsCollection holds one insert-only document per state change of
// a versioned resource (a disclosure, a case). It is the arbiter of
// concurrent changes: a filtered ReplaceOne ({_id, version}) is atomic on
// MongoDB but not on FerretDB/SQLite, where ten parallel decisions on one
// disclosure all "matched" (issue 10). An insert of a document with a
// deterministic _id is decided atomically by the _id unique index on all
// three databases we run (FerretDB, mongo-java-server, MongoDB), so the
// writer whose insert of "<resource>:<version>" succeeds is the only one
// allowed to replace that version; everyone else has lost and is told so.
const transitionsCollection = "transitions"

// transitionGrace is how old a transition must be before another writer
// finishes it for a winner that stopped between its insert and its replace
// (a crash). Finishing a live winner's transition is harmless but useless,
// and the grace keeps a late identical write from racing a newer version.
const transitionGrace = 30 * time.Second

// transitionDoc is one change: the resource's new document and the audit
// entries that go with it, so whoever finishes the change writes both.
type transitionDoc struct {
	ID       string     `bson:"_id"` // "<resource>:<from version>"
	Resource string     `bson:"resource"`
	From     int64      `bson:"from"`
	At       time.Time  `bson:"at"`
	Doc      bson.Raw   `bson:"doc"`
	Audit    []auditDoc `bson:"audit,omitempty"`
}

// transitions applies versioned changes through the arbiter.
type transitions struct {
	coll  *mongo.Collection
	audit *AuditStore
	now   func() time.Time
	db    *DB // which server: replaceAt
}

func newTransitions(db *DB) *transitions {
	return &transitions{coll: db.DB.Collection(transitionsCollection), audit: NewAuditStore(db), now: time.Now, db: db}
}

// Outcomes of apply besides success.
var (
	errTransitionLost = errors.New("another change of this version won")
	errResourceGone   = errors.New("resource does not exist")
)

func transitionID(resource string, from int64) string {
	return resource + ":" + strconv.FormatInt(from, 10)
}

// apply replaces the document id of target, read at version from, with doc
// (whose version must be from+1), then appends entries. It returns
// errTransitionLost when another change of version from won, and
// errResourceGone when there is no such document. entries must be valid;
// their ids make a repeated append a no-op.
func (t *transitions) apply(ctx context.Context, target *mongo.Collection, resource, id string, from int64, doc any, entries []audit.Entry) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", resource, err)
	}
	td := transitionDoc{ID: transitionID(resource, from), Resource: resource, From: from, At: storedTime(t.now()), Doc: raw}
	for _, e := range entries {
		e = withClientRequestID(ctx, e)
		if err := e.Validate(); err != nil {
			return fmt.Errorf("audit entry of %s: %w", resource, err)
		}
		td.Audit = append(td.Audit, toAuditDoc(e))
	}
	if _, err := t.coll.InsertOne(ctx, td); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			t.recover(ctx, target, id, td.ID)
			return errTransitionLost
		}
		return fmt.Errorf("claim %s: %w", td.ID, err)
	}
	return t.finish(ctx, target, id, td, true)
}

// finish writes a claimed transition: the document, then its audit entries.
// own says the caller has just made the claim (apply), not found it
// abandoned (recover).
func (t *transitions) finish(ctx context.Context, target *mongo.Collection, id string, td transitionDoc, own bool) error {
	matched, err := t.replaceAt(ctx, target, id, td)
	if err != nil {
		return fmt.Errorf("write %s: %w", td.ID, err)
	}
	if !matched {
		// Someone finished it for us (recover), or the document is gone.
		// Any version above From went through this transition first.
		var cur struct {
			Version int64 `bson:"version"`
		}
		err := target.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			return errResourceGone
		case err != nil:
			return fmt.Errorf("check %s: %w", td.ID, err)
		case cur.Version <= td.From:
			return fmt.Errorf("write %s: version %d did not move: %w", td.ID, cur.Version, errTransitionLost)
		case own && t.now().Sub(td.At) < transitionGrace:
			// Nobody finishes a claim younger than the grace (recover
			// waits for it), so the version moved without this claim:
			// the writer read a version whose claim the retention purge
			// has removed since. It lost; its claim is withdrawn, so it
			// is never finished for it.
			if _, err := t.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: td.ID}}); err != nil {
				return fmt.Errorf("withdraw %s: %w", td.ID, err)
			}
			return fmt.Errorf("write %s: version %d is past it: %w", td.ID, cur.Version, errTransitionLost)
		}
	}
	for _, d := range td.Audit {
		if err := t.audit.appendDoc(ctx, d); err != nil {
			return fmt.Errorf("audit %s: %w", td.ID, err)
		}
	}
	return nil
}

// replaceAt replaces document id if it is still at td.From. FerretDB hands
// SQLite only filters that are exactly {_id} and scans the collection for
// {_id, version}, so there the version is read by _id first and the replace
// is by _id alone: the claimed transition already made this writer the only
// one for version From, and FerretDB's filtered updates are not atomic
// anyway.
func (t *transitions) replaceAt(ctx context.Context, target *mongo.Collection, id string, td transitionDoc) (bool, error) {
	if !t.db.IsFerretDB(ctx) {
		res, err := target.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: td.From}}, td.Doc)
		if err != nil {
			return false, err
		}
		return res.MatchedCount > 0, nil
	}
	var cur struct {
		Version int64 `bson:"version"`
	}
	if err := target.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		return false, err
	}
	if cur.Version != td.From {
		return false, nil
	}
	res, err := target.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, td.Doc)
	if err != nil {
		return false, err
	}
	return res.MatchedCount > 0, nil
}

// recover finishes an abandoned transition: one claimed more than
// transitionGrace ago whose document is still at its version (the winner
// stopped between its insert and its replace). Errors are left to the next
// attempt: the caller has lost either way.
func (t *transitions) recover(ctx context.Context, target *mongo.Collection, id, tid string) {
	var td transitionDoc
	if err := t.coll.FindOne(ctx, bson.D{{Key: "_id", Value: tid}}).Decode(&td); err != nil {
		return
	}
	if t.now().Sub(td.At) < transitionGrace {
		return
	}
	_ = t.finish(ctx, target, id, td, false)
}

// appendDoc inserts one already validated entry; a duplicate _id is the
// same entry appended before.
func (s *AuditStore) appendDoc(ctx context.Context, d auditDoc) error {
	if _, err := s.coll.InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("append audit entry %s (%s): %w", d.ID, d.Action, err)
	}
	return nil
}
