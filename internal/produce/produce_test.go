package produce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/sample"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func TestTopicsFor(t *testing.T) {
	topics := Topics{HR: "h", Expense: "e", Intel: "i"}
	tests := []struct {
		give   string
		want   string
		wantOK bool
	}{
		{give: "hr.employee.hired", want: "h", wantOK: true},
		{give: "expense.card.transaction", want: "e", wantOK: true},
		{give: "intel.seminar.reported", want: "i", wantOK: true},
		{give: "hrx.employee.hired"},
		{give: "payroll.run"},
		{give: ""},
	}
	for _, tt := range tests {
		got, ok := topics.For(tt.give)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("For(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.wantOK)
		}
	}
}

const (
	hired = `{"specversion":"1.0","id":"h1","source":"hris/test","type":"hr.employee.hired","time":"2024-03-01T09:00:00+08:00","subject":"E1","data":{"employee_id":"E1","name":"张伟","department":"EV Powertrain","hire_date":"2024-03-01"}}`
	moved = `{"specversion":"1.0","id":"h2","source":"hris/test","type":"hr.employee.updated","data":{"employee_id":"E1","effective_date":"2024-06-01","title":"Senior Engineer"}}`
	claim = `{"specversion":"1.0","id":"c1","source":"expense/test","type":"expense.claim.submitted","data":{"claim_id":"C1","employee_id":"E1","incurred_on":"2024-05-02","amount":"3000.00","currency":"CNY","merchant":"中信证券股份有限公司"}}`
	card  = `{"specversion":"1.0","id":"t1","source":"card/test","type":"expense.card.transaction","data":{"transaction_id":"T1","employee_id":"E2","occurred_at":"2024-05-02T20:15:00+08:00","amount":38.5,"currency":"CNY","merchant":"滴滴出行"}}`
	intel = `{"specversion":"1.0","id":"s1","source":"intel/test","type":"intel.seminar.reported","data":{"seminar_id":"SEM-1","organizer":"中信证券","title":"新能源汽车产业链研讨会","date":"2024-05-02"}}`
)

func TestMessage(t *testing.T) {
	dec := event.NewDecoder(0)
	topics := Topics{HR: "h", Expense: "e", Intel: "i"}
	tests := []struct {
		give       string
		wantTopic  string
		wantKey    string
		wantReason string
	}{
		{give: hired, wantTopic: "h", wantKey: "E1"},
		{give: claim, wantTopic: "e", wantKey: "E1"},
		{give: card, wantTopic: "e", wantKey: "E2"},
		{give: intel, wantTopic: "i", wantKey: "SEM-1"},
		{give: `{"specversion":"1.0"`, wantReason: event.ReasonMalformedJSON},
		{give: `["not", "an", "object"]`, wantReason: event.ReasonInvalidEnvelope},
		{give: strings.Replace(hired, "hr.employee.hired", "hr.employee.promoted", 1), wantReason: event.ReasonUnknownType},
		{give: strings.Replace(claim, `"employee_id":"E1",`, "", 1), wantReason: event.ReasonInvalidData},
		{give: strings.Replace(intel, `"seminar_id":"SEM-1",`, "", 1), wantReason: event.ReasonInvalidData},
	}
	for _, tt := range tests {
		m, err := Message(dec, topics, []byte(tt.give))
		var de *event.DecodeError
		switch {
		case tt.wantReason != "":
			if !errors.As(err, &de) || de.Reason != tt.wantReason {
				t.Errorf("Message(%.60s) error %v, want reason %s", tt.give, err, tt.wantReason)
			}
		case err != nil:
			t.Errorf("Message(%.60s): %v", tt.give, err)
		case m.Topic != tt.wantTopic || string(m.Key) != tt.wantKey || string(m.Value) != tt.give:
			t.Errorf("Message(%.60s) = topic %q key %q value %.40s; want %q %q and the line itself",
				tt.give, m.Topic, m.Key, m.Value, tt.wantTopic, tt.wantKey)
		}
	}
}

func TestRunProducesAndRejectsByLine(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topics := newTopics(t, brokers)

	// A valid event too large for one Kafka message once key and headers are
	// added, yet within the decoder's limit (in an unknown field: the
	// contract's free text is bounded, unknown fields are only ignored).
	big := strings.Replace(claim, `"merchant"`, `"notes":"`+strings.Repeat("x", event.MaxEventBytes-len(claim)-20)+`","merchant"`, 1)
	lines := []string{
		hired,                   // 1
		"",                      // 2 blank: skipped
		`{"specversion":"1.0",`, // 3 malformed
		claim + "\r",            // 4 CRLF line ending
		strings.Replace(hired, "hr.employee.hired", "hr.employee.promoted", 1), // 5 unknown type
		`[1,2,3]`, // 6 not an object
		strings.Replace(card, `"employee_id":"E2",`, "", 1), // 7 no key field
		moved, // 8
		big,   // 9 too large for the writer
		intel, // 10
		card,  // 11, no final newline
	}
	file := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Config{Brokers: brokers, File: file, Topics: topics, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Produced != 5 {
		t.Errorf("produced %d, want 5", res.Produced)
	}
	rejected := map[int]string{}
	for _, r := range res.Rejected {
		rejected[r.Line] = r.Err.Error()
	}
	wantRejected := map[int]string{
		3: event.ReasonMalformedJSON, 5: event.ReasonUnknownType, 6: event.ReasonInvalidEnvelope,
		7: event.ReasonInvalidData, 9: "too large for one Kafka message",
	}
	if len(rejected) != len(wantRejected) || len(res.Rejected) != len(wantRejected) {
		t.Errorf("rejected %v, want lines %v", res.Rejected, wantRejected)
	}
	for line, reason := range wantRejected {
		if !strings.HasPrefix(rejected[line], reason) {
			t.Errorf("line %d rejected with %q, want %q", line, rejected[line], reason)
		}
	}
	if !strings.Contains(out.String(), "producing") {
		t.Errorf("no progress bar in output %q", out.String())
	}

	hr := readTopic(t, brokers[0], topics.HR)
	if want := []kv{{"E1", hired}, {"E1", moved}}; !reflect.DeepEqual(keysValues(hr), want) {
		t.Errorf("hr topic = %v, want %v", keysValues(hr), want)
	}
	if hr[0].Partition != hr[1].Partition {
		t.Errorf("E1's events in partitions %d and %d, want one", hr[0].Partition, hr[1].Partition)
	}
	if got, want := keysValues(readTopic(t, brokers[0], topics.Expense)), []kv{{"E1", claim}, {"E2", card}}; !sameSet(got, want) {
		t.Errorf("expense topic = %v, want %v", got, want)
	}
	intelMsgs := readTopic(t, brokers[0], topics.Intel)
	if got, want := keysValues(intelMsgs), []kv{{"SEM-1", intel}}; !reflect.DeepEqual(got, want) {
		t.Errorf("intel topic = %v, want %v", got, want)
	}
	if h := intelMsgs[0].Headers; len(h) != 1 || h[0].Key != "content-type" || string(h[0].Value) != contentType {
		t.Errorf("headers %v, want the CloudEvents content type", h)
	}
}

func TestRunNeedsFileAndBrokers(t *testing.T) {
	tests := []struct {
		give Config
		want string
	}{
		{give: Config{File: "x", Topics: DefaultTopics()}, want: "no brokers"},
		{give: Config{Brokers: []string{"127.0.0.1:1"}, File: "x", Topics: Topics{HR: "h"}}, want: "must all be named"},
		{give: Config{Brokers: []string{"127.0.0.1:1"}, Topics: DefaultTopics()}, want: "no input file"},
		{give: Config{Brokers: []string{"127.0.0.1:1"}, File: filepath.Join(t.TempDir(), "missing"), Topics: DefaultTopics()}, want: "no such file"},
	}
	for _, tt := range tests {
		if _, err := Run(context.Background(), tt.give); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%+v) error %v, want %q", tt.give, err, tt.want)
		}
	}
}

func TestPublishSample(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topics := newTopics(t, brokers)
	msgs := sample.Generate(1, time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC))
	want := map[string]int{}
	for _, m := range msgs {
		want[m.Topic]++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := NewWriter(brokers)
	if err := Publish(ctx, w, topics, msgs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for def, topic := range map[string]string{sample.TopicHR: topics.HR, sample.TopicExpense: topics.Expense, sample.TopicIntel: topics.Intel} {
		got := readTopic(t, brokers[0], topic)
		if len(got) != want[def] {
			t.Errorf("%s: %d messages, want %d", def, len(got), want[def])
		}
		partition := map[string]int{}
		for _, m := range got {
			if p, ok := partition[string(m.Key)]; ok && p != m.Partition {
				t.Fatalf("%s: key %s in partitions %d and %d", def, m.Key, p, m.Partition)
			}
			partition[string(m.Key)] = m.Partition
		}
	}
}

// The README's example file must stay a valid input.
func TestExampleFileIsValid(t *testing.T) {
	f, err := os.Open("../../testdata/sample/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, event.MaxEventBytes)
	n := 0
	for s.Scan() {
		n++
		if _, err := Message(event.NewDecoder(0), DefaultTopics(), s.Bytes()); err != nil {
			t.Errorf("line %d: %v", n, err)
		}
	}
	if n == 0 || s.Err() != nil {
		t.Errorf("read %d lines: %v", n, s.Err())
	}
}

// readTopic returns every message of every partition of topic, ordered by
// partition and offset.
func readTopic(t *testing.T, broker, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range parts {
		leader, err := kafka.DialLeader(ctx, "tcp", broker, topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := leader.ReadLastOffset()
		leader.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p.ID, MaxBytes: 16 << 20,
			MaxWait: 100 * time.Millisecond}) // Close waits for the fetch in flight
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset == last-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

type kv struct{ Key, Value string }

func keysValues(msgs []kafka.Message) []kv {
	out := make([]kv, len(msgs))
	for i, m := range msgs {
		out[i].Key, out[i].Value = string(m.Key), string(m.Value)
	}
	return out
}

// sameSet compares regardless of order: messages of different keys may sit in
// different partitions.
func sameSet[T comparable](a, b []T) bool {
	count := map[T]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// newTopics creates unique topics: a real broker may not have a just
// auto-created topic ready for the first write.
func newTopics(t *testing.T, brokers []string) Topics {
	t.Helper()
	topics := Topics{HR: testenv.UniqueName("hr"), Expense: testenv.UniqueName("expense"), Intel: testenv.UniqueName("intel")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ingest.EnsureTopics(ctx, brokers, []string{topics.HR, topics.Expense, topics.Intel}, 3); err != nil {
		t.Fatal(err)
	}
	return topics
}
