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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/tracing"
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
	// Bindings says what each topic accepts (by topic name); a topic without
	// a binding accepts any type and source.
	Bindings map[string]Binding
	// Tracer, when set, traces each message from the context it carries to
	// its stored effects (trace.go); nil traces nothing.
	Tracer trace.TracerProvider
}

// Binding is what one topic accepts: types with its prefix only ("hr." on
// hr.events), and, when Sources is not empty, only events from those sources.
// Anything else is a bad event (wrong_topic, source_not_allowed), whatever its
// content: the topic is the trust boundary the broker's ACLs enforce.
type Binding struct {
	TypePrefix string
	Sources    []string
}

// check returns why e may not arrive on this topic, or nil.
func (b Binding) check(e event.Event) error {
	if b.TypePrefix != "" && !strings.HasPrefix(e.Type, b.TypePrefix) {
		return &event.DecodeError{Reason: event.ReasonWrongTopic, Detail: "/type: this topic carries only " + b.TypePrefix + "* types"}
	}
	if len(b.Sources) > 0 && !slices.Contains(b.Sources, e.Source) {
		return &event.DecodeError{Reason: event.ReasonSourceNotAllowed, Detail: "/source: not a source this topic accepts"}
	}
	return nil
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
	// ahead holds the batch fetched and decoded while the one before it is
	// stored (made by Run).
	ahead chan []fetched
	// tracer is nil when tracing is off.
	tracer trace.Tracer
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
	c := &Consumer{cfg: cfg, reader: r, dlq: w, decoder: event.NewDecoder(cfg.MaxEventBytes), proc: proc, m: m, log: log, transient: transient}
	if cfg.Tracer != nil {
		c.tracer = cfg.Tracer.Tracer(tracing.Name)
	}
	return c
}

// newBackOff is the retry policy of every step: exponential from
// RetryMinWait, doubling, with ±50% jitter (replicas that failed together do
// not retry together), capped at RetryMaxWait, never giving up (the partition
// waits; a valid event is never dropped for being unlucky).
func (c *Consumer) newBackOff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     c.cfg.RetryMinWait,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.cfg.RetryMaxWait,
	}
}

// Run consumes until ctx is cancelled, then finishes the batch in hand,
// commits it and closes. It returns nil on a clean stop.
//
// Fetching and decoding run one batch ahead of storing: while batch n is
// written to the database, batch n+1 is fetched and validated. Batches are
// still handled and committed one at a time, in fetch order, so per-partition
// order and the commit rule (commit only what is durable) are unchanged.
func (c *Consumer) Run(ctx context.Context) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.ShutdownGrace, cancelWork) })
	defer stop()
	defer c.close()

	fetchCtx, stopFetch := context.WithCancel(ctx)
	batches := make(chan []fetched, 1)
	c.ahead = batches
	fetchErr := make(chan error, 1)
	fetcherDone := make(chan struct{})
	go func() {
		defer close(fetcherDone)
		defer close(batches)
		fetchErr <- c.fetchLoop(fetchCtx, batches)
	}()
	defer func() { stopFetch(); <-fetcherDone }()

	for batch := range batches {
		if err := c.handle(work, batch); err != nil {
			if ctx.Err() != nil {
				c.log.Warn("stopping with a batch unfinished; it will be redelivered", "messages", len(batch))
				return nil
			}
			return fmt.Errorf("handle batch: %w", err)
		}
		if ctx.Err() != nil {
			// A batch fetched ahead is not committed: it is redelivered.
			return nil
		}
	}
	return <-fetchErr
}

// fetchLoop fetches and decodes batches until ctx ends or the reader is
// closed, sending each to out. Fetch failures are retried with backoff.
func (c *Consumer) fetchLoop(ctx context.Context, out chan<- []fetched) error {
	b := c.newBackOff()
	for attempt := 1; ; {
		batch, err := c.fetchBatch(ctx)
		if len(batch) > 0 {
			select {
			case out <- batch:
			case <-ctx.Done():
				return nil
			}
		}
		if err == nil {
			b.Reset()
			attempt = 1
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
		c.log.Warn("fetch failed; retrying", "err", err, "attempt", attempt)
		if sleep(ctx, b.NextBackOff()) != nil {
			return nil
		}
		attempt++
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
	msg        kafka.Message
	ev         event.Event
	err        error
	receivedAt time.Time
	// span is the message's consumer span and traceParent its W3C form
	// (tracing only).
	span        trace.Span
	traceParent string
}

func (c *Consumer) decode(m kafka.Message) fetched {
	now := time.Now()
	hs := make([]event.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = event.Header{Key: h.Key, Value: h.Value}
	}
	e, err := c.decoder.DecodeMessage(m.Value, hs, now)
	if err == nil {
		err = c.cfg.Bindings[m.Topic].check(e)
	}
	f := fetched{msg: m, ev: e, err: err, receivedAt: now}
	if c.tracer != nil {
		c.startMessage(m, &f)
	}
	return f
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
func (c *Consumer) handle(ctx context.Context, batch []fetched) (err error) {
	start := time.Now()
	var bad []rejected
	if c.tracer != nil {
		var span trace.Span
		ctx, span = c.startBatch(ctx, batch)
		defer func() {
			endMessages(batch, bad, err)
			tracing.End(span, err)
		}()
	}
	good := make([]fetched, 0, len(batch))
	msgs := make([]kafka.Message, len(batch))
	for i, f := range batch {
		msgs[i] = f.msg
		if f.err != nil {
			bad = append(bad, rejected{msg: f.msg, reason: f.err.Error()})
			continue
		}
		good = append(good, f)
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

func received(fs []fetched) []event.Received {
	out := make([]event.Received, len(fs))
	for i, f := range fs {
		out[i] = event.Received{Event: f.ev, Topic: f.msg.Topic, Partition: f.msg.Partition, Offset: f.msg.Offset, ReceivedAt: f.receivedAt,
			TraceParent: f.traceParent}
	}
	return out
}

// process stores the valid events. Transient failures (the database away or
// busy, a compare-and-set lost to another writer) are retried forever with
// growing backoff; a batch that keeps failing otherwise is split so that one
// poison event cannot block its partition: events that fail alone with a
// non-transient error are returned to be dead-lettered.
func (c *Consumer) process(ctx context.Context, good []fetched) ([]rejected, error) {
	batch := received(good)
	failures := 0
	err := c.retry(ctx, "store", func(ctx context.Context) error {
		n, err := c.proc.Process(ctx, batch)
		if err == nil {
			c.m.Stored.Add(float64(n))
			return nil
		}
		if !c.isTransient(err) {
			if failures++; failures >= c.cfg.PoisonAttempts {
				return permanent{err}
			}
		}
		return err
	})
	var p permanent
	switch {
	case err == nil:
		return nil, nil
	case !errors.As(err, &p):
		return nil, err
	}
	c.log.Error("batch keeps failing; retrying its events one by one", "err", p.err, "events", len(good))
	var poison []rejected
	for i, f := range good {
		one := batch[i : i+1]
		err := c.retry(ctx, "store_one", func(ctx context.Context) error {
			n, err := c.proc.Process(ctx, one)
			if err != nil && !c.isTransient(err) {
				return permanent{err}
			}
			c.m.Stored.Add(float64(n))
			return err
		})
		switch {
		case errors.As(err, &p):
			poison = append(poison, rejected{msg: f.msg, reason: "processing_failed: " + p.err.Error()})
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

// retry runs fn until it succeeds, ctx ends, or fn returns a permanent error
// (returned as is), waiting newBackOff's growing intervals in between.
func (c *Consumer) retry(ctx context.Context, step string, fn func(context.Context) error) error {
	attempt := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := fn(ctx)
		var p permanent
		if errors.As(err, &p) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(c.newBackOff()),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.m.Retried.WithLabelValues(step).Inc()
			c.log.Warn("step failed; retrying", "step", step, "err", err, "attempt", attempt, "wait", wait)
		}))
	return err
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
