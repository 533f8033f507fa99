package reliability

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestPoison sends thousands of malformed messages of several kinds
// interleaved with good events: every bad one must reach the dead-letter
// topic with its reason, every good one must be stored, and the good events'
// throughput must not collapse compared with a poison-free phase of the same
// run.
func TestPoison(t *testing.T) {
	ctx := requireSuite(t, 6*time.Minute)
	f := report(t, "poison")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("poison")
	createTopics(ctx, t, brokers, ts)

	// The two phases go to topics of their own, produced before a consumer
	// runs, so the figure is the consumer's pace, not the producer's.
	const good = 10000
	// Both phases carry the same good events (into databases of their own):
	// the cost of an event depends on its kind (a hire touches more than a
	// taxi receipt), so only the same events make the rates comparable.
	events := sampleEvents(good, time.Now())
	cleanTopics := newTopics("poison_clean")
	createTopics(ctx, t, brokers, cleanTopics)
	clean := mixWorkload(t, cleanTopics, events, 0, 0)
	dirty := mixWorkload(t, ts, events, 1, 0) // one malformed message before each good one
	f.set("good_events_per_phase", good)
	f.set("malformed_messages", dirty.badTotal())
	for _, w := range []*workload{clean, dirty} {
		var p producer
		if err := p.run(ctx, brokers, w.msgs, 0); err != nil {
			t.Fatal(err)
		}
	}

	// phase consumes w's topics with a fresh process and database and returns
	// the good events per second between the first and the last stored one
	// (their received_at), and the scrape of its metrics.
	phase := func(name string, topics topicSet, w *workload) (float64, metrics) {
		opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("poison"), group: testenv.UniqueName("poison"), topics: topics,
			env: []string{fmt.Sprintf("MOONLIGHT_KAFKA_MAX_EVENT_BYTES=%d", maxEventBytes)}}
		svc := startService(ctx, t, "serve-"+name, opts)
		waitDrained(ctx, t, brokers, opts.group, topics, func() bool { return true }, svc)
		m, err := svc.metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		svc.stop(30 * time.Second)
		stored := connect(t, db.uri(), opts.database)
		c := checkStored(ctx, t, stored, w.valid)
		assertExactlyOnce(t, c, len(w.valid))
		f.set("stored_lost_duplicated_"+name, fmt.Sprintf("%d/%d/%d", c.Stored, c.Lost, c.Duplicated))
		first, last := receivedSpan(ctx, t, stored)
		secs := last.Sub(first).Seconds()
		rate := float64(len(w.valid)-1) / secs
		t.Logf("%s: batches %v, messages per batch %.0f, seconds in batches %.2f (fetch excluded)", name, m.sum("moonlight_batch_size_count"),
			m.sum("moonlight_batch_size_sum")/m.sum("moonlight_batch_size_count"), m.sum("moonlight_batch_duration_seconds_sum"))
		t.Logf("%s: %d messages (%d good) stored within %.1fs: %.0f good events/s", name, len(w.msgs), len(w.valid), secs, rate)
		return rate, m
	}
	// The machine is shared: other work only ever slows a phase down, so each
	// phase runs three times (alternating, a new group each time) and the
	// fastest run of each counts.
	var cleanRate, dirtyRate float64
	var m metrics
	for round := 1; round <= 3; round++ {
		r, _ := phase(fmt.Sprintf("without_poison_%d", round), cleanTopics, clean)
		cleanRate = max(cleanRate, r)
		r, m = phase(fmt.Sprintf("with_poison_%d", round), ts, dirty)
		dirtyRate = max(dirtyRate, r)
	}
	ratio := dirtyRate / cleanRate
	f.set("good_per_second_without_poison", int(cleanRate))
	f.set("good_per_second_with_poison", int(dirtyRate))
	f.set("throughput_ratio", float64(int(ratio*100))/100)
	if ratio < 0.5 {
		t.Errorf("good events/s with poison %.0f, without %.0f: ratio %.2f, want >= 0.5", dirtyRate, cleanRate, ratio)
	}

	// Every malformed message is in the dead-letter topic of its topic, with
	// the reason its kind must get.
	perReason := map[string]int{}
	seen := map[int]bool{}
	var wrong []string
	for _, topic := range ts.all() {
		for _, dl := range readTopic(ctx, t, brokers, topic+".dlq") {
			mk := markerRE.FindSubmatch(dl.Value)
			if mk == nil {
				wrong = append(wrong, fmt.Sprintf("dead letter without a marker in %s: %.80q", topic, dl.Value))
				continue
			}
			n, _ := strconv.Atoi(string(mk[1]))
			reason, _, _ := strings.Cut(header(dl, "x-error"), ":")
			if want := poisonKinds[n%len(poisonKinds)].reason; reason != want {
				wrong = append(wrong, fmt.Sprintf("poison-%d: x-error %q, want %s", n, header(dl, "x-error"), want))
			}
			if src := header(dl, "x-source-topic"); src != topic || dirty.poisonTopic[n] != topic {
				wrong = append(wrong, fmt.Sprintf("poison-%d: in %s.dlq with x-source-topic %q", n, topic, src))
			}
			if !seen[n] {
				perReason[reason]++
			}
			seen[n] = true
		}
	}
	for i, w := range wrong {
		if i == 10 {
			t.Errorf("… %d more", len(wrong)-10)
			break
		}
		t.Error(w)
	}
	missing := dirty.badTotal() - len(seen)
	if missing != 0 {
		t.Errorf("%d of %d malformed messages are not in the dead-letter topics", missing, dirty.badTotal())
	}
	var reasons []string
	for r, n := range dirty.bad {
		reasons = append(reasons, r)
		if perReason[r] != n {
			t.Errorf("reason %s: %d dead letters, want %d", r, perReason[r], n)
		}
		if got := m.sum("moonlight_events_rejected_total", `reason="`+r+`"`); got < float64(n) {
			t.Errorf("moonlight_events_rejected_total{reason=%q} = %v, want >= %d", r, got, n)
		}
	}
	sort.Strings(reasons)
	var counts []string
	for _, r := range reasons {
		counts = append(counts, fmt.Sprintf("%s %d", r, perReason[r]))
	}
	f.set("dead_letters_by_reason", strings.Join(counts, ", "))
	f.set("dead_letters_missing", missing)
	f.Summary = fmt.Sprintf("%d malformed (%d kinds) 1:1 with %d good: all in DLQ with reason, missing %d; good stored/lost/duplicated %v; good/s %.0f vs %.0f without poison, ratio %.2f",
		dirty.badTotal(), len(dirty.bad), good, missing, f.Values["stored_lost_duplicated_with_poison_3"], dirtyRate, cleanRate, ratio)
}

// receivedSpan is when the first and the last stored event were received.
func receivedSpan(ctx context.Context, t *testing.T, db *mongo.Database) (time.Time, time.Time) {
	t.Helper()
	at := func(dir int) time.Time {
		var d struct {
			At time.Time `bson:"received_at"`
		}
		err := db.Collection("events").FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "received_at", Value: dir}}).SetProjection(bson.D{{Key: "received_at", Value: 1}})).Decode(&d)
		if err != nil {
			t.Fatalf("received_at: %v", err)
		}
		return d.At
	}
	return at(1), at(-1)
}
