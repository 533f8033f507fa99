package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestCrash kills the consuming process with SIGKILL three times while 20,000
// events stream in, then checks every valid event is stored exactly once and
// the derived state equals that of a clean run over the same topics.
func TestCrash(t *testing.T) {
	ctx := requireSuite(t, 10*time.Minute)
	f := report(t, "crash")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("crash")
	createTopics(ctx, t, brokers, ts)

	const events, kills = 20000, 3
	w := buildWorkload(t, ts, events, 100, 97)
	f.set("events", events)
	f.set("messages", len(w.msgs))
	f.set("malformed", w.badTotal())
	f.set("redelivered_by_source", w.dups)
	f.set("distinct_valid", len(w.valid))

	opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("crash"), group: testenv.UniqueName("crash"), topics: ts,
		env: []string{fmt.Sprintf("MOONLIGHT_KAFKA_MAX_EVENT_BYTES=%d", maxEventBytes)}}
	start := time.Now()
	svc := startService(ctx, t, "serve-1", opts)

	var p producer
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	produced := make(chan error, 1)
	go func() { produced <- p.run(pctx, brokers, w.msgs, 300) }()
	producing := true

	var killedAt []string
	for k := 1; k <= kills; k++ {
		// Let this life store some events, then kill it at a random moment:
		// inside a batch, between store and commit, or while idle.
		life := time.Now()
		for {
			m, err := svc.metrics(ctx)
			if err == nil && m.sum("moonlight_events_consumed_total") >= 2500 || time.Since(life) > 40*time.Second {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting to kill: %v", ctx.Err())
			}
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		svc.kill()
		killedAt = append(killedAt, fmt.Sprintf("%.0fs/%d sent", time.Since(start).Seconds(), p.sent.Load()))
		t.Logf("kill %d (SIGKILL) at %s", k, killedAt[len(killedAt)-1])
		svc = startService(ctx, t, fmt.Sprintf("serve-%d", k+1), opts)
	}
	f.set("kills", len(killedAt))
	f.set("killed_at", strings.Join(killedAt, ", "))
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	producing = false
	drained := waitDrained(ctx, t, brokers, opts.group, ts, func() bool { return !producing }, svc)
	f.set("seconds_to_drain", drained.Sub(start).Round(time.Second).Seconds())
	svc.stop(30 * time.Second)

	got := connect(t, db.uri(), opts.database)
	c := checkStored(ctx, t, got, w.valid)
	c.record(f)
	assertExactlyOnce(t, c, len(w.valid))

	// The clean run: the same topics into a fresh database, never killed.
	clean := opts
	clean.database, clean.group = testenv.UniqueName("clean"), testenv.UniqueName("clean")
	cleanStart := time.Now()
	cs := startService(ctx, t, "clean", clean)
	waitDrained(ctx, t, brokers, clean.group, ts, func() bool { return true }, cs)
	cs.stop(30 * time.Second)
	cleanSecs := time.Since(cleanStart).Seconds()
	f.set("clean_run_seconds", int(cleanSecs))
	f.set("clean_run_events_per_second", int(float64(len(w.msgs))/cleanSecs))
	want := connect(t, db.uri(), clean.database)
	assertExactlyOnce(t, checkStored(ctx, t, want, w.valid), len(w.valid))

	var diffs []string
	for _, coll := range derivedCollections {
		g := snapshot(ctx, t, got, coll.name, coll.key, coll.skip, coll.drop...)
		wnt := snapshot(ctx, t, want, coll.name, coll.key, coll.skip, coll.drop...)
		if coll.skip != nil {
			f.set(coll.name+"_left_out", fmt.Sprintf("%d crash run, %d clean run",
				len(snapshot(ctx, t, got, coll.name, coll.key, nil))-len(g), len(snapshot(ctx, t, want, coll.name, coll.key, nil))-len(wnt)))
		}
		f.set(coll.name, len(g))
		if len(wnt) == 0 && coll.name != "cases" {
			t.Errorf("clean run has no %s: the comparison would prove nothing", coll.name)
		}
		diffs = append(diffs, diffSnapshots(coll.name, g, wnt)...)
	}
	f.set("derived_state_differences", len(diffs))
	for i, d := range diffs {
		if i == 10 {
			t.Errorf("… and %d more differences", len(diffs)-10)
			break
		}
		t.Errorf("derived state differs from the clean run: %s", d)
	}
	f.Summary = fmt.Sprintf("%d events (%d msgs), %d SIGKILLs, lost %d, duplicated %d, derived-state diffs %d (employees %v, activity %v, cases %v)",
		events, len(w.msgs), len(killedAt), c.Lost, c.Duplicated, len(diffs), f.Values["employees"], f.Values["activity"], f.Values["cases"])
}

// derivedCollections is the state built from the events, compared with a
// clean run's. Cases drop their ids and history: a case's id and the lines
// of its history follow the findings known when it was opened or updated,
// which depends on where batches happened to end. For the same reason a case
// can be opened on partial information (an expense before the HR event that
// explains it, in another topic) and closed by the system once "no finding
// remains": such cases come and go with arrival order, so they are left out;
// every open case, and every case closed with findings, is compared.
var derivedCollections = []struct {
	name string
	key  func(map[string]any) string
	skip func(map[string]any) bool
	drop []string
}{
	{"employees", byID, nil, nil},
	{"activity", byID, nil, nil},
	{"seminars", byID, nil, nil},
	{"cases", func(m map[string]any) string {
		return fmt.Sprintf("%v/%v/%v", m["employee_id"], m["status"], m["findings"])
	}, clearedEmpty, []string{"_id", "open_key", "history"}},
}

// clearedEmpty says whether a case was closed by the system with no finding left.
func clearedEmpty(m map[string]any) bool {
	dec, _ := m["decision"].(map[string]any)
	findings, _ := m["findings"].([]any)
	return m["status"] == "cleared" && dec != nil && dec["by"] == "system" && len(findings) == 0
}

func byID(m map[string]any) string { return fmt.Sprint(m["_id"]) }
