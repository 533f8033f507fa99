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

// Unmask requests and reviewers' unmask states (issue 15):
//
//   - unmask_requests: one document per request; a decision goes through
//     the transition arbiter (transitions.go), so of concurrent decisions of
//     one version exactly one wins on every server we run.
//   - unmask_states: one document per reviewer ({_id: reviewer, cases:
//     {<case id>: state}}), so a queue page reads the reader's states of
//     all its cases with one read by _id. Only the request's creator and
//     the winner of its decision write a state.
const (
	unmaskRequestsCollection = "unmask_requests"
	unmaskStatesCollection   = "unmask_states"
)

type unmaskRequestDoc struct {
	ID          string    `bson:"_id"`
	CaseID      string    `bson:"case_id"`
	EmployeeID  string    `bson:"employee_id"`
	Subject     string    `bson:"subject"`
	Requester   string    `bson:"requester"`
	Reason      string    `bson:"reason"`
	Status      string    `bson:"status"`
	RequestedAt time.Time `bson:"requested_at"`
	ExpiresAt   time.Time `bson:"expires_at,omitempty"`
	DecidedBy   string    `bson:"decided_by,omitempty"`
	Comment     string    `bson:"comment,omitempty"`
	DecidedAt   time.Time `bson:"decided_at,omitempty"`
	Until       time.Time `bson:"until,omitempty"`
	Version     int64     `bson:"version"`
}

type unmaskStateDoc struct {
	Request   string    `bson:"request"`
	Status    string    `bson:"status"`
	ExpiresAt time.Time `bson:"expires_at,omitempty"`
	Until     time.Time `bson:"until,omitempty"`
}

type unmaskStatesDoc struct {
	ID    string                    `bson:"_id"`
	Cases map[string]unmaskStateDoc `bson:"cases"`
}

func unmaskIndexes() []index {
	return []index{
		{unmaskRequestsCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "requested_at", Value: 1}}, Options: options.Index().SetName("status_requested")}},
	}
}

// UnmaskStore implements review.UnmaskStore.
type UnmaskStore struct {
	reqs    *mongo.Collection
	states  *mongo.Collection
	audit   *AuditStore
	arbiter *transitions
}

var _ review.UnmaskStore = (*UnmaskStore)(nil)

// NewUnmaskStore returns the store on db.
func NewUnmaskStore(db *DB) *UnmaskStore {
	return &UnmaskStore{reqs: db.DB.Collection(unmaskRequestsCollection), states: db.DB.Collection(unmaskStatesCollection),
		audit: NewAuditStore(db), arbiter: newTransitions(db)}
}

func toUnmaskDoc(r review.UnmaskRequest) unmaskRequestDoc {
	return unmaskRequestDoc{ID: r.ID, CaseID: r.CaseID, EmployeeID: r.EmployeeID, Subject: r.Subject, Requester: r.Requester,
		Reason: r.Reason, Status: r.Status, RequestedAt: storedTime(r.RequestedAt), ExpiresAt: storedTime(r.ExpiresAt),
		DecidedBy: r.DecidedBy, Comment: r.Comment, DecidedAt: storedTime(r.DecidedAt), Until: storedTime(r.Until), Version: r.Version}
}

func fromUnmaskDoc(d unmaskRequestDoc) review.UnmaskRequest {
	return review.UnmaskRequest{ID: d.ID, CaseID: d.CaseID, EmployeeID: d.EmployeeID, Subject: d.Subject, Requester: d.Requester,
		Reason: d.Reason, Status: d.Status, RequestedAt: d.RequestedAt, ExpiresAt: d.ExpiresAt, DecidedBy: d.DecidedBy,
		Comment: d.Comment, DecidedAt: d.DecidedAt, Until: d.Until, Version: d.Version}
}

// Create implements review.UnmaskStore: the entry first (an entry of a
// request that then failed to store says it was asked, which is true), the
// request, then the requester's state.
func (s *UnmaskStore) Create(ctx context.Context, r review.UnmaskRequest, e audit.Entry) error {
	if err := s.audit.Append(ctx, e); err != nil {
		return err
	}
	if _, err := s.reqs.InsertOne(ctx, toUnmaskDoc(r)); err != nil {
		return fmt.Errorf("store unmask request %s: %w", r.ID, err)
	}
	return s.setState(ctx, r)
}

// setState writes the requester's state of r's case. $set of one field of
// the reviewer's document, by _id only.
func (s *UnmaskStore) setState(ctx context.Context, r review.UnmaskRequest) error {
	st := unmaskStateDoc{Request: r.ID, Status: r.Status, ExpiresAt: storedTime(r.ExpiresAt), Until: storedTime(r.Until)}
	_, err := s.states.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.Requester}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "cases." + r.CaseID, Value: st}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("unmask state of %s: %w", r.Requester, err)
	}
	return nil
}

// Get implements review.UnmaskStore.
func (s *UnmaskStore) Get(ctx context.Context, id string) (review.UnmaskRequest, error) {
	d, err := getByID[unmaskRequestDoc](ctx, s.reqs, id, review.ErrUnmaskNotFound)
	if err != nil {
		return review.UnmaskRequest{}, err
	}
	return fromUnmaskDoc(d), nil
}

// List implements review.UnmaskStore.
func (s *UnmaskStore) List(ctx context.Context, status string, limit int) ([]review.UnmaskRequest, error) {
	filter := bson.D{}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: status})
	}
	docs, err := findAll[unmaskRequestDoc](ctx, s.reqs, filter, options.Find().
		SetSort(bson.D{{Key: "requested_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("list unmask requests: %w", err)
	}
	out := make([]review.UnmaskRequest, len(docs))
	for i, d := range docs {
		out[i] = fromUnmaskDoc(d)
	}
	return out, nil
}

// Decide implements review.UnmaskStore through the transition arbiter.
func (s *UnmaskStore) Decide(ctx context.Context, r review.UnmaskRequest, entries ...audit.Entry) error {
	d := toUnmaskDoc(r)
	d.Version = r.Version + 1
	err := s.arbiter.apply(ctx, s.reqs, "unmask/"+r.ID, r.ID, r.Version, d, entries)
	if err != nil {
		// A request that vanished cannot be decided either: a conflict.
		return transitionError(err, fmt.Sprintf("decide unmask request %s (version %d)", r.ID, r.Version), review.ErrConflict, review.ErrConflict)
	}
	return s.setState(ctx, r)
}

// StatesOf implements review.UnmaskStore: one read by _id.
func (s *UnmaskStore) StatesOf(ctx context.Context, reviewer string, caseIDs []string) (map[string]review.UnmaskState, error) {
	out := map[string]review.UnmaskState{}
	if reviewer == "" || len(caseIDs) == 0 {
		return out, nil
	}
	d, found, err := findByID[unmaskStatesDoc](ctx, s.states, reviewer)
	if err != nil {
		return nil, err
	}
	if !found {
		return out, nil
	}
	for _, id := range caseIDs {
		if st, ok := d.Cases[id]; ok {
			out[id] = review.UnmaskState{CaseID: id, Reviewer: reviewer, RequestID: st.Request, Status: st.Status,
				ExpiresAt: st.ExpiresAt, Until: st.Until}
		}
	}
	return out, nil
}
