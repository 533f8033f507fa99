package mongostore

import (
	"reflect"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// The presence record is idempotent by event, keyed by the folded city,
// read back only within review.PresenceDays, and trimmed by _id when a new
// bucket starts so it stays bounded.
func TestPresenceRecord(t *testing.T) {
	db := newTestDB(t)
	s := NewSignalStore(db)
	ctx := t.Context()
	p := func(id, day, city string) detect.Presence {
		return detect.Presence{Ref: event.Ref{Source: "expense/x", ID: id}, Date: civil.MustParse(day), City: city}
	}
	old := p("old", "2021-01-05", "上海")
	for range 2 { // a redelivery adds nothing
		if err := s.AddPresence(ctx, "E1", []detect.Presence{p("a", "2024-05-19", "Shanghai"), p("b", "2024-05-20", "上海市"), p("c", "2023-01-01", "北京")}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PresenceOf(ctx, []string{"E1", "E2"}, civil.MustParse("2024-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]detect.Presence{"E1": {p("a", "2024-05-19", "Shanghai"), p("b", "2024-05-20", "上海市")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PresenceOf = %+v, want %+v (the 2023 day is older than the %d days kept)", got, want, 400)
	}
	for _, tc := range []struct {
		city   string
		paidOn []string
		want   []string
	}{
		{"SHANGHAI city", []string{"2024-05-20"}, []string{"E1"}},
		{"上海", []string{"2024-05-21", "2024-05-20"}, []string{"E1"}},
		{"Beijing", []string{"2024-05-20"}, nil},
	} {
		var days []civil.Date
		for _, d := range tc.paidOn {
			days = append(days, civil.MustParse(d))
		}
		if ids, err := s.EmployeesAt(ctx, tc.city, days, nil); err != nil || !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("EmployeesAt(%s, %v) = %v, %v; want %v", tc.city, tc.paidOn, ids, err, tc.want)
		}
	}

	// An old bucket is deleted when a bucket presenceBuckets later starts.
	if err := s.AddPresence(ctx, "E3", []detect.Presence{old}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPresence(ctx, "E3", []detect.Presence{p("new", "2024-05-19", "上海")}); err != nil {
		t.Fatal(err)
	}
	n, err := db.DB.Collection(presenceCollection).CountDocuments(ctx, map[string]any{"_id": presenceKey("E3", presenceBucket(old.Date))})
	if err != nil || n != 0 {
		t.Errorf("E3's 2021 bucket: %d documents, %v; want it trimmed", n, err)
	}
}
