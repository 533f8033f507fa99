package mongostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/review"
)

// The queue's saved filters and the list of reviewers to assign to (issue
// 14): small per-user documents, read by user.

const savedFiltersCollection = "saved_filters"

// MaxSavedFilters bounds one user's saved filters.
const MaxSavedFilters = 50

type savedFilterDoc struct {
	ID    string    `bson:"_id"` // hash of user and name: saving a name again replaces it
	User  string    `bson:"user"`
	Name  string    `bson:"name"`
	Query string    `bson:"query"`
	At    time.Time `bson:"at"`
}

func savedFilterIndexes() []index {
	return []index{{savedFiltersCollection, mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("user")}}}
}

// SavedFilterStore keeps users' saved queue filters.
type SavedFilterStore struct{ coll *mongo.Collection }

// NewSavedFilterStore returns the store on db.
func NewSavedFilterStore(db *DB) *SavedFilterStore {
	return &SavedFilterStore{coll: db.DB.Collection(savedFiltersCollection)}
}

func savedFilterID(user, name string) string {
	h := sha256.Sum256([]byte(user + "\x00" + name))
	return "sf-" + hex.EncodeToString(h[:12])
}

// List returns user's saved filters, newest first.
func (s *SavedFilterStore) List(ctx context.Context, user string) ([]review.SavedFilter, error) {
	docs, err := findAll[savedFilterDoc](ctx, s.coll, bson.D{{Key: "user", Value: user}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(MaxSavedFilters))
	if err != nil {
		return nil, fmt.Errorf("saved filters of %s: %w", user, err)
	}
	out := make([]review.SavedFilter, len(docs))
	for i, d := range docs {
		out[i] = review.SavedFilter{ID: d.ID, Name: d.Name, Query: d.Query, At: d.At}
	}
	return out, nil
}

// Save stores query under name for user, replacing one of that name; a
// user with MaxSavedFilters others gets an error.
func (s *SavedFilterStore) Save(ctx context.Context, user, name, query string, at time.Time) error {
	n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "user", Value: user}})
	if err != nil {
		return fmt.Errorf("count saved filters of %s: %w", user, err)
	}
	id := savedFilterID(user, name)
	if n >= MaxSavedFilters {
		// At the limit only replacing one of the user's own filters is
		// allowed; a failed read is that error, not "too many".
		_, found, err := findByID[savedFilterDoc](ctx, s.coll, id)
		if err != nil {
			return fmt.Errorf("saved filter of %s: %w", user, err)
		}
		if !found {
			return fmt.Errorf("%s has %d saved filters, the most kept: %w", user, MaxSavedFilters, ErrTooMany)
		}
	}
	d := savedFilterDoc{ID: id, User: user, Name: name, Query: query, At: storedTime(at)}
	if _, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, d, options.Replace().SetUpsert(true)); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil // saved concurrently under the same name
		}
		return fmt.Errorf("save filter of %s: %w", user, err)
	}
	return nil
}

// Delete removes user's filter id (another user's id removes nothing).
func (s *SavedFilterStore) Delete(ctx context.Context, user, id string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "user", Value: user}}); err != nil {
		return fmt.Errorf("delete saved filter of %s: %w", user, err)
	}
	return nil
}

// ErrTooMany: a per-user bound was reached.
var ErrTooMany = errors.New("too many")

// Recent returns the reviewers seen since since (whom a case can be
// assigned to), at most 200, by id.
func (s *ReviewerStore) Recent(ctx context.Context, since time.Time) ([]string, error) {
	docs, err := findAll[idDoc](ctx, s.coll, bson.D{{Key: "last_seen", Value: bson.D{{Key: "$gte", Value: storedTime(since)}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(200))
	if err != nil {
		return nil, fmt.Errorf("recent reviewers: %w", err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}
