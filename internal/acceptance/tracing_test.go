package acceptance

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// otlpReceiver is an OTLP/HTTP trace endpoint in the test process: it
// decodes the protobuf export requests the service's exporter sends.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP protobuf export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// trace returns the spans of one trace by name.
func (o *otlpReceiver) trace(id trace.TraceID) map[string][]*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string][]*tracepb.Span{}
	for _, s := range o.spans {
		if [16]byte(s.TraceId) == id {
			out[s.Name] = append(out[s.Name], s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue()
		}
	}
	return ""
}

// TestOneTraceFromTheEventToItsCase: an expense claim produced inside a
// trace (its traceparent header) is followed through the consumer to the
// case it opens: the consumer span is the producer's child, and the case sync,
// detection and case write are descendants of it in the same trace, exported
// over OTLP/HTTP to a receiver that decodes them.
func TestOneTraceFromTheEventToItsCase(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	cfg := replicaConfig(t)
	cfg.Tracing.Endpoint = srv.URL + "/v1/traces"
	r := startReplica(t, cfg, "traced")

	day := civil.Of(time.Now()).AddDays(-10)
	r.produce(r.ev("hris/workday-cn", "hire-T1", &event.EmployeeHired{EmployeeID: "T1", Name: "N T1", Department: "EV Unit", HireDate: day.AddDays(-900)}))
	r.eventually("the hire is projected", 30*time.Second, func() (bool, string) {
		_, err := r.svc.Employees.Get(context.Background(), "T1")
		return err == nil, "no employee T1 yet"
	})

	producer := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx, cancel := context.WithTimeout(trace.ContextWithRemoteSpanContext(context.Background(), producer), 20*time.Second)
	defer cancel()
	claim := r.ev("expense/concur-cn", "claim-T1", &event.ExpenseClaim{ClaimID: "claim-T1", EmployeeID: "T1", IncurredOn: day,
		Merchant: "中信证券股份有限公司", Description: "新能源行业研讨会 咨询费", City: "上海", Amount: money("2000.00"), Category: "conference"})
	if err := r.svc.Publisher().Publish(ctx, []event.Event{claim}); err != nil {
		t.Fatal(err)
	}
	var c review.Case
	r.eventually("the claim opens a case", 30*time.Second, func() (bool, string) {
		var err error
		c, err = r.svc.Cases.OpenFor(context.Background(), "T1")
		return err == nil, "no case for T1 yet"
	})
	r.kill() // stops the service; Close exports the spans still buffered

	spans := recv.trace(producer.TraceID())
	one := func(name string) *tracepb.Span {
		t.Helper()
		if len(spans[name]) == 0 {
			names := make([]string, 0, len(spans))
			for n := range spans {
				names = append(names, n)
			}
			t.Fatalf("no %q span in the producer's trace; it has %v (%d spans received in all)", name, names, len(recv.spans))
		}
		return spans[name][0]
	}
	consume := one(cfg.Kafka.Topics.Expense + " process")
	if hex.EncodeToString(consume.ParentSpanId) != producer.SpanID().String() || consume.Kind != tracepb.Span_SPAN_KIND_CONSUMER {
		t.Errorf("consumer span: parent %x kind %v, want the producer's span %s and kind consumer", consume.ParentSpanId, consume.Kind, producer.SpanID())
	}
	if got := attr(consume, "messaging.message.id"); got != "claim-T1" {
		t.Errorf("consumer span names event %q, want claim-T1", got)
	}
	sync := one("case sync")
	if string(sync.ParentSpanId) != string(consume.SpanId) {
		t.Errorf("case sync's parent is %x, want the consumer span %x", sync.ParentSpanId, consume.SpanId)
	}
	if got := attr(sync, "moonlight.employee_id"); got != "T1" {
		t.Errorf("case sync for %q, want T1", got)
	}
	for _, name := range []string{"detect evaluate", "case write"} {
		if s := one(name); string(s.ParentSpanId) != string(sync.SpanId) {
			t.Errorf("%s's parent is %x, want the case sync %x", name, s.ParentSpanId, sync.SpanId)
		}
	}
	if got := attr(one("case write"), "moonlight.case_id"); got != c.ID {
		t.Errorf("case write names case %q, want %q", got, c.ID)
	}
}
