package ingest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Headers a dead letter carries besides the original message's own.
const (
	HeaderError           = "x-error"
	HeaderSourceTopic     = "x-source-topic"
	HeaderSourcePartition = "x-source-partition"
	HeaderSourceOffset    = "x-source-offset"
)

var deadLetterHeaders = []string{HeaderError, HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset}

// deadLetterMessage is the dead-letter copy of m: its original key, value and
// headers (ce_* attributes of a binary-mode event included, so it can be
// replayed as it was), then the reason and where it came from. Headers of a
// previous dead-lettering (a replayed message that failed again) are replaced,
// not repeated.
func deadLetterMessage(m kafka.Message, suffix, reason string) kafka.Message {
	headers := make([]kafka.Header, 0, len(m.Headers)+len(deadLetterHeaders))
	for _, h := range m.Headers {
		if !isDeadLetterHeader(h.Key) {
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		kafka.Header{Key: HeaderError, Value: []byte(reason)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
	)
	return kafka.Message{Topic: m.Topic + suffix, Key: m.Key, Value: m.Value, Headers: headers}
}

func isDeadLetterHeader(k string) bool {
	for _, d := range deadLetterHeaders {
		if k == d {
			return true
		}
	}
	return false
}

// deadLetter publishes rejected messages to <topic><suffix> with the reason,
// original bytes, key and headers, and where they came from.
func (c *Consumer) deadLetter(ctx context.Context, bad []rejected) error {
	msgs := make([]kafka.Message, 0, len(bad))
	for _, b := range bad {
		msgs = append(msgs, deadLetterMessage(b.msg, c.cfg.DLQSuffix, b.reason))
	}
	if err := c.dlq.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d dead letters: %w", len(msgs), err)
	}
	for _, b := range bad {
		c.m.Rejected.WithLabelValues(b.msg.Topic, ReasonCode(b.reason)).Inc()
		c.log.Info("event dead-lettered", "topic", b.msg.Topic, "partition", b.msg.Partition, "offset", b.msg.Offset, "reason", ReasonCode(b.reason))
	}
	return nil
}

// ReasonCode is a dead letter reason's leading code ("invalid_data: /amount
// ..." -> "invalid_data"), bounded for metric labels and counts.
func ReasonCode(reason string) string {
	for i, r := range reason {
		if r == ':' || r == ' ' {
			return reason[:i]
		}
		if i > 40 {
			break
		}
	}
	if len(reason) > 40 {
		return "other"
	}
	return reason
}
