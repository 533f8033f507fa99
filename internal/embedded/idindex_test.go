package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func startDB(t testing.TB) (*Database, *mongo.Client) {
	t.Helper()
	d, err := StartDatabase("127.0.0.1:0", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	c, err := mongo.Connect(options.Client().ApplyURI(d.URI()).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return d, c
}

func seed(t testing.TB, coll *mongo.Collection, n int) {
	t.Helper()
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("emp-%05d", i)}, {Key: "name", Value: strings.Repeat("x", 200)}, {Key: "findings", Value: findings()}, {Key: "n", Value: i}}
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// queryPlan is SQLite's plan for the statement FerretDB runs for {_id: x}
// (internal/backends/sqlite/collection.go: WHERE _ferretdb_sjson->'$._id' = ?).
func queryPlan(t testing.TB, d *Database, dbName, coll string) string {
	t.Helper()
	db, err := d.OpenSQLite(dbName)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table); err != nil {
		t.Fatalf("table of %s: %v", coll, err)
	}
	return plan(t, db, fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE %s = ?`, table, IDIndexExpr), `"emp-00001"`)
}

func plan(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

func TestIDIndexServesFerretDBsIDQueries(t *testing.T) {
	d, c := startDB(t)
	ctx := context.Background()
	coll := c.Database("plan").Collection("employees")
	seed(t, coll, 50)
	if _, err := d.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	got := queryPlan(t, d, "plan", "employees")
	if !strings.Contains(got, "SEARCH") || !strings.Contains(got, "USING INDEX") || !strings.Contains(got, idIndexSuffix) {
		t.Fatalf("plan = %q, want SEARCH ... USING INDEX ..%s", got, idIndexSuffix)
	}
	// Reads, updates and deletes by _id still answer correctly through it.
	var doc bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "emp-00007"}}).Decode(&doc); err != nil || doc["n"] != int32(7) {
		t.Fatalf("find by _id = %v, %v", doc, err)
	}
	if res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "emp-00007"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 70}}}}); err != nil || res.ModifiedCount != 1 {
		t.Fatalf("update by _id = %+v, %v", res, err)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "emp-00007"}}).Decode(&doc); err != nil || doc["n"] != int32(70) {
		t.Fatalf("after update = %v, %v", doc, err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "emp-00007"}}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate _id insert: err = %v, want duplicate key (FerretDB's unique index still rules)", err)
	}
	if res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "emp-00007"}}); err != nil || res.DeletedCount != 1 {
		t.Fatalf("delete by _id = %+v, %v", res, err)
	}
}

func TestIDIndexReachesCollectionsCreatedLater(t *testing.T) {
	d, c := startDB(t)
	seed(t, c.Database("later").Collection("cases"), 5)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := queryPlan(t, d, "later", "cases")
		if strings.Contains(got, idIndexSuffix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan after %s = %q, want the %s index", 10*time.Second, got, idIndexSuffix)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIDIndexSurvivesDroppedDatabases(t *testing.T) {
	d, c := startDB(t)
	ctx := context.Background()
	for i := range 5 {
		db := c.Database("drop")
		seed(t, db.Collection("x"), 3)
		if _, err := d.IndexIDs(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if err := db.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		// Dropped: the indexer neither fails nor recreates the file.
		if _, err := d.IndexIDs(ctx); err != nil {
			t.Fatalf("round %d after drop: %v", i, err)
		}
	}
	names, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == "drop" {
			t.Fatalf("databases = %v: the dropped one came back", names)
		}
	}
}

// BenchmarkFindByID measures FerretDB's findOne {_id} on 10,000 case-sized documents
// with and without the index:
// go test -run '^$' -bench FindByID -benchtime 20x ./internal/embedded/
func BenchmarkFindByID(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(fmt.Sprintf("indexed=%v", indexed), func(b *testing.B) {
			idIndexOff = !indexed
			defer func() { idIndexOff = false }()
			d, c := startDB(b)
			coll := c.Database("bench").Collection("employees")
			seed(b, coll, 10000)
			ctx := context.Background()
			if _, err := d.IndexIDs(ctx); err != nil {
				b.Fatal(err)
			}
			if got := queryPlan(b, d, "bench", "employees"); strings.Contains(got, idIndexSuffix) != indexed {
				b.Fatalf("plan = %q", got)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var doc bson.M
				if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("emp-%05d", (i*7919)%10000)}}).Decode(&doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// findings gives a document the size and shape of a stored case (~4 KB of
// nested JSON), which is what SQLite's JSON parse per row costs on.
func findings() bson.A {
	var a bson.A
	for i := range 10 {
		a = append(a, bson.D{{Key: "rule", Value: "R" + fmt.Sprint(i)}, {Key: "summary", Value: strings.Repeat("s", 300)}, {Key: "refs", Value: bson.A{"a", "b", "c"}}})
	}
	return a
}
