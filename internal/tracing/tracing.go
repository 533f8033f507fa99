// Package tracing sets up OpenTelemetry tracing (OTLP over HTTP, off unless
// tracing.endpoint is set) and carries W3C trace context across Kafka: an
// event's trace goes from its producer through the consumer to its case.
//
// Components get the provider by constructor injection; code below a span
// starts its children with Start, which takes the provider of the span in
// the context, so nothing needs a global and an untraced context costs only
// a lookup.
package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/config"
)

// Name is the instrumentation scope of Moonlight's own spans.
const Name = "github.com/moonlight-oss/moonlight"

// Propagator is W3C trace context (traceparent, tracestate), the format of
// the CloudEvents distributed-tracing extension.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Tracing is the configured provider; Provider is nil when tracing is off.
type Tracing struct {
	Provider *sdktrace.TracerProvider
}

// New builds the OTLP/HTTP exporter and provider, or returns a Tracing with
// no provider when cfg.Endpoint is empty. Nothing is sent until spans end.
func New(ctx context.Context, cfg config.Tracing) (*Tracing, error) {
	if cfg.Endpoint == "" {
		return &Tracing{}, nil
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	var opts []otlptracehttp.Option
	if strings.Contains(cfg.Endpoint, "://") {
		opts = append(opts, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	} else {
		opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
	}
	if cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing.endpoint %s: %w", cfg.Endpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
		// Traces started upstream (a traceparent on the event or request)
		// follow the caller's decision; new ones keep SampleRatio.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Tracing{Provider: tp}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.Provider != nil }

// TracerProvider is the provider for components, nil when tracing is off
// (never a typed nil in an interface).
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if !t.Enabled() {
		return nil
	}
	return t.Provider
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.Provider.Shutdown(ctx)
}

// Start starts a child of the span in ctx with that span's provider; with no
// recording span in ctx it returns ctx and a non-recording span.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer(Name).Start(ctx, name, opts...)
}

// StartFrom starts a span whose parent is the first of parents (traceparent
// values, as event.Received carries them) and that links to the others, with
// the provider of the span in ctx. Without parents it is Start.
func StartFrom(ctx context.Context, name string, parents []string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	var first trace.SpanContext
	for _, p := range parents {
		sc := Parse(p)
		if !sc.IsValid() {
			continue
		}
		if !first.IsValid() {
			first = sc
			continue
		}
		if sc.TraceID() != first.TraceID() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	if first.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, first)
	}
	return parent.TracerProvider().Tracer(Name).Start(ctx, name, opts...)
}

// End records err on span (if any) and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// TraceParent is sc as a W3C traceparent value, "" when sc is invalid.
func TraceParent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	Propagator.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c["traceparent"]
}

// Parse reads a W3C traceparent value; the zero SpanContext when malformed.
func Parse(traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := Propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent})
	return trace.SpanContextFromContext(ctx)
}

// Headers adapts Kafka message headers to a TextMapCarrier. Get also reads
// the CloudEvents binary-mode attributes (ce_traceparent, ce_tracestate), so
// events from the CloudEvents SDK with its tracing extension are followed.
type Headers struct{ H *[]kafka.Header }

// Get returns the first header named key, or ce_key.
func (h Headers) Get(key string) string {
	for _, name := range []string{key, "ce_" + key} {
		for _, x := range *h.H {
			if strings.EqualFold(x.Key, name) {
				return string(x.Value)
			}
		}
	}
	return ""
}

// Set replaces or adds the header key.
func (h Headers) Set(key, value string) {
	for i, x := range *h.H {
		if strings.EqualFold(x.Key, key) {
			(*h.H)[i].Value = []byte(value)
			return
		}
	}
	*h.H = append(*h.H, kafka.Header{Key: key, Value: []byte(value)})
}

// Keys lists the header names.
func (h Headers) Keys() []string {
	out := make([]string, len(*h.H))
	for i, x := range *h.H {
		out[i] = x.Key
	}
	return out
}

// FromMessage returns the remote span context a Kafka message carries: the
// traceparent header, the CloudEvents binary-mode ce_traceparent, or the
// traceparent attribute of a structured-mode envelope.
func FromMessage(m kafka.Message) trace.SpanContext {
	ctx := Propagator.Extract(context.Background(), Headers{&m.Headers})
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc
	}
	if !bytes.Contains(m.Value, []byte(`"traceparent"`)) {
		return trace.SpanContext{}
	}
	var env struct {
		TraceParent string `json:"traceparent"`
		TraceState  string `json:"tracestate"`
	}
	if json.Unmarshal(m.Value, &env) != nil {
		return trace.SpanContext{}
	}
	ctx = Propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": env.TraceParent, "tracestate": env.TraceState})
	return trace.SpanContextFromContext(ctx)
}

// Inject writes ctx's span context into headers (traceparent, tracestate).
func Inject(ctx context.Context, headers *[]kafka.Header) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	Propagator.Inject(ctx, Headers{headers})
}

// KafkaAttributes describe a consumed message (OpenTelemetry messaging
// conventions); ids only, never the payload.
func KafkaAttributes(m kafka.Message) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.MessagingSystemKafka,
		semconv.MessagingDestinationName(m.Topic),
		semconv.MessagingDestinationPartitionID(fmt.Sprint(m.Partition)),
		semconv.MessagingKafkaOffset(int(m.Offset)),
		semconv.MessagingOperationTypeProcess,
	}
}
