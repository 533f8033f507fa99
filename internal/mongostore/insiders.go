package mongostore

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/employee"
)

// OnProject returns every employee who ever had an assignment to code (the
// insider list's members), by id. It reads only ids and assignments of the
// whole collection (FerretDB scans it for any filter on an array field
// anyway), then the members' full projections by key.
func (s *EmployeeStore) OnProject(ctx context.Context, code string) ([]employee.Employee, error) {
	type slim struct {
		ID       string `bson:"_id"`
		Projects []struct {
			Code string `bson:"code"`
		} `bson:"projects"`
	}
	docs, err := findAll[slim](ctx, s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "projects.code", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("members of project %s: %w", code, err)
	}
	var ids []string
	for _, d := range docs {
		for _, p := range d.Projects {
			if p.Code == code {
				ids = append(ids, d.ID)
				break
			}
		}
	}
	byID, err := s.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]employee.Employee, 0, len(byID))
	for _, e := range byID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
