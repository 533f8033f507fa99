package mongostore

import (
	"slices"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	mevent "github.com/moonlight-oss/moonlight/internal/event"
)

// A presence entry this process stored lately is not sent again: the next
// batch's insert holds only new entries, so it has no duplicate for
// FerretDB to roll back and redo one by one. An entry stored by someone
// else is still a harmless duplicate, and both are found.
func TestPresenceIndexSkipsEntriesStoredLately(t *testing.T) {
	db, cmds := recordedDB(t)
	ctx := t.Context()
	s := NewSignalStore(db)
	pay := func(emp, day, id string) evaluate.Paid {
		return evaluate.Paid{EmployeeID: emp, Presence: detect.Presence{Ref: mevent.Ref{Source: "card/t", ID: id}, Date: civil.MustParse(day), City: "北京"}}
	}
	if err := s.IndexPresence(ctx, []evaluate.Paid{pay("E1", "2026-01-05", "p1"), pay("E2", "2026-01-05", "p2")}, nil); err != nil {
		t.Fatal(err)
	}
	// Another replica stored E3's entry.
	if err := NewSignalStore(db).IndexPresence(ctx, []evaluate.Paid{pay("E3", "2026-01-05", "p3")}, nil); err != nil {
		t.Fatal(err)
	}
	cmds("insert")
	if err := s.IndexPresence(ctx, []evaluate.Paid{pay("E1", "2026-01-05", "p4"), pay("E3", "2026-01-05", "p5"), pay("E4", "2026-01-05", "p6")},
		map[string][]civil.Date{"E2": {civil.MustParse("2026-01-05")}}); err != nil {
		t.Fatal(err)
	}
	ins := onColl(cmds("insert"), "insert", presenceDaysCollection)
	if len(ins) != 1 {
		t.Fatalf("%d inserts on presence_days, want 1", len(ins))
	}
	docs, _ := ins[0].Lookup("documents").Array().Values()
	var sent []string
	for _, d := range docs {
		sent = append(sent, d.Document().Lookup("_id").StringValue())
	}
	slices.Sort(sent)
	want := []string{paidKey("beijing", civil.MustParse("2026-01-05"), "E3"), paidKey("beijing", civil.MustParse("2026-01-05"), "E4"),
		leaveKey(civil.MustParse("2026-01-05"), "E2")}
	slices.Sort(want)
	if !slices.Equal(sent, want) {
		t.Errorf("sent %v, want %v (E1's entry was stored by this process)", sent, want)
	}
	paid, leave, err := s.PresentAt(ctx, "北京", []civil.Date{civil.MustParse("2026-01-05")}, civil.MustParse("2026-01-05"), []string{"E1", "E2", "E3", "E4"})
	if err != nil || len(paid) != 4 || !slices.Equal(leave, []string{"E2"}) {
		t.Errorf("PresentAt = %v, %v, %v; want 4 payments and E2 on leave", paid, leave, err)
	}
}

// recentIDs keeps the ids of the last generation and the one before, never
// more than two generations.
func TestRecentIDsBounded(t *testing.T) {
	r := newRecentIDs(3)
	r.add([]string{"a", "b", "c"})
	r.add([]string{"d"}) // a new generation: a, b, c are the older one
	for _, id := range []string{"a", "b", "c", "d"} {
		if !r.has(id) {
			t.Errorf("%s forgotten too early", id)
		}
	}
	r.add([]string{"e", "f", "g"}) // g starts a third: a, b, c go
	for id, want := range map[string]bool{"a": false, "c": false, "d": true, "f": true, "g": true} {
		if r.has(id) != want {
			t.Errorf("has(%s) = %v, want %v", id, !want, want)
		}
	}
	if n := len(r.cur) + len(r.old); n > 6 {
		t.Errorf("%d ids kept, want at most 6", n)
	}
}
