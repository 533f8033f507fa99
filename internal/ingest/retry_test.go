package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
)

func testConsumer(minWait, maxWait time.Duration, proc Processor, transient func(error) bool) *Consumer {
	return &Consumer{
		cfg:  Config{RetryMinWait: minWait, RetryMaxWait: maxWait, PoisonAttempts: 5},
		proc: proc, m: NewMetrics(prometheus.NewRegistry()), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		transient: transient,
	}
}

// The policy: exponential from the minimum, ±50% jitter, capped at the maximum.
func TestBackOffIsExponentialJitteredAndCapped(t *testing.T) {
	c := testConsumer(100*time.Millisecond, 2*time.Second, nil, nil)
	for run := 0; run < 20; run++ {
		b := c.newBackOff()
		base := 100 * time.Millisecond
		for i := 0; i < 12; i++ {
			d := b.NextBackOff()
			lo, hi := base/2, base*3/2
			if d < lo || d > hi {
				t.Fatalf("step %d: %s outside [%s, %s]", i, d, lo, hi)
			}
			base = min(base*2, 2*time.Second)
		}
	}
	// Jitter: two replicas failing at the same moment do not wait alike.
	a, b := c.newBackOff(), c.newBackOff()
	same := 0
	for i := 0; i < 10; i++ {
		if a.NextBackOff() == b.NextBackOff() {
			same++
		}
	}
	if same == 10 {
		t.Fatal("no jitter: two back-offs gave the same ten waits")
	}
}

// failing fails its first n calls with err, recording when each call came.
type failing struct {
	n     int
	err   error
	calls []time.Time
}

func (f *failing) Process(_ context.Context, batch []event.Received) (int, error) {
	f.calls = append(f.calls, time.Now())
	if len(f.calls) <= f.n {
		return 0, f.err
	}
	return len(batch), nil
}

// A run of transient errors waits longer and longer: the wait does not fall
// back to the first step after every transient error (the old consumer
// retried every 200 ms for the whole of an outage).
func TestTransientErrorsBackOffWithoutReset(t *testing.T) {
	f := &failing{n: 6, err: errors.New("database away")}
	c := testConsumer(10*time.Millisecond, 5*time.Second, f, func(error) bool { return true })
	poison, err := c.process(context.Background(), []fetched{{msg: kafka.Message{Offset: 1}}})
	if err != nil || len(poison) != 0 {
		t.Fatalf("process = %v, %v", poison, err)
	}
	if len(f.calls) != 7 {
		t.Fatalf("%d calls, want 7", len(f.calls))
	}
	first := f.calls[1].Sub(f.calls[0])
	last := f.calls[6].Sub(f.calls[5])
	// 10 ms * 2^5 = 320 ms, at least 160 ms with jitter; the first at most 15 ms (+ scheduling).
	if last < 160*time.Millisecond || last < 5*first {
		t.Fatalf("waits did not grow: first %s, last %s", first, last)
	}
}

// A transient error never dead-letters: it is retried past PoisonAttempts.
func TestTransientErrorsAreNotPoison(t *testing.T) {
	f := &failing{n: 12, err: errors.New("conflict")}
	c := testConsumer(time.Millisecond, 5*time.Millisecond, f, func(error) bool { return true })
	poison, err := c.process(context.Background(), []fetched{{msg: kafka.Message{Offset: 1}}})
	if err != nil || len(poison) != 0 || len(f.calls) != 13 {
		t.Fatalf("process = %v, %v after %d calls; want stored after 13", poison, err, len(f.calls))
	}
}

// A permanent error is retried PoisonAttempts times, then the event alone,
// then dead-lettered with its original message.
func TestPermanentErrorsArePoisonAfterAttempts(t *testing.T) {
	f := &failing{n: 100, err: errors.New("document too large")}
	c := testConsumer(time.Millisecond, 5*time.Millisecond, f, func(error) bool { return false })
	orig := kafka.Message{Topic: "t", Offset: 7, Key: []byte("E1"), Headers: []kafka.Header{{Key: "ce_id", Value: []byte("x")}}}
	poison, err := c.process(context.Background(), []fetched{{msg: orig}})
	if err != nil || len(poison) != 1 || len(f.calls) != 6 {
		t.Fatalf("process = %v, %v after %d calls", poison, err, len(f.calls))
	}
	if poison[0].reason != "processing_failed: document too large" || string(poison[0].msg.Headers[0].Value) != "x" {
		t.Fatalf("poison %+v", poison[0])
	}
}

func TestDeadLetterMessageKeepsHeaders(t *testing.T) {
	m := kafka.Message{Topic: "hr.events", Partition: 2, Offset: 41, Key: []byte("E1"), Value: []byte("{}"),
		Headers: []kafka.Header{{Key: "ce_id", Value: []byte("1")}, {Key: "content-type", Value: []byte("application/json")},
			{Key: "x-error", Value: []byte("old reason")}, {Key: "x-source-offset", Value: []byte("3")}}}
	got := deadLetterMessage(m, ".dlq", "invalid_data: /data/name")
	want := []string{"ce_id=1", "content-type=application/json", "x-error=invalid_data: /data/name",
		"x-source-topic=hr.events", "x-source-partition=2", "x-source-offset=41"}
	var have []string
	for _, h := range got.Headers {
		have = append(have, h.Key+"="+string(h.Value))
	}
	if got.Topic != "hr.events.dlq" || string(got.Key) != "E1" || string(got.Value) != "{}" || len(have) != len(want) {
		t.Fatalf("got %s %s %v", got.Topic, got.Key, have)
	}
	for i := range want {
		if have[i] != want[i] {
			t.Fatalf("headers %v, want %v", have, want)
		}
	}
}
