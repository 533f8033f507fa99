package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// Names implements review.NameDirectory: every employee's id, name and
// email and nothing else (a projection), for masking the people a case's
// texts name (issue 15).
func (s *EmployeeStore) Names(ctx context.Context) ([]privacy.Person, error) {
	type row struct {
		ID    string `bson:"_id"`
		Name  string `bson:"name"`
		Email string `bson:"email"`
	}
	rows, err := findAll[row](ctx, s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: 1}, {Key: "email", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("employee names: %w", err)
	}
	out := make([]privacy.Person, len(rows))
	for i, r := range rows {
		out[i] = privacy.Person{ID: r.ID, Name: r.Name, Email: r.Email}
	}
	return out, nil
}
