package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// DeadLetter is one message of a dead-letter topic: where it is, the
// original message (key, value and headers as the producer sent them) and
// why and from where it was rejected.
type DeadLetter struct {
	Topic     string // the dead-letter topic
	Partition int
	Offset    int64
	Time      time.Time

	Key     []byte
	Value   []byte
	Headers []kafka.Header // the original headers, without the x-* ones added here

	Reason          string // the x-error header
	SourceTopic     string
	SourcePartition int
	SourceOffset    int64
}

// ID names a dead letter for the CLI: <topic>/<partition>/<offset>.
func (d DeadLetter) ID() string {
	return d.Topic + "/" + strconv.Itoa(d.Partition) + "/" + strconv.FormatInt(d.Offset, 10)
}

// Code is the reason's leading code (invalid_data, wrong_topic, ...).
func (d DeadLetter) Code() string { return ReasonCode(d.Reason) }

// ParseDeadLetterID splits an ID into topic, partition and offset (the topic
// may contain slashes; the last two fields are numbers).
func ParseDeadLetterID(id string) (string, int, int64, error) {
	i := strings.LastIndexByte(id, '/')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(id[:i], '/')
	}
	if j <= 0 {
		return "", 0, 0, fmt.Errorf("dead letter %q: want <topic>/<partition>/<offset>", id)
	}
	p, err1 := strconv.Atoi(id[j+1 : i])
	o, err2 := strconv.ParseInt(id[i+1:], 10, 64)
	if err1 != nil || err2 != nil || p < 0 || o < 0 {
		return "", 0, 0, fmt.Errorf("dead letter %q: want <topic>/<partition>/<offset>", id)
	}
	return id[:j], p, o, nil
}

// DLQ reads the dead-letter topics and replays their messages. It reads
// partitions directly (no consumer group), so looking commits nothing and
// moves nobody's offsets.
type DLQ struct {
	brokers []string
	client  *kafka.Client
	topics  []string      // dead-letter topics
	writer  *kafka.Writer // made by the first Replay
}

// NewDLQ returns a reader of the dead-letter topics of the input topics.
func NewDLQ(brokers []string, inputTopics []string, suffix string) *DLQ {
	d := &DLQ{brokers: brokers, client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}}
	for _, t := range inputTopics {
		d.topics = append(d.topics, t+suffix)
	}
	return d
}

// Close closes the replay writer, if Replay made one.
func (d *DLQ) Close() error {
	if d.writer == nil {
		return nil
	}
	return d.writer.Close()
}

// Topics returns the dead-letter topics.
func (d *DLQ) Topics() []string { return d.topics }

// Scan calls fn with every dead letter, topic by topic, partition by
// partition, oldest first, up to each partition's end when Scan began.
func (d *DLQ) Scan(ctx context.Context, fn func(DeadLetter) error) error {
	md, err := d.client.Metadata(ctx, &kafka.MetadataRequest{Topics: d.topics})
	if err != nil {
		return fmt.Errorf("dead-letter topics: %w", err)
	}
	sort.Slice(md.Topics, func(i, j int) bool { return md.Topics[i].Name < md.Topics[j].Name })
	for _, t := range md.Topics {
		if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			continue // nothing was ever dead-lettered there
		}
		if t.Error != nil {
			return fmt.Errorf("dead-letter topic %s: %w", t.Name, t.Error)
		}
		parts := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
		sort.Ints(parts)
		for _, p := range parts {
			if err := d.scanPartition(ctx, t.Name, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *DLQ) offsets(ctx context.Context, topic string, partition int) (first, end int64, err error) {
	res, err := d.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(partition), kafka.LastOffsetOf(partition)},
	}})
	if err != nil {
		return 0, 0, fmt.Errorf("offsets of %s/%d: %w", topic, partition, err)
	}
	for _, po := range res.Topics[topic] {
		if po.Partition == partition {
			if po.Error != nil {
				return 0, 0, fmt.Errorf("offsets of %s/%d: %w", topic, partition, po.Error)
			}
			return po.FirstOffset, po.LastOffset, nil
		}
	}
	return 0, 0, fmt.Errorf("offsets of %s/%d: no answer", topic, partition)
}

// scanPartition reads topic/partition from its first offset to its end.
func (d *DLQ) scanPartition(ctx context.Context, topic string, partition int, fn func(DeadLetter) error) error {
	first, end, err := d.offsets(ctx, topic, partition)
	if err != nil {
		return err
	}
	for off := first; off < end; {
		letters, err := d.fetch(ctx, topic, partition, off)
		if err != nil {
			return err
		}
		if len(letters) == 0 {
			return nil
		}
		for _, l := range letters {
			if l.Offset >= end {
				return nil
			}
			if err := fn(l); err != nil {
				return err
			}
			off = l.Offset + 1
		}
	}
	return nil
}

// fetch reads the records of topic/partition from offset on (one response).
func (d *DLQ) fetch(ctx context.Context, topic string, partition int, offset int64) ([]DeadLetter, error) {
	res, err := d.client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("read %s/%d at %d: %w", topic, partition, offset, err)
	}
	if res.Error != nil {
		return nil, fmt.Errorf("read %s/%d at %d: %w", topic, partition, offset, res.Error)
	}
	var out []DeadLetter
	for {
		rec, err := res.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s/%d at %d: %w", topic, partition, offset, err)
		}
		if rec.Offset < offset {
			continue // a batch may start before the offset asked for
		}
		l := DeadLetter{Topic: topic, Partition: partition, Offset: rec.Offset, Time: rec.Time}
		if rec.Key != nil {
			if l.Key, err = kafka.ReadAll(rec.Key); err != nil {
				return nil, err
			}
		}
		if rec.Value != nil {
			if l.Value, err = kafka.ReadAll(rec.Value); err != nil {
				return nil, err
			}
		}
		for _, h := range rec.Headers {
			switch h.Key {
			case HeaderError:
				l.Reason = string(h.Value)
			case HeaderSourceTopic:
				l.SourceTopic = string(h.Value)
			case HeaderSourcePartition:
				l.SourcePartition, _ = strconv.Atoi(string(h.Value))
			case HeaderSourceOffset:
				l.SourceOffset, _ = strconv.ParseInt(string(h.Value), 10, 64)
			default:
				l.Headers = append(l.Headers, kafka.Header(h))
			}
		}
		out = append(out, l)
	}
}

// Get returns the dead letter named by id (see DeadLetter.ID).
func (d *DLQ) Get(ctx context.Context, id string) (DeadLetter, error) {
	topic, partition, offset, err := ParseDeadLetterID(id)
	if err != nil {
		return DeadLetter{}, err
	}
	letters, err := d.fetch(ctx, topic, partition, offset)
	if err != nil {
		return DeadLetter{}, err
	}
	for _, l := range letters {
		if l.Offset == offset {
			return l, nil
		}
	}
	return DeadLetter{}, fmt.Errorf("dead letter %s: %w", id, ErrNoDeadLetter)
}

// ErrNoDeadLetter is returned for an id that names no dead letter.
var ErrNoDeadLetter = errors.New("no such dead letter")

// Counts returns how many dead letters each reason code has, over all the
// dead-letter topics, reading at most limit of them (0: all); more says the
// limit cut the count short.
func (d *DLQ) Counts(ctx context.Context, limit int) (counts map[string]int, more bool, err error) {
	counts = map[string]int{}
	n := 0
	err = d.Scan(ctx, func(l DeadLetter) error {
		if limit > 0 && n == limit {
			return errEnough
		}
		n++
		counts[l.Code()]++
		return nil
	})
	if errors.Is(err, errEnough) {
		return counts, true, nil
	}
	return counts, false, err
}

var errEnough = errors.New("enough")

// Replay sends letters back to their source topics with their original key,
// value and headers, and waits for the brokers' acknowledgement. Consumers
// dedupe by (source, id), so replaying an event that meanwhile got in has no
// second effect; one that is still bad is dead-lettered again. Replay is not
// for concurrent use (the CLI calls it once).
func (d *DLQ) Replay(ctx context.Context, letters []DeadLetter) error {
	msgs := make([]kafka.Message, 0, len(letters))
	for _, l := range letters {
		if l.SourceTopic == "" {
			return fmt.Errorf("dead letter %s has no %s header: cannot tell where it came from", l.ID(), HeaderSourceTopic)
		}
		msgs = append(msgs, kafka.Message{Topic: l.SourceTopic, Key: l.Key, Value: l.Value, Headers: l.Headers})
	}
	if len(msgs) == 0 {
		return nil
	}
	if d.writer == nil {
		d.writer = NewWriter(d.brokers)
	}
	if err := d.writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("replay %d dead letters: %w", len(msgs), err)
	}
	return nil
}
