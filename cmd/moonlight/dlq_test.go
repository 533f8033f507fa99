package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

func runCLI(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	root := rootCommand(environ, &out, &errOut)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("moonlight %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// `moonlight dlq list|show|replay` against the embedded broker: replay sends
// the chosen dead letter to its source topic with its original key and headers.
func TestDLQCommands(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	p := testenv.UniqueName("cli")
	topics := ingest.Topics{HR: p + ".hr", Expense: p + ".expense", Intel: p + ".intel"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all := []string{topics.HR, topics.Expense, topics.Intel, topics.HR + ".dlq", topics.Expense + ".dlq", topics.Intel + ".dlq"}
	if err := ingest.EnsureTopics(ctx, brokers, all, 1); err != nil {
		t.Fatal(err)
	}
	dead := func(topic, key, reason string, offset int) kafka.Message {
		return kafka.Message{Topic: topic + ".dlq", Key: []byte(key), Value: []byte(`{"k":"` + key + `"}`), Headers: []kafka.Header{
			{Key: "ce_id", Value: []byte("id-" + key)}, {Key: "content-type", Value: []byte("application/json")},
			{Key: ingest.HeaderError, Value: []byte(reason)}, {Key: ingest.HeaderSourceTopic, Value: []byte(topic)},
			{Key: ingest.HeaderSourcePartition, Value: []byte("0")}, {Key: ingest.HeaderSourceOffset, Value: []byte(itoa(offset))},
		}}
	}
	w := ingest.NewWriter(brokers)
	defer w.Close()
	if err := w.WriteMessages(ctx,
		dead(topics.Expense, "E1", "invalid_data: /data/merchant: missing", 3),
		dead(topics.Expense, "E2", "source_not_allowed: /source: not a source this topic accepts", 4),
		dead(topics.HR, "E3", "wrong_topic: /type: this topic carries only hr.* types", 9),
	); err != nil {
		t.Fatal(err)
	}
	env := []string{"MOONLIGHT_KAFKA_BROKERS=" + strings.Join(brokers, ","), "MOONLIGHT_KAFKA_TOPICS_HR=" + topics.HR,
		"MOONLIGHT_KAFKA_TOPICS_EXPENSE=" + topics.Expense, "MOONLIGHT_KAFKA_TOPICS_INTEL=" + topics.Intel}

	list := runCLI(t, env, "dlq", "list")
	for _, want := range []string{topics.Expense + ".dlq/0/0", topics.Expense + ".dlq/0/1", topics.HR + ".dlq/0/0",
		"invalid_data         1", "source_not_allowed   1", "wrong_topic          1", "total                3"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if only := runCLI(t, env, "dlq", "list", "--reason", "wrong_topic"); strings.Contains(only, topics.Expense+".dlq/0/") {
		t.Errorf("--reason wrong_topic lists expense dead letters:\n%s", only)
	}
	show := runCLI(t, env, "dlq", "show", topics.Expense+".dlq/0/1")
	for _, want := range []string{"reason:  source_not_allowed", "key:     E2", "header:  ce_id: id-E2", `value:   {"k":"E2"}`, "source:  " + topics.Expense + "/0/4"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if out := runCLI(t, env, "dlq", "replay", "--reason", "source_not_allowed"); !strings.Contains(out, "replayed 1 dead letters") {
		t.Fatalf("replay said %q", out)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topics.Expense, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, h := range m.Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	if string(m.Key) != "E2" || string(m.Value) != `{"k":"E2"}` || strings.Join(hs, " ") != "ce_id=id-E2 content-type=application/json" {
		t.Fatalf("replayed %s %s %v", m.Key, m.Value, hs)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
