package evaluate

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/tracing"
)

// eventTracesKey carries, through a batch's context, the trace of each
// employee's events, so each case sync continues the trace of the event
// that caused it rather than the batch's.
type eventTracesKey struct{}

// withEventTraces maps each employee to the traceparents of their events
// in batch, when the batch is traced.
func withEventTraces(ctx context.Context, batch []event.Received) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	m := map[string][]string{}
	for _, r := range batch {
		if id := r.Event.EmployeeID(); id != "" && r.TraceParent != "" {
			m[id] = append(m[id], r.TraceParent)
		}
	}
	return context.WithValue(ctx, eventTracesKey{}, m)
}

// startSync starts the span of one employee's case sync: a child of their
// first event's span in this batch (linked to the others), else of ctx's.
func startSync(ctx context.Context, employeeID string) (context.Context, trace.Span) {
	m, _ := ctx.Value(eventTracesKey{}).(map[string][]string)
	return tracing.StartFrom(ctx, "case sync", m[employeeID], trace.WithAttributes(attribute.String("moonlight.employee_id", employeeID)))
}
