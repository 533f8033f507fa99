package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

const ruleVersionsCollection = "rule_versions"

// ruleVersionDoc is one rule-set version. _id is the version number, so the
// insert of N+1 is the arbiter between replicas editing at once. The
// watchlist is kept as the JSON of the watchlist package's entry type: fields
// that type gains are stored without a change here.
type ruleVersionDoc struct {
	Number     int64        `bson:"_id"`
	Rules      string       `bson:"rules"`
	Watchlist  string       `bson:"watchlist"`
	Retired    []retiredDoc `bson:"retired"`
	At         time.Time    `bson:"at"`
	Actor      string       `bson:"actor"`
	Change     string       `bson:"change"`
	Subject    string       `bson:"subject,omitempty"`
	SeedDigest string       `bson:"seed_digest"`
}

type retiredDoc struct {
	Counterparty string    `bson:"counterparty"` // JSON of the entry
	At           time.Time `bson:"at"`
	By           string    `bson:"by"`
}

// RuleSetStore implements ruleset.Store.
type RuleSetStore struct{ coll *mongo.Collection }

var _ ruleset.Store = (*RuleSetStore)(nil)

// NewRuleSetStore returns the store on db.
func NewRuleSetStore(db *DB) *RuleSetStore {
	return &RuleSetStore{coll: db.DB.Collection(ruleVersionsCollection)}
}

// Latest implements ruleset.Store. Sorting on _id uses the _id index on
// MongoDB; on FerretDB it scans the versions, which happens at start only
// (the Holder then reads the next number by _id).
func (s *RuleSetStore) Latest(ctx context.Context) (ruleset.Version, error) {
	var d ruleVersionDoc
	err := s.coll.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ruleset.Version{}, fmt.Errorf("latest rule set: %w", ruleset.ErrNotFound)
	}
	if err != nil {
		return ruleset.Version{}, fmt.Errorf("latest rule set: %w", err)
	}
	return fromRuleVersionDoc(d)
}

// Get implements ruleset.Store.
func (s *RuleSetStore) Get(ctx context.Context, n int64) (ruleset.Version, error) {
	d, err := getByID[ruleVersionDoc](ctx, s.coll, n, ruleset.ErrNotFound)
	if err != nil {
		return ruleset.Version{}, err
	}
	return fromRuleVersionDoc(d)
}

// Insert implements ruleset.Store.
func (s *RuleSetStore) Insert(ctx context.Context, v ruleset.Version) error {
	wl, err := ruleset.EncodeCounterparties(v.Counterparties)
	if err != nil {
		return fmt.Errorf("encode rule set %d: %w", v.Number, err)
	}
	d := ruleVersionDoc{Number: v.Number, Rules: string(v.Rules), Watchlist: string(wl), Retired: []retiredDoc{},
		At: storedTime(v.At), Actor: v.Actor, Change: v.Change, Subject: v.Subject, SeedDigest: v.SeedDigest}
	for _, r := range v.Retired {
		b, err := ruleset.EncodeCounterparties([]watchlist.Counterparty{r.Counterparty})
		if err != nil {
			return fmt.Errorf("encode rule set %d: %w", v.Number, err)
		}
		d.Retired = append(d.Retired, retiredDoc{Counterparty: string(b), At: storedTime(r.At), By: r.By})
	}
	return insertUnique(ctx, s.coll, d, fmt.Sprintf("insert rule set %d", v.Number), ruleset.ErrConflict)
}

func fromRuleVersionDoc(d ruleVersionDoc) (ruleset.Version, error) {
	cs, err := ruleset.DecodeCounterparties([]byte(d.Watchlist))
	if err != nil {
		return ruleset.Version{}, fmt.Errorf("rule set %d: watchlist: %w", d.Number, err)
	}
	v := ruleset.Version{Number: d.Number, Rules: []byte(d.Rules), Counterparties: cs, At: d.At.UTC(), Actor: d.Actor,
		Change: d.Change, Subject: d.Subject, SeedDigest: d.SeedDigest}
	for _, r := range d.Retired {
		one, err := ruleset.DecodeCounterparties([]byte(r.Counterparty))
		if err != nil || len(one) != 1 {
			return ruleset.Version{}, fmt.Errorf("rule set %d: retired entry: %v", d.Number, err)
		}
		v.Retired = append(v.Retired, ruleset.Retired{Counterparty: one[0], At: r.At.UTC(), By: r.By})
	}
	return v, nil
}
