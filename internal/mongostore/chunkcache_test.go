package mongostore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestQueueChunksCachedYetFreshAcrossReplicas: a replica that has read a
// page reads only the facet document for the same page again (its chunks
// are immutable, so they come from memory), and a change written by another
// replica shows on its next page, because the facet read names new chunks.
func TestQueueChunksCachedYetFreshAcrossReplicas(t *testing.T) {
	writer := newTestDB(t)
	writer.queueMode = queueByFacets
	var chunkReads atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if coll, _ := e.Command.Lookup("find").StringValueOK(); e.CommandName == "find" && coll == queueChunksCollection {
			chunkReads.Add(1)
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)).SetMonitor(mon).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	reader := Use(client.Database(writer.DB.Name())) // another replica: same data, its own cache
	reader.queueMode = queueByFacets
	ws, rs := NewCaseStore(writer), NewCaseStore(reader)
	ctx := t.Context()
	for i := range 100 {
		if err := ws.Create(ctx, testCase(fmt.Sprintf("Q%03d", i), fmt.Sprintf("E%03d", i), "R&D", "high", 40+i%5, detect.RuleExpense, "GLG")); err != nil {
			t.Fatal(err)
		}
	}
	open := review.Filter{Status: review.StatusOpen, Severity: "high"}
	page := func() []review.Case {
		t.Helper()
		cs, _, err := rs.List(ctx, open, 50, "")
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	first := page()
	if n := chunkReads.Swap(0); n == 0 {
		t.Fatal("the first page read no chunk: the monitor sees nothing")
	}
	again := page()
	if n := chunkReads.Swap(0); n != 0 {
		t.Errorf("the same page again read %d chunks, want 0 (cached)", n)
	}
	if fmt.Sprint(caseIDs(again)) != fmt.Sprint(caseIDs(first)) {
		t.Fatalf("the same page differs:\n%v\n%v", caseIDs(first), caseIDs(again))
	}
	// The other replica opens a case at the top of the queue.
	if err := ws.Create(ctx, testCase("QTOP", "ETOP", "R&D", "high", 99, detect.RuleExpense, "GLG")); err != nil {
		t.Fatal(err)
	}
	after := page()
	if len(after) != 50 || after[0].ID != "QTOP" || after[1].ID != first[0].ID {
		t.Errorf("after the other replica's change the page is %v, want QTOP then %v", caseIDs(after), caseIDs(first)[:49])
	}
	if n := chunkReads.Swap(0); n == 0 {
		t.Error("the changed page read no chunk: its rows came from a cache of the old state")
	}
}

func caseIDs(cs []review.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
