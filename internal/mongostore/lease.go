package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/lease"
)

const leasesCollection = "leases"

// leaseDoc is one holder's term of a named lease. Taking a lease over
// inserts the next epoch's document, `<name>:<epoch>`: of two replicas
// taking over at once only one insert succeeds, which is safe on FerretDB
// where a filtered update is not atomic. The only update is a holder
// extending its own term's document, which nobody else writes.
type leaseDoc struct {
	ID         string    `bson:"_id"`
	Name       string    `bson:"name"`
	Epoch      int64     `bson:"epoch"`
	Holder     string    `bson:"holder"`
	AcquiredAt time.Time `bson:"acquired_at"`
	ExpiresAt  time.Time `bson:"expires_at"`
}

func leaseIndexes() []index {
	return []index{{leasesCollection, mongo.IndexModel{
		Keys: bson.D{{Key: "name", Value: 1}, {Key: "epoch", Value: -1}}, Options: options.Index().SetName("name_epoch")}}}
}

// Leases implements lease.Lessor on MongoDB (and FerretDB).
type Leases struct {
	coll *mongo.Collection
	now  func() time.Time
}

var _ lease.Lessor = (*Leases)(nil)

// NewLeases returns the lessor on db; now is the clock (time.Now).
func NewLeases(db *DB, now func() time.Time) *Leases {
	return &Leases{coll: db.DB.Collection(leasesCollection), now: now}
}

func leaseID(name string, epoch int64) string { return fmt.Sprintf("%s:%012d", name, epoch) }

// Acquire implements lease.Lessor. The holder's own unexpired term is
// returned unchanged.
func (ls *Leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (lease.Lease, bool, error) {
	var cur leaseDoc
	err := ls.coll.FindOne(ctx, bson.D{{Key: "name", Value: name}},
		options.FindOne().SetSort(bson.D{{Key: "epoch", Value: -1}})).Decode(&cur)
	now := ls.now()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		cur = leaseDoc{}
	case err != nil:
		return nil, false, fmt.Errorf("read lease %s: %w", name, err)
	case now.Before(cur.ExpiresAt) && cur.Holder == holder:
		// The holder's own term, returned as it is (same epoch, not
		// extended): a caller that runs once per term (the sweep) tells a
		// new term by its epoch, and one that works on renews.
		return &mongoLease{ls: ls, doc: cur, ttl: ttl}, true, nil
	case now.Before(cur.ExpiresAt):
		return nil, false, nil
	}
	next := leaseDoc{ID: leaseID(name, cur.Epoch+1), Name: name, Epoch: cur.Epoch + 1, Holder: holder,
		AcquiredAt: storedTime(now), ExpiresAt: storedTime(now.Add(ttl))}
	if _, err := ls.coll.InsertOne(ctx, next); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil, false, nil // another replica took it first
		}
		return nil, false, fmt.Errorf("take lease %s: %w", name, err)
	}
	// Old terms are history nobody reads; keep the previous one for the record.
	if cur.Epoch > 1 {
		_, _ = ls.coll.DeleteMany(ctx, bson.D{{Key: "name", Value: name}, {Key: "epoch", Value: bson.D{{Key: "$lt", Value: cur.Epoch}}}})
	}
	return &mongoLease{ls: ls, doc: next, ttl: ttl}, true, nil
}

type mongoLease struct {
	ls  *Leases
	doc leaseDoc
	ttl time.Duration
}

func (l *mongoLease) Epoch() int64 { return l.doc.Epoch }

// Renew implements lease.Lease. A term renewed after it expired is lost: a
// replica may have judged it expired and taken over, so it never comes back.
// After extending, the next epoch's absence confirms nobody took over in
// between.
func (l *mongoLease) Renew(ctx context.Context) error {
	now := l.ls.now()
	if !now.Before(l.doc.ExpiresAt) {
		return fmt.Errorf("lease %s expired at %s: %w", l.doc.ID, l.doc.ExpiresAt.Format(time.RFC3339), lease.ErrLost)
	}
	exp := storedTime(now.Add(l.ttl))
	res, err := l.ls.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.doc.ID}, {Key: "holder", Value: l.doc.Holder}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: exp}}}})
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", l.doc.ID, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("lease %s is gone: %w", l.doc.ID, lease.ErrLost)
	}
	n, err := l.ls.coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: leaseID(l.doc.Name, l.doc.Epoch+1)}})
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", l.doc.ID, err)
	}
	if n > 0 {
		return fmt.Errorf("lease %s was taken over: %w", l.doc.ID, lease.ErrLost)
	}
	l.doc.ExpiresAt = exp
	return nil
}

// Release implements lease.Lease: the term ends now.
func (l *mongoLease) Release(ctx context.Context) error {
	_, err := l.ls.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.doc.ID}, {Key: "holder", Value: l.doc.Holder}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: storedTime(l.ls.now())}}}})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.doc.ID, err)
	}
	l.doc.ExpiresAt = time.Time{}
	return nil
}

// rulesIndexes lists the indexes of the rules helper's stores: leases,
// rescan jobs, re-evaluation markers and the sweep's due query.
func rulesIndexes() []index {
	var all []index
	all = append(all, leaseIndexes()...)
	all = append(all, rescanIndexes()...)
	all = append(all, sweepIndexes()...)
	return all
}
