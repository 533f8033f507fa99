package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/profile"
)

// uiProfilesCollection keeps the UI's language and zone per person (the
// notifier keeps its own language in "profiles"; each replaces its
// documents whole, so they do not share one).
const uiProfilesCollection = "ui_profiles"

type uiProfileDoc struct {
	ID        string    `bson:"_id"` // employee id
	Lang      string    `bson:"lang,omitempty"`
	TimeZone  string    `bson:"time_zone,omitempty"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// ProfileStore implements profile.Store: one small document per person,
// replaced whole by _id (the person's last choice wins, so the replace
// needs no arbiter).
type ProfileStore struct{ coll *mongo.Collection }

var _ profile.Store = (*ProfileStore)(nil)

// NewProfileStore returns the store on db.
func NewProfileStore(db *DB) *ProfileStore {
	return &ProfileStore{coll: db.DB.Collection(uiProfilesCollection)}
}

// Get implements profile.Store.
func (s *ProfileStore) Get(ctx context.Context, subject string) (profile.Profile, error) {
	d, err := getByID[uiProfileDoc](ctx, s.coll, subject, profile.ErrNotFound)
	if err != nil {
		return profile.Profile{}, err
	}
	return profile.Profile{Subject: d.ID, Lang: d.Lang, TimeZone: d.TimeZone, UpdatedAt: d.UpdatedAt}, nil
}

// Save implements profile.Store.
func (s *ProfileStore) Save(ctx context.Context, p profile.Profile) error {
	d := uiProfileDoc{ID: p.Subject, Lang: p.Lang, TimeZone: p.TimeZone, UpdatedAt: storedTime(p.UpdatedAt)}
	if _, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.Subject}}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}
