package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
)

// counterparty_months answers EmployeesNear by key: one document per
// counterparty and month, {_id: "<counterparty id>|<YYYY-MM>", employees:
// [ids]}, added to before the signals themselves. A seminar reads the few
// months its window spans by _id, then the candidates' activity documents
// by _id, and keeps those with a signal in the window: the cost grows with
// the employees near the seminar, not with the activity collection (which
// it used to read whole: FerretDB has no $elemMatch). An entry left behind
// by a rescan that dropped the signal is filtered out by that last check.

const (
	counterpartyMonthsCollection = "counterparty_months"
	nearbyMarker                 = "~backfilled-v1"
)

type counterpartyMonthDoc struct {
	ID        string   `bson:"_id"`
	Employees []string `bson:"employees"`
}

func monthKey(counterpartyID string, d civil.Date) string {
	s := string(d)
	if len(s) >= 7 {
		s = s[:7]
	}
	return counterpartyID + "|" + s
}

// addNearby records that employeeID has signals naming these
// counterparties in these months.
func (s *SignalStore) addNearby(ctx context.Context, employeeID string, sigs []detect.Signal) error {
	seen := map[string]bool{}
	for _, sg := range sigs {
		if sg.CounterpartyID == "" || sg.Date == "" {
			continue
		}
		k := monthKey(sg.CounterpartyID, sg.Date)
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, err := s.months.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "employees", Value: employeeID}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
			return fmt.Errorf("index signals of %s by counterparty: %w", employeeID, err)
		}
	}
	return nil
}

// months lists the month keys of counterpartyID from..to.
func months(counterpartyID string, from, to civil.Date) []string {
	if from.IsZero() || to.IsZero() || from > to {
		return nil
	}
	f, t := from.Time(), to.Time()
	last := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(last) && len(out) < 240; m = m.AddDate(0, 1, 0) {
		out = append(out, monthKey(counterpartyID, civil.Of(m)))
	}
	return out
}

// EmployeesNear implements evaluate.SignalStore.
func (s *SignalStore) EmployeesNear(ctx context.Context, counterpartyID string, from, to civil.Date) ([]string, error) {
	buckets, err := byIDs[counterpartyMonthDoc](ctx, s.db, s.months, months(counterpartyID, from, to))
	if err != nil {
		return nil, fmt.Errorf("employees near %s: %w", counterpartyID, err)
	}
	cand := map[string]bool{}
	for _, b := range buckets {
		for _, id := range b.Employees {
			cand[id] = true
		}
	}
	ids := make([]string, 0, len(cand))
	for id := range cand {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	docs, err := byIDs[activityDoc](ctx, s.db, s.activity, ids)
	if err != nil {
		return nil, fmt.Errorf("employees near %s: %w", counterpartyID, err)
	}
	var out []string
	for _, d := range docs {
		for _, sg := range d.Signals {
			if sg.CounterpartyID == counterpartyID && sg.Date >= string(from) && sg.Date <= string(to) {
				out = append(out, d.ID)
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// backfillNearby fills counterparty_months from the activity stored before
// it existed, once per database.
func backfillNearby(ctx context.Context, d *DB) error {
	s := NewSignalStore(d)
	err := s.months.FindOne(ctx, bson.D{{Key: "_id", Value: nearbyMarker}}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("counterparty months marker: %w", err)
	}
	cur, err := s.activity.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("backfill counterparty months: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var a activityDoc
		if err := cur.Decode(&a); err != nil {
			return fmt.Errorf("backfill counterparty months: %w", err)
		}
		if err := s.addNearby(ctx, a.ID, fromActivityDoc(a)); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("backfill counterparty months: %w", err)
	}
	if _, err := s.months.InsertOne(ctx, bson.D{{Key: "_id", Value: nearbyMarker}, {Key: "employees", Value: bson.A{}}}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("counterparty months marker: %w", err)
	}
	return nil
}
