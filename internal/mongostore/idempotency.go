package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/idempotency"
)

// Idempotency-Key records (issue 14): one document per caller and key,
// inserted with a deterministic _id, so of two requests with the same key
// exactly one claims it (the unique _id index decides, atomically on every
// database we run); the answer is stored on it and replayed to the others.

const idempotencyCollection = "idempotency"

func idempotencyIndexes() []index {
	return []index{{idempotencyCollection, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")}}}
}

type idempotencyDoc struct {
	ID          string    `bson:"_id"`
	Owner       string    `bson:"owner,omitempty"` // whom the answer is about (export)
	RequestHash string    `bson:"request_hash"`
	Status      int       `bson:"status"`
	Body        []byte    `bson:"body,omitempty"`
	At          time.Time `bson:"at"`
}

// IdempotencyStore implements idempotency.Store.
type IdempotencyStore struct{ coll *mongo.Collection }

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns the store on db.
func NewIdempotencyStore(db *DB) *IdempotencyStore {
	return &IdempotencyStore{coll: db.DB.Collection(idempotencyCollection)}
}

// Claim inserts the record id for requestHash. claimed is true for the one
// caller whose insert made it; everyone else gets the stored record.
func (s *IdempotencyStore) Claim(ctx context.Context, id, owner, requestHash string, at time.Time) (rec idempotency.Record, claimed bool, err error) {
	d := idempotencyDoc{ID: id, Owner: owner, RequestHash: requestHash, At: storedTime(at)}
	if _, err := s.coll.InsertOne(ctx, d); err == nil {
		return idempotency.Record{ID: id, RequestHash: requestHash, At: d.At}, true, nil
	} else if !mongo.IsDuplicateKeyError(err) {
		return idempotency.Record{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	var cur idempotencyDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return idempotency.Record{}, false, fmt.Errorf("idempotency key vanished: %w", err)
		}
		return idempotency.Record{}, false, fmt.Errorf("read idempotency key: %w", err)
	}
	return idempotency.Record{ID: cur.ID, RequestHash: cur.RequestHash, Status: cur.Status, Body: cur.Body, At: cur.At}, false, nil
}

// Complete stores the answer on record id (by _id alone: only the claimer,
// or a caller finishing the same deterministic create, writes it, and both
// write the same answer).
func (s *IdempotencyStore) Complete(ctx context.Context, id string, status int, body []byte) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "body", Value: body}}}})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}
