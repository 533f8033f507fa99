package mongostore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
)

const (
	reevaluationsCollection = "reevaluations"
	sweepStateCollection    = "sweep_state"
	sweepStateID            = "disclosure-sweep"
)

// markerDoc says an employee needs re-evaluating after a disclosure change.
// Its _id is the disclosure and the version the change creates, so writing
// it again for the same change adds nothing.
type markerDoc struct {
	ID         string    `bson:"_id"`
	EmployeeID string    `bson:"employee_id"`
	At         time.Time `bson:"at"`
}

func sweepIndexes() []index {
	return []index{
		{reevaluationsCollection, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")}},
		// The sweep asks for the not approved disclosures starting in a window.
		{disclosuresCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "start_date", Value: 1}},
			Options: options.Index().SetName("status_start")}},
	}
}

// markReevaluation records that the change of disclosure id to version
// needs a re-evaluation of employeeID. Disclosure writes call it before the
// change: a crash in between leaves a marker for a change that did not
// happen, which costs one harmless re-evaluation, never a lost one.
func markReevaluation(ctx context.Context, coll *mongo.Collection, employeeID, id string, version int64, now time.Time) error {
	_, err := coll.InsertOne(ctx, markerDoc{ID: id + ":" + strconv.FormatInt(version, 10), EmployeeID: employeeID, At: storedTime(now)})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mark re-evaluation of %s: %w", employeeID, err)
	}
	return nil
}

// MarkerStore implements evaluate.MarkerStore.
type MarkerStore struct{ coll *mongo.Collection }

var _ evaluate.MarkerStore = (*MarkerStore)(nil)

// NewMarkerStore returns the store on db.
func NewMarkerStore(db *DB) *MarkerStore {
	return &MarkerStore{coll: db.DB.Collection(reevaluationsCollection)}
}

// MarkersBefore implements evaluate.MarkerStore.
func (s *MarkerStore) MarkersBefore(ctx context.Context, t time.Time, limit int) ([]evaluate.Marker, error) {
	docs, err := findAll[markerDoc](ctx, s.coll, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: storedTime(t)}}}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("re-evaluation markers: %w", err)
	}
	out := make([]evaluate.Marker, len(docs))
	for i, d := range docs {
		out[i] = evaluate.Marker{ID: d.ID, EmployeeID: d.EmployeeID, At: d.At.UTC()}
	}
	return out, nil
}

// DeleteMarkers implements evaluate.MarkerStore, one delete by _id each
// (cheap on FerretDB, unlike $in).
func (s *MarkerStore) DeleteMarkers(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return fmt.Errorf("delete re-evaluation marker %s: %w", id, err)
		}
	}
	return nil
}

var _ evaluate.DueLister = (*DisclosureStore)(nil)

// EmployeesDue implements evaluate.DueLister with the status_start index:
// only not approved disclosures starting in [from, today).
func (s *DisclosureStore) EmployeesDue(ctx context.Context, from, today civil.Date) ([]string, error) {
	dates := bson.D{{Key: "$lt", Value: string(today)}}
	if !from.IsZero() {
		dates = append(dates, bson.E{Key: "$gte", Value: string(from)})
	}
	statuses := bson.A{string(disclosure.StatusPending), string(disclosure.StatusRejected), string(disclosure.StatusWithdrawn)}
	cur, err := s.coll.Find(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: statuses}}}, {Key: "start_date", Value: dates}},
		options.Find().SetProjection(bson.D{{Key: "employee_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("disclosures due: %w", err)
	}
	var docs []struct {
		EmployeeID string `bson:"employee_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("disclosures due: %w", err)
	}
	// Approvals that lapsed in the window: coverage ends with them.
	lapsed, err := findAll[struct {
		EmployeeID string `bson:"employee_id"`
	}](ctx, s.coll, bson.D{{Key: "status", Value: string(disclosure.StatusApproved)}, {Key: "valid_until", Value: dates}},
		options.Find().SetProjection(bson.D{{Key: "employee_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("approvals lapsed: %w", err)
	}
	for _, l := range lapsed {
		docs = append(docs, struct {
			EmployeeID string `bson:"employee_id"`
		}{l.EmployeeID})
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		if !seen[d.EmployeeID] {
			seen[d.EmployeeID] = true
			out = append(out, d.EmployeeID)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SweepState implements evaluate.SweepState: one document, written only by
// the replica holding the sweep lease.
type SweepState struct{ coll *mongo.Collection }

var _ evaluate.SweepState = (*SweepState)(nil)

// NewSweepState returns the state on db.
func NewSweepState(db *DB) *SweepState {
	return &SweepState{coll: db.DB.Collection(sweepStateCollection)}
}

// SweptThrough implements evaluate.SweepState.
func (s *SweepState) SweptThrough(ctx context.Context) (civil.Date, error) {
	d, _, err := findByID[struct {
		Through string `bson:"through"`
	}](ctx, s.coll, sweepStateID)
	return civil.Date(d.Through), err
}

// SetSweptThrough implements evaluate.SweepState.
func (s *SweepState) SetSweptThrough(ctx context.Context, day civil.Date) error {
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: sweepStateID}},
		bson.D{{Key: "_id", Value: sweepStateID}, {Key: "through", Value: string(day)}}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("sweep state: %w", err)
	}
	return nil
}
