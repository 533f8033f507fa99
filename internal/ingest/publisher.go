package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/tracing"
)

// Topics names the input topic of each event family.
type Topics struct {
	HR, Expense, Intel string
}

// For returns the topic of an event type by its prefix (hr.*, expense.*, intel.*).
func (t Topics) For(eventType string) (string, bool) {
	prefix, _, _ := strings.Cut(eventType, ".")
	var topic string
	switch prefix {
	case "hr":
		topic = t.HR
	case "expense":
		topic = t.Expense
	case "intel":
		topic = t.Intel
	}
	return topic, topic != ""
}

// Validate checks every topic is named.
func (t Topics) Validate() error {
	if t.HR == "" || t.Expense == "" || t.Intel == "" {
		return fmt.Errorf("topics: hr %q, expense %q and intel %q must all be named", t.HR, t.Expense, t.Intel)
	}
	return nil
}

// NewWriter returns the writer every producer of contract events uses:
// acknowledged by all in-sync replicas, batched, and partitioned by a hash of
// the key, so an employee's events always land in the same partition whoever
// produced them. Messages over kafka-go's default 1 MiB batch limit (Kafka's
// default message.max.bytes) are refused here rather than by the broker. Messages name their topic. The caller closes it.
func NewWriter(brokers []string) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchTimeout:           10 * time.Millisecond, // the default 1 s stalls every partial batch
		AllowAutoTopicCreation: true,
	}
}

// Publisher writes events to their topics, keyed as the contract says.
type Publisher struct {
	w      *kafka.Writer
	topics Topics
}

// NewPublisher returns a publisher writing to brokers.
func NewPublisher(brokers []string, topics Topics) *Publisher {
	return &Publisher{topics: topics, w: NewWriter(brokers)}
}

// Message builds the Kafka message of an event.
func (t Topics) Message(e event.Event) (kafka.Message, error) {
	topic, ok := t.For(e.Type)
	if !ok {
		return kafka.Message{}, fmt.Errorf("event type %q has no topic (want hr.*, expense.* or intel.*)", e.Type)
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
		// The caller's trace (an API request's) continues in the consumer.
		tracing.Inject(ctx, &m.Headers)
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
