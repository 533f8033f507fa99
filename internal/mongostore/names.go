package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Names implements review.NameDirectory: every employee's id and name, and
// nothing else (a projection), for masking the names of the people named
// in a case's evidence (issue 15).
func (s *EmployeeStore) Names(ctx context.Context) (map[string]string, error) {
	type row struct {
		ID   string `bson:"_id"`
		Name string `bson:"name"`
	}
	rows, err := findAll[row](ctx, s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("employee names: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		if r.Name != "" {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}
