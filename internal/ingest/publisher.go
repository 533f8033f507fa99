package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
)

// Topics names the input topic of each event family.
type Topics struct {
	HR, Expense, Intel string
}

// TopicFor routes an event type by its prefix (hr.*, expense.*, intel.*).
func (t Topics) TopicFor(eventType string) (string, error) {
	prefix, _, _ := strings.Cut(eventType, ".")
	switch prefix {
	case "hr":
		return t.HR, nil
	case "expense":
		return t.Expense, nil
	case "intel":
		return t.Intel, nil
	}
	return "", fmt.Errorf("event type %q has no topic (want hr.*, expense.* or intel.*)", eventType)
}

// Publisher writes events to their topics, keyed as the contract says.
type Publisher struct {
	w      *kafka.Writer
	topics Topics
}

// NewPublisher returns a publisher writing to brokers.
func NewPublisher(brokers []string, topics Topics) *Publisher {
	return &Publisher{topics: topics, w: &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: true,
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              1000,
		BatchBytes:             16 << 20,
	}}
}

// Message builds the Kafka message of an event.
func (t Topics) Message(e event.Event) (kafka.Message, error) {
	topic, err := t.TopicFor(e.Type)
	if err != nil {
		return kafka.Message{}, err
	}
	return kafka.Message{Topic: topic, Key: []byte(e.PartitionKey()), Value: e.Raw}, nil
}

// Publish writes evs and waits for the brokers' acknowledgement.
func (p *Publisher) Publish(ctx context.Context, evs []event.Event) error {
	msgs := make([]kafka.Message, 0, len(evs))
	for _, e := range evs {
		m, err := p.topics.Message(e)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("publish %d events: %w", len(msgs), err)
	}
	return nil
}

// WriteMessages writes prepared messages (sample data, produce).
func (p *Publisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	return p.w.WriteMessages(ctx, msgs...)
}

// Close flushes and closes the writer.
func (p *Publisher) Close() error { return p.w.Close() }
