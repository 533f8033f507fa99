package mongostore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var errTestNotFound = errors.New("test thing not found")

// getByID and findByID: a present document decodes, a missing one is the
// domain's sentinel (getByID) or found=false with no error (findByID), and
// an _id of another type than string (the rule sets' numbers) works too.
func TestGetByID(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	coll := db.DB.Collection("things")
	type thing struct {
		ID   any    `bson:"_id"`
		Name string `bson:"name"`
	}
	if _, err := coll.InsertMany(ctx, []any{thing{ID: "a", Name: "alpha"}, thing{ID: int64(7), Name: "seven"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		give     any
		wantName string
		wantErr  error
	}{
		{give: "a", wantName: "alpha"},
		{give: int64(7), wantName: "seven"},
		{give: "b", wantErr: errTestNotFound},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.give), func(t *testing.T) {
			got, err := getByID[thing](ctx, coll, tt.give, errTestNotFound)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("getByID(%v) error = %v, want %v", tt.give, err, tt.wantErr)
			}
			if got.Name != tt.wantName {
				t.Fatalf("getByID(%v) = %+v, want name %q", tt.give, got, tt.wantName)
			}
			_, found, err := findByID[thing](ctx, coll, tt.give)
			if err != nil || found != (tt.wantErr == nil) {
				t.Fatalf("findByID(%v) = found %v, %v; want found %v", tt.give, found, err, tt.wantErr == nil)
			}
		})
	}
	// A document that does not decode into D is an error, not "not found".
	if _, err := getByID[struct {
		Name int `bson:"name"`
	}](ctx, coll, "a", errTestNotFound); err == nil || errors.Is(err, errTestNotFound) {
		t.Fatalf("decoding a string into an int: error = %v, want a decode error", err)
	}
}

// At the limit, saving under a name the user already has replaces it;
// a new name is refused with ErrTooMany.
func TestSavedFiltersAtTheLimit(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	s := NewSavedFilterStore(db)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	docs := make([]any, MaxSavedFilters)
	for i := range docs {
		name := fmt.Sprintf("f%02d", i)
		docs[i] = savedFilterDoc{ID: savedFilterID("E1", name), User: "E1", Name: name, Query: "status=open", At: at}
	}
	if _, err := s.coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "E1", "f03", "status=cleared", at); err != nil {
		t.Fatalf("replacing an existing filter at the limit: %v", err)
	}
	var d savedFilterDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: savedFilterID("E1", "f03")}}).Decode(&d); err != nil || d.Query != "status=cleared" {
		t.Fatalf("replaced filter = %+v, %v; want query status=cleared", d, err)
	}
	if err := s.Save(ctx, "E1", "new", "status=open", at); !errors.Is(err, ErrTooMany) {
		t.Fatalf("a new filter past the limit: error = %v, want ErrTooMany", err)
	}
}

// transitionError: the arbiter's outcomes become the domain's sentinels.
func TestTransitionError(t *testing.T) {
	notFound, conflict, other := errors.New("not found"), errors.New("conflict"), errors.New("network")
	tests := []struct {
		give error
		want error
	}{
		{give: nil, want: nil},
		{give: fmt.Errorf("apply: %w", errResourceGone), want: notFound},
		{give: fmt.Errorf("apply: %w", errTransitionLost), want: conflict},
		{give: other, want: other},
	}
	for _, tt := range tests {
		got := transitionError(tt.give, "update thing T1", notFound, conflict)
		if (tt.want == nil) != (got == nil) || !errors.Is(got, tt.want) {
			t.Errorf("transitionError(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// insertUnique: the second insert of one _id is the domain's conflict.
func TestInsertUnique(t *testing.T) {
	db := newTestDB(t)
	coll := db.DB.Collection("things")
	conflict := errors.New("conflict")
	doc := bson.D{{Key: "_id", Value: "t1"}, {Key: "name", Value: "one"}}
	if err := insertUnique(t.Context(), coll, doc, "create thing t1", conflict); err != nil {
		t.Fatalf("first insert: %v", err)
	}
	if err := insertUnique(t.Context(), coll, doc, "create thing t1", conflict); !errors.Is(err, conflict) {
		t.Fatalf("second insert: %v, want the conflict sentinel", err)
	}
}
