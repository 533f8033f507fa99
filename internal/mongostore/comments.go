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

const commentsCollection = "case_comments"

// commentDocV2 is one reviewer's note on a case, in its own collection:
// a case document no longer grows with its comments.
type commentDocV2 struct {
	ID     string    `bson:"_id"`
	CaseID string    `bson:"case_id"`
	At     time.Time `bson:"at"`
	By     string    `bson:"by"`
	Text   string    `bson:"text"`
}

func commentIndexes() []index {
	return []index{
		{commentsCollection, mongo.IndexModel{Keys: bson.D{{Key: "case_id", Value: 1}, {Key: "at", Value: 1}}, Options: options.Index().SetName("case_at")}},
	}
}

// CommentStore implements review.Comments. Comments are insert-only.
type CommentStore struct{ coll *mongo.Collection }

var _ review.Comments = (*CommentStore)(nil)

// NewCommentStore returns the store on db.
func NewCommentStore(db *DB) *CommentStore {
	return &CommentStore{coll: db.DB.Collection(commentsCollection)}
}

// Add implements review.Comments.
func (s *CommentStore) Add(ctx context.Context, caseID, id string, c review.Comment) error {
	if _, err := s.coll.InsertOne(ctx, commentDocV2{ID: id, CaseID: caseID, At: storedTime(c.At), By: c.By, Text: c.Text}); err != nil {
		return fmt.Errorf("add comment to case %s: %w", caseID, err)
	}
	return nil
}

// Count implements review.Comments.
func (s *CommentStore) Count(ctx context.Context, caseID string) (int, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "case_id", Value: caseID}})
	if err != nil {
		return 0, fmt.Errorf("count comments of case %s: %w", caseID, err)
	}
	return int(n), nil
}

// List implements review.Comments: oldest first, at most limit.
func (s *CommentStore) List(ctx context.Context, caseID string, limit int) ([]review.Comment, error) {
	docs, err := findAll[commentDocV2](ctx, s.coll, bson.D{{Key: "case_id", Value: caseID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("comments of case %s: %w", caseID, err)
	}
	out := make([]review.Comment, len(docs))
	for i, d := range docs {
		out[i] = review.Comment{At: d.At.UTC(), By: d.By, Text: d.Text}
	}
	return out, nil
}
