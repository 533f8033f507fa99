package mongostore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestVersionedCollectionsServedByKey: on a server whose indexes serve only
// filters on exactly their fields (mongo-java-server, in make test-real),
// every collection replaced with {_id, version} has a unique index on
// exactly those fields; elsewhere none is created (MongoDB serves the
// filter from _id, FerretDB reads by _id first: transitions.replaceAt).
// On mongo-java-server it also checks that such a replace with 5,000
// documents stored costs about what a find by _id does, not a scan.
func TestVersionedCollectionsServedByKey(t *testing.T) {
	ctx := t.Context()
	db := Use(testenv.Database(t))
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	exact := db.exactKeyIndexes(ctx)
	for _, c := range versionedCollections {
		cur, err := db.DB.Collection(c).Indexes().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var specs []struct {
			Name string `bson:"name"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			t.Fatal(err)
		}
		has := slices.ContainsFunc(specs, func(s struct {
			Name string `bson:"name"`
		}) bool {
			return s.Name == "id_version"
		})
		if has != exact {
			t.Errorf("%s: index id_version present %v, want %v (exact-key server: %v)", c, has, exact, exact)
		}
	}
	if !exact {
		return
	}
	// A scan of 5,000 documents on mongo-java-server takes tens of
	// milliseconds; a lookup well under one.
	coll := db.DB.Collection(casesCollection)
	docs := make([]any, 5000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("V%05d", i)}, {Key: "version", Value: int64(1)}, {Key: "open_key", Value: fmt.Sprintf("V%05d", i)}, {Key: "pad", Value: string(make([]byte, 512))}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	timeOf := func(f func() error) time.Duration {
		best := time.Hour
		for range 5 {
			t0 := time.Now()
			if err := f(); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(t0))
		}
		return best
	}
	find := timeOf(func() error {
		return coll.FindOne(ctx, bson.D{{Key: "_id", Value: "V02500"}}).Err()
	})
	v := int64(1)
	replace := timeOf(func() error {
		res, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "V02500"}, {Key: "version", Value: v}},
			bson.D{{Key: "_id", Value: "V02500"}, {Key: "version", Value: v + 1}, {Key: "open_key", Value: "V02500"}})
		if err == nil && res.MatchedCount != 1 {
			err = fmt.Errorf("replace at version %d matched %d", v, res.MatchedCount)
		}
		v++
		return err
	})
	t.Logf("find by _id %s, replace by {_id, version} %s", find, replace)
	if replace > 10*find+5*time.Millisecond {
		t.Errorf("replace by {_id, version} took %s, find by _id %s: a scan, not a lookup", replace, find)
	}
}
