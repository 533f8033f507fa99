package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/incident"
)

const incidentsCollection = "incidents"

type incidentDoc struct {
	ID          string    `bson:"_id"`
	ProjectCode string    `bson:"project_code"`
	FirstSeenOn string    `bson:"first_seen_on"`
	Kind        string    `bson:"kind"`
	Where       string    `bson:"where"`
	Links       []string  `bson:"links"`
	Keywords    []string  `bson:"keywords"`
	CreatedBy   string    `bson:"created_by"`
	CreatedAt   time.Time `bson:"created_at"`
}

func incidentIndexes() []index {
	return []index{{incidentsCollection, mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: -1}}, Options: options.Index().SetName("created")}}}
}

// IncidentStore implements incident.Store (insert-only).
type IncidentStore struct{ coll *mongo.Collection }

var _ incident.Store = (*IncidentStore)(nil)

// NewIncidentStore returns the store on db.
func NewIncidentStore(db *DB) *IncidentStore {
	return &IncidentStore{coll: db.DB.Collection(incidentsCollection)}
}

// Create implements incident.Store.
func (s *IncidentStore) Create(ctx context.Context, in incident.Incident) error {
	d := incidentDoc{ID: in.ID, ProjectCode: in.ProjectCode, FirstSeenOn: string(in.FirstSeenOn), Kind: in.Kind, Where: in.Where,
		Links: in.Links, Keywords: in.Keywords, CreatedBy: in.CreatedBy, CreatedAt: storedTime(in.CreatedAt)}
	if d.Links == nil {
		d.Links = []string{}
	}
	if d.Keywords == nil {
		d.Keywords = []string{}
	}
	if _, err := s.coll.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("create incident %s: %w", in.ID, err)
	}
	return nil
}

// Get implements incident.Store.
func (s *IncidentStore) Get(ctx context.Context, id string) (incident.Incident, error) {
	d, err := getByID[incidentDoc](ctx, s.coll, id, incident.ErrNotFound)
	if err != nil {
		return incident.Incident{}, err
	}
	return fromIncidentDoc(d), nil
}

// List implements incident.Store.
func (s *IncidentStore) List(ctx context.Context, limit int) ([]incident.Incident, error) {
	docs, err := findAll[incidentDoc](ctx, s.coll, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	out := make([]incident.Incident, len(docs))
	for i, d := range docs {
		out[i] = fromIncidentDoc(d)
	}
	return out, nil
}

func fromIncidentDoc(d incidentDoc) incident.Incident {
	return incident.Incident{ID: d.ID, ProjectCode: d.ProjectCode, FirstSeenOn: civil.Date(d.FirstSeenOn), Kind: d.Kind, Where: d.Where,
		Links: d.Links, Keywords: d.Keywords, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC()}
}
