package mongostore

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestFerretDBGetsOnlyArbiterIndexes: on FerretDB (whose SQLite backend
// uses no secondary index for any query) only unique indexes are created,
// so writes do not maintain indexes nothing reads; elsewhere every index is.
func TestFerretDBGetsOnlyArbiterIndexes(t *testing.T) {
	db := newTestDB(t)
	names := func(coll string) map[string]bool {
		t.Helper()
		cur, err := db.DB.Collection(coll).Indexes().List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var specs []bson.M
		if err := cur.All(t.Context(), &specs); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range specs {
			out[s["name"].(string)] = true
		}
		return out
	}
	ev := names(eventsCollection)
	if !ev["source_id_unique"] {
		t.Errorf("events indexes %v: the unique source_id_unique is missing", ev)
	}
	if got, want := ev["employee_type"], !db.IsFerretDB(t.Context()); got != want {
		t.Errorf("events has employee_type: %v, want %v (FerretDB: %v)", got, want, db.IsFerretDB(t.Context()))
	}
	if cs := names(casesCollection); !cs["one_open_case_per_employee"] {
		t.Errorf("cases indexes %v: the arbiter one_open_case_per_employee is missing", cs)
	}
}
