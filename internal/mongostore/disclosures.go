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
	"github.com/moonlight-oss/moonlight/internal/disclosure"
)

const disclosuresCollection = "disclosures"

// disclosureDoc is a disclosure as stored. Every field is a plain typed value,
// so user input (a counterparty of `{"$ne": null}`) is only ever data.
type disclosureDoc struct {
	ID               string           `bson:"_id"`
	EmployeeID       string           `bson:"employee_id"`
	Kind             string           `bson:"kind"`
	Counterparty     string           `bson:"counterparty"`
	CounterpartyType string           `bson:"counterparty_type"`
	Topic            string           `bson:"topic"`
	StartDate        string           `bson:"start_date"`
	EndDate          string           `bson:"end_date"`
	Paid             bool             `bson:"paid"`
	Compensation     *compensationDoc `bson:"compensation,omitempty"`
	Notes            string           `bson:"notes,omitempty"`
	Status           string           `bson:"status"`
	Approver         string           `bson:"approver"`
	Decision         *decisionDoc     `bson:"decision,omitempty"`
	History          []historyDoc     `bson:"history"`
	// ValidUntil is the day the approval lapses; Renews the declaration this one renews.
	ValidUntil string    `bson:"valid_until,omitempty"`
	Renews     string    `bson:"renews,omitempty"`
	Version    int64     `bson:"version"`
	CreatedAt  time.Time `bson:"created_at"`
	UpdatedAt  time.Time `bson:"updated_at"`
}

// compensationDoc keeps the amount as the decimal string it was declared as
// (FerretDB has no Decimal128, and a double would lose cents).
type compensationDoc struct {
	Amount   string `bson:"amount"`
	Currency string `bson:"currency"`
}

type decisionDoc struct {
	Outcome    string    `bson:"outcome"`
	By         string    `bson:"by"`
	Role       string    `bson:"role"`
	Comment    string    `bson:"comment,omitempty"`
	Conditions []string  `bson:"conditions"`
	At         time.Time `bson:"at"`
}

type historyDoc struct {
	At               time.Time    `bson:"at"`
	Actor            string       `bson:"actor"`
	Action           string       `bson:"action"`
	From             string       `bson:"from,omitempty"`
	To               string       `bson:"to"`
	Comment          string       `bson:"comment,omitempty"`
	PreviousDecision *decisionDoc `bson:"previous_decision,omitempty"`
	Changes          []changeRec  `bson:"changes,omitempty"`
}

// changeRec is a disclosure.FieldChange as stored.
type changeRec struct {
	Field string `bson:"field"`
	From  string `bson:"from"`
	To    string `bson:"to"`
}

func disclosureIndexes() []index {
	return []index{
		{disclosuresCollection, mongo.IndexModel{
			Keys:    bson.D{{Key: "employee_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("employee_created")}},
		{disclosuresCollection, mongo.IndexModel{
			Keys:    bson.D{{Key: "status", Value: 1}, {Key: "created_at", Value: -1}},
			Options: options.Index().SetName("status_created")}},
	}
}

// DisclosureStore implements disclosure.Store.
type DisclosureStore struct {
	coll *mongo.Collection
	// marks receives a re-evaluation marker before every change (see
	// markReevaluation).
	marks   *mongo.Collection
	arbiter *transitions
}

var _ disclosure.Store = (*DisclosureStore)(nil)

// NewDisclosureStore returns the store on db.
func NewDisclosureStore(db *DB) *DisclosureStore {
	return &DisclosureStore{coll: db.DB.Collection(disclosuresCollection), marks: db.DB.Collection(reevaluationsCollection),
		arbiter: newTransitions(db)}
}

// Create implements disclosure.Store.
func (s *DisclosureStore) Create(ctx context.Context, d disclosure.Disclosure) error {
	if err := markReevaluation(ctx, s.marks, d.EmployeeID, d.ID, d.Version, d.UpdatedAt); err != nil {
		return err
	}
	if err := insertUnique(ctx, s.coll, toDisclosureDoc(d), "create disclosure "+d.ID, disclosure.ErrConflict); err != nil {
		return err
	}
	return nil
}

// Get implements disclosure.Store.
func (s *DisclosureStore) Get(ctx context.Context, id string) (disclosure.Disclosure, error) {
	doc, err := getByID[disclosureDoc](ctx, s.coll, id, disclosure.ErrNotFound)
	if err != nil {
		return disclosure.Disclosure{}, err
	}
	return fromDisclosureDoc(doc), nil
}

// Update implements disclosure.Store through the transition arbiter (see
// transitions.go): of concurrent updates of one version exactly one wins,
// on FerretDB as on MongoDB, and entries are appended only by the winner.
func (s *DisclosureStore) Update(ctx context.Context, d disclosure.Disclosure, entries ...audit.Entry) (int64, error) {
	doc := toDisclosureDoc(d)
	doc.Version = d.Version + 1
	if err := markReevaluation(ctx, s.marks, d.EmployeeID, d.ID, doc.Version, d.UpdatedAt); err != nil {
		return 0, err
	}
	err := s.arbiter.apply(ctx, s.coll, "disclosure/"+d.ID, d.ID, d.Version, doc, entries)
	if err != nil {
		return 0, transitionError(err, fmt.Sprintf("update disclosure %s (version %d)", d.ID, d.Version), disclosure.ErrNotFound, disclosure.ErrConflict)
	}
	return doc.Version, nil
}

// ListByEmployee implements disclosure.Store.
func (s *DisclosureStore) ListByEmployee(ctx context.Context, employeeID string, page disclosure.Page) ([]disclosure.Disclosure, string, error) {
	ds, next, err := s.list(ctx, bson.D{{Key: "employee_id", Value: employeeID}}, page)
	if err != nil {
		return nil, "", fmt.Errorf("list disclosures of %s: %w", employeeID, err)
	}
	return ds, next, nil
}

// List implements disclosure.Store.
func (s *DisclosureStore) List(ctx context.Context, f disclosure.Filter, page disclosure.Page) ([]disclosure.Disclosure, string, error) {
	if f.EmployeeIDs != nil && len(f.EmployeeIDs) == 0 {
		return []disclosure.Disclosure{}, "", nil
	}
	filter := bson.D{}
	if f.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(f.Status)})
	}
	if f.Approver != "" {
		filter = append(filter, bson.E{Key: "approver", Value: string(f.Approver)})
	}
	if f.EmployeeIDs != nil {
		filter = append(filter, bson.E{Key: "employee_id", Value: bson.D{{Key: "$in", Value: f.EmployeeIDs}}})
	}
	ds, next, err := s.list(ctx, filter, page)
	if err != nil {
		return nil, "", fmt.Errorf("list disclosures: %w", err)
	}
	return ds, next, nil
}

// list runs filter newest first by (created_at, _id), resuming after the
// page's cursor, and fetches one extra document to know whether a next page exists.
func (s *DisclosureStore) list(ctx context.Context, filter bson.D, page disclosure.Page) ([]disclosure.Disclosure, string, error) {
	if page.Cursor != "" {
		at, id, err := disclosure.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		filter = append(filter, afterCursor("created_at", at, id))
	}
	n := page.Size()
	opts := options.Find().
		SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(n + 1))
	docs, err := findDisclosures(ctx, s.coll, filter, opts)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(docs) > n {
		docs = docs[:n]
		last := docs[n-1]
		next = disclosure.EncodeCursor(last.CreatedAt, last.ID)
	}
	return docs, next, nil
}

// ListForDetection implements disclosure.Store.
func (s *DisclosureStore) ListForDetection(ctx context.Context, employeeID string) ([]disclosure.Disclosure, error) {
	opts := options.Find().SetSort(bson.D{{Key: "start_date", Value: 1}, {Key: "_id", Value: 1}})
	ds, err := findDisclosures(ctx, s.coll, bson.D{{Key: "employee_id", Value: employeeID}}, opts)
	if err != nil {
		return nil, fmt.Errorf("list disclosures of %s for detection: %w", employeeID, err)
	}
	return ds, nil
}

// ListForDetectionMany implements disclosure.Store: the
// disclosures of many employees in one query, each employee's ordered as
// ListForDetection orders them.
func (s *DisclosureStore) ListForDetectionMany(ctx context.Context, ids []string) (map[string][]disclosure.Disclosure, error) {
	out := make(map[string][]disclosure.Disclosure, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	opts := options.Find().SetSort(bson.D{{Key: "start_date", Value: 1}, {Key: "_id", Value: 1}})
	ds, err := findDisclosures(ctx, s.coll, bson.D{{Key: "employee_id", Value: bson.D{{Key: "$in", Value: ids}}}}, opts)
	if err != nil {
		return nil, fmt.Errorf("list disclosures of %d employees for detection: %w", len(ids), err)
	}
	for _, d := range ds {
		out[d.EmployeeID] = append(out[d.EmployeeID], d)
	}
	return out, nil
}

func findDisclosures(ctx context.Context, coll *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]disclosure.Disclosure, error) {
	docs, err := findAll[disclosureDoc](ctx, coll, filter, opts)
	if err != nil {
		return nil, err
	}
	out := make([]disclosure.Disclosure, len(docs))
	for i, d := range docs {
		out[i] = fromDisclosureDoc(d)
	}
	return out, nil
}

// afterCursor matches documents strictly after (at, id) in descending
// (field, _id) order.
func afterCursor(field string, at time.Time, id string) bson.E {
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: field, Value: bson.D{{Key: "$lt", Value: at}}}},
		bson.D{{Key: field, Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}}},
	}}
}

// storedTime is t as BSON keeps it: UTC, millisecond precision.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func toDisclosureDoc(d disclosure.Disclosure) disclosureDoc {
	doc := disclosureDoc{
		ID: d.ID, EmployeeID: d.EmployeeID,
		Kind: string(d.Kind), Counterparty: d.Counterparty, CounterpartyType: string(d.CounterpartyType),
		Topic: d.Topic, StartDate: string(d.StartDate), EndDate: string(d.EndDate), Paid: d.Paid, Notes: d.Notes,
		Status: string(d.Status), Approver: string(d.Approver), Decision: toDecisionDoc(d.Decision),
		History: make([]historyDoc, len(d.History)), Version: d.Version, ValidUntil: string(d.ValidUntil), Renews: d.Renews,
		CreatedAt: storedTime(d.CreatedAt), UpdatedAt: storedTime(d.UpdatedAt),
	}
	if c := d.Compensation; c != nil {
		doc.Compensation = &compensationDoc{Amount: c.Amount, Currency: c.Currency}
	}
	for i, h := range d.History {
		doc.History[i] = historyDoc{At: storedTime(h.At), Actor: h.Actor, Action: string(h.Action),
			From: string(h.From), To: string(h.To), Comment: h.Comment, PreviousDecision: toDecisionDoc(h.PreviousDecision)}
		for _, c := range h.Changes {
			doc.History[i].Changes = append(doc.History[i].Changes, changeRec{Field: c.Field, From: c.From, To: c.To})
		}
	}
	return doc
}

func toDecisionDoc(d *disclosure.Decision) *decisionDoc {
	if d == nil {
		return nil
	}
	conds := d.Conditions
	if conds == nil {
		conds = []string{}
	}
	return &decisionDoc{Outcome: string(d.Outcome), By: d.By, Role: string(d.Role), Comment: d.Comment,
		Conditions: conds, At: storedTime(d.At)}
}

func fromDisclosureDoc(doc disclosureDoc) disclosure.Disclosure {
	d := disclosure.Disclosure{
		ID: doc.ID, EmployeeID: doc.EmployeeID,
		Input: disclosure.Input{
			Kind: disclosure.Kind(doc.Kind), Counterparty: doc.Counterparty,
			CounterpartyType: disclosure.CounterpartyType(doc.CounterpartyType), Topic: doc.Topic,
			StartDate: civil.Date(doc.StartDate), EndDate: civil.Date(doc.EndDate), Paid: doc.Paid, Notes: doc.Notes,
			Renews: doc.Renews,
		},
		ValidUntil: civil.Date(doc.ValidUntil),
		Status:     disclosure.Status(doc.Status), Approver: disclosure.Approver(doc.Approver),
		Decision: fromDecisionDoc(doc.Decision), Version: doc.Version,
		CreatedAt: doc.CreatedAt.UTC(), UpdatedAt: doc.UpdatedAt.UTC(),
	}
	if c := doc.Compensation; c != nil {
		d.Compensation = &disclosure.Compensation{Amount: c.Amount, Currency: c.Currency}
	}
	if len(doc.History) > 0 {
		d.History = make([]disclosure.HistoryEntry, len(doc.History))
	}
	for i, h := range doc.History {
		d.History[i] = disclosure.HistoryEntry{At: h.At.UTC(), Actor: h.Actor, Action: disclosure.Action(h.Action),
			From: disclosure.Status(h.From), To: disclosure.Status(h.To), Comment: h.Comment,
			PreviousDecision: fromDecisionDoc(h.PreviousDecision)}
		for _, c := range h.Changes {
			d.History[i].Changes = append(d.History[i].Changes, disclosure.FieldChange{Field: c.Field, From: c.From, To: c.To})
		}
	}
	return d
}

func fromDecisionDoc(doc *decisionDoc) *disclosure.Decision {
	if doc == nil {
		return nil
	}
	var conds []string
	if len(doc.Conditions) > 0 {
		conds = doc.Conditions
	}
	return &disclosure.Decision{Outcome: disclosure.Outcome(doc.Outcome), By: doc.By, Role: disclosure.Approver(doc.Role),
		Comment: doc.Comment, Conditions: conds, At: doc.At.UTC()}
}
