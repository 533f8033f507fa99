package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/embedded"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

const partitions = 3

// servers are the broker and database a run uses.
type servers struct {
	brokers  []string
	mongoURI string
	// kafkaName and mongoName describe them for the report.
	kafkaName, mongoName string
	// inProcess: the embedded servers run in this (the parent) process, so
	// the parent's CPU time during a phase is mostly theirs.
	inProcess bool
	close     func()
}

// startServers uses the given addresses, or starts the embedded broker
// (kfake, in memory) and database (FerretDB on SQLite in dir).
func startServers(brokers []string, mongoURI, dir string) (*servers, error) {
	s := &servers{brokers: brokers, mongoURI: mongoURI, close: func() {}}
	var closers []func()
	if len(brokers) == 0 {
		b, err := embedded.StartBroker(embedded.BrokerConfig{Addr: "127.0.0.1:0", Partitions: partitions})
		if err != nil {
			return nil, err
		}
		closers = append(closers, b.Close)
		s.brokers, s.kafkaName, s.inProcess = b.Addrs(), "embedded kfake (franz-go, in memory)", true
	} else {
		s.kafkaName = "Kafka at " + fmt.Sprint(brokers)
	}
	if mongoURI == "" {
		quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		d, err := embedded.StartDatabase("127.0.0.1:0", filepath.Join(dir, "ferretdb"), quiet)
		if err != nil {
			for _, c := range closers {
				c()
			}
			return nil, err
		}
		closers = append(closers, func() { _ = d.Close() })
		s.mongoURI, s.mongoName, s.inProcess = d.URI(), "embedded FerretDB v1.24 (SQLite)", true
	} else {
		s.mongoName = "MongoDB-wire server at " + redactURI(mongoURI)
	}
	s.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	return s, nil
}

func redactURI(u string) string {
	if at := lastIndex(u, '@'); at >= 0 {
		if i := lastIndex(u[:at], '/'); i >= 0 {
			return u[:i+1] + "…" + u[at:]
		}
	}
	return u
}

func lastIndex(s string, b byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// topicSet names one scenario's input topics.
type topicSet = ingest.Topics

func topicsFor(run string) topicSet {
	return topicSet{HR: run + ".hr", Expense: run + ".expense", Intel: run + ".intel"}
}

func allTopics(t topicSet) []string { return []string{t.HR, t.Expense, t.Intel} }

// createTopics creates the input topics and their dead-letter topics.
func createTopics(ctx context.Context, brokers []string, t topicSet) error {
	var ts []string
	for _, x := range allTopics(t) {
		ts = append(ts, x, x+".dlq")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ingest.EnsureTopics(ctx, brokers, ts, partitions)
}

// produceAll writes msgs with the project's writer (keyed, acks=all), in
// chunks so the writer batches.
func produceAll(ctx context.Context, brokers []string, msgs []kafka.Message) error {
	w := ingest.NewWriter(brokers)
	defer w.Close()
	for i := 0; i < len(msgs); i += 5000 {
		if err := w.WriteMessages(ctx, msgs[i:min(i+5000, len(msgs))]...); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	return nil
}

// lagWatcher tells how far a consumer group is behind on a set of topics.
type lagWatcher struct {
	client *kafka.Client
	group  string
	topics []string
}

func newLagWatcher(brokers []string, group string, topics []string) *lagWatcher {
	return &lagWatcher{client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}, group: group, topics: topics}
}

// behind returns how many messages are not committed yet.
func (l *lagWatcher) behind(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	offReq := map[string][]kafka.OffsetRequest{}
	fetchReq := map[string][]int{}
	for _, t := range l.topics {
		for p := range partitions {
			offReq[t] = append(offReq[t], kafka.LastOffsetOf(p))
			fetchReq[t] = append(fetchReq[t], p)
		}
	}
	ends, err := l.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offReq})
	if err != nil {
		return 0, err
	}
	committed, err := l.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: l.group, Topics: fetchReq})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range l.topics {
		done := map[int]int64{}
		for _, p := range committed.Topics[t] {
			done[p.Partition] = max(p.CommittedOffset, 0)
		}
		for _, p := range ends.Topics[t] {
			n += max(p.LastOffset-done[p.Partition], 0)
		}
	}
	return n, nil
}

// waitCaughtUp polls until the group has committed everything, and returns
// when it did (to the poll's resolution).
func (l *lagWatcher) waitCaughtUp(ctx context.Context, timeout time.Duration, progress func(int64)) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := l.behind(ctx)
		if err == nil && n == 0 {
			return time.Now(), nil
		}
		if progress != nil && err == nil {
			progress(n)
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("group %s still %d messages behind after %s (last error: %v)", l.group, n, timeout, err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connect opens a client to the run's database server.
func connect(uri, database string) (*mongostore.DB, error) {
	return mongostore.Connect(uri, database, 2*time.Minute)
}
