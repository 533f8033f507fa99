package mongostore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/notify"
)

// The outbox: notices (one document each, _id the notice's idempotency
// key), their deliveries (one per channel and address, _id derived from the
// notice's) and the claims of delivery attempts (insert-only, _id
// "<delivery>#<attempt>": the unique _id index decides which replica makes
// an attempt, on FerretDB as on MongoDB). Every update is by _id.
//
// outbox_due holds one small marker per pending notice ("n:<id>") and
// pending delivery ("d:<id>") with its next_at: the dispatcher of every
// replica polls it every notify.poll_interval, and on FerretDB and
// mongo-java-server a filtered, sorted find reads its whole collection, so
// polling the notices and deliveries themselves cost in proportion to every
// notice ever sent (they stay until the retention purge). A marker is written
// before what it marks becomes pending and removed after it stops being
// pending; the dispatcher re-reads each marked document by _id and removes
// markers that are stale (crash in between, purge, redelivery), so a marker
// can only cost a read, never a lost or doubled notice.
const (
	outboxCollection     = "outbox"
	deliveriesCollection = "outbox_deliveries"
	claimsCollection     = "outbox_claims"
	dueCollection        = "outbox_due"
)

// dueDoc marks a pending notice (Kind "n") or delivery ("d").
type dueDoc struct {
	ID     string    `bson:"_id"`
	Kind   string    `bson:"k"`
	NextAt time.Time `bson:"next_at"`
}

const (
	dueNotice   = "n"
	dueDelivery = "d"
	// orphanDueGrace is how long a marker whose notice or delivery is not
	// stored is kept: Enqueue and Expand write the marker just before the
	// document, so a younger one may be about to get it.
	orphanDueGrace = time.Minute
)

func dueID(kind, id string) string { return kind + ":" + id }

type noticeDoc struct {
	ID        string            `bson:"_id"`
	Kind      string            `bson:"kind"`
	Recipient string            `bson:"recipient"`
	Params    map[string]string `bson:"params"`
	CreatedAt time.Time         `bson:"created_at"`
	Cause     *causeDoc         `bson:"cause,omitempty"`
	State     string            `bson:"state"`
	Note      string            `bson:"note,omitempty"`
	NextAt    time.Time         `bson:"next_at"`
}

type causeDoc struct {
	Resource string            `bson:"resource"`
	ID       string            `bson:"id"`
	Version  int64             `bson:"version"`
	Fields   map[string]string `bson:"fields,omitempty"`
}

type deliveryDoc struct {
	ID        string    `bson:"_id"`
	NoticeID  string    `bson:"notice_id"`
	Channel   string    `bson:"channel"`
	Target    string    `bson:"target"`
	Language  string    `bson:"language"`
	State     string    `bson:"state"`
	Attempts  int       `bson:"attempts"`
	NextAt    time.Time `bson:"next_at"`
	LastError string    `bson:"last_error,omitempty"`
	SentAt    time.Time `bson:"sent_at,omitempty"`
}

type claimDoc struct {
	ID     string    `bson:"_id"`
	Holder string    `bson:"holder"`
	At     time.Time `bson:"at"`
	Until  time.Time `bson:"until"`
}

func outboxIndexes() []index {
	return []index{
		{outboxCollection, mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "next_at", Value: 1}},
			Options: options.Index().SetName("state_next")}},
		{outboxCollection, mongo.IndexModel{Keys: bson.D{{Key: "recipient", Value: 1}, {Key: "created_at", Value: -1}},
			Options: options.Index().SetName("recipient_created")}},
		{outboxCollection, mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("created")}},
		{deliveriesCollection, mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "next_at", Value: 1}},
			Options: options.Index().SetName("state_next")}},
		{deliveriesCollection, mongo.IndexModel{Keys: bson.D{{Key: "notice_id", Value: 1}},
			Options: options.Index().SetName("notice")}},
		{mailSinkCollection, mongo.IndexModel{Keys: bson.D{{Key: "received_at", Value: -1}},
			Options: options.Index().SetName("received")}},
		{dueCollection, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}, {Key: "next_at", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName("kind_next")}},
	}
}

// OutboxStore implements notify.Store and notify.Lister.
type OutboxStore struct {
	db          *DB
	notices     *mongo.Collection
	deliveries  *mongo.Collection
	claims      *mongo.Collection
	transitions *mongo.Collection
	due         *mongo.Collection
	// settled are markers of documents no longer pending, removed in one
	// delete at the next poll (on a single-writer database a delete per
	// notice took a share of the writer from the consumer). Lost on a
	// crash, they are found stale and removed by a later poll.
	settledMu sync.Mutex
	settled   []string
}

var (
	_ notify.Store  = (*OutboxStore)(nil)
	_ notify.Lister = (*OutboxStore)(nil)
)

// NewOutboxStore returns the outbox on db.
func NewOutboxStore(db *DB) *OutboxStore {
	return &OutboxStore{db: db, notices: db.DB.Collection(outboxCollection), deliveries: db.DB.Collection(deliveriesCollection),
		claims: db.DB.Collection(claimsCollection), transitions: db.DB.Collection(transitionsCollection),
		due: db.DB.Collection(dueCollection)}
}

// markDue writes the markers of pending documents (kind dueNotice or
// dueDelivery) before they are written; existing markers are kept.
func (s *OutboxStore) markDue(ctx context.Context, marks []any) error {
	if len(marks) == 0 {
		return nil
	}
	if _, err := s.due.InsertMany(ctx, marks, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("mark %d outbox entries due: %w", len(marks), err)
	}
	return nil
}

// moveDue sets a marker's next_at (by _id; a missing marker stays missing:
// the document is no longer pending).
func (s *OutboxStore) moveDue(ctx context.Context, id string, next time.Time) error {
	if _, err := s.due.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "next_at", Value: storedTime(next)}}}}); err != nil {
		return fmt.Errorf("move outbox marker %s: %w", id, err)
	}
	return nil
}

// undue queues a marker's removal for the next poll's flushSettled.
func (s *OutboxStore) undue(_ context.Context, id string) error {
	s.settledMu.Lock()
	s.settled = append(s.settled, id)
	s.settledMu.Unlock()
	return nil
}

// flushSettled removes the queued markers in one delete (outbox_due is
// small: an $in there reads only the pending entries).
func (s *OutboxStore) flushSettled(ctx context.Context) error {
	s.settledMu.Lock()
	ids := s.settled
	s.settled = nil
	s.settledMu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.due.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		s.settledMu.Lock()
		s.settled = append(s.settled, ids...)
		s.settledMu.Unlock()
		return fmt.Errorf("remove %d outbox markers: %w", len(ids), err)
	}
	return nil
}

// dueMarks are the markers of kind due at now, oldest first.
func (s *OutboxStore) dueMarks(ctx context.Context, kind string, now time.Time, limit int) ([]dueDoc, error) {
	if err := s.flushSettled(ctx); err != nil {
		return nil, err
	}
	return findAll[dueDoc](ctx, s.due,
		bson.D{{Key: "k", Value: kind}, {Key: "next_at", Value: bson.D{{Key: "$lte", Value: storedTime(now)}}}},
		options.Find().SetSort(bson.D{{Key: "next_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

// settle handles a marker whose document is not due: gone (kept for
// orphanDueGrace), no longer pending (removed), or postponed (moved to the
// document's next_at).
func (s *OutboxStore) settle(ctx context.Context, m dueDoc, found, pending bool, next, now time.Time) error {
	switch {
	case !found && now.Sub(m.NextAt) < orphanDueGrace:
		return nil
	case !found || !pending:
		return s.undue(ctx, m.ID)
	default:
		return s.moveDue(ctx, m.ID, next)
	}
}

// backfillOutboxDue marks the notices and deliveries that were pending
// before outbox_due existed (a scan of both, once per start).
func backfillOutboxDue(ctx context.Context, d *DB) error {
	s := NewOutboxStore(d)
	ns, err := findAll[noticeDoc](ctx, s.notices, bson.D{{Key: "state", Value: notify.StatePending}},
		options.Find().SetProjection(bson.D{{Key: "next_at", Value: 1}}))
	if err != nil {
		return fmt.Errorf("pending notices: %w", err)
	}
	ds, err := findAll[deliveryDoc](ctx, s.deliveries, bson.D{{Key: "state", Value: notify.DeliveryPending}},
		options.Find().SetProjection(bson.D{{Key: "next_at", Value: 1}}))
	if err != nil {
		return fmt.Errorf("pending deliveries: %w", err)
	}
	var marks []any
	for _, n := range ns {
		marks = append(marks, dueDoc{ID: dueID(dueNotice, n.ID), Kind: dueNotice, NextAt: n.NextAt})
	}
	for _, dd := range ds {
		marks = append(marks, dueDoc{ID: dueID(dueDelivery, dd.ID), Kind: dueDelivery, NextAt: dd.NextAt})
	}
	for start := 0; start < len(marks); start += 500 {
		if err := s.markDue(ctx, marks[start:min(start+500, len(marks))]); err != nil {
			return err
		}
	}
	return nil
}

// Enqueue implements notify.Outbox: a notice whose id is stored already is
// left as it is.
func (s *OutboxStore) Enqueue(ctx context.Context, ns ...notify.Notice) error {
	if len(ns) == 0 {
		return nil
	}
	docs := make([]any, 0, len(ns))
	marks := make([]any, 0, len(ns))
	for _, n := range ns {
		if n.ID == "" || n.Kind == "" || n.Recipient == "" {
			return fmt.Errorf("enqueue notice %q: id, kind and recipient are required", n.ID)
		}
		d := noticeDoc{ID: n.ID, Kind: n.Kind, Recipient: n.Recipient, Params: n.Params, CreatedAt: storedTime(n.CreatedAt),
			State: notify.StatePending, NextAt: storedTime(n.CreatedAt)}
		if d.Params == nil {
			d.Params = map[string]string{}
		}
		if c := n.Cause; c != nil {
			d.Cause = &causeDoc{Resource: c.Resource, ID: c.ID, Version: c.Version, Fields: c.Fields}
		}
		docs = append(docs, d)
		marks = append(marks, dueDoc{ID: dueID(dueNotice, d.ID), Kind: dueNotice, NextAt: d.NextAt})
	}
	if err := s.markDue(ctx, marks); err != nil {
		return err
	}
	if _, err := s.notices.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("enqueue %d notice(s): %w", len(ns), err)
	}
	return nil
}

// DueNotices implements notify.Store: the due markers, then each marked
// notice by _id.
func (s *OutboxStore) DueNotices(ctx context.Context, now time.Time, limit int) ([]notify.Stored, error) {
	marks, err := s.dueMarks(ctx, dueNotice, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due notices: %w", err)
	}
	var out []notify.Stored
	for _, m := range marks {
		id := strings.TrimPrefix(m.ID, dueNotice+":")
		var d noticeDoc
		err := s.notices.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
		found := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("due notice %s: %w", id, err)
		}
		if found && d.State == notify.StatePending && !d.NextAt.After(storedTime(now)) {
			out = append(out, fromNoticeDoc(d))
			continue
		}
		if err := s.settle(ctx, m, found, d.State == notify.StatePending, d.NextAt, now); err != nil {
			return nil, err
		}
	}
	return out, s.flushSettled(ctx)
}

// causeTargets maps a cause's resource to its collection and the prefix
// its transitions are recorded under (transitions.go).
var causeTargets = map[string]struct{ collection, transition string }{
	notify.ResourceDisclosure: {disclosuresCollection, "disclosure/"},
	notify.ResourceCase:       {casesCollection, "case/"},
}

// CauseState implements notify.Store. A version-1 cause is the resource's
// creation: stored when the document exists. A later version was made by
// the transition "<resource>/<id>:<version-1>" (the arbiter lets exactly
// one change claim it): absent until that transition is claimed and the
// document has reached the version, lost when the claimed change does not
// have the cause's fields.
func (s *OutboxStore) CauseState(ctx context.Context, c notify.Cause) (notify.CauseState, error) {
	t, ok := causeTargets[c.Resource]
	if !ok {
		return notify.CauseLost, fmt.Errorf("cause of unknown resource %q", c.Resource)
	}
	var cur bson.Raw
	err := s.db.DB.Collection(t.collection).FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}},
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return notify.CauseAbsent, nil
	}
	if err != nil {
		return notify.CauseAbsent, fmt.Errorf("cause %s %s: %w", c.Resource, c.ID, err)
	}
	version := rawInt(cur.Lookup("version"))
	if c.Version <= 1 {
		return notify.CauseStored, nil
	}
	var td struct {
		Doc bson.Raw `bson:"doc"`
	}
	err = s.transitions.FindOne(ctx, bson.D{{Key: "_id", Value: transitionID(t.transition+c.ID, c.Version-1)}}).Decode(&td)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return notify.CauseAbsent, nil
	}
	if err != nil {
		return notify.CauseAbsent, fmt.Errorf("cause %s %s: %w", c.Resource, c.ID, err)
	}
	for k, want := range c.Fields {
		v, ok := td.Doc.Lookup(k).StringValueOK()
		if !ok || v != want {
			return notify.CauseLost, nil
		}
	}
	if version < c.Version {
		return notify.CauseAbsent, nil // claimed, not yet written (or its writer stopped: recovered later)
	}
	return notify.CauseStored, nil
}

func rawInt(v bson.RawValue) int64 {
	if i, ok := v.Int64OK(); ok {
		return i
	}
	if i, ok := v.Int32OK(); ok {
		return int64(i)
	}
	if f, ok := v.DoubleOK(); ok {
		return int64(f)
	}
	return 0
}

// Expand implements notify.Store.
func (s *OutboxStore) Expand(ctx context.Context, noticeID string, ds []notify.Delivery, note string) error {
	if len(ds) > 0 {
		docs := make([]any, len(ds))
		var marks []any
		for i, d := range ds {
			docs[i] = toDeliveryDoc(d)
			if d.State == notify.DeliveryPending {
				marks = append(marks, dueDoc{ID: dueID(dueDelivery, d.ID), Kind: dueDelivery, NextAt: storedTime(d.NextAt)})
			}
		}
		if err := s.markDue(ctx, marks); err != nil {
			return err
		}
		if _, err := s.deliveries.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
			return fmt.Errorf("deliveries of %s: %w", noticeID, err)
		}
	}
	if err := s.setNotice(ctx, noticeID, bson.D{{Key: "state", Value: notify.StateDispatched}, {Key: "note", Value: note}}); err != nil {
		return err
	}
	return s.undue(ctx, dueID(dueNotice, noticeID))
}

// Cancel implements notify.Store.
func (s *OutboxStore) Cancel(ctx context.Context, noticeID, note string) error {
	if err := s.setNotice(ctx, noticeID, bson.D{{Key: "state", Value: notify.StateCancelled}, {Key: "note", Value: note}}); err != nil {
		return err
	}
	return s.undue(ctx, dueID(dueNotice, noticeID))
}

// Postpone implements notify.Store.
func (s *OutboxStore) Postpone(ctx context.Context, noticeID string, until time.Time) error {
	if err := s.setNotice(ctx, noticeID, bson.D{{Key: "next_at", Value: storedTime(until)}}); err != nil {
		return err
	}
	return s.moveDue(ctx, dueID(dueNotice, noticeID), until)
}

func (s *OutboxStore) setNotice(ctx context.Context, id string, set bson.D) error {
	if _, err := s.notices.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("update notice %s: %w", id, err)
	}
	return nil
}

// DueDeliveries implements notify.Store: the due markers, then each
// marked delivery by _id.
func (s *OutboxStore) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	marks, err := s.dueMarks(ctx, dueDelivery, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	var out []notify.Delivery
	for _, m := range marks {
		id := strings.TrimPrefix(m.ID, dueDelivery+":")
		var d deliveryDoc
		err := s.deliveries.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
		found := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("due delivery %s: %w", id, err)
		}
		if found && d.State == notify.DeliveryPending && !d.NextAt.After(storedTime(now)) {
			out = append(out, fromDeliveryDoc(d))
			continue
		}
		if err := s.settle(ctx, m, found, d.State == notify.DeliveryPending, d.NextAt, now); err != nil {
			return nil, err
		}
	}
	return out, s.flushSettled(ctx)
}

// Delivery implements notify.Store.
func (s *OutboxStore) Delivery(ctx context.Context, id string) (notify.Delivery, error) {
	d, err := getByID[deliveryDoc](ctx, s.deliveries, id, notify.ErrNotFound)
	if err != nil {
		return notify.Delivery{}, err
	}
	return fromDeliveryDoc(d), nil
}

// Notice implements notify.Store.
func (s *OutboxStore) Notice(ctx context.Context, id string) (notify.Stored, error) {
	d, err := getByID[noticeDoc](ctx, s.notices, id, notify.ErrNotFound)
	if err != nil {
		return notify.Stored{}, err
	}
	return fromNoticeDoc(d), nil
}

// Claim implements notify.Store.
func (s *OutboxStore) Claim(ctx context.Context, id string, attempt int, holder string, now, until time.Time) (bool, bool, error) {
	cid := id + "#" + strconv.Itoa(attempt)
	_, err := s.claims.InsertOne(ctx, claimDoc{ID: cid, Holder: holder, At: storedTime(now), Until: storedTime(until)})
	if err == nil {
		return true, false, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, false, fmt.Errorf("claim %s: %w", cid, err)
	}
	var c claimDoc
	if err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: cid}}).Decode(&c); err != nil {
		return false, false, fmt.Errorf("read claim %s: %w", cid, err)
	}
	return false, c.Holder != holder && c.Until.Before(now), nil
}

// Record implements notify.Store.
func (s *OutboxStore) Record(ctx context.Context, d notify.Delivery) error {
	set := bson.D{{Key: "state", Value: d.State}, {Key: "attempts", Value: d.Attempts}, {Key: "next_at", Value: storedTime(d.NextAt)},
		{Key: "last_error", Value: d.LastError}}
	if !d.SentAt.IsZero() {
		set = append(set, bson.E{Key: "sent_at", Value: storedTime(d.SentAt)})
	}
	if _, err := s.deliveries.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	if d.State == notify.DeliveryPending {
		return s.moveDue(ctx, dueID(dueDelivery, d.ID), d.NextAt)
	}
	return s.undue(ctx, dueID(dueDelivery, d.ID))
}

// List implements notify.Lister: newest first by (created_at, _id).
func (s *OutboxStore) List(ctx context.Context, f notify.Filter, limit int, cursor string) ([]notify.Listed, string, error) {
	filter := bson.D{}
	if f.Recipient != "" {
		filter = append(filter, bson.E{Key: "recipient", Value: f.Recipient})
	}
	if f.Kind != "" {
		filter = append(filter, bson.E{Key: "kind", Value: f.Kind})
	}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: f.State})
	}
	if cursor != "" {
		at, id, err := decodeNoticeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		filter = append(filter, afterCursor("created_at", at, id))
	}
	docs, err := findAll[noticeDoc](ctx, s.notices, filter,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, "", fmt.Errorf("list notices: %w", err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next = encodeNoticeCursor(last.CreatedAt, last.ID)
	}
	out := make([]notify.Listed, len(docs))
	ids := make([]string, len(docs))
	pos := map[string]int{}
	for i, d := range docs {
		out[i] = notify.Listed{Stored: fromNoticeDoc(d), Deliveries: []notify.Delivery{}}
		ids[i] = d.ID
		pos[d.ID] = i
	}
	if len(ids) > 0 {
		ds, err := findAll[deliveryDoc](ctx, s.deliveries, bson.D{{Key: "notice_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, "", fmt.Errorf("list deliveries: %w", err)
		}
		for _, d := range ds {
			if i, ok := pos[d.NoticeID]; ok {
				out[i].Deliveries = append(out[i].Deliveries, fromDeliveryDoc(d))
			}
		}
	}
	return out, next, nil
}

func encodeNoticeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMilli(), 10) + "|" + id))
}

func decodeNoticeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", notify.ErrBadCursor
	}
	ms, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", notify.ErrBadCursor
	}
	return time.UnixMilli(n).UTC(), id, nil
}

func fromNoticeDoc(d noticeDoc) notify.Stored {
	n := notify.Stored{Notice: notify.Notice{ID: d.ID, Kind: d.Kind, Recipient: d.Recipient, Params: d.Params,
		CreatedAt: d.CreatedAt.UTC()}, State: d.State, Note: d.Note, NextAt: d.NextAt.UTC()}
	if c := d.Cause; c != nil {
		n.Cause = &notify.Cause{Resource: c.Resource, ID: c.ID, Version: c.Version, Fields: c.Fields}
	}
	return n
}

func toDeliveryDoc(d notify.Delivery) deliveryDoc {
	return deliveryDoc{ID: d.ID, NoticeID: d.NoticeID, Channel: d.Channel, Target: d.Target, Language: d.Language,
		State: d.State, Attempts: d.Attempts, NextAt: storedTime(d.NextAt), LastError: d.LastError}
}

func fromDeliveryDoc(d deliveryDoc) notify.Delivery {
	out := notify.Delivery{ID: d.ID, NoticeID: d.NoticeID, Channel: d.Channel, Target: d.Target, Language: d.Language,
		State: d.State, Attempts: d.Attempts, NextAt: d.NextAt.UTC(), LastError: d.LastError}
	if !d.SentAt.IsZero() {
		out.SentAt = d.SentAt.UTC()
	}
	return out
}
