package mongostore

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// TestPresenceIndex: payments and leave days of given employees are found
// by city and day (each employee once per day, a redelivery adding
// nothing), candidates by their HR keys, speaker seminars by day, and every
// read is by _id on both query shapes.
func TestPresenceIndex(t *testing.T) {
	db, finds := monitoredDB(t)
	ctx := t.Context()
	s := NewSignalStore(db)
	day := civil.MustParse("2024-05-19")
	pay := func(emp, id, city string, d civil.Date) evaluate.Paid {
		return evaluate.Paid{EmployeeID: emp, Presence: detect.Presence{Ref: event.Ref{Source: "card/t", ID: id}, Date: d, City: city}}
	}
	var paid []evaluate.Paid
	for i := range 30 { // 30 employees in Shanghai over 3 spellings, and noise elsewhere: > 40 keys
		city := []string{"上海市", "Shanghai", "SHANGHAI City"}[i%3]
		paid = append(paid, pay(fmt.Sprintf("E%02d", i), fmt.Sprintf("t%d", i), city, day))
		paid = append(paid, pay(fmt.Sprintf("E%02d", i), fmt.Sprintf("b%d", i), "北京", day.AddDays(i+2)))
		paid = append(paid, pay(fmt.Sprintf("E%02d", i), fmt.Sprintf("h%d", i), "杭州", day.AddDays(-i-1)))
	}
	leave := map[string][]civil.Date{"L1": {day.AddDays(1)}, "L2": {day, day.AddDays(1)}}
	for range 2 { // the second time is a redelivery
		if err := s.IndexPresence(ctx, paid, leave); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := s.IndexSpeakerKeys(ctx, map[string][]string{"fn:R&D": {"E00", "E01"}, "sen:director": {"E01"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.IndexSpeakerKeys(ctx, map[string][]string{"fn:R&D": {"E02", "E01"}}); err != nil {
		t.Fatal(err)
	}
	sem := detect.Seminar{Ref: event.Ref{Source: "intel/t", ID: "s1"}, ID: "SEM-1", Date: day.AddDays(1), City: "上海",
		Descriptors: []string{"某新能源车企电驱研发总监"}}
	if err := s.IndexSpeakerSeminars(ctx, []detect.Seminar{sem, {ID: "no-descriptors", Date: day}}); err != nil {
		t.Fatal(err)
	}
	for _, ferret := range []bool{true, false} {
		forceFlavor(db, ferret)
		finds()
		cands, err := s.SpeakerCandidates(ctx, []string{"fn:R&D", "sen:director", "fn:none"})
		if err != nil || fmt.Sprint(cands) != "map[fn:R&D:[E00 E01 E02] sen:director:[E01]]" {
			t.Fatalf("ferret=%v: candidates %v, %v", ferret, cands, err)
		}
		var all []string
		for i := range 31 {
			all = append(all, fmt.Sprintf("E%02d", i))
		}
		all = append(all, "L1", "L2", "L3")
		got, onLeave, err := s.PresentAt(ctx, "Shanghai", []civil.Date{day.AddDays(1), day}, day.AddDays(1), all)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Fatalf("ferret=%v: %d payments in Shanghai, want 30 (each once)", ferret, len(got))
		}
		for _, p := range got {
			if p.Presence.Date != day || p.Presence.Ref.ID[0] != 't' || detect.CityKey(p.Presence.City) != "shanghai" {
				t.Errorf("ferret=%v: unexpected %+v", ferret, p)
			}
		}
		if fmt.Sprint(onLeave) != "[L1 L2]" {
			t.Errorf("ferret=%v: on leave %v, want [L1 L2]", ferret, onLeave)
		}
		sems, err := s.SpeakerSeminarsOn(ctx, []civil.Date{day, day.AddDays(1), day.AddDays(1)})
		if err != nil || len(sems) != 1 || sems[0].ID != "SEM-1" || len(sems[0].Descriptors) != 1 {
			t.Fatalf("ferret=%v: speaker seminars %+v, %v", ferret, sems, err)
		}
		for _, cmd := range finds() {
			if !onIDOnly(cmd.Lookup("filter").Document()) {
				t.Errorf("ferret=%v: find with filter %s, want conditions on _id only", ferret, cmd.Lookup("filter"))
			}
		}
	}
}

// onIDOnly: the filter is on _id, or an $or of filters on _id (ranges the
// _id index serves on MongoDB).
func onIDOnly(filter bson.Raw) bool {
	elems, err := filter.Elements()
	if err != nil || len(elems) != 1 {
		return false
	}
	switch elems[0].Key() {
	case "_id":
		return true
	case "$or":
		vals, err := elems[0].Value().Array().Values()
		if err != nil {
			return false
		}
		for _, v := range vals {
			if !onIDOnly(v.Document()) {
				return false
			}
		}
		return len(vals) > 0
	}
	return false
}

// TestKeptPresenceSurvivesSignalRewrite: corroborating payments kept on the
// activity document are read with the signals, once each, and a rescan's
// ReplaceSignals leaves them.
func TestKeptPresenceSurvivesSignalRewrite(t *testing.T) {
	db, _ := monitoredDB(t)
	ctx := t.Context()
	s := NewSignalStore(db)
	p := detect.Presence{Ref: event.Ref{Source: "card/t", ID: "t1"}, Date: civil.MustParse("2024-05-19"), City: "上海"}
	for range 2 {
		if err := s.AddPresence(ctx, "E1", []detect.Presence{p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSignals(ctx, "E1", []detect.Signal{nearSig("E1", "x1", "glg", "2024-01-10")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceSignals(ctx, "E1", nil); err != nil {
		t.Fatal(err)
	}
	acts, err := s.ActivityOf(ctx, []string{"E1", "E2"})
	if err != nil {
		t.Fatal(err)
	}
	a := acts["E1"]
	if len(a.Signals) != 0 || len(a.Presence) != 1 || a.Presence[0] != p {
		t.Fatalf("activity %+v, want no signals and the one kept payment", a)
	}
	if _, ok := acts["E2"]; ok {
		t.Error("E2 has no activity document")
	}
}
