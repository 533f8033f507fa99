package ingest

import (
	"context"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/tracing"
)

// Tracing of consumption (only when Config.Tracer is set; otherwise none of
// this runs and the hot path pays one nil check per message):
//
//   - each message gets a consumer span "<topic> process", a child of the
//     trace context it carries (traceparent header, the CloudEvents
//     ce_traceparent, or a structured envelope's traceparent), or a new trace;
//     it ends when the message is committed and says whether it was
//     dead-lettered;
//   - the batch gets "ingest batch", a child of its first message's span and
//     linked to the others' traces, over the store writes;
//   - each event carries its message span as event.Received.TraceParent, so
//     the stages (detection, the case write) continue that trace per employee.

// startMessage starts m's consumer span.
func (c *Consumer) startMessage(m kafka.Message, f *fetched) {
	ctx := context.Background()
	if remote := tracing.FromMessage(m); remote.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, remote)
	}
	attrs := tracing.KafkaAttributes(m)
	if f.err == nil {
		attrs = append(attrs, attribute.String("messaging.message.id", f.ev.ID), attribute.String("cloudevents.event_type", f.ev.Type),
			attribute.String("cloudevents.event_source", f.ev.Source))
	}
	_, f.span = c.tracer.Start(ctx, m.Topic+" process", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	f.traceParent = tracing.TraceParent(f.span.SpanContext())
}

// startBatch starts the batch span over the store writes.
func (c *Consumer) startBatch(ctx context.Context, batch []fetched) (context.Context, trace.Span) {
	var links []trace.Link
	for _, f := range batch[1:] {
		links = append(links, trace.Link{SpanContext: f.span.SpanContext()})
	}
	ctx = trace.ContextWithSpanContext(ctx, batch[0].span.SpanContext())
	return c.tracer.Start(ctx, "ingest batch", trace.WithLinks(links...), trace.WithAttributes(attribute.Int("messaging.batch.message_count", len(batch))))
}

// endMessages ends the message spans once the batch is committed (err nil)
// or abandoned; dead-lettered ones carry their reason.
func endMessages(batch []fetched, bad []rejected, err error) {
	dead := map[[2]int64]string{}
	for _, b := range bad {
		dead[[2]int64{int64(b.msg.Partition), b.msg.Offset}] = b.reason
	}
	for _, f := range batch {
		if f.span == nil {
			continue
		}
		if r, ok := dead[[2]int64{int64(f.msg.Partition), f.msg.Offset}]; ok {
			f.span.SetAttributes(attribute.Bool("moonlight.dead_lettered", true), attribute.String("moonlight.dead_letter.reason", ReasonCode(r)))
		}
		tracing.End(f.span, err)
	}
}
