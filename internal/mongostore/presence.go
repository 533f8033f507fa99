package mongostore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Presence: where each employee paid (every expense claim and card payment
// that names a city, signal or not), for seminar-speaker-match, in two
// collections read only by _id:
//
//   - presence: {_id: "<employee>|<bucket>", days: [{city, date, source, id}]},
//     one document per employee and presenceBucketDays-day bucket. Each entry
//     is built from its event alone, so $addToSet of a redelivery adds
//     nothing. Readers take the buckets around now (presenceBuckets of
//     them, which always cover review.PresenceDays); the first write to a
//     new bucket deletes the employee's presenceBuckets buckets before the
//     ones a reader takes, by _id, so the record stays bounded (at most
//     2×presenceBuckets×presenceBucketDays days, read: PresenceDays) without
//     a filtered update.
//   - presence_days: {_id: "at:<city key>:<date>" or "leave:<date>",
//     employees: [ids]}: who paid in a city, or was on leave, on a day. A
//     seminar report reads its two or three keys to find the employees to
//     re-evaluate, however late it arrives.
//
// Index entries are written before the record, so a crash between the two
// leaves at worst a candidate that re-evaluates to nothing.
const (
	presenceCollection     = "presence"
	presenceDaysCollection = "presence_days"
	presenceBucketDays     = 200
	presenceBuckets        = 4 // now's bucket, the next (clock skew) and two before: ≥ 400 days back
)

type presenceDoc struct {
	ID   string        `bson:"_id"`
	Days []presenceDay `bson:"days"`
}

type presenceDay struct {
	City    string `bson:"city"`
	Date    string `bson:"date"`
	Source  string `bson:"source"`
	EventID string `bson:"id"`
}

type presenceIndexDoc struct {
	ID        string   `bson:"_id"`
	Employees []string `bson:"employees"`
}

var _ review.PresenceStore = (*SignalStore)(nil)

func presenceBucket(d civil.Date) int {
	return int(d.Time().Unix() / 86400 / presenceBucketDays)
}

func presenceKey(employeeID string, bucket int) string {
	return employeeID + "|" + strconv.Itoa(bucket)
}

func paidKey(city string, d civil.Date) string { return "at:" + detect.CityKey(city) + ":" + string(d) }
func leaveKey(d civil.Date) string             { return "leave:" + string(d) }

// AddPresence implements review.PresenceStore.
func (s *SignalStore) AddPresence(ctx context.Context, employeeID string, ps []detect.Presence) error {
	seen := map[string]bool{}
	byBucket := map[int]bson.A{}
	for _, p := range ps {
		if p.Date.IsZero() || detect.CityKey(p.City) == "" {
			continue
		}
		if k := paidKey(p.City, p.Date); !seen[k] {
			seen[k] = true
			if err := addToIndex(ctx, s, k, employeeID); err != nil {
				return err
			}
		}
		b := presenceBucket(p.Date)
		byBucket[b] = append(byBucket[b], presenceDay{City: p.City, Date: string(p.Date), Source: p.Ref.Source, EventID: p.Ref.ID})
	}
	coll := s.db.DB.Collection(presenceCollection)
	for b, entries := range byBucket {
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: presenceKey(employeeID, b)}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "days", Value: bson.D{{Key: "$each", Value: entries}}}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("add presence of %s: %w", employeeID, err)
		}
		if res.UpsertedCount == 0 {
			continue
		}
		// A new bucket: drop the ones no reader takes any more.
		var old []string
		for o := b - presenceBuckets; o > b-2*presenceBuckets; o-- {
			old = append(old, presenceKey(employeeID, o))
		}
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: old}}}}); err != nil {
			return fmt.Errorf("trim presence of %s: %w", employeeID, err)
		}
	}
	return nil
}

// AddLeaveDays implements review.PresenceStore.
func (s *SignalStore) AddLeaveDays(ctx context.Context, employeeID string, days []civil.Date) error {
	for _, d := range days {
		if err := addToIndex(ctx, s, leaveKey(d), employeeID); err != nil {
			return err
		}
	}
	return nil
}

func addToIndex(ctx context.Context, s *SignalStore, key, employeeID string) error {
	_, err := s.db.DB.Collection(presenceDaysCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "employees", Value: employeeID}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("index presence of %s: %w", employeeID, err)
	}
	return nil
}

// PresenceOf implements review.PresenceStore: the buckets around now of
// each employee, by _id, keeping the days since now - review.PresenceDays.
func (s *SignalStore) PresenceOf(ctx context.Context, ids []string, now civil.Date) (map[string][]detect.Presence, error) {
	out := make(map[string][]detect.Presence, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	nb := presenceBucket(now)
	keys := make([]string, 0, len(ids)*presenceBuckets)
	for _, id := range ids {
		for b := nb + 1; b > nb+1-presenceBuckets; b-- {
			keys = append(keys, presenceKey(id, b))
		}
	}
	docs, err := byIDs[presenceDoc](ctx, s.db, s.db.DB.Collection(presenceCollection), keys)
	if err != nil {
		return nil, fmt.Errorf("presence of %d employees: %w", len(ids), err)
	}
	from := string(now.AddDays(-review.PresenceDays))
	for _, d := range docs {
		i := strings.LastIndex(d.ID, "|")
		if i < 0 {
			continue
		}
		emp := d.ID[:i]
		for _, x := range d.Days {
			if x.Date >= from {
				out[emp] = append(out[emp], detect.Presence{Ref: event.Ref{Source: x.Source, ID: x.EventID}, Date: civil.Date(x.Date), City: x.City})
			}
		}
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Date < ps[j].Date })
	}
	return out, nil
}

// EmployeesAt implements review.PresenceStore.
func (s *SignalStore) EmployeesAt(ctx context.Context, city string, paidOn []civil.Date, leaveOn []civil.Date) ([]string, error) {
	var keys []string
	if detect.CityKey(city) != "" {
		for _, d := range paidOn {
			keys = append(keys, paidKey(city, d))
		}
	}
	for _, d := range leaveOn {
		keys = append(keys, leaveKey(d))
	}
	docs, err := byIDs[presenceIndexDoc](ctx, s.db, s.db.DB.Collection(presenceDaysCollection), keys)
	if err != nil {
		return nil, fmt.Errorf("employees present in %s: %w", city, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		for _, id := range d.Employees {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
