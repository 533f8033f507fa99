package event

import "time"

// Received is an event as the consumer got it, with where it came from.
type Received struct {
	Event      Event
	Topic      string
	Partition  int
	Offset     int64
	ReceivedAt time.Time
	// TraceParent is the W3C traceparent of the span that consumed the
	// event, "" when tracing is off: later steps continue its trace.
	TraceParent string
}
