package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
)

const (
	activityCollection = "activity"
	seminarsCollection = "seminars"
)

// activityDoc holds one employee's expense signals: a few documents read by
// _id, instead of queries over the large events collection.
type activityDoc struct {
	ID      string      `bson:"_id"`
	Signals []signalDoc `bson:"signals"`
	// Presence: payments that corroborate a speaker seminar (presence.go).
	Presence []presenceDoc `bson:"presence,omitempty"`
}

// signalDoc is built only from its event, so $addToSet of a redelivered
// event's signal finds an equal document and adds nothing.
type signalDoc struct {
	Source           string   `bson:"source"`
	ID               string   `bson:"id"`
	Kind             string   `bson:"kind"`
	Date             string   `bson:"date"`
	Amount           string   `bson:"amount"`
	Currency         string   `bson:"currency"`
	Merchant         string   `bson:"merchant"`
	Description      string   `bson:"description,omitempty"`
	City             string   `bson:"city,omitempty"`
	Counterparty     string   `bson:"counterparty,omitempty"`
	CounterpartyID   string   `bson:"counterparty_id,omitempty"`
	CounterpartyType string   `bson:"counterparty_type,omitempty"`
	AsMatched        string   `bson:"as_matched,omitempty"`
	Field            string   `bson:"field,omitempty"`
	Vocabulary       []string `bson:"vocabulary"`
}

type seminarDoc struct {
	ID             string   `bson:"_id"`
	Source         string   `bson:"source"`
	EventID        string   `bson:"id"`
	SeminarID      string   `bson:"seminar_id"`
	Organizer      string   `bson:"organizer"`
	Title          string   `bson:"title"`
	Date           string   `bson:"date"`
	City           string   `bson:"city,omitempty"`
	Paid           bool     `bson:"paid"`
	CounterpartyID string   `bson:"counterparty_id,omitempty"`
	Descriptors    []string `bson:"descriptors,omitempty"`
}

func signalIndexes() []index {
	return []index{
		{seminarsCollection, mongo.IndexModel{Keys: bson.D{{Key: "date", Value: 1}}, Options: options.Index().SetName("date")}},
	}
}

// SignalStore implements evaluate.SignalStore and evaluate.SeminarStore.
type SignalStore struct {
	db       *DB
	activity *mongo.Collection
	months   *mongo.Collection // nearby.go
	seminars *mongo.Collection
	// indexed are presence entries this process stored lately (presence.go).
	indexed *recentIDs
}

var (
	_ evaluate.SignalStore  = (*SignalStore)(nil)
	_ evaluate.SeminarStore = (*SignalStore)(nil)
)

// NewSignalStore returns the store on db.
func NewSignalStore(db *DB) *SignalStore {
	return &SignalStore{db: db, activity: db.DB.Collection(activityCollection), months: db.DB.Collection(counterpartyMonthsCollection), seminars: db.DB.Collection(seminarsCollection),
		indexed: newRecentIDs(recentPresenceIDs)}
}

// AddSignals implements evaluate.SignalStore.
func (s *SignalStore) AddSignals(ctx context.Context, employeeID string, sigs []detect.Signal) error {
	if err := s.addNearby(ctx, employeeID, sigs); err != nil {
		return err
	}
	docs := make(bson.A, 0, len(sigs))
	for _, sg := range sigs {
		docs = append(docs, toSignalDoc(sg))
	}
	_, err := s.activity.UpdateOne(ctx, bson.D{{Key: "_id", Value: employeeID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "signals", Value: bson.D{{Key: "$each", Value: docs}}}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("add %d signals of %s: %w", len(sigs), employeeID, err)
	}
	return nil
}

func toSignalDoc(sg detect.Signal) signalDoc {
	return signalDoc{
		Source: sg.Ref.Source, ID: sg.Ref.ID, Kind: sg.Kind, Date: string(sg.Date), Amount: sg.Amount.Amount,
		Currency: sg.Amount.Currency, Merchant: sg.Merchant, Description: sg.Description, City: sg.City,
		Counterparty: sg.Counterparty, CounterpartyID: sg.CounterpartyID, CounterpartyType: sg.CounterpartyType,
		AsMatched: sg.AsMatched, Field: sg.Field, Vocabulary: nonNil(sg.Vocabulary),
	}
}

// Signals implements evaluate.SignalStore. Signals repeated by an earlier
// version of a rule (same event, other fields) count once: the newest wins.
func (s *SignalStore) Signals(ctx context.Context, employeeID string) ([]detect.Signal, error) {
	d, found, err := findByID[activityDoc](ctx, s.activity, employeeID)
	if err != nil || !found {
		return nil, err
	}
	return fromActivityDoc(d), nil
}

// SignalsOf implements evaluate.SignalStore: one query by _id for many
// employees.
func (s *SignalStore) SignalsOf(ctx context.Context, ids []string) (map[string][]detect.Signal, error) {
	out := make(map[string][]detect.Signal, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	docs, err := byIDs[activityDoc](ctx, s.db, s.activity, ids)
	if err != nil {
		return nil, fmt.Errorf("signals of %d employees: %w", len(ids), err)
	}
	for _, d := range docs {
		if sigs := fromActivityDoc(d); len(sigs) > 0 {
			out[d.ID] = sigs
		}
	}
	return out, nil
}

// fromActivityDoc maps an activity document to signals; repeats of an
// event's signal count once, the newest winning.
func fromActivityDoc(d activityDoc) []detect.Signal {
	byRef := map[event.Ref]int{}
	var out []detect.Signal
	for _, sd := range d.Signals {
		sg := detect.Signal{
			Ref: event.Ref{Source: sd.Source, ID: sd.ID}, Kind: sd.Kind, EmployeeID: d.ID, Date: civil.Date(sd.Date),
			Amount: event.Money{Amount: sd.Amount, Currency: sd.Currency}, Merchant: sd.Merchant, Description: sd.Description,
			City: sd.City, Counterparty: sd.Counterparty, CounterpartyID: sd.CounterpartyID, CounterpartyType: sd.CounterpartyType,
			AsMatched: sd.AsMatched, Field: sd.Field, Vocabulary: sd.Vocabulary,
		}
		if len(sg.Vocabulary) == 0 {
			sg.Vocabulary = nil
		}
		if i, ok := byRef[sg.Ref]; ok {
			out[i] = sg
			continue
		}
		byRef[sg.Ref] = len(out)
		out = append(out, sg)
	}
	return out
}

// ReplaceSignals sets an employee's signals (a rescan after a rule change).
// It sets the one field in a single write, so a reader running detection at
// the same time sees the old signals or the new, never none, and the kept
// presence stays.
func (s *SignalStore) ReplaceSignals(ctx context.Context, employeeID string, sigs []detect.Signal) error {
	if err := s.addNearby(ctx, employeeID, sigs); err != nil {
		return err
	}
	seen := map[event.Ref]bool{}
	docs := make([]signalDoc, 0, len(sigs))
	for _, sg := range sigs {
		if seen[sg.Ref] {
			continue
		}
		seen[sg.Ref] = true
		docs = append(docs, toSignalDoc(sg))
	}
	_, err := s.activity.UpdateOne(ctx, bson.D{{Key: "_id", Value: employeeID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "signals", Value: docs}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("replace %d signals of %s: %w", len(sigs), employeeID, err)
	}
	return nil
}

// AddSeminars implements evaluate.SeminarStore.
func (s *SignalStore) AddSeminars(ctx context.Context, ss []detect.Seminar) error {
	docs := make([]any, 0, len(ss))
	for _, sm := range ss {
		docs = append(docs, toSeminarDoc(sm))
	}
	if _, err := s.seminars.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("add %d seminars: %w", len(docs), err)
	}
	return nil
}

// PutSeminars stores seminars, replacing ones already stored (a rescan after
// a watchlist change may give an organiser another counterparty id).
func (s *SignalStore) PutSeminars(ctx context.Context, ss []detect.Seminar) error {
	models := make([]mongo.WriteModel, 0, len(ss))
	for _, sm := range ss {
		d := toSeminarDoc(sm)
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.ID}}).SetReplacement(d).SetUpsert(true))
	}
	if err := bulkWriteChunked(ctx, s.seminars, models); err != nil {
		return fmt.Errorf("put %d seminars: %w", len(ss), err)
	}
	return nil
}

func toSeminarDoc(sm detect.Seminar) seminarDoc {
	return seminarDoc{ID: sm.Ref.Key(), Source: sm.Ref.Source, EventID: sm.Ref.ID, SeminarID: sm.ID,
		Organizer: sm.Organizer, Title: sm.Title, Date: string(sm.Date), City: sm.City, Paid: sm.Paid, CounterpartyID: sm.CounterpartyID,
		Descriptors: sm.Descriptors}
}

// SeminarsBetween implements evaluate.SeminarStore.
func (s *SignalStore) SeminarsBetween(ctx context.Context, from, to civil.Date) ([]detect.Seminar, error) {
	docs, err := findAll[seminarDoc](ctx, s.seminars, bson.D{{Key: "date", Value: bson.D{{Key: "$gte", Value: string(from)}, {Key: "$lte", Value: string(to)}}}},
		options.Find().SetSort(bson.D{{Key: "date", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("seminars %s..%s: %w", from, to, err)
	}
	out := make([]detect.Seminar, len(docs))
	for i, d := range docs {
		out[i] = fromSeminarDoc(d)
	}
	return out, nil
}

func fromSeminarDoc(d seminarDoc) detect.Seminar {
	return detect.Seminar{Ref: event.Ref{Source: d.Source, ID: d.EventID}, ID: d.SeminarID, Organizer: d.Organizer,
		Title: d.Title, Date: civil.Date(d.Date), City: d.City, Paid: d.Paid, CounterpartyID: d.CounterpartyID,
		Descriptors: d.Descriptors}
}
