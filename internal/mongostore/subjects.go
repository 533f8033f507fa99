package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BackfillSubjects stores the pseudonym (subject) on every case and queue
// row whose stored one differs from subject(employee id): cases stored
// before pseudonyms, or under another privacy.pseudonym_key. It runs once
// per database and key (a marker in case_refs named after the key's
// pseudonym of a fixed string); replicas starting together write the same
// values. Each update is a $set by _id of one field that every writer sets
// to the same value, so FerretDB's non-atomic filtered updates cannot lose
// anything, and the case's version does not change (reviewers' reads stay
// valid). It returns the number of cases updated.
func (s *CaseStore) BackfillSubjects(ctx context.Context, subject func(employeeID string) string) (int, error) {
	marker := "~subjects-" + subject("~moonlight-marker")
	err := s.refs.FindOne(ctx, bson.D{{Key: "_id", Value: marker}}).Err()
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("subjects marker: %w", err)
	}
	type row struct {
		ID         string `bson:"_id"`
		EmployeeID string `bson:"employee_id"`
		Subject    string `bson:"subject"`
	}
	rows, err := findAll[row](ctx, s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "employee_id", Value: 1}, {Key: "subject", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("backfill subjects: %w", err)
	}
	n := 0
	for _, r := range rows {
		want := subject(r.EmployeeID)
		if r.Subject == want {
			continue
		}
		set := bson.D{{Key: "$set", Value: bson.D{{Key: "subject", Value: want}}}}
		if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, set); err != nil {
			return n, fmt.Errorf("subject of case %s: %w", r.ID, err)
		}
		if _, err := s.queue.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, set); err != nil {
			return n, fmt.Errorf("subject of queue row %s: %w", r.ID, err)
		}
		if s.db.queueByFacets(ctx) {
			var d caseDoc
			if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: r.ID}}).Decode(&d); err != nil {
				return n, fmt.Errorf("subject of queue row %s: %w", r.ID, err)
			}
			if err := s.facets.refresh(ctx, d); err != nil {
				return n, fmt.Errorf("subject of queue row %s: %w", r.ID, err)
			}
		}
		n++
	}
	if _, err := s.refs.InsertOne(ctx, bson.D{{Key: "_id", Value: marker}, {Key: "cases", Value: bson.A{}}}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return n, fmt.Errorf("subjects marker: %w", err)
	}
	return n, nil
}
