package mongostore_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestCommandMetricsByCommandAndCollection: every command the client sends
// is counted under its command name and the collection it works on, so the
// per-collection cost of a workload can be read off /metrics.
func TestCommandMetricsByCommandAndCollection(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := mongostore.NewCommandMetrics(reg)
	db, err := mongostore.Connect(testenv.MongoURI(t), testenv.UniqueName("t"), 30*time.Second, mongostore.WithCommandMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	t.Cleanup(func() { _ = db.DB.Drop(ctx); _ = db.Close(ctx) })
	coll := db.DB.Collection("widgets")
	for i := range 3 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Err(); err != nil {
		t.Fatal(err)
	}
	// A duplicate key fails: failures are timed too.
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(command, collection string) uint64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "moonlight_mongo_command_duration_seconds" {
				continue
			}
			for _, s := range mf.GetMetric() {
				got := map[string]string{}
				for _, l := range s.GetLabel() {
					got[l.GetName()] = l.GetValue()
				}
				if got["command"] == command && got["collection"] == collection {
					return s.GetHistogram().GetSampleCount()
				}
			}
		}
		return 0
	}
	for _, tc := range []struct {
		command, collection string
		want                uint64
	}{
		{"insert", "widgets", 4},
		{"find", "widgets", 1},
		{"ping", "", 1},
	} {
		if got := count(tc.command, tc.collection); got != tc.want {
			t.Errorf("%s on %q: %d commands timed, want %d", tc.command, tc.collection, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(reg, "moonlight_mongo_command_duration_seconds"); n < 3 {
		t.Errorf("%d label pairs, want at least 3", n)
	}
}
