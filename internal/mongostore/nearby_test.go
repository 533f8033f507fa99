package mongostore

import (
	"reflect"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func nearSig(emp, id, cp, day string) detect.Signal {
	return detect.Signal{Ref: event.Ref{Source: "card/x", ID: id}, Kind: detect.KindCardTransaction, EmployeeID: emp,
		Date: civil.MustParse(day), Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Merchant: cp, Counterparty: cp, CounterpartyID: cp}
}

func TestEmployeesNear(t *testing.T) {
	db := newTestDB(t)
	s := NewSignalStore(db)
	ctx := t.Context()
	for _, sg := range []detect.Signal{
		nearSig("E1", "a", "glg", "2024-01-30"), nearSig("E2", "b", "glg", "2024-03-01"),
		nearSig("E3", "c", "cicc", "2024-01-30"), nearSig("E4", "d", "glg", "2023-12-31"),
	} {
		if err := s.AddSignals(ctx, sg.EmployeeID, []detect.Signal{sg}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		cp       string
		from, to string
		want     []string
	}{
		{"within a month", "glg", "2024-01-25", "2024-02-05", []string{"E1"}},
		{"across months", "glg", "2024-01-01", "2024-03-31", []string{"E1", "E2"}},
		{"across a year", "glg", "2023-12-20", "2024-01-31", []string{"E1", "E4"}},
		{"days outside the window in a month it spans", "glg", "2024-01-31", "2024-02-29", nil},
		{"other counterparty", "cicc", "2024-01-01", "2024-01-31", []string{"E3"}},
		{"nobody", "gerson", "2024-01-01", "2024-12-31", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, ferret := range []bool{true, false} {
				forceFlavor(db, ferret)
				got, err := s.EmployeesNear(ctx, tt.cp, civil.MustParse(tt.from), civil.MustParse(tt.to))
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ferret=%v: EmployeesNear = %v, %v; want %v", ferret, got, err, tt.want)
				}
			}
		})
	}
	// A rescan that drops E1's signal drops E1, though its month entry stays.
	if err := s.ReplaceSignals(ctx, "E1", []detect.Signal{nearSig("E1", "z", "cicc", "2024-06-01")}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.EmployeesNear(ctx, "glg", civil.MustParse("2024-01-01"), civil.MustParse("2024-03-31")); err != nil || !reflect.DeepEqual(got, []string{"E2"}) {
		t.Errorf("after rescan: %v, %v; want E2", got, err)
	}
	if got, err := s.EmployeesNear(ctx, "cicc", civil.MustParse("2024-05-20"), civil.MustParse("2024-06-10")); err != nil || !reflect.DeepEqual(got, []string{"E1"}) {
		t.Errorf("rescanned signal: %v, %v; want E1", got, err)
	}
}

// EmployeesNear reads by key: activity stored without its month entries
// (from before they existed) is found only after the start-up backfill.
func TestEmployeesNearBackfill(t *testing.T) {
	db := Use(testenv.Database(t))
	ctx := t.Context()
	doc := activityDoc{ID: "E9", Signals: []signalDoc{toSignalDoc(nearSig("E9", "a", "glg", "2024-01-30"))}}
	if _, err := db.DB.Collection(activityCollection).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	s := NewSignalStore(db)
	from, to := civil.MustParse("2024-01-01"), civil.MustParse("2024-01-31")
	if got, err := s.EmployeesNear(ctx, "glg", from, to); err != nil || got != nil {
		t.Fatalf("before backfill: %v, %v; want none (no scan of activity)", got, err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.EmployeesNear(ctx, "glg", from, to); err != nil || !reflect.DeepEqual(got, []string{"E9"}) {
		t.Fatalf("after backfill: %v, %v; want E9", got, err)
	}
}
