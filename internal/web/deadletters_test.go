package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/testenv"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// The admin page counts the real dead-letter topics by reason; only admins
// open it, and it shows no payload.
func TestDeadLettersPage(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	p := testenv.UniqueName("web")
	topics := []string{p + ".hr", p + ".expense", p + ".intel"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ingest.EnsureTopics(ctx, brokers, append(append([]string{}, topics...), topics[0]+".dlq", topics[1]+".dlq", topics[2]+".dlq"), 1); err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(brokers)
	defer w.Close()
	dead := func(topic, reason string) kafka.Message {
		return kafka.Message{Topic: topic + ".dlq", Key: []byte("E1"), Value: []byte(`{"secret":"工资单"}`),
			Headers: []kafka.Header{{Key: ingest.HeaderError, Value: []byte(reason)}, {Key: ingest.HeaderSourceTopic, Value: []byte(topic)}}}
	}
	if err := w.WriteMessages(ctx, dead(topics[1], "invalid_data: /data/merchant: missing"), dead(topics[1], "invalid_data: /data/amount: missing"),
		dead(topics[0], "wrong_topic: /type: this topic carries only hr.* types")); err != nil {
		t.Fatal(err)
	}
	dlq := ingest.NewDLQ(brokers, topics, ".dlq")
	defer dlq.Close()
	e := newEnv(t, auth.ModeDev, func(d *web.Deps) { d.DeadLetters = &ingest.DeadLetterBoard{DLQ: dlq, Audit: d.Audit, Now: d.Now} })

	admin := e.browser(t)
	admin.signIn("E4", auth.RoleAdmin)
	pg := admin.get("/admin/dead-letters")
	if pg.status != http.StatusOK {
		t.Fatalf("admin: %d", pg.status)
	}
	for _, want := range []string{"<code>invalid_data</code></td><td class=\"num\">2</td>", "<code>wrong_topic</code></td><td class=\"num\">1</td>", `<td class="num">3</td>`, `href="/admin/dead-letters"`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(pg.body, "工资单") || strings.Contains(pg.body, "⟦") {
		t.Error("page shows a payload or a missing message key")
	}
	for _, v := range []struct {
		subject string
		roles   []string
	}{{"E3", []string{auth.RoleCompliance}}, {"E4", []string{auth.RoleAuditor}}, {"E1", nil}} {
		b := e.browser(t)
		b.signIn(v.subject, v.roles...)
		if pg := b.get("/admin/dead-letters"); pg.status != http.StatusForbidden {
			t.Errorf("%s %v: %d, want 403", v.subject, v.roles, pg.status)
		}
	}
	// The board refused them (the page only needs someone signed in), audited.
	denied, _, err := e.audit.List(ctx, audit.Filter{Action: audit.ActionAccessDenied, ResourceType: "dead_letters"}, 10, "")
	if err != nil || len(denied) != 3 {
		t.Errorf("%d dead_letters refusals audited (%v), want 3", len(denied), err)
	}
}
