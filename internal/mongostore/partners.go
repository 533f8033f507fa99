package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/project"
)

const partnersCollection = "partners"

type partnerDoc struct {
	ID           string       `bson:"_id"`
	ProjectCode  string       `bson:"project_code"`
	Name         string       `bson:"name"`
	Kind         string       `bson:"kind"`
	Parent       string       `bson:"parent,omitempty"`
	NDASignedOn  string       `bson:"nda_signed_on"`
	NDAExpiresOn string       `bson:"nda_expires_on,omitempty"`
	EmbargoUntil string       `bson:"embargo_until,omitempty"`
	Contacts     []contactDoc `bson:"contacts"`
	CreatedAt    time.Time    `bson:"created_at"`
	UpdatedAt    time.Time    `bson:"updated_at"`
	Version      int64        `bson:"version"`
}

type contactDoc struct {
	Name  string `bson:"name"`
	Email string `bson:"email,omitempty"`
	Role  string `bson:"role,omitempty"`
}

func partnerIndexes() []index {
	return []index{{partnersCollection, mongo.IndexModel{Keys: bson.D{{Key: "project_code", Value: 1}, {Key: "name", Value: 1}},
		Options: options.Index().SetName("project_name")}}}
}

// PartnerStore implements project.PartnerStore.
type PartnerStore struct {
	coll    *mongo.Collection
	arbiter *transitions
}

var _ project.PartnerStore = (*PartnerStore)(nil)

// NewPartnerStore returns the store on db.
func NewPartnerStore(db *DB) *PartnerStore {
	return &PartnerStore{coll: db.DB.Collection(partnersCollection), arbiter: newTransitions(db)}
}

// Create implements project.PartnerStore.
func (s *PartnerStore) Create(ctx context.Context, p project.Partner) error {
	if err := insertUnique(ctx, s.coll, toPartnerDoc(p), "create partner "+p.ID, project.ErrConflict); err != nil {
		return err
	}
	return nil
}

// Get implements project.PartnerStore.
func (s *PartnerStore) Get(ctx context.Context, id string) (project.Partner, error) {
	d, err := getByID[partnerDoc](ctx, s.coll, id, project.ErrNotFound)
	if err != nil {
		return project.Partner{}, err
	}
	return fromPartnerDoc(d), nil
}

// Update implements project.PartnerStore through the transitions arbiter.
func (s *PartnerStore) Update(ctx context.Context, p project.Partner, entries ...audit.Entry) (project.Partner, error) {
	doc := toPartnerDoc(p)
	doc.Version = p.Version + 1
	err := s.arbiter.apply(ctx, s.coll, "partner/"+p.ID, p.ID, p.Version, doc, entries)
	if err != nil {
		return project.Partner{}, transitionError(err, fmt.Sprintf("update partner %s (version %d)", p.ID, p.Version), project.ErrNotFound, project.ErrConflict)
	}
	p.Version = doc.Version
	return p, nil
}

// Delete implements project.PartnerStore.
func (s *PartnerStore) Delete(ctx context.Context, id string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete partner %s: %w", id, err)
	}
	return nil
}

// List implements project.PartnerStore.
func (s *PartnerStore) List(ctx context.Context, code string) ([]project.Partner, error) {
	filter := bson.D{}
	if code != "" {
		filter = bson.D{{Key: "project_code", Value: code}}
	}
	docs, err := findAll[partnerDoc](ctx, s.coll, filter, options.Find().SetSort(bson.D{{Key: "project_code", Value: 1}, {Key: "name", Value: 1}}).SetLimit(5000))
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	out := make([]project.Partner, len(docs))
	for i, d := range docs {
		out[i] = fromPartnerDoc(d)
	}
	return out, nil
}

func toPartnerDoc(p project.Partner) partnerDoc {
	d := partnerDoc{ID: p.ID, ProjectCode: p.ProjectCode, Name: p.Name, Kind: p.Kind, Parent: p.Parent,
		NDASignedOn: string(p.NDASignedOn), NDAExpiresOn: string(p.NDAExpiresOn), EmbargoUntil: string(p.EmbargoUntil),
		Contacts: make([]contactDoc, len(p.Contacts)), CreatedAt: storedTime(p.CreatedAt), UpdatedAt: storedTime(p.UpdatedAt), Version: p.Version}
	for i, c := range p.Contacts {
		d.Contacts[i] = contactDoc{Name: c.Name, Email: c.Email, Role: c.Role}
	}
	return d
}

func fromPartnerDoc(d partnerDoc) project.Partner {
	p := project.Partner{ID: d.ID, ProjectCode: d.ProjectCode, Name: d.Name, Kind: d.Kind, Parent: d.Parent,
		NDASignedOn: civil.Date(d.NDASignedOn), NDAExpiresOn: civil.Date(d.NDAExpiresOn), EmbargoUntil: civil.Date(d.EmbargoUntil),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
	for _, c := range d.Contacts {
		p.Contacts = append(p.Contacts, project.Contact{Name: c.Name, Email: c.Email, Role: c.Role})
	}
	return p
}
