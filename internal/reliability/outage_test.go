package reliability

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestDatabaseOutage stops the MongoDB-wire database (a standalone FerretDB
// process) for 20 s while events stream in: the consumers must stop
// committing, count their retries, report MongoDB down on /readyz, and
// resume afterwards with nothing lost or doubled.
func TestDatabaseOutage(t *testing.T) {
	ctx := requireSuite(t, 6*time.Minute)
	f := report(t, "db-outage")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("outage")
	createTopics(ctx, t, brokers, ts)

	const events, outage = 8000, 20 * time.Second
	w := buildWorkload(t, ts, events, 0, 0)
	f.set("events", events)
	opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("outage"), group: testenv.UniqueName("outage"), topics: ts}
	svc := startService(ctx, t, "serve", opts)

	var p producer
	produced := make(chan error, 1)
	go func() { produced <- p.run(ctx, brokers, w.msgs, 400) }()
	producing := true

	for {
		m, err := svc.metrics(ctx)
		if err == nil && m.sum("moonlight_events_consumed_total") >= 1500 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for consumption: %v", ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
	db.p.stop(20 * time.Second)
	down := time.Now()
	t.Logf("database stopped with %d messages sent", p.sent.Load())

	// A batch already past its last database write may still commit; after
	// that nothing may move until the database is back.
	const settle = 4 * time.Second
	type sample struct {
		at        time.Duration
		committed int64
		consumed  float64
		retries   float64
	}
	type probe struct {
		at     time.Duration
		status int
		body   string
		err    error
	}
	// /readyz is probed on its own: with the database down it takes up to its
	// 3 s check timeout to answer.
	probes := make(chan probe, 100)
	go func() {
		defer close(probes)
		for time.Since(down) < outage {
			at := time.Since(down)
			r, err := httpGet(ctx, "http://"+svc.addr+"/readyz")
			probes <- probe{at: at, status: r.StatusCode, body: string(r.Body), err: err}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	var samples []sample
	for time.Since(down) < outage {
		s := sample{at: time.Since(down)}
		var err error
		if s.committed, err = committedTotal(ctx, brokers, opts.group, ts.all()); err != nil {
			t.Fatalf("committed offsets: %v", err)
		}
		m, err := svc.metrics(ctx)
		if err != nil {
			t.Fatalf("metrics during the outage: %v", err)
		}
		s.consumed, s.retries = m.sum("moonlight_events_consumed_total"), m.sum("moonlight_consumer_retries_total")
		samples = append(samples, s)
		time.Sleep(time.Second)
	}
	var first *sample
	checked := 0
	for i := range samples {
		s := &samples[i]
		if s.at < settle {
			continue
		}
		if first == nil {
			first = s
		}
		checked++
		if s.committed != first.committed || s.consumed != first.consumed {
			t.Errorf("at %s into the outage: committed %d (was %d at %s), consumed %v (was %v): consumers must not commit while the database is down",
				s.at.Round(time.Second), s.committed, first.committed, first.at.Round(time.Second), s.consumed, first.consumed)
		}
	}
	readyzDown, probed := 0, 0
	for pr := range probes {
		if pr.at < 2*time.Second { // the driver may not have noticed yet
			continue
		}
		probed++
		if pr.err == nil && pr.status == http.StatusServiceUnavailable && strings.Contains(pr.body, `"down":["mongodb"]`) {
			readyzDown++
		} else {
			t.Errorf("at %s into the outage /readyz answered %d %s (%v), want 503 naming mongodb (only)", pr.at.Round(100*time.Millisecond), pr.status, pr.body, pr.err)
		}
	}
	if probed == 0 {
		t.Error("/readyz was not probed during the outage")
	}
	if first == nil {
		t.Fatal("no samples during the outage")
	}
	last := samples[len(samples)-1]
	retries := last.retries - samples[0].retries
	if last.retries <= first.retries || retries <= 0 {
		t.Errorf("moonlight_consumer_retries_total went %v -> %v during the outage, want it to grow", samples[0].retries, last.retries)
	}
	f.set("outage_seconds", outage.Seconds())
	f.set("samples_while_down", checked)
	f.set("committed_offsets_during_outage", fmt.Sprintf("%d -> %d", first.committed, last.committed))
	f.set("consumed_metric_during_outage", fmt.Sprintf("%v -> %v", first.consumed, last.consumed))
	f.set("retries_during_outage", retries)
	f.set("readyz_503_mongodb_samples", fmt.Sprintf("%d of %d", readyzDown, probed))

	db.start(ctx)
	back := time.Now()
	lagAtRestart, _ := groupLag(ctx, brokers, opts.group, ts.all())
	f.set("backlog_at_restart", lagAtRestart)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	producing = false
	drained := waitDrained(ctx, t, brokers, opts.group, ts, func() bool { return !producing }, svc)
	recovery := drained.Sub(back)
	f.set("recovery_seconds", recovery.Round(100*time.Millisecond).Seconds())
	if svc.exited() {
		t.Errorf("the service exited during the outage; log %s", svc.logPath)
	}
	r, err := httpGet(ctx, "http://"+svc.addr+"/readyz")
	if err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the outage: %d %s %v, want 200", r.StatusCode, r.Body, err)
	}
	svc.stop(30 * time.Second)

	c := checkStored(ctx, t, connect(t, db.uri(), opts.database), w.valid)
	c.record(f)
	assertExactlyOnce(t, c, len(w.valid))
	f.Summary = fmt.Sprintf("%d events, DB down %.0fs: commits flat, %v retries, /readyz 503 mongodb; recovery (DB back -> lag 0) %.1fs, backlog %d; lost %d, duplicated %d",
		events, outage.Seconds(), retries, recovery.Seconds(), lagAtRestart, c.Lost, c.Duplicated)
}
