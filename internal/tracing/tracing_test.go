package tracing

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/config"
)

const (
	tp1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tp2 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

func TestFromMessageReadsEveryCarrier(t *testing.T) {
	tests := []struct {
		name string
		give kafka.Message
		want string // trace id, "" for none
	}{
		{"traceparent header", kafka.Message{Headers: []kafka.Header{{Key: "traceparent", Value: []byte(tp1)}}}, "0af7651916cd43dd8448eb211c80319c"},
		{"CloudEvents binary mode", kafka.Message{Headers: []kafka.Header{{Key: "ce_traceparent", Value: []byte(tp1)}}}, "0af7651916cd43dd8448eb211c80319c"},
		{"the plain header wins", kafka.Message{Headers: []kafka.Header{{Key: "ce_traceparent", Value: []byte(tp1)}, {Key: "traceparent", Value: []byte(tp2)}}}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"structured envelope", kafka.Message{Value: []byte(`{"specversion":"1.0","traceparent":"` + tp2 + `","data":{}}`)}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"malformed", kafka.Message{Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-zz-01")}}}, ""},
		{"none", kafka.Message{Value: []byte(`{"specversion":"1.0"}`)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := FromMessage(tt.give)
			got := ""
			if sc.IsValid() {
				got = sc.TraceID().String()
			}
			if got != tt.want {
				t.Errorf("trace id %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInjectThenExtractRoundTrips(t *testing.T) {
	sc := Parse(tp1)
	var hs []kafka.Header
	Inject(trace.ContextWithSpanContext(context.Background(), sc), &hs)
	if got := FromMessage(kafka.Message{Headers: hs}); got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() {
		t.Fatalf("round trip gave %v, want %v", got, sc)
	}
	if TraceParent(sc) != tp1 {
		t.Errorf("TraceParent = %q, want %q", TraceParent(sc), tp1)
	}
	Inject(context.Background(), &hs) // no span: headers untouched
	if len(hs) != 1 {
		t.Errorf("headers %v, want the one traceparent", hs)
	}
}

// TestStartFromContinuesTheFirstAndLinksTheRest, and costs nothing without a
// recording span.
func TestStartFromContinuesTheFirstAndLinksTheRest(t *testing.T) {
	if _, span := StartFrom(context.Background(), "x", []string{tp1}); span.IsRecording() {
		t.Fatal("a span was recorded with tracing off")
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, batch := tp.Tracer("t").Start(context.Background(), "batch")
	_, s := StartFrom(ctx, "case sync", []string{tp1, tp2, "garbage"})
	s.End()
	batch.End()
	got := rec.Ended()[0]
	if got.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || got.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("parent %v, want the first traceparent", got.Parent())
	}
	if len(got.Links()) != 1 || got.Links()[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("links %v, want the second trace", got.Links())
	}
}

func TestOffWithoutEndpoint(t *testing.T) {
	tr, err := New(context.Background(), config.Tracing{SampleRatio: 1, ServiceName: "moonlight"})
	if err != nil || tr.Enabled() || tr.TracerProvider() != nil || tr.Shutdown(context.Background()) != nil {
		t.Fatalf("tracing without an endpoint: %+v, %v; want off", tr, err)
	}
	tr, err = New(context.Background(), config.Tracing{Endpoint: "collector:4318", Insecure: true, SampleRatio: 1, ServiceName: "moonlight"})
	if err != nil || !tr.Enabled() {
		t.Fatalf("tracing with an endpoint: %v", err)
	}
	_ = tr.Shutdown(context.Background())
}
