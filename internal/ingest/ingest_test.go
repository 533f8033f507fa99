package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// rig is one isolated consumer set-up: its own topics, group and database.
type rig struct {
	t       *testing.T
	brokers []string
	topics  ingest.Topics
	group   string
	db      *mongostore.DB
	writer  *kafka.Writer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	p := testenv.UniqueName("t")
	r := &rig{
		t: t, brokers: brokers, group: p + "_group",
		topics: ingest.Topics{HR: p + ".hr", Expense: p + ".expense", Intel: p + ".intel"},
		db:     mongostore.Use(testenv.Database(t)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all := []string{r.topics.HR, r.topics.Expense, r.topics.Intel}
	for _, tp := range []string{r.topics.HR, r.topics.Expense, r.topics.Intel} {
		all = append(all, tp+".dlq")
	}
	if err := ingest.EnsureTopics(ctx, brokers, all, 3); err != nil {
		t.Fatal(err)
	}
	if err := r.db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r.writer = &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchBytes: 16 << 20, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000}
	t.Cleanup(func() { r.writer.Close() })
	return r
}

func (r *rig) produce(msgs ...kafka.Message) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.writer.WriteMessages(ctx, msgs...); err != nil {
		r.t.Fatalf("produce: %v", err)
	}
}

// consumer runs a consumer until stop is called; it returns its metrics.
type running struct {
	cancel  context.CancelFunc
	done    chan error
	metrics *ingest.Metrics
}

func (r *rig) start() *running { return r.startWith(nil, nil) }

// startWith starts a consumer with the topics bound to their type prefixes
// and sources, and a processor wrapped by wrap (nil: the plain pipeline).
func (r *rig) startWith(sources *ingest.Sources, wrap func(ingest.Processor) ingest.Processor) *running {
	reg := prometheus.NewRegistry()
	m := ingest.NewMetrics(reg)
	if sources == nil {
		sources = &ingest.Sources{}
	}
	var proc ingest.Processor = &ingest.Pipeline{Events: mongostore.NewEventStore(r.db), Employees: mongostore.NewEmployeeStore(r.db)}
	if wrap != nil {
		proc = wrap(proc)
	}
	c := ingest.NewConsumer(ingest.Config{
		Brokers: r.brokers, GroupID: r.group, Topics: []string{r.topics.HR, r.topics.Expense, r.topics.Intel},
		DLQSuffix: ".dlq", BatchSize: 200, BatchWait: 50 * time.Millisecond, MaxEventBytes: 1 << 20,
		RetryMinWait: 50 * time.Millisecond, RetryMaxWait: time.Second, SessionTimeout: 6 * time.Second,
		ShutdownGrace: 5 * time.Second, Bindings: ingest.TopicBindings(r.topics, *sources),
	}, proc, m, slog.New(slog.NewTextHandler(io.Discard, nil)), mongostore.Transient)
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{cancel: cancel, done: make(chan error, 1), metrics: m}
	go func() { run.done <- c.Run(ctx) }()
	return run
}

func (run *running) stop(t *testing.T) {
	t.Helper()
	run.cancel()
	select {
	case err := <-run.done:
		if err != nil {
			t.Fatalf("consumer stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("consumer did not stop within 30s")
	}
}

func (run *running) consumed(topics ingest.Topics) int {
	n := 0
	for _, tp := range []string{topics.HR, topics.Expense, topics.Intel} {
		n += int(testutil.ToFloat64(run.metrics.Consumed.WithLabelValues(tp)))
	}
	return n
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rig) msg(e event.Event) kafka.Message {
	r.t.Helper()
	raw, err := event.Encode(e)
	if err != nil {
		r.t.Fatal(err)
	}
	topic, ok := r.topics.For(e.Type)
	if !ok {
		r.t.Fatalf("no topic for %s", e.Type)
	}
	return kafka.Message{Topic: topic, Key: []byte(e.PartitionKey()), Value: raw}
}

func mustNew(t *testing.T, source, id string, data any) event.Event {
	t.Helper()
	e, err := event.New(source, id, time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func claim(t *testing.T, id, emp string) event.Event {
	return mustNew(t, "expense/concur-cn", id, &event.ExpenseClaim{
		ClaimID: "C-" + id, EmployeeID: emp, IncurredOn: civil.MustParse("2024-02-20"),
		Amount: event.Money{Amount: "3000.00", Currency: "CNY"}, Merchant: "凯盛融英信息科技(上海)股份有限公司",
		Category: "other", Description: "专家访谈咨询费",
	})
}

func (r *rig) storedIDs() map[string]bool {
	r.t.Helper()
	cur, err := r.db.DB.Collection("events").Find(context.Background(), bson.D{})
	if err != nil {
		r.t.Fatal(err)
	}
	var docs []struct {
		ID     string `bson:"_id"`
		Source string `bson:"source"`
		EvID   string `bson:"id"`
		Topic  string `bson:"topic"`
		Raw    string `bson:"raw"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		r.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, d := range docs {
		if out[d.EvID] {
			r.t.Fatalf("event %s stored twice", d.EvID)
		}
		if d.ID != (event.Ref{Source: d.Source, ID: d.EvID}).Key() || d.Topic == "" || d.Raw == "" {
			r.t.Fatalf("stored document malformed: %+v", d)
		}
		out[d.EvID] = true
	}
	return out
}

type dlqMsg struct {
	key     []byte
	value   []byte
	headers map[string]string
	raw     []kafka.Header
}

// readDLQ reads exactly n messages from the dead-letter topics.
func (r *rig) readDLQ(n int) []dlqMsg {
	r.t.Helper()
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: r.brokers, GroupID: r.group + "_dlq_reader",
		GroupTopics: []string{r.topics.HR + ".dlq", r.topics.Expense + ".dlq", r.topics.Intel + ".dlq"},
		StartOffset: kafka.FirstOffset, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []dlqMsg
	for len(out) < n {
		m, err := rd.FetchMessage(ctx)
		if err != nil {
			r.t.Fatalf("read DLQ after %d of %d: %v", len(out), n, err)
		}
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		out = append(out, dlqMsg{key: m.Key, value: m.Value, headers: h, raw: m.Headers})
	}
	// Nothing more than n: a short read must time out.
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	if m, err := rd.FetchMessage(sctx); err == nil {
		r.t.Fatalf("unexpected extra DLQ message with error %q", string(headerOf(m, "x-error")))
	}
	return out
}

func headerOf(m kafka.Message, k string) []byte {
	for _, h := range m.Headers {
		if h.Key == k {
			return h.Value
		}
	}
	return nil
}

func TestConsumeStoresValidDeadLettersBad(t *testing.T) {
	r := newRig(t)
	hired := mustNew(t, "hris/workday-cn", "h1", &event.EmployeeHired{EmployeeID: "E1", Name: "王伟", Department: "EV Powertrain", HireDate: civil.MustParse("2022-01-10")})
	c1, c2 := claim(t, "x1", "E1"), claim(t, "x2", "E2")
	seminar := mustNew(t, "intel/desk", "s1", &event.SeminarReported{SeminarID: "S1", Organizer: "中信证券", Title: "新能源车产业链研讨会", Date: civil.MustParse("2024-02-20")})
	good := []kafka.Message{r.msg(hired), r.msg(c1), r.msg(c2), r.msg(seminar)}

	valid := string(good[1].Value)
	type badCase struct {
		name   string
		topic  string
		value  []byte
		reason string
	}
	bad := []badCase{
		{"malformed json", r.topics.Expense, []byte(`{"specversion":"1.0",`), "malformed_json"},
		{"unknown type", r.topics.Expense, []byte(strings.Replace(valid, "expense.claim.submitted", "expense.claim.teleported", 1)), "unknown_type"},
		{"missing field", r.topics.Expense, []byte(strings.Replace(valid, `"merchant"`, `"merchant_name"`, 1)), "invalid_data"},
		{"bad date", r.topics.Expense, []byte(strings.Replace(valid, "2024-02-20", "2024-02-30", 1)), "bad_date"},
		{"invalid utf-8", r.topics.Expense, append([]byte(strings.Replace(valid, "专家访谈咨询费", "", 1)[:40]), 0xff, 0xfe, '"', '}'), "invalid_utf8"},
		{"2 MiB value", r.topics.HR, bytes.Repeat([]byte("x"), 2<<20), "too_large"},
	}
	var msgs []kafka.Message
	msgs = append(msgs, good...)
	msgs = append(msgs, good[1], good[3]) // exact duplicates
	for i, b := range bad {
		msgs = append(msgs, kafka.Message{Topic: b.topic, Key: []byte("bad" + strconv.Itoa(i)), Value: b.value})
	}
	r.produce(msgs...)

	run := r.start()
	waitUntil(t, "all messages consumed", 60*time.Second, func() bool { return run.consumed(r.topics) >= len(msgs) })
	run.stop(t)

	got := r.storedIDs()
	want := map[string]bool{"h1": true, "x1": true, "x2": true, "s1": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	e, err := mongostore.NewEmployeeStore(r.db).Get(context.Background(), "E1")
	if err != nil || e.Name != "王伟" || len(e.Employments) != 1 || e.Employments[0].Start != "2022-01-10" {
		t.Fatalf("projection of E1 = %+v, %v", e, err)
	}
	dlq := r.readDLQ(len(bad))
	byReason := map[string]dlqMsg{}
	for _, d := range dlq {
		code, _, _ := strings.Cut(d.headers["x-error"], ":")
		byReason[code] = d
		if d.headers["x-source-topic"] == "" || d.headers["x-source-partition"] == "" || d.headers["x-source-offset"] == "" {
			t.Errorf("dead letter lacks source headers: %v", d.headers)
		}
	}
	for _, b := range bad {
		d, ok := byReason[b.reason]
		if !ok {
			t.Errorf("%s: no dead letter with reason %s (have %v)", b.name, b.reason, keys(byReason))
			continue
		}
		if !bytes.Equal(d.value, b.value) {
			t.Errorf("%s: dead letter value differs from the original bytes", b.name)
		}
		if d.headers["x-source-topic"] != b.topic {
			t.Errorf("%s: x-source-topic = %q, want %q", b.name, d.headers["x-source-topic"], b.topic)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestStopMidStreamThenResumeStoresEachOnce(t *testing.T) {
	r := newRig(t)
	const n = 3000
	msgs := make([]kafka.Message, 0, n)
	for i := 0; i < n; i++ {
		msgs = append(msgs, r.msg(claim(t, fmt.Sprintf("m%05d", i), fmt.Sprintf("E%03d", i%50))))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.produce(msgs...) }()

	first := r.start()
	waitUntil(t, "the first consumer to make progress", 60*time.Second, func() bool { return first.consumed(r.topics) >= 200 })
	first.stop(t)
	wg.Wait()
	stoppedAt := first.consumed(r.topics)
	if stoppedAt >= n {
		t.Logf("first consumer finished everything before the stop (%d); the resume still must add nothing", stoppedAt)
	}

	second := r.start()
	waitUntil(t, "every event stored", 90*time.Second, func() bool {
		cnt, err := r.db.DB.Collection("events").CountDocuments(context.Background(), bson.D{})
		return err == nil && cnt >= n
	})
	// Let the second consumer drain what the first had fetched but not committed.
	waitUntil(t, "the second consumer to reach the end", 60*time.Second, func() bool {
		return stoppedAt+second.consumed(r.topics) >= n
	})
	second.stop(t)
	if got := len(r.storedIDs()); got != n {
		t.Fatalf("stored %d events, want %d", got, n)
	}
	t.Logf("first consumer handled %d, second %d (overlap %d redelivered, stored once)", stoppedAt, second.consumed(r.topics), stoppedAt+second.consumed(r.topics)-n)
}

func TestOutOfOrderHREventsGiveTheRightProjection(t *testing.T) {
	r := newRig(t)
	s := "hris/workday-cn"
	mgr := "M9"
	dept := "Smart Cabin"
	evs := []event.Event{ // arrival order: newest facts first
		mustNew(t, s, "t1", &event.EmployeeTerminated{EmployeeID: "E7", TerminationDate: civil.MustParse("2024-06-30"), Reason: "resigned"}),
		mustNew(t, s, "u2", &event.EmployeeUpdated{EmployeeID: "E7", EffectiveDate: civil.MustParse("2024-01-01"), Department: &dept}),
		mustNew(t, s, "p2", &event.ProjectUnassigned{EmployeeID: "E7", ProjectCode: "MS11", EffectiveDate: civil.MustParse("2024-05-01")}),
		mustNew(t, s, "u1", &event.EmployeeUpdated{EmployeeID: "E7", EffectiveDate: civil.MustParse("2023-06-01"), Department: strPtr("EV Powertrain"), ManagerID: &mgr}),
		mustNew(t, s, "p1", &event.ProjectAssigned{EmployeeID: "E7", ProjectCode: "MS11", ProjectName: "Moonshot 11", Sensitivity: "confidential", LaunchDate: civil.MustParse("2024-04-18"), EffectiveDate: civil.MustParse("2023-09-01")}),
		mustNew(t, s, "h1", &event.EmployeeHired{EmployeeID: "E7", Name: "李娜", Department: "Design", HireDate: civil.MustParse("2021-03-01")}),
		mustNew(t, s, "l1", &event.LeaveRecorded{EmployeeID: "E7", LeaveID: "L1", StartDate: civil.MustParse("2024-02-10"), EndDate: civil.MustParse("2024-02-17"), LeaveType: "annual"}),
	}
	for _, e := range evs { // one by one, so each lands in its own batch
		r.produce(r.msg(e))
	}
	run := r.start()
	waitUntil(t, "all HR events consumed", 60*time.Second, func() bool { return run.consumed(r.topics) >= len(evs) })
	run.stop(t)

	got, err := mongostore.NewEmployeeStore(r.db).Get(context.Background(), "E7")
	if err != nil {
		t.Fatal(err)
	}
	want := employee.Employee{
		ID: "E7", Name: "李娜", Department: "Smart Cabin", ManagerID: "M9",
		Employments: []employee.Interval{{Start: "2021-03-01", End: "2024-06-30", Reason: "resigned"}},
		Projects:    []employee.Assignment{{Code: "MS11", Name: "Moonshot 11", Sensitivity: "confidential", LaunchDate: "2024-04-18", Start: "2023-09-01", End: "2024-05-01"}},
		Leaves:      []employee.Leave{{ID: "L1", Start: "2024-02-10", End: "2024-02-17", Type: "annual"}},
	}
	got.Facts, got.Version = nil, 0
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("projection\n got %+v\nwant %+v", got, want)
	}
	if _, ok := got.EmploymentOn("2024-07-01"); ok {
		t.Fatal("employed after termination")
	}
}

func strPtr(s string) *string { return &s }
