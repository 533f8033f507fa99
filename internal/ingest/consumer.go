// Package ingest consumes the input topics: FetchMessage, decode and validate,
// store (the Processor), dead-letter bad messages, and only then commit. Batches
// keep per-partition order; failures are retried in place so nothing is skipped.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
)

// Processor stores a batch of valid events idempotently and returns how many
// were new.
type Processor interface {
	Process(ctx context.Context, batch []event.Received) (int, error)
}

// Config configures a Consumer.
type Config struct {
	Brokers        []string
	GroupID        string
	Topics         []string
	DLQSuffix      string
	BatchSize      int
	BatchWait      time.Duration
	MaxEventBytes  int
	RetryMinWait   time.Duration
	RetryMaxWait   time.Duration
	SessionTimeout time.Duration
	// ShutdownGrace bounds how long in-flight work may go on after the
	// context is cancelled before it is abandoned (uncommitted, so redelivered).
	ShutdownGrace time.Duration
	// PoisonAttempts is how often a batch failing with a non-transient error
	// is retried before its events are retried one by one and the ones that
	// still fail are dead-lettered. Transient errors are retried forever.
	PoisonAttempts int
}

// Consumer reads the input topics in one consumer group.
type Consumer struct {
	cfg     Config
	reader  *kafka.Reader
	dlq     *kafka.Writer
	decoder *event.Decoder
	proc    Processor
	m       *Metrics
	log     *slog.Logger
	// transient classifies processing errors; nil treats all as transient.
	transient func(error) bool
}

// NewConsumer builds the reader and dead-letter writer. transient tells
// retryable processing errors from permanent ones.
func NewConsumer(cfg Config, proc Processor, m *Metrics, log *slog.Logger, transient func(error) bool) *Consumer {
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.PoisonAttempts == 0 {
		cfg.PoisonAttempts = 5
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           cfg.Brokers,
		GroupID:           cfg.GroupID,
		GroupTopics:       cfg.Topics,
		MinBytes:          1,
		MaxBytes:          max(4*cfg.MaxEventBytes, 16<<20),
		MaxWait:           250 * time.Millisecond,
		QueueCapacity:     max(cfg.BatchSize, 100),
		CommitInterval:    0, // synchronous commits, only after the batch is stored
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    cfg.SessionTimeout,
		HeartbeatInterval: cfg.SessionTimeout / 4,
		RebalanceTimeout:  cfg.SessionTimeout * 3,
		JoinGroupBackoff:  500 * time.Millisecond,
		ReadBackoffMin:    50 * time.Millisecond,
		ReadBackoffMax:    time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka reader", "msg", fmt.Sprintf(msg, args...))
		}),
	})
	w := &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: true,
		BatchBytes:             int64(max(4*cfg.MaxEventBytes, 16<<20)),
		BatchTimeout:           5 * time.Millisecond,
		Balancer:               &kafka.Hash{},
		MaxAttempts:            3,
	}
	return &Consumer{cfg: cfg, reader: r, dlq: w, decoder: event.NewDecoder(cfg.MaxEventBytes), proc: proc, m: m, log: log, transient: transient}
}

// Run consumes until ctx is cancelled, then finishes the batch in hand,
// commits it and closes. It returns nil on a clean stop.
func (c *Consumer) Run(ctx context.Context) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.ShutdownGrace, cancelWork) })
	defer stop()
	defer c.close()

	for failures := 0; ; {
		batch, err := c.fetchBatch(ctx)
		if len(batch) > 0 {
			if herr := c.handle(work, batch); herr != nil {
				if ctx.Err() != nil {
					c.log.Warn("stopping with a batch unfinished; it will be redelivered", "messages", len(batch))
					return nil
				}
				return fmt.Errorf("handle batch: %w", herr)
			}
		}
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, io.EOF) { // the reader was closed
			return fmt.Errorf("fetch: %w", err)
		}
		// A broker that restarts or is unreachable for a while is no reason
		// to exit: the reader rejoins the group by itself, and nothing was
		// fetched, so nothing is lost by fetching again after a pause.
		c.m.Retried.WithLabelValues("fetch").Inc()
		c.log.Warn("fetch failed; retrying", "err", err, "attempt", failures+1)
		if sleep(ctx, c.backoff(failures)) != nil {
			return nil
		}
		failures++
	}
}

func (c *Consumer) close() {
	if err := c.reader.Close(); err != nil {
		c.log.Warn("close kafka reader", "err", err)
	}
	if err := c.dlq.Close(); err != nil {
		c.log.Warn("close dead-letter writer", "err", err)
	}
}

// fetched is a message and its decoding: the event, or why it is bad.
type fetched struct {
	msg kafka.Message
	ev  event.Event
	err error
}

func (c *Consumer) decode(m kafka.Message) fetched {
	e, err := c.decoder.Decode(m.Value)
	return fetched{msg: m, ev: e, err: err}
}

// fetchBatch blocks for the first message, then takes more until BatchSize
// valid events or BatchWait. Bad messages do not count toward BatchSize (a
// batch holds at most twice that many messages): a batch costs mostly per
// batch (one insert, one read per kind of derived state, one commit), so
// batches thinned out by poison would cut the good events' throughput by far
// more than the poison's share. kafka-go does not drop a message when
// FetchMessage's context expires, so the short deadline loses nothing.
func (c *Consumer) fetchBatch(ctx context.Context) ([]fetched, error) {
	first, err := c.reader.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []fetched{c.decode(first)}
	valid := 0
	if batch[0].err == nil {
		valid++
	}
	wait, cancel := context.WithTimeout(ctx, c.cfg.BatchWait)
	defer cancel()
	for valid < c.cfg.BatchSize && len(batch) < 2*c.cfg.BatchSize {
		m, err := c.reader.FetchMessage(wait)
		if err != nil {
			if ctx.Err() != nil {
				return batch, ctx.Err()
			}
			break // batch window over
		}
		f := c.decode(m)
		if f.err == nil {
			valid++
		}
		batch = append(batch, f)
	}
	return batch, nil
}

type rejected struct {
	msg    kafka.Message
	reason string
}

// handle processes, dead-letters and commits one decoded batch. It returns an
// error only when work was abandoned at shutdown (nothing committed).
func (c *Consumer) handle(ctx context.Context, batch []fetched) error {
	start := time.Now()
	good := make([]event.Received, 0, len(batch))
	msgs := make([]kafka.Message, len(batch))
	var bad []rejected
	for i, f := range batch {
		msgs[i] = f.msg
		if f.err != nil {
			bad = append(bad, rejected{msg: f.msg, reason: f.err.Error()})
			continue
		}
		good = append(good, event.Received{Event: f.ev, Topic: f.msg.Topic, Partition: f.msg.Partition, Offset: f.msg.Offset, ReceivedAt: start})
	}
	if len(good) > 0 {
		poison, err := c.process(ctx, good)
		if err != nil {
			return err
		}
		bad = append(bad, poison...)
	}
	if len(bad) > 0 {
		if err := c.retry(ctx, "dead_letter", func(ctx context.Context) error { return c.deadLetter(ctx, bad) }); err != nil {
			return err
		}
	}
	if err := c.retry(ctx, "commit", func(ctx context.Context) error { return c.reader.CommitMessages(ctx, msgs...) }); err != nil {
		return err
	}
	for _, m := range msgs {
		c.m.Consumed.WithLabelValues(m.Topic).Inc()
		c.m.Lag.WithLabelValues(m.Topic, strconv.Itoa(m.Partition)).Set(float64(max(m.HighWaterMark-m.Offset-1, 0)))
	}
	c.m.BatchSize.Observe(float64(len(msgs)))
	c.m.BatchSeconds.Observe(time.Since(start).Seconds())
	c.log.Debug("batch committed", "messages", len(msgs), "rejected", len(bad),
		"first_offset", msgs[0].Offset, "last_offset", msgs[len(msgs)-1].Offset)
	return nil
}

// process stores the valid events. Transient failures are retried forever
// (capped backoff); a batch that keeps failing otherwise is split so that one
// poison event cannot block its partition: events that fail alone are returned
// to be dead-lettered.
func (c *Consumer) process(ctx context.Context, good []event.Received) ([]rejected, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		n, err := c.proc.Process(ctx, good)
		if err == nil {
			c.m.Stored.Add(float64(n))
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
		if c.isTransient(err) {
			attempt = 0
		} else if attempt+1 >= c.cfg.PoisonAttempts {
			break
		}
		c.m.Retried.WithLabelValues("store").Inc()
		c.log.Warn("store batch failed; retrying", "err", err, "events", len(good), "first_offset", good[0].Offset)
		if err := sleep(ctx, c.backoff(attempt)); err != nil {
			return nil, err
		}
	}
	c.log.Error("batch keeps failing; retrying its events one by one", "err", lastErr, "events", len(good))
	var poison []rejected
	for _, r := range good {
		one := []event.Received{r}
		err := c.retry(ctx, "store_one", func(ctx context.Context) error {
			n, err := c.proc.Process(ctx, one)
			if err != nil && !c.isTransient(err) {
				return permanent{err}
			}
			c.m.Stored.Add(float64(n))
			return err
		})
		var p permanent
		switch {
		case errors.As(err, &p):
			poison = append(poison, rejected{msg: kafka.Message{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: []byte(r.Event.PartitionKey()), Value: r.Event.Raw},
				reason: "processing_failed: " + p.err.Error()})
		case err != nil:
			return nil, err
		}
	}
	return poison, nil
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }

func (c *Consumer) isTransient(err error) bool {
	return c.transient == nil || c.transient(err)
}

// retry runs fn until it succeeds, ctx ends, or fn returns a permanent error.
func (c *Consumer) retry(ctx context.Context, step string, fn func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		var p permanent
		if err == nil || errors.As(err, &p) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.m.Retried.WithLabelValues(step).Inc()
		c.log.Warn("step failed; retrying", "step", step, "err", err, "attempt", attempt+1)
		if err := sleep(ctx, c.backoff(attempt)); err != nil {
			return err
		}
	}
}

func (c *Consumer) backoff(attempt int) time.Duration {
	d := c.cfg.RetryMinWait
	for i := 0; i < attempt && d < c.cfg.RetryMaxWait; i++ {
		d *= 2
	}
	return min(d, c.cfg.RetryMaxWait)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deadLetter publishes rejected messages to <topic><suffix> with the reason,
// original bytes and key, and where they came from.
func (c *Consumer) deadLetter(ctx context.Context, bad []rejected) error {
	msgs := make([]kafka.Message, 0, len(bad))
	for _, b := range bad {
		msgs = append(msgs, kafka.Message{
			Topic: b.msg.Topic + c.cfg.DLQSuffix,
			Key:   b.msg.Key,
			Value: b.msg.Value,
			Headers: []kafka.Header{
				{Key: "x-error", Value: []byte(b.reason)},
				{Key: "x-source-topic", Value: []byte(b.msg.Topic)},
				{Key: "x-source-partition", Value: []byte(strconv.Itoa(b.msg.Partition))},
				{Key: "x-source-offset", Value: []byte(strconv.FormatInt(b.msg.Offset, 10))},
			},
		})
	}
	if err := c.dlq.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d dead letters: %w", len(msgs), err)
	}
	for _, b := range bad {
		c.m.Rejected.WithLabelValues(b.msg.Topic, reasonCode(b.reason)).Inc()
		c.log.Info("event dead-lettered", "topic", b.msg.Topic, "partition", b.msg.Partition, "offset", b.msg.Offset, "reason", reasonCode(b.reason))
	}
	return nil
}

// reasonCode is the reason's leading code ("invalid_data: /amount ..." -> "invalid_data"),
// bounded for metric labels.
func reasonCode(reason string) string {
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
