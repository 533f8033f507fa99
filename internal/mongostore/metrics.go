package mongostore

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CommandMetrics times every command the driver sends, by command name and
// collection (moonlight_mongo_command_duration_seconds). It exists because
// on FerretDB and mongo-java-server one scanning query costs in proportion to
// its collection: the sum per (command, collection) says which query does,
// without a profiler (docs/observability.md).
type CommandMetrics struct {
	hist *prometheus.HistogramVec
	// pending maps a started command's request id to its labels until it
	// finishes: the finished events carry the command name but not the
	// collection. Request ids are unique within the process.
	pending sync.Map // int64 → commandLabels
}

type commandLabels struct{ command, collection string }

// NewCommandMetrics registers the histogram on reg.
func NewCommandMetrics(reg prometheus.Registerer) *CommandMetrics {
	m := &CommandMetrics{hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "moonlight_mongo_command_duration_seconds",
		Help: "Time from sending a MongoDB command to its reply, by command and collection (failed commands included).",
		// 100 µs (a find by _id on MongoDB) to 13 s (a scan that hangs).
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	}, []string{"command", "collection"})}
	reg.MustRegister(m.hist)
	return m
}

// Monitor is the driver's command monitor feeding the histogram.
func (m *CommandMetrics) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			m.pending.Store(e.RequestID, commandLabels{e.CommandName, commandCollection(e.CommandName, e.Command)})
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { m.finished(&e.CommandFinishedEvent) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { m.finished(&e.CommandFinishedEvent) },
	}
}

func (m *CommandMetrics) finished(e *event.CommandFinishedEvent) {
	l := commandLabels{command: e.CommandName}
	if v, ok := m.pending.LoadAndDelete(e.RequestID); ok {
		l = v.(commandLabels)
	}
	m.hist.WithLabelValues(l.command, l.collection).Observe(e.Duration.Seconds())
}

// commandCollection is the collection a command works on: the value of its
// first element for the CRUD and index commands (`{find: "cases", …}`), the
// `collection` field of a getMore, "" for commands on no collection (ping,
// buildInfo, endSessions).
func commandCollection(name string, cmd bson.Raw) string {
	if name == "getMore" {
		if s, ok := cmd.Lookup("collection").StringValueOK(); ok {
			return s
		}
		return ""
	}
	elems, err := cmd.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	if s, ok := elems[0].Value().StringValueOK(); ok {
		return s
	}
	return ""
}

// Option changes how Connect builds the client.
type Option func(*options.ClientOptions)

// WithCommandMetrics times every command of the client in m.
func WithCommandMetrics(m *CommandMetrics) Option {
	return func(o *options.ClientOptions) { o.SetMonitor(m.Monitor()) }
}
