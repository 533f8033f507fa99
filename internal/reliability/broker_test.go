package reliability

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// waitConsumed waits until the service has consumed at least n messages.
func waitConsumed(ctx context.Context, t *testing.T, s *service, n float64) {
	t.Helper()
	for {
		m, err := s.metrics(ctx)
		if err == nil && m.sum("moonlight_events_consumed_total") >= n {
			return
		}
		if s.exited() {
			t.Fatalf("%s exited; log %s", s.name, s.logPath)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not consume %v messages: %v", s.name, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBrokerRestart restarts the real Kafka broker (deployments/kafka/kafka.sh
// stop, 10 s down, start) while events stream in: the service must reconnect by itself, and
// nothing may be lost or doubled.
func TestBrokerRestart(t *testing.T) {
	ctx := requireSuite(t, 6*time.Minute)
	if !realKafka() {
		t.Skip("needs real Kafka started by deployments/kafka/kafka.sh (MOONLIGHT_TEST_KAFKA_BROKERS); deployments/reliability.sh does that")
	}
	f := report(t, "broker-restart")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("broker")
	createTopics(ctx, t, brokers, ts)

	const events = 8000
	w := buildWorkload(t, ts, events, 0, 0)
	f.set("events", events)
	opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("broker"), group: testenv.UniqueName("broker"), topics: ts}
	svc := startService(ctx, t, "serve", opts)

	var p producer
	produced := make(chan error, 1)
	go func() { produced <- p.run(ctx, brokers, w.msgs, 300) }()
	producing := true
	waitConsumed(ctx, t, svc, 1500)

	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// kafka.sh stop, a pause, kafka.sh start: a restart long enough that the
	// consumer's group rejoin attempts run out and Fetch reports errors (a
	// plain `kafka.sh restart` is sometimes too quick for that).
	kafkaSh := func(cmd string) {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(rctx, filepath.Join(root, "deployments", "kafka", "kafka.sh"), cmd).CombinedOutput(); err != nil {
			t.Fatalf("kafka.sh %s: %v\n%s", cmd, err, out)
		}
	}
	restartStart := time.Now()
	kafkaSh("stop")
	time.Sleep(10 * time.Second)
	kafkaSh("start")
	back := time.Now()
	restart := back.Sub(restartStart)
	t.Logf("broker down and restarted in %s (%d messages sent so far, %d producer retries)", restart.Round(100*time.Millisecond), p.sent.Load(), p.retries.Load())
	f.set("broker_restart_seconds", restart.Round(100*time.Millisecond).Seconds())

	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	producing = false
	f.set("producer_chunk_retries", p.retries.Load())
	drained := waitDrained(ctx, t, brokers, opts.group, ts, func() bool { return !producing }, svc)
	recovery := drained.Sub(back)
	f.set("recovery_seconds", recovery.Round(100*time.Millisecond).Seconds())
	if svc.exited() {
		t.Fatalf("the service exited instead of reconnecting; log %s", svc.logPath)
	}
	m, err := svc.metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.set("consumer_retries", m.sum("moonlight_consumer_retries_total"))
	svc.stop(30 * time.Second)

	c := checkStored(ctx, t, connect(t, db.uri(), opts.database), w.valid)
	c.record(f)
	assertExactlyOnce(t, c, len(w.valid))
	f.Summary = fmt.Sprintf("%d events, broker restart %.1fs, same process reconnected, broker back -> lag 0 %.1fs; lost %d, duplicated %d",
		events, restart.Seconds(), recovery.Seconds(), c.Lost, c.Duplicated)
}

// TestScaleOut runs two service processes in one consumer group; both must
// consume; one is killed with SIGKILL and the other takes its partitions
// over, with nothing lost or doubled.
func TestScaleOut(t *testing.T) {
	ctx := requireSuite(t, 6*time.Minute)
	f := report(t, "scale-out")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("scale")
	createTopics(ctx, t, brokers, ts)

	const events = 10000
	w := buildWorkload(t, ts, events, 0, 0)
	f.set("events", events)
	opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("scale"), group: testenv.UniqueName("scale"), topics: ts}
	a := startService(ctx, t, "serve-a", opts)
	b := startService(ctx, t, "serve-b", opts)

	var p producer
	produced := make(chan error, 1)
	go func() { produced <- p.run(ctx, brokers, w.msgs, 300) }()
	producing := true

	// Both must get partitions and consume before one is killed.
	var ca, cb float64
	for {
		ma, erra := a.metrics(ctx)
		mb, errb := b.metrics(ctx)
		if erra == nil && errb == nil {
			ca, cb = ma.sum("moonlight_events_consumed_total"), mb.sum("moonlight_events_consumed_total")
			if ca > 0 && cb > 0 && ca+cb >= 3000 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("both processes must consume: a %v, b %v (errors %v, %v)", ca, cb, erra, errb)
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.set("consumed_by_a_before_kill", ca)
	f.set("consumed_by_b_before_kill", cb)
	a.kill()
	killed := time.Now()
	t.Logf("killed serve-a (SIGKILL) after a %v, b %v consumed; %d sent", ca, cb, p.sent.Load())

	// b has taken over once it has handled batches of all 9 partitions (its
	// lag gauge has a series per partition it consumed).
	var takeover time.Duration
	for takeover == 0 {
		mb, err := b.metrics(ctx)
		if err == nil && countSeries(mb, "moonlight_consumer_lag") == 3*len(ts.all()) {
			takeover = time.Since(killed)
		}
		if ctx.Err() != nil {
			t.Fatalf("serve-b did not take over every partition: %v", ctx.Err())
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.set("takeover_seconds", takeover.Round(100*time.Millisecond).Seconds())
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	producing = false
	drained := waitDrained(ctx, t, brokers, opts.group, ts, func() bool { return !producing }, b)
	f.set("kill_to_drained_seconds", drained.Sub(killed).Round(100*time.Millisecond).Seconds())
	mb, err := b.metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := mb.sum("moonlight_events_consumed_total")
	f.set("consumed_by_b_total", after)
	// b alone must have consumed everything a had not: more than it was
	// sent in its own partitions, i.e. a's backlog moved to b.
	if after+ca < float64(len(w.msgs)) {
		t.Errorf("a consumed %v, b %v in all: %d messages were sent", ca, after, len(w.msgs))
	}
	if b.exited() {
		t.Errorf("serve-b exited; log %s", b.logPath)
	}
	b.stop(30 * time.Second)

	c := checkStored(ctx, t, connect(t, db.uri(), opts.database), w.valid)
	c.record(f)
	assertExactlyOnce(t, c, len(w.valid))
	f.Summary = fmt.Sprintf("%d events, 2 processes (a %v, b %v consumed before a's SIGKILL), b took over all partitions in %.1fs (%v consumed in all), kill -> lag 0 %.1fs; lost %d, duplicated %d",
		events, ca, cb, takeover.Seconds(), after, drained.Sub(killed).Seconds(), c.Lost, c.Duplicated)
}

// countSeries counts the series of a metric.
func countSeries(m metrics, name string) int {
	n := 0
	for series := range m {
		if strings.HasPrefix(series, name+"{") {
			n++
		}
	}
	return n
}
