package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// overlapping records, while storing each batch, whether the next batch was
// already fetched and decoded, and the order events were stored in.
type overlapping struct {
	c       *Consumer
	mu      sync.Mutex
	calls   int
	overlap int
	order   map[int][]int64 // partition -> offsets in store order
}

func (o *overlapping) Process(_ context.Context, batch []event.Received) (int, error) {
	o.mu.Lock()
	o.calls++
	first := o.calls == 1
	for _, r := range batch {
		o.order[r.Partition] = append(o.order[r.Partition], r.Offset)
	}
	o.mu.Unlock()
	// A slow write: meanwhile the consumer must fetch and decode the next batch.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if len(o.c.ahead) == 1 {
			o.mu.Lock()
			o.overlap++
			o.mu.Unlock()
			return len(batch), nil
		}
		if !first {
			break // later batches need not wait for a next one
		}
	}
	return len(batch), nil
}

// The next batch is fetched and decoded while the current one is stored,
// and per-partition order and commits are as before.
func TestNextBatchIsDecodedWhileOneIsStored(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	p := testenv.UniqueName("pipe")
	topic := p + ".expense"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, brokers, []string{topic, topic + ".dlq"}, 2); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(brokers)
	defer w.Close()
	const n = 60
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		e, err := event.New("expense/t", fmt.Sprint("c", i), time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), &event.ExpenseClaim{
			ClaimID: fmt.Sprint("C", i), EmployeeID: fmt.Sprint("E", i%4), IncurredOn: civil.MustParse("2024-02-20"),
			Amount: event.Money{Amount: "1.00", Currency: "CNY"}, Merchant: "M"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := event.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(e.PartitionKey()), Value: raw})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	proc := &overlapping{order: map[int][]int64{}}
	c := NewConsumer(Config{Brokers: brokers, GroupID: p, Topics: []string{topic}, DLQSuffix: ".dlq", BatchSize: 10,
		BatchWait: 50 * time.Millisecond, MaxEventBytes: 1 << 20, RetryMinWait: 10 * time.Millisecond, RetryMaxWait: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second}, proc, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	proc.c = c
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		proc.mu.Lock()
		got := len(proc.order[0]) + len(proc.order[1])
		proc.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored %d of %d", got, n)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if proc.overlap == 0 {
		t.Fatal("no batch was fetched and decoded while another was stored")
	}
	total := 0
	for part, offs := range proc.order {
		for i := 1; i < len(offs); i++ {
			if offs[i] != offs[i-1]+1 {
				t.Fatalf("partition %d stored out of order: %v", part, offs)
			}
		}
		total += len(offs)
	}
	if total != n {
		t.Fatalf("stored %d events, want %d exactly once", total, n)
	}
	// Everything stored was committed: a new member of the group gets nothing.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: p, Topic: topic, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	short, cancelShort := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancelShort()
	if m, err := r.FetchMessage(short); err == nil {
		t.Fatalf("offset %d/%d was not committed", m.Partition, m.Offset)
	}
}
