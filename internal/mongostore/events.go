package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/event"
)

const (
	eventsCollection = "events"
	// eventStatsCollection keeps one counter per hour of newly stored events,
	// so the dashboard never scans the events collection.
	eventStatsCollection = "event_stats"
	hourKey              = "2006-01-02T15Z"
)

// StoredEvent is a raw event as received, with where it came from.
type StoredEvent = event.Received

type eventDoc struct {
	ID         string    `bson:"_id"`
	Source     string    `bson:"source"`
	EventID    string    `bson:"id"`
	Type       string    `bson:"type"`
	Subject    string    `bson:"subject,omitempty"`
	EmployeeID string    `bson:"employee_id,omitempty"`
	Time       time.Time `bson:"time,omitzero"`
	Topic      string    `bson:"topic"`
	Partition  int       `bson:"partition"`
	Offset     int64     `bson:"offset"`
	ReceivedAt time.Time `bson:"received_at"`
	// Raw is the message value exactly as received (valid UTF-8 JSON).
	Raw string `bson:"raw"`
}

func eventIndexes() []index {
	return []index{
		{eventsCollection, mongo.IndexModel{Keys: bson.D{{Key: "source", Value: 1}, {Key: "id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("source_id_unique")}},
		{eventsCollection, mongo.IndexModel{Keys: bson.D{{Key: "employee_id", Value: 1}, {Key: "type", Value: 1}}, Options: options.Index().SetName("employee_type")}},
	}
}

// EventStore keeps raw events. It is insert-only: _id is derived from (source, id),
// so a redelivered event is a duplicate-key no-op.
type EventStore struct{ coll, stats *mongo.Collection }

// NewEventStore returns the store on db.
func NewEventStore(db *DB) *EventStore {
	return &EventStore{coll: db.DB.Collection(eventsCollection), stats: db.DB.Collection(eventStatsCollection)}
}

// InsertMany stores events; ones already stored are skipped. It returns how
// many were new.
func (s *EventStore) InsertMany(ctx context.Context, evs []StoredEvent) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	docs := make([]any, 0, len(evs))
	for _, se := range evs {
		docs = append(docs, EventDocument(se))
	}
	res, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return 0, fmt.Errorf("insert %d events: %w", len(docs), err)
	}
	if res == nil || len(res.InsertedIDs) == 0 {
		return 0, nil
	}
	n := len(res.InsertedIDs)
	if err := s.countHour(ctx, evs[0].ReceivedAt, n); err != nil {
		return n, err
	}
	return n, nil
}

// countHour adds n newly stored events to the hour's counter. Only new
// inserts are counted, so redeliveries add nothing; a crash between the
// insert and this update loses that batch from the chart, never an event.
func (s *EventStore) countHour(ctx context.Context, at time.Time, n int) error {
	_, err := s.stats.UpdateOne(ctx, bson.D{{Key: "_id", Value: at.UTC().Format(hourKey)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: n}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("count stored events: %w", err)
	}
	return nil
}

// hourDoc counts the events newly stored in one hour.
type hourDoc struct {
	Hour  string `bson:"_id"`
	Count int    `bson:"count"`
}

// EventsPerHour returns how many events were newly stored in each hour
// (UTC) of [from, to), from the hourly counters.
func (s *EventStore) EventsPerHour(ctx context.Context, from, to time.Time) (map[time.Time]int, error) {
	docs, err := findAll[hourDoc](ctx, s.stats, bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: from.UTC().Format(hourKey)}, {Key: "$lt", Value: to.UTC().Format(hourKey)}}}})
	if err != nil {
		return nil, fmt.Errorf("events per hour: %w", err)
	}
	out := make(map[time.Time]int, len(docs))
	for _, d := range docs {
		h, err := time.Parse(hourKey, d.Hour)
		if err != nil {
			continue
		}
		out[h] = d.Count
	}
	return out, nil
}

// EventDocument is the document InsertMany stores for r (the benchmark's
// bare-insert baseline inserts exactly these).
func EventDocument(r event.Received) any {
	e := r.Event
	return eventDoc{
		ID: e.Key(), Source: e.Source, EventID: e.ID, Type: e.Type, Subject: e.Subject,
		EmployeeID: e.EmployeeID(), Time: e.Time, Topic: r.Topic, Partition: r.Partition,
		Offset: r.Offset, ReceivedAt: r.ReceivedAt.UTC().Truncate(time.Millisecond), Raw: string(e.Raw),
	}
}

// Get returns a stored event by its ref.
func (s *EventStore) Get(ctx context.Context, ref event.Ref) (StoredEvent, error) {
	var d eventDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: ref.Key()}}).Decode(&d); err != nil {
		return StoredEvent{}, fmt.Errorf("get event %s: %w", ref.Key(), err)
	}
	return toStored(d)
}

// Count returns the number of stored events.
func (s *EventStore) Count(ctx context.Context) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// Scan calls fn for every stored event in _id order, in pages, so a rescan can
// walk a large collection without holding a cursor open across slow work.
func (s *EventStore) Scan(ctx context.Context, pageSize int, fn func([]StoredEvent) error) error {
	after := ""
	for {
		docs, err := findAll[eventDoc](ctx, s.coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(pageSize)))
		if err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		if len(docs) == 0 {
			return nil
		}
		page := make([]StoredEvent, 0, len(docs))
		for _, d := range docs {
			se, err := toStored(d)
			if err != nil {
				return err
			}
			page = append(page, se)
		}
		if err := fn(page); err != nil {
			return err
		}
		after = docs[len(docs)-1].ID
	}
}

func toStored(d eventDoc) (StoredEvent, error) {
	e, err := event.Decode([]byte(d.Raw))
	if err != nil {
		return StoredEvent{}, fmt.Errorf("stored event %s no longer decodes: %w", d.ID, err)
	}
	return StoredEvent{Event: e, Topic: d.Topic, Partition: d.Partition, Offset: d.Offset, ReceivedAt: d.ReceivedAt}, nil
}
