package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/review"
)

const auditCollection = "audit"

// auditDoc is one audit entry as stored; it is inserted once and never updated.
type auditDoc struct {
	ID           string            `bson:"_id"`
	At           time.Time         `bson:"at"`
	Actor        string            `bson:"actor"`
	ActorRoles   []string          `bson:"actor_roles"`
	Action       string            `bson:"action"`
	ResourceType string            `bson:"resource_type,omitempty"`
	ResourceID   string            `bson:"resource_id,omitempty"`
	OwnerID      string            `bson:"owner_id,omitempty"`
	Reason       string            `bson:"reason,omitempty"`
	ResourceIDs  []string          `bson:"resource_ids,omitempty"`
	OwnerIDs     []string          `bson:"owner_ids,omitempty"`
	Details      map[string]string `bson:"details,omitempty"`
	RequestID    string            `bson:"request_id,omitempty"`
	// ClientRequestID is the client's X-Request-Id, apart from ours.
	ClientRequestID string `bson:"client_request_id,omitempty"`
}

func auditIndexes() []index {
	return []index{
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("at")}},
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "resource_type", Value: 1}, {Key: "resource_id", Value: 1}}, Options: options.Index().SetName("resource")}},
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "owner_id", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("owner")}},
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "actor", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("actor")}},
		// Reads of many at once name their people and resources in arrays.
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "owner_ids", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("owners")}},
		{auditCollection, mongo.IndexModel{Keys: bson.D{{Key: "resource_ids", Value: 1}}, Options: options.Index().SetName("resources")}},
	}
}

// AuditStore implements audit.Store. It only inserts and finds. Entries
// appended one at a time by concurrent requests go to the database
// together, one insert per short window (audit.Batcher); each Append still
// returns only after its own entry is stored.
type AuditStore struct {
	coll  *mongo.Collection
	batch *audit.Batcher
}

var (
	_ audit.Store       = (*AuditStore)(nil)
	_ review.AuditStore = (*AuditStore)(nil)
)

// NewAuditStore returns the store on db.
func NewAuditStore(db *DB) *AuditStore {
	s := &AuditStore{coll: db.DB.Collection(auditCollection)}
	s.batch = audit.NewBatcher(s.AppendMany, audit.BatcherConfig{})
	return s
}

// Close waits for the entries being written; Append fails after it. Call
// it before the database is closed.
func (s *AuditStore) Close(ctx context.Context) error { return s.batch.Close(ctx) }

// Append implements audit.Store. A duplicate _id means this entry was
// already appended (a retry), so it is not an error.
func (s *AuditStore) Append(ctx context.Context, e audit.Entry) error {
	e = withClientRequestID(ctx, e)
	if err := e.Validate(); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	// Validated here, so one bad entry never fails the others' batch.
	if err := s.batch.Append(ctx, e); err != nil {
		return fmt.Errorf("append audit entry %s (%s): %w", e.ID, e.Action, err)
	}
	return nil
}

// AppendMany implements review.AuditStore: one unordered insert for
// all of es (a page of the case queue is read at once), duplicates skipped
// as Append skips them. Nothing is written unless every entry is valid.
func (s *AuditStore) AppendMany(ctx context.Context, es []audit.Entry) error {
	if len(es) == 0 {
		return nil
	}
	docs := make([]any, len(es))
	for i, e := range es {
		e = withClientRequestID(ctx, e)
		if err := e.Validate(); err != nil {
			return fmt.Errorf("append audit entry: %w", err)
		}
		docs[i] = toAuditDoc(e)
	}
	if _, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("append %d audit entries: %w", len(es), err)
	}
	return nil
}

func toAuditDoc(e audit.Entry) auditDoc {
	doc := auditDoc{
		ID: e.ID, At: storedTime(e.At), Actor: e.Actor, ActorRoles: e.ActorRoles, Action: string(e.Action),
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, OwnerID: e.OwnerID, Reason: e.Reason,
		ResourceIDs: e.ResourceIDs, OwnerIDs: e.OwnerIDs,
		Details: e.Details, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID,
	}
	if doc.ActorRoles == nil {
		doc.ActorRoles = []string{}
	}
	return doc
}

// List implements audit.Store.
func (s *AuditStore) List(ctx context.Context, f audit.Filter, limit int, cursor string) ([]audit.Entry, string, error) {
	filter := bson.D{}
	for _, c := range []struct{ key, value string }{
		{"actor", f.Actor}, {"action", string(f.Action)}, {"resource_type", f.ResourceType},
	} {
		if c.value != "" {
			filter = append(filter, bson.E{Key: c.key, Value: c.value})
		}
	}
	// An owner or resource is named alone (one act) or among many (a
	// list read): either matches.
	var either bson.A
	for _, c := range []struct{ one, many, value string }{
		{"resource_id", "resource_ids", f.ResourceID}, {"owner_id", "owner_ids", f.OwnerID},
	} {
		if c.value != "" {
			either = append(either, bson.D{{Key: "$or", Value: bson.A{
				bson.D{{Key: c.one, Value: c.value}}, bson.D{{Key: c.many, Value: c.value}},
			}}})
		}
	}
	if len(either) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: either})
	}
	at := bson.D{}
	if !f.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: f.From})
	}
	if !f.To.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: f.To})
	}
	if len(at) > 0 {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	if cursor != "" {
		cAt, cID, err := audit.DecodeCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list audit entries: %w", err)
		}
		filter = append(filter, afterCursor("at", cAt, cID))
	}
	n := audit.Limit(limit)
	docs, err := findAll[auditDoc](ctx, s.coll, filter, options.Find().
		SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(n+1)))
	if err != nil {
		return nil, "", fmt.Errorf("list audit entries: %w", err)
	}
	next := ""
	if len(docs) > n {
		docs = docs[:n]
		next = audit.EncodeCursor(docs[n-1].At, docs[n-1].ID)
	}
	out := make([]audit.Entry, len(docs))
	for i, d := range docs {
		out[i] = audit.Entry{
			ID: d.ID, At: d.At.UTC(), Actor: d.Actor, ActorRoles: d.ActorRoles, Action: audit.Action(d.Action),
			ResourceType: d.ResourceType, ResourceID: d.ResourceID, OwnerID: d.OwnerID, Reason: d.Reason,
			ResourceIDs: d.ResourceIDs, OwnerIDs: d.OwnerIDs, Details: d.Details, RequestID: d.RequestID, ClientRequestID: d.ClientRequestID,
		}
	}
	return out, next, nil
}

// withClientRequestID fills in the client's request id of the request
// being served, when the entry has none.
func withClientRequestID(ctx context.Context, e audit.Entry) audit.Entry {
	if e.ClientRequestID == "" {
		e.ClientRequestID = audit.ClientRequestIDFrom(ctx)
	}
	return e
}
