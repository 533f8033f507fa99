package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the consumer's Prometheus metrics.
type Metrics struct {
	Consumed     *prometheus.CounterVec
	Stored       prometheus.Counter
	Rejected     *prometheus.CounterVec
	Retried      *prometheus.CounterVec
	Lag          *prometheus.GaugeVec
	BatchSeconds prometheus.Histogram
	BatchSize    prometheus.Histogram
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moonlight_events_consumed_total", Help: "Messages fetched from Kafka and handled (stored or dead-lettered).",
		}, []string{"topic"}),
		Stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moonlight_events_stored_total", Help: "Valid events newly stored (redeliveries not counted).",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moonlight_events_rejected_total", Help: "Messages sent to the dead-letter topic, by reason.",
		}, []string{"topic", "reason"}),
		Retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moonlight_consumer_retries_total", Help: "Retries of a failed step (the partition waits meanwhile).",
		}, []string{"step"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "moonlight_consumer_lag", Help: "Messages behind the partition's high-water mark at the last fetch.",
		}, []string{"topic", "partition"}),
		BatchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "moonlight_batch_duration_seconds", Help: "Time to handle one batch, fetch and decoding excluded, commit included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "moonlight_batch_size", Help: "Messages per batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
	}
	reg.MustRegister(m.Consumed, m.Stored, m.Rejected, m.Retried, m.Lag, m.BatchSeconds, m.BatchSize)
	return m
}
