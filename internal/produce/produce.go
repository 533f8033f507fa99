// Package produce publishes contract events to Kafka: the logic of
// `moonlight produce --brokers HOST:PORT --file FILE.jsonl`, and the loader the
// demo uses for the sample data set. Every event goes to the topic of its type
// prefix, keyed as the contract says, so one employee's events keep their
// order within a partition.
package produce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/sample"
)

// Topics names the topic of each event family.
type Topics = ingest.Topics

// DefaultTopics are the contract's default topic names.
func DefaultTopics() Topics {
	return Topics{HR: sample.TopicHR, Expense: sample.TopicExpense, Intel: sample.TopicIntel}
}

// contentType is the CloudEvents Kafka binding's header for structured mode.
const contentType = "application/cloudevents+json; charset=UTF-8"

// batchSize is how many messages one WriteMessages call carries.
const batchSize = 1000

// NewWriter is ingest.NewWriter: every producer of contract events partitions alike.
func NewWriter(brokers []string) *kafka.Writer { return ingest.NewWriter(brokers) }

// Message turns one encoded event into the Kafka message the contract asks
// for. It decodes value fully, so a bad event never reaches a topic; the error
// is a *event.DecodeError for bad input.
func Message(dec *event.Decoder, topics Topics, value []byte) (kafka.Message, error) {
	ev, err := dec.Decode(value)
	if err != nil {
		return kafka.Message{}, err
	}
	topic, ok := topics.For(ev.Type)
	if !ok {
		return kafka.Message{}, fmt.Errorf("no topic for type %q", ev.Type)
	}
	return kafka.Message{
		Topic:   topic,
		Key:     []byte(ev.PartitionKey()),
		Value:   value,
		Headers: []kafka.Header{{Key: "content-type", Value: []byte(contentType)}},
	}, nil
}

// Publish writes the sample set, sending each message to the topic of topics
// that stands for its default topic.
func Publish(ctx context.Context, w *kafka.Writer, topics Topics, msgs []sample.Message) error {
	rename := map[string]string{sample.TopicHR: topics.HR, sample.TopicExpense: topics.Expense, sample.TopicIntel: topics.Intel}
	batch := make([]kafka.Message, 0, batchSize)
	for i, m := range msgs {
		topic, ok := rename[m.Topic]
		if !ok || topic == "" {
			return fmt.Errorf("publish sample message %d: no topic for %q", i, m.Topic)
		}
		batch = append(batch, kafka.Message{
			Topic:   topic,
			Key:     []byte(m.Key),
			Value:   m.Value,
			Headers: []kafka.Header{{Key: "content-type", Value: []byte(contentType)}},
		})
		if len(batch) == batchSize || i == len(msgs)-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				return fmt.Errorf("publish sample messages %d-%d: %w", i+1-len(batch), i, err)
			}
			batch = batch[:0]
		}
	}
	return nil
}

// Config is what `moonlight produce` needs.
type Config struct {
	Brokers []string
	File    string // "-" reads standard input
	Topics  Topics
	Out     io.Writer // progress bar; nil for none
}

// LineError is a rejected input line. Err never quotes the line's content.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Result is what Run did.
type Result struct {
	Produced int
	Rejected []LineError
}

// Run publishes the events of cfg.File, one JSON event per line; blank lines
// are skipped. A line that is not a valid event of the contract is rejected
// and reported with its number; the rest are produced. An error means the
// run stopped early: Result counts what was produced until then.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if len(cfg.Brokers) == 0 {
		return Result{}, errors.New("produce: no brokers")
	}
	if err := cfg.Topics.Validate(); err != nil {
		return Result{}, fmt.Errorf("produce: %w", err)
	}
	in, size, err := open(cfg.File)
	if err != nil {
		return Result{}, fmt.Errorf("produce: %w", err)
	}
	defer in.Close()

	w := NewWriter(cfg.Brokers)
	res, err := run(ctx, w, cfg, in, size)
	if cerr := w.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("produce: close writer: %w", cerr)
	}
	return res, err
}

// open opens name, or standard input for "-", and returns its size (-1 when unknown).
func open(name string) (io.ReadCloser, int64, error) {
	if name == "" {
		return nil, 0, errors.New("no input file")
	}
	if name == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return f, -1, nil
	}
	return f, st.Size(), nil
}

func run(ctx context.Context, w *kafka.Writer, cfg Config, in io.Reader, size int64) (Result, error) {
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetDescription("producing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		// No background redraws: the spinner of an unknown size would draw
		// from a goroutine that outlives the run.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
	)

	var (
		res   Result
		dec   = event.NewDecoder(event.MaxEventBytes)
		batch = make([]kafka.Message, 0, batchSize)
		lines = make([]int, 0, batchSize) // line number of each message in batch
	)
	flush := func() error {
		for len(batch) > 0 {
			err := w.WriteMessages(ctx, batch...)
			var tooLarge kafka.MessageTooLargeError
			if errors.As(err, &tooLarge) {
				// Over the writer's batch limit with its key and headers: reject
				// that line and write the rest.
				i := indexOf(batch, tooLarge.Message)
				if i < 0 {
					return fmt.Errorf("produce lines %d-%d: %w", lines[0], lines[len(lines)-1], err)
				}
				res.Rejected = append(res.Rejected, LineError{Line: lines[i], Err: errors.New("too large for one Kafka message")})
				batch, lines = append(batch[:i], batch[i+1:]...), append(lines[:i], lines[i+1:]...)
				continue
			}
			if err != nil {
				return fmt.Errorf("produce lines %d-%d: %w", lines[0], lines[len(lines)-1], err)
			}
			res.Produced += len(batch)
			batch, lines = batch[:0], lines[:0]
		}
		return nil
	}

	r := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, rerr := r.ReadBytes('\n')
		_ = bar.Add64(int64(len(line)))
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return res, fmt.Errorf("produce: read line %d: %w", n, rerr)
		}
		value := bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(value)) > 0 {
			msg, err := Message(dec, cfg.Topics, value)
			if err != nil {
				res.Rejected = append(res.Rejected, LineError{Line: n, Err: err})
			} else {
				batch, lines = append(batch, msg), append(lines, n)
			}
		}
		if len(batch) == batchSize || (rerr != nil && len(batch) > 0) {
			if err := flush(); err != nil {
				return res, err
			}
		}
		if rerr != nil { // io.EOF
			break
		}
	}
	_ = bar.Finish()
	return res, nil
}

// indexOf finds m in batch by identity of its value, -1 if it is not there.
func indexOf(batch []kafka.Message, m kafka.Message) int {
	for i := range batch {
		if len(batch[i].Value) == len(m.Value) && (len(m.Value) == 0 || &batch[i].Value[0] == &m.Value[0]) {
			return i
		}
	}
	return -1
}
