package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/review"
)

const reviewersCollection = "reviewers"

// ReviewerStore implements review.Reviewers: the people seen acting with
// the compliance role, one small document each.
type ReviewerStore struct{ coll *mongo.Collection }

var _ review.Reviewers = (*ReviewerStore)(nil)

// NewReviewerStore returns the store on db.
func NewReviewerStore(db *DB) *ReviewerStore {
	return &ReviewerStore{coll: db.DB.Collection(reviewersCollection)}
}

// Seen implements review.Reviewers.
func (s *ReviewerStore) Seen(ctx context.Context, id string, at time.Time) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_seen", Value: storedTime(at)}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record reviewer %s: %w", id, err)
	}
	return nil
}

// SeenSince implements review.Reviewers.
func (s *ReviewerStore) SeenSince(ctx context.Context, id string, since time.Time) (bool, error) {
	d, found, err := findByID[struct {
		LastSeen time.Time `bson:"last_seen"`
	}](ctx, s.coll, id)
	if err != nil || !found {
		return false, err
	}
	return !d.LastSeen.Before(storedTime(since)), nil
}
