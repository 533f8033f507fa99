package ingest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
)

// A binary-mode event from a source the topic does not accept yet is
// dead-lettered; the operator lists and shows it, fixes the configuration,
// replays it, and it is stored — sent back with its original key and headers.
func TestDLQListShowReplayBringsFixedEventIn(t *testing.T) {
	r := newRig(t)
	exp := r.topics.Expense
	late := sdkMessage(t, exp, "E1", "late-1", event.TypeExpenseClaim, claimData("late-1", "E1"), false) // source expense/concur-cn
	bad := sdkMessage(t, exp, "E2", "bad-1", event.TypeExpenseClaim, map[string]any{"claim_id": "C-9"}, false)
	r.produce(late, bad)

	run := r.startWith(&ingest.Sources{Expense: []string{"expense/sap"}}, nil)
	waitUntil(t, "both consumed", 60*time.Second, func() bool { return run.consumed(r.topics) >= 2 })
	run.stop(t)
	if got := r.storedIDs(); len(got) != 0 {
		t.Fatalf("stored %v before the fix", got)
	}

	dlq := ingest.NewDLQ(r.brokers, []string{r.topics.HR, r.topics.Expense, r.topics.Intel}, ".dlq")
	defer dlq.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var letters []ingest.DeadLetter
	waitUntil(t, "two dead letters listed", 30*time.Second, func() bool {
		letters = letters[:0]
		err := dlq.Scan(ctx, func(l ingest.DeadLetter) error { letters = append(letters, l); return nil })
		return err == nil && len(letters) == 2
	})
	counts, more, err := dlq.Counts(ctx, 0)
	if err != nil || more || counts["source_not_allowed"] != 1 || counts["invalid_data"] != 1 || len(counts) != 2 {
		t.Fatalf("counts = %v, %v, %v", counts, more, err)
	}
	if counts, more, err := dlq.Counts(ctx, 1); err != nil || !more || len(counts) != 1 {
		t.Fatalf("counts up to 1 = %v, %v, %v", counts, more, err)
	}
	var pick ingest.DeadLetter
	for _, l := range letters {
		if l.Code() == "source_not_allowed" {
			pick = l
		}
	}
	shown, err := dlq.Get(ctx, pick.ID())
	if err != nil {
		t.Fatal(err)
	}
	if shown.SourceTopic != exp || string(shown.Key) != "E1" || string(shown.Value) != string(late.Value) || len(shown.Headers) != len(late.Headers) {
		t.Fatalf("shown %+v", shown)
	}
	for i, h := range late.Headers {
		if shown.Headers[i].Key != h.Key || string(shown.Headers[i].Value) != string(h.Value) {
			t.Fatalf("header %d = %s, want %s", i, shown.Headers[i].Key, h.Key)
		}
	}
	if _, err := dlq.Get(ctx, exp+".dlq/0/99999"); err == nil {
		t.Fatal("Get of a missing offset succeeded")
	}

	// The fix: the topic now accepts the source. Replay the one dead letter.
	if err := dlq.Replay(ctx, []ingest.DeadLetter{shown}); err != nil {
		t.Fatal(err)
	}
	run = r.startWith(&ingest.Sources{Expense: []string{"expense/sap", "expense/concur-cn"}}, nil)
	waitUntil(t, "the replayed event stored", 60*time.Second, func() bool { return r.storedIDs()["late-1"] })
	run.stop(t)
	if got := r.storedIDs(); len(got) != 1 {
		t.Fatalf("stored %v, want only late-1", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseDeadLetterID(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{give: "hr.events.dlq/2/41", want: "hr.events.dlq 2 41"},
		{give: "a/b.dlq/0/0", want: "a/b.dlq 0 0"},
		{give: "hr.events.dlq/2", wantErr: true},
		{give: "hr.events.dlq/x/1", wantErr: true},
		{give: "/1/2", wantErr: true},
		{give: "t/1/-2", wantErr: true},
	}
	for _, tt := range tests {
		topic, p, o, err := ingest.ParseDeadLetterID(tt.give)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v", tt.give, err)
			continue
		}
		if err == nil {
			if got := topic + " " + itoa(p) + " " + itoa(int(o)); got != tt.want {
				t.Errorf("%q = %s, want %s", tt.give, got, tt.want)
			}
		}
	}
}
