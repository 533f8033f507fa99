package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/session"
)

const sessionsCollection = "sessions"

type sessionDoc struct {
	ID       string    `bson:"_id"`
	Subject  string    `bson:"subject"`
	Name     string    `bson:"name,omitempty"`
	Roles    []string  `bson:"roles"`
	CSRF     string    `bson:"csrf"`
	Created  time.Time `bson:"created"`
	LastSeen time.Time `bson:"last_seen"`
	Expires  time.Time `bson:"expires"`
}

func sessionIndexes() []index {
	return []index{
		{sessionsCollection, mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}}, Options: options.Index().SetName("subject")}},
	}
}

// SessionStore implements session.Store. Records are small and written one
// at a time; expiry is checked by the application (FerretDB has no TTL).
type SessionStore struct{ coll *mongo.Collection }

var _ session.Store = (*SessionStore)(nil)

// NewSessionStore returns the store on db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{coll: db.DB.Collection(sessionsCollection)}
}

// Create implements session.Store.
func (s *SessionStore) Create(ctx context.Context, r session.Record) error {
	roles := r.Roles
	if roles == nil {
		roles = []string{}
	}
	d := sessionDoc{ID: r.ID, Subject: r.Subject, Name: r.Name, Roles: roles, CSRF: r.CSRF,
		Created: storedTime(r.Created), LastSeen: storedTime(r.LastSeen), Expires: storedTime(r.Expires)}
	if _, err := s.coll.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Get implements session.Store.
func (s *SessionStore) Get(ctx context.Context, id string) (session.Record, error) {
	d, err := getByID[sessionDoc](ctx, s.coll, id, session.ErrNotFound)
	if err != nil {
		return session.Record{}, err
	}
	return session.Record{ID: d.ID, Subject: d.Subject, Name: d.Name, Roles: d.Roles, CSRF: d.CSRF,
		Created: d.Created.UTC(), LastSeen: d.LastSeen.UTC(), Expires: d.Expires.UTC()}, nil
}

// Touch implements session.Store.
func (s *SessionStore) Touch(ctx context.Context, id string, at time.Time) error {
	if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_seen", Value: storedTime(at)}}}}); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSubject implements session.Store.
func (s *SessionStore) DeleteSubject(ctx context.Context, subject string) (int, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "subject", Value: subject}})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", subject, err)
	}
	return int(res.DeletedCount), nil
}

// DeleteExpired implements session.Store.
func (s *SessionStore) DeleteExpired(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	or := bson.A{bson.D{{Key: "expires", Value: bson.D{{Key: "$lte", Value: storedTime(now)}}}}}
	if idle > 0 {
		or = append(or, bson.D{{Key: "last_seen", Value: bson.D{{Key: "$lte", Value: storedTime(now.Add(-idle))}}}})
	}
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "$or", Value: or}})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(res.DeletedCount), nil
}
