package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// sdkMessage encodes an event with the official CloudEvents SDK's Kafka
// binding (binary mode, its default, or structured) onto a kafka-go message.
func sdkMessage(t *testing.T, topic, key, id, typ string, data map[string]any, structured bool) kafka.Message {
	t.Helper()
	ce := cloudevents.NewEvent()
	ce.SetID(id)
	ce.SetSource("expense/concur-cn")
	ce.SetType(typ)
	ce.SetSubject(key)
	ce.SetTime(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))
	if err := ce.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	var pm sarama.ProducerMessage
	if err := kafka_sarama.WriteProducerMessage(ctx, binding.ToMessage(&ce), &pm); err != nil {
		t.Fatal(err)
	}
	value, err := pm.Value.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := kafka.Message{Topic: topic, Key: []byte(key), Value: value}
	for _, h := range pm.Headers {
		m.Headers = append(m.Headers, kafka.Header{Key: string(h.Key), Value: h.Value})
	}
	return m
}

func claimData(id, emp string) map[string]any {
	return map[string]any{"claim_id": "C-" + id, "employee_id": emp, "incurred_on": "2024-02-20", "amount": "3000.00",
		"currency": "CNY", "merchant": "凯盛融英信息科技(上海)股份有限公司", "description": "专家访谈咨询费"}
}

// The SDK's binary-mode events are stored; the same event in both modes is
// stored once; a bad binary-mode event is dead-lettered with every original
// header, its ce_* attributes included.
func TestSDKEventsInBothModesAreStoredOnce(t *testing.T) {
	r := newRig(t)
	exp := r.topics.Expense
	bin1 := sdkMessage(t, exp, "E1", "b1", event.TypeExpenseClaim, claimData("b1", "E1"), false)
	str1 := sdkMessage(t, exp, "E1", "b1", event.TypeExpenseClaim, claimData("b1", "E1"), true) // the same event
	bin2 := sdkMessage(t, exp, "E2", "b2", event.TypeExpenseClaim, claimData("b2", "E2"), false)
	str3 := sdkMessage(t, exp, "E3", "s3", event.TypeExpenseClaim, claimData("s3", "E3"), true)
	bad := sdkMessage(t, exp, "E4", "b4", event.TypeExpenseClaim, map[string]any{"claim_id": "C-b4"}, false)
	if headerOf(bin1, "ce_id") == nil || headerOf(str1, "ce_id") != nil {
		t.Fatalf("the SDK did not produce binary and structured mode: %v / %v", bin1.Headers, str1.Headers)
	}
	r.produce(bin1, str1, bin2, str3, bad)

	run := r.start()
	waitUntil(t, "all messages consumed", 60*time.Second, func() bool { return run.consumed(r.topics) >= 5 })
	run.stop(t)

	got := r.storedIDs()
	if len(got) != 3 || !got["b1"] || !got["b2"] || !got["s3"] {
		t.Fatalf("stored %v, want b1, b2, s3 once each", got)
	}
	// The stored binary-mode event reads back as the event it was.
	se, err := mongostore.NewEventStore(r.db).Get(context.Background(), event.Ref{Source: "expense/concur-cn", ID: "b2"})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := se.Event.Data.(*event.ExpenseClaim); !ok || c.ClaimID != "C-b2" || c.Merchant != "凯盛融英信息科技(上海)股份有限公司" || se.Event.Subject != "E2" {
		t.Fatalf("stored binary event reads back as %+v", se.Event)
	}
	dlq := r.readDLQ(1)
	d := dlq[0]
	if !strings.HasPrefix(d.headers["x-error"], "invalid_data") || string(d.key) != "E4" || string(d.value) != string(bad.Value) {
		t.Fatalf("dead letter %q key %q", d.headers["x-error"], d.key)
	}
	for _, h := range bad.Headers {
		if d.headers[h.Key] != string(h.Value) {
			t.Errorf("dead letter lost header %s (have %v)", h.Key, d.headers)
		}
	}
}

// Each topic accepts only its own types, and a topic limited to listed
// sources refuses the others: an hr.employee.updated on the expense topic, or
// from an unlisted source, changes nobody's manager.
func TestTopicsAcceptOnlyTheirTypesAndSources(t *testing.T) {
	r := newRig(t)
	s := "hris/workday-cn"
	hired := mustNew(t, s, "h1", &event.EmployeeHired{EmployeeID: "E1", Name: "王伟", Department: "EV Powertrain", HireDate: civil.MustParse("2022-01-10")})
	accomplice := "E666"
	forged := mustNew(t, s, "u1", &event.EmployeeUpdated{EmployeeID: "E1", EffectiveDate: civil.MustParse("2023-01-01"), ManagerID: &accomplice})
	onExpense := r.msg(forged)
	onExpense.Topic = r.topics.Expense
	spoofed := mustNew(t, "evil/laptop", "u2", &event.EmployeeUpdated{EmployeeID: "E1", EffectiveDate: civil.MustParse("2023-01-01"), ManagerID: &accomplice})
	claimOnIntel := r.msg(claim(t, "x1", "E1"))
	claimOnIntel.Topic = r.topics.Intel
	okClaim := claim(t, "x2", "E1") // any source: the expense topic is not limited
	r.produce(r.msg(hired), onExpense, r.msg(spoofed), claimOnIntel, r.msg(okClaim))

	run := r.startWith(&ingest.Sources{HR: []string{s}}, nil)
	waitUntil(t, "all messages consumed", 60*time.Second, func() bool { return run.consumed(r.topics) >= 5 })
	run.stop(t)

	if got := r.storedIDs(); len(got) != 2 || !got["h1"] || !got["x2"] {
		t.Fatalf("stored %v, want h1 and x2", got)
	}
	e, err := mongostore.NewEmployeeStore(r.db).Get(context.Background(), "E1")
	if err != nil || e.ManagerID != "" {
		t.Fatalf("E1 = %+v, %v; want no manager", e, err)
	}
	want := map[string]string{ // reason -> source topic
		"wrong_topic/" + r.topics.Expense: "u1", "wrong_topic/" + r.topics.Intel: "x1", "source_not_allowed/" + r.topics.HR: "u2",
	}
	for _, d := range r.readDLQ(3) {
		code := ingest.ReasonCode(d.headers["x-error"])
		k := code + "/" + d.headers["x-source-topic"]
		id, ok := want[k]
		if !ok {
			t.Errorf("unexpected dead letter %s (%s)", k, d.headers["x-error"])
			continue
		}
		if !strings.Contains(string(d.value), `"id":"`+id+`"`) {
			t.Errorf("%s: dead letter is not event %s", k, id)
		}
		delete(want, k)
	}
	if len(want) != 0 {
		t.Errorf("missing dead letters %v", want)
	}
}
