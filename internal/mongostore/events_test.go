package mongostore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func received(t *testing.T, id string, at time.Time) event.Received {
	t.Helper()
	e, err := event.New("expense/test", id, at, &event.ExpenseClaim{ClaimID: id, EmployeeID: "E1", IncurredOn: civil.Of(at),
		Amount: event.Money{Amount: "10", Currency: "CNY"}, Merchant: "滴滴出行"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Raw, err = event.Encode(e); err != nil {
		t.Fatal(err)
	}
	return event.Received{Event: e, Topic: "expense.events", ReceivedAt: at}
}

func TestEventsInsertOnceAndCountPerHour(t *testing.T) {
	s := NewEventStore(Use(testenv.Database(t)))
	ctx := context.Background()
	h1 := time.Date(2026, 3, 1, 9, 15, 0, 0, time.UTC)
	h2 := h1.Add(time.Hour)
	batch := func(at time.Time, ids ...string) []event.Received {
		var out []event.Received
		for _, id := range ids {
			out = append(out, received(t, id, at))
		}
		return out
	}
	for _, tt := range []struct {
		give    []event.Received
		wantNew int
	}{
		{batch(h1, "a", "b", "c"), 3},
		{batch(h1, "b", "c", "d"), 1}, // a redelivery with one new event
		{batch(h2, "a", "e"), 1},
		{batch(h2, "a", "e"), 0},
	} {
		n, err := s.InsertMany(ctx, tt.give)
		if err != nil || n != tt.wantNew {
			t.Fatalf("InsertMany = %d, %v; want %d new", n, err, tt.wantNew)
		}
	}
	if n, err := s.Count(ctx); err != nil || n != 5 {
		t.Fatalf("Count = %d, %v; want 5", n, err)
	}
	got, err := s.EventsPerHour(ctx, h1.Add(-3*time.Hour), h2.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := map[time.Time]int{h1.Truncate(time.Hour): 4, h2.Truncate(time.Hour): 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("EventsPerHour = %v, want %v", got, want)
	}
	se, err := s.Get(ctx, event.Ref{Source: "expense/test", ID: "d"})
	if err != nil || se.Event.ID != "d" || se.Topic != "expense.events" {
		t.Fatalf("Get = %+v, %v", se, err)
	}
}
