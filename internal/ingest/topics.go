package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics that do not exist yet (input topics and
// their dead-letter topics), so consumers and producers do not depend on
// broker-side auto-creation, and waits until every topic has leaders.
func EnsureTopics(ctx context.Context, brokers []string, topics []string, partitions int) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for topic, terr := range resp.Errors {
		if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", topic, terr)
		}
	}
	for {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err == nil && allLed(md, len(topics)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allLed(md *kafka.MetadataResponse, want int) bool {
	if len(md.Topics) < want {
		return false
	}
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) == 0 {
			return false
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false
			}
		}
	}
	return true
}

// Ping checks that a broker answers a metadata request.
func Ping(ctx context.Context, brokers []string) error {
	d := &kafka.Dialer{Timeout: 2 * time.Second}
	var lastErr error
	for _, b := range brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err != nil {
			lastErr = err
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Brokers()
		conn.Close()
		if err == nil {
			return nil
		}
		lastErr = err
	}
	return fmt.Errorf("no kafka broker answers: %w", lastErr)
}

// Sources lists the sources each input topic accepts (empty: any).
type Sources struct {
	HR, Expense, Intel []string
}

// TopicBindings binds each input topic to its type prefix and sources, as the
// contract says: hr.events carries hr.* only, and so on.
func TopicBindings(t Topics, s Sources) map[string]Binding {
	return map[string]Binding{
		t.HR:      {TypePrefix: "hr.", Sources: s.HR},
		t.Expense: {TypePrefix: "expense.", Sources: s.Expense},
		t.Intel:   {TypePrefix: "intel.", Sources: s.Intel},
	}
}
