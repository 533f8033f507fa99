package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/sample"
)

// maxEventBytes is the services' kafka.max_event_bytes in this suite: small,
// so too_large messages are cheap to produce.
const maxEventBytes = 16 << 10

// workload is the messages a scenario produces and what must come of them.
type workload struct {
	msgs  []kafka.Message
	valid map[event.Ref]bool // distinct valid events: each must be stored once
	// bad counts the malformed messages by the reason the decoder gives.
	bad map[string]int
	// poisonTopic is the topic of malformed message n (its marker).
	poisonTopic map[int]string
	// dups is how many valid messages repeat an earlier one (redelivered by a
	// source system): stored once.
	dups int
}

// sampleEvents returns n events of the sample data set (HR, expenses with the
// detection story in them, intelligence reports), from successive seeds.
func sampleEvents(n int, now time.Time) []sample.Message {
	var out []sample.Message
	for seed := int64(1); len(out) < n; seed++ {
		out = append(out, sample.Generate(seed, now)...)
	}
	return out[:n]
}

func (ts topicSet) of(sampleTopic string) string {
	switch sampleTopic {
	case sample.TopicHR:
		return ts.HR
	case sample.TopicExpense:
		return ts.Expense
	default:
		return ts.Intel
	}
}

// poisonKinds are the malformed messages, with the reason the consumer must
// give them. %d is the message's marker number, so every dead letter can be
// matched to what was sent.
var poisonKinds = []struct {
	reason string
	value  func(n int) []byte
}{
	{event.ReasonMalformedJSON, func(n int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"x","type":"hr.employee.hired","data":{`, n)
	}},
	{event.ReasonInvalidUTF8, func(n int) []byte {
		return append(fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"`, n), 0xff, 0xfe, '"', '}')
	}},
	{event.ReasonInvalidEnvelope, func(n int) []byte {
		return fmt.Appendf(nil, `{"id":"poison-%d","source":"x","type":"hr.employee.hired","data":{}}`, n)
	}},
	{event.ReasonUnknownType, func(n int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"hris/x","type":"hr.employee.promoted","data":{"employee_id":"E1"}}`, n)
	}},
	{event.ReasonInvalidData, func(n int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"hris/x","type":"hr.employee.hired","data":{"employee_id":"E1","department":"R&D","hire_date":"2024-01-02"}}`, n)
	}},
	{event.ReasonBadDate, func(n int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"hris/x","type":"hr.employee.hired","data":{"employee_id":"E1","name":"A","department":"R&D","hire_date":"2024-02-30"}}`, n)
	}},
	{event.ReasonBadAmount, func(n int) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"expense/x","type":"expense.claim.submitted","data":{"claim_id":"C%d","employee_id":"E1","incurred_on":"2024-01-02","amount":"12,00.5","currency":"CNY","merchant":"M"}}`, n, n)
	}},
	{event.ReasonTooLarge, func(n int) []byte {
		pad := strings.Repeat("x", maxEventBytes+1024)
		return fmt.Appendf(nil, `{"specversion":"1.0","id":"poison-%d","source":"x","type":"intel.seminar.reported","data":{"title":"%s"}}`, n, pad)
	}},
}

var markerRE = regexp.MustCompile(`poison-(\d+)`)

// poisonMessage is malformed message number n (its kind is n modulo the
// kinds), for topic with key: a broken producer spoils messages within the
// partitions good events travel in.
func poisonMessage(t *testing.T, dec *event.Decoder, topic string, key []byte, n int) (kafka.Message, string) {
	t.Helper()
	k := poisonKinds[n%len(poisonKinds)]
	v := k.value(n)
	_, err := dec.Decode(v)
	var de *event.DecodeError
	if !errors.As(err, &de) || de.Reason != k.reason {
		t.Fatalf("poison kind %s: the decoder says %v", k.reason, err)
	}
	return kafka.Message{Topic: topic, Key: key, Value: v}, k.reason
}

// buildWorkload mixes n sample events with a malformed message before every
// badEvery-th one and every dupEvery-th one sent a second time (0: none).
func buildWorkload(t *testing.T, ts topicSet, n, badEvery, dupEvery int) *workload {
	t.Helper()
	return mixWorkload(t, ts, sampleEvents(n, time.Now()), badEvery, dupEvery)
}

func mixWorkload(t *testing.T, ts topicSet, good []sample.Message, badEvery, dupEvery int) *workload {
	t.Helper()
	dec := event.NewDecoder(maxEventBytes)
	w := &workload{valid: map[event.Ref]bool{}, bad: map[string]int{}, poisonTopic: map[int]string{}}
	poison := 0
	for i, m := range good {
		if badEvery > 0 && i%badEvery == badEvery-1 {
			pm, reason := poisonMessage(t, dec, ts.of(m.Topic), []byte(m.Key), poison)
			w.poisonTopic[poison] = pm.Topic
			poison++
			w.msgs = append(w.msgs, pm)
			w.bad[reason]++
		}
		ev, err := dec.Decode(m.Value)
		if err != nil {
			t.Fatalf("sample event does not decode: %v", err)
		}
		km := kafka.Message{Topic: ts.of(m.Topic), Key: []byte(m.Key), Value: m.Value}
		w.msgs = append(w.msgs, km)
		w.valid[ev.Ref] = true
		if dupEvery > 0 && i%dupEvery == dupEvery-1 {
			w.msgs = append(w.msgs, km)
			w.dups++
		}
	}
	return w
}

func (w *workload) badTotal() int {
	n := 0
	for _, c := range w.bad {
		n += c
	}
	return n
}

// createTopics creates the input and dead-letter topics before anything is
// produced, as the service would at start.
func createTopics(ctx context.Context, t *testing.T, brokers []string, ts topicSet) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := ingest.EnsureTopics(cctx, brokers, append(ts.all(), ts.dlq()...), 3); err != nil {
		t.Fatalf("create topics: %v", err)
	}
}

func newWriter(brokers []string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    500,
		BatchBytes:   4 << 20,
		BatchTimeout: 10 * time.Millisecond,
		MaxAttempts:  3,
	}
}

// producer streams messages in chunks at a bounded rate; a failed chunk is
// written again until it succeeds (so a broker restart only delays it; a
// chunk written twice only adds redeliveries, which must be harmless).
type producer struct {
	sent    atomic.Int64
	retries atomic.Int64
}

func (p *producer) run(ctx context.Context, brokers []string, msgs []kafka.Message, perSecond int) error {
	w := newWriter(brokers)
	defer w.Close()
	const chunk = 100
	start := time.Now()
	for i := 0; i < len(msgs); i += chunk {
		part := msgs[i:min(i+chunk, len(msgs))]
		for {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := w.WriteMessages(wctx, part...)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("produce: %w (last error %v)", ctx.Err(), err)
			}
			p.retries.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		p.sent.Add(int64(len(part)))
		if perSecond > 0 {
			due := start.Add(time.Duration(float64(i+len(part)) / float64(perSecond) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
	}
	return nil
}

// groupLag is how many messages of topics the group has not committed yet.
func groupLag(ctx context.Context, brokers []string, group string, topics []string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, err
	}
	parts := map[string][]int{}
	reqs := map[string][]kafka.OffsetRequest{}
	for _, tp := range md.Topics {
		if tp.Error != nil {
			return 0, tp.Error
		}
		for _, p := range tp.Partitions {
			parts[tp.Name] = append(parts[tp.Name], p.ID)
			reqs[tp.Name] = append(reqs[tp.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: reqs})
	if err != nil {
		return 0, err
	}
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return 0, err
	}
	if of.Error != nil {
		return 0, of.Error
	}
	committed := map[string]int64{}
	for topic, ps := range of.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, p.Error
			}
			committed[fmt.Sprintf("%s/%d", topic, p.Partition)] = max(p.CommittedOffset, 0)
		}
	}
	var lag int64
	for topic, ps := range lo.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, p.Error
			}
			lag += p.LastOffset - committed[fmt.Sprintf("%s/%d", topic, p.Partition)]
		}
	}
	return lag, nil
}

// committedTotal is the sum of the group's committed offsets (it only moves
// when the consumers commit).
func committedTotal(ctx context.Context, brokers []string, group string, topics []string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	parts := map[string][]int{}
	for _, tp := range topics {
		parts[tp] = []int{0, 1, 2}
	}
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, ps := range of.Topics {
		for _, p := range ps {
			n += max(p.CommittedOffset, 0)
		}
	}
	return n, nil
}

// waitDrained waits until the group has committed everything produced
// (producedDone tells when producing has finished). It fails at once when one
// of the watched services exits.
func waitDrained(ctx context.Context, t *testing.T, brokers []string, group string, ts topicSet, producedDone func() bool, watch ...*service) time.Time {
	t.Helper()
	for {
		for _, s := range watch {
			if s.exited() {
				t.Fatalf("%s exited while draining; log %s", s.name, s.logPath)
			}
		}
		lag, err := groupLag(ctx, brokers, group, ts.all())
		if err == nil && lag == 0 && producedDone() {
			return time.Now()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s not drained: lag %d (err %v): %v", group, lag, err, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func connect(t *testing.T, uri, name string) *mongo.Database {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(2 * time.Minute))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c.Database(name)
}

// storedCheck is what the events collection holds compared with a workload.
type storedCheck struct {
	Stored     int // documents
	Lost       int // valid events not stored
	Duplicated int // (source, id) pairs stored more than once
	Unexpected int // stored events that were not sent as valid
}

func checkStored(ctx context.Context, t *testing.T, db *mongo.Database, want map[event.Ref]bool) storedCheck {
	t.Helper()
	cur, err := db.Collection("events").Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "source", Value: 1}, {Key: "id", Value: 1}}))
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	var docs []struct {
		Source string `bson:"source"`
		ID     string `bson:"id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("read events: %v", err)
	}
	seen := map[event.Ref]int{}
	for _, d := range docs {
		seen[event.Ref{Source: d.Source, ID: d.ID}]++
	}
	c := storedCheck{Stored: len(docs)}
	for r, n := range seen {
		if n > 1 {
			c.Duplicated++
		}
		if !want[r] {
			c.Unexpected++
		}
	}
	for r := range want {
		if seen[r] == 0 {
			c.Lost++
		}
	}
	return c
}

// assertExactlyOnce fails unless every valid event is stored exactly once.
func assertExactlyOnce(t *testing.T, c storedCheck, want int) {
	t.Helper()
	if c.Lost != 0 || c.Duplicated != 0 || c.Unexpected != 0 || c.Stored != want {
		t.Errorf("stored %d documents for %d distinct valid events: lost %d, duplicated %d, unexpected %d",
			c.Stored, want, c.Lost, c.Duplicated, c.Unexpected)
	}
}

func (c storedCheck) record(f *figures) {
	f.set("stored", c.Stored)
	f.set("lost", c.Lost)
	f.set("duplicated", c.Duplicated)
	f.set("unexpected", c.Unexpected)
}

// volatileFields legitimately differ between two runs over the same events:
// write times, optimistic-locking versions, and where an event was read.
var volatileFields = map[string]bool{
	"version": true, "opened_at": true, "updated_at": true, "at": true, "received_at": true,
	"topic": true, "partition": true, "offset": true,
}

// normalise turns a document into a comparable value: volatile fields
// dropped, arrays sorted (the order of facts and signals follows arrival).
func normalise(v any) any {
	switch x := v.(type) {
	case bson.D:
		m := map[string]any{}
		for _, e := range x {
			if !volatileFields[e.Key] {
				m[e.Key] = normalise(e.Value)
			}
		}
		return m
	case bson.M:
		m := map[string]any{}
		for k, e := range x {
			if !volatileFields[k] {
				m[k] = normalise(e)
			}
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		keys := make([]string, len(x))
		for i, e := range x {
			out[i] = normalise(e)
			b, _ := json.Marshal(out[i])
			keys[i] = string(b)
		}
		sort.Sort(byKey{out, keys})
		return out
	default:
		return x
	}
}

type byKey struct {
	v    []any
	keys []string
}

func (b byKey) Len() int           { return len(b.v) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.v[i], b.v[j] = b.v[j], b.v[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// snapshot reads a collection as normalised JSON documents keyed by key(doc).
// Documents for which skip says true are left out (skip may be nil).
func snapshot(ctx context.Context, t *testing.T, db *mongo.Database, coll string, key func(map[string]any) string, skip func(map[string]any) bool, drop ...string) map[string]string {
	t.Helper()
	cur, err := db.Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		t.Fatalf("read %s: %v", coll, err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("read %s: %v", coll, err)
	}
	out := map[string]string{}
	for _, d := range docs {
		m := normalise(d).(map[string]any)
		if skip != nil && skip(m) {
			continue
		}
		k := key(m)
		for _, f := range drop {
			delete(m, f)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%s: %v", coll, err)
		}
		if _, dup := out[k]; dup {
			t.Errorf("%s: two documents with key %s", coll, k)
		}
		out[k] = string(b)
	}
	return out
}

// diffSnapshots describes up to a few differences between two snapshots.
func diffSnapshots(name string, got, want map[string]string) []string {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s missing; clean run has %s", name, k, clip(w)))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s %s differs:\n  got  %s\n  want %s", name, k, clip(g), clip(w)))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s extra: %s", name, k, clip(g)))
		}
	}
	sort.Strings(diffs)
	return diffs
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// readTopic reads every message of topic (all partitions, from the start up
// to the current end).
func readTopic(ctx context.Context, t *testing.T, brokers []string, topic string) []kafka.Message {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata of %s: %v %+v", topic, err, md)
	}
	var out []kafka.Message
	for _, p := range md.Topics[0].Partitions {
		lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(p.ID)}}})
		if err != nil {
			t.Fatalf("offsets of %s/%d: %v", topic, p.ID, err)
		}
		end := lo.Topics[topic][0].LastOffset
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond})
		for {
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			m, err := r.ReadMessage(rctx)
			cancel()
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset >= end-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
