package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// latencyResult is scenario 2.
type latencyResult struct {
	Cases                    int // stored before the traffic started
	CaseSeedRate             float64
	TargetRate, AchievedRate float64
	Seconds                  float64
	Probes, Seen             int
	P50, P99, Max            time.Duration // until the case's opened_at
	SeenP50, SeenP99         time.Duration // until a poll saw it (every pollEvery)
	Lag                      int64         // messages not committed when producing stopped
	RSS                      int64
	// Profiles of the traffic phase (the service's covers its whole life,
	// the bench process's only the traffic), when --profile-dir is set.
	ServiceCPUProfile, ServersCPUProfile string
	// Commands are the service's MongoDB commands from the traffic's start
	// until the last probe was seen.
	Commands    []cmdStat
	CommandsErr error
}

// runLatency stores `cases` cases, then produces realistic traffic at a
// steady rate and, every o.probeEvery, one card payment at an expert network
// by a new person; it measures from just before the probe is written until
// that person's case is stored (opened_at; polled by key, waitCase).
func runLatency(ctx context.Context, srv *servers, o options_, run string, cases int) (latencyResult, error) {
	res := latencyResult{Cases: cases, TargetRate: float64(o.rate), Seconds: o.latencyDuration.Seconds()}
	topics := topicsFor(run + "-latency")
	total := int(float64(o.rate) * o.latencyDuration.Seconds())
	gen, _, err := generate(total, "L", 2, time.Now(), topics)
	if err != nil {
		return res, err
	}
	if err := createTopics(ctx, srv.brokers, topics); err != nil {
		return res, err
	}
	se := o.serviceEnv(srv, run+"_latency", run+"-latency", topics)
	if o.profileDir != "" {
		se.cpuProf = filepath.Join(o.profileDir, fmt.Sprintf("latency-%d-service-cpu.pprof", cases))
		res.ServiceCPUProfile = se.cpuProf
	}
	c, err := startChild(ctx, se, o.serviceLog)
	if err != nil {
		return res, err
	}
	defer c.stop()
	if cases > 0 {
		db, err := connect(srv.mongoURI, se.database)
		if err != nil {
			return res, err
		}
		t0 := time.Now()
		_, err = seedCases(ctx, db, cases, cases*9/10)
		_ = db.Close(context.WithoutCancel(ctx))
		if err != nil {
			return res, err
		}
		res.CaseSeedRate = float64(cases) / time.Since(t0).Seconds()
		o.logf("latency: %d cases stored (%.0f/s)", cases, res.CaseSeedRate)
	}
	pdb, err := connect(srv.mongoURI, se.database)
	if err != nil {
		return res, err
	}
	defer pdb.Close(context.WithoutCancel(ctx))
	caseStore := mongostore.NewCaseStore(pdb)

	w := ingest.NewWriter(srv.brokers)
	defer w.Close()
	// A write every 50 ms: the writer waits for acks, so smaller ticks would
	// cap the rate at the broker's round trip instead of the target.
	const tick = 50 * time.Millisecond
	perTick := max(o.rate/20, 1)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		seenAfter []time.Duration
		wg        sync.WaitGroup
	)
	pctx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	// All probes' polls share maxPollRate: the bench's reads stay the same
	// whatever the number of outstanding probes (opened_at is exact anyway).
	polls := time.NewTicker(time.Second / time.Duration(max(o.pollRate, 1)))
	defer polls.Stop()
	stopParentProfile := func() {}
	if o.profileDir != "" && srv.inProcess {
		res.ServersCPUProfile = filepath.Join(o.profileDir, fmt.Sprintf("latency-%d-servers-cpu.pprof", cases))
		stopParentProfile = startCPUProfile(res.ServersCPUProfile)
	}
	cmds := watchCommands(c.base)
	start := time.Now()
	next := start
	sent, probes := 0, 0
	for i := 0; time.Since(start) < o.latencyDuration; i++ {
		end := min(sent+perTick, len(gen))
		batch := make([]kafka.Message, 0, end-sent+1)
		for _, g := range gen[sent:end] {
			batch = append(batch, g.msg)
		}
		sent = end
		var probeIDs []string
		// Several probes in one tick when the interval is shorter than it.
		for time.Since(start) >= time.Duration(probes)*o.probeEvery && len(probeIDs) < 10 {
			tag := strings.ReplaceAll(run, "-", "")
			probeID := fmt.Sprintf("P%s%05d", tag[len(tag)-5:], probes)
			m, err := probe(topics, probeID, time.Now())
			if err != nil {
				return res, err
			}
			batch = append(batch, m)
			probeIDs = append(probeIDs, probeID)
			probes++
		}
		at := time.Now()
		if err := w.WriteMessages(ctx, batch...); err != nil {
			return res, fmt.Errorf("produce: %w", err)
		}
		for _, probeID := range probeIDs {
			wg.Add(1)
			go func(id string, at time.Time) {
				defer wg.Done()
				if d, seen, ok := waitCase(pctx, caseStore, id, at, polls.C); ok {
					mu.Lock()
					latencies = append(latencies, d)
					seenAfter = append(seenAfter, seen)
					mu.Unlock()
				}
			}(probeID, at)
		}
		next = next.Add(tick)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		if sent == len(gen) && len(probeIDs) == 0 && time.Since(start) >= o.latencyDuration {
			break
		}
	}
	elapsed := time.Since(start)
	stopParentProfile()
	res.AchievedRate = float64(sent) / elapsed.Seconds()
	res.Probes = probes
	res.Lag, _ = newLagWatcher(srv.brokers, se.group, allTopics(topics)).behind(ctx)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cancelPolls()
		<-done
	}
	res.RSS = c.peakRSS()
	res.Commands, res.CommandsErr = cmds.stop()
	writeCommands(o.profileDir, fmt.Sprintf("latency-%d-commands.tsv", cases), res.Commands)
	c.stop() // writes the service's profile
	res.Seen = len(latencies)
	res.P50, res.P99, res.Max = percentiles(latencies)
	res.SeenP50, res.SeenP99, _ = percentiles(seenAfter)
	o.logf("latency (%d cases stored): %d probes, %d seen; p50 %s p99 %s at %.0f events/s (target %d); lag when producing stopped %d",
		res.Cases, res.Probes, res.Seen, res.P50, res.P99, res.AchievedRate, o.rate, res.Lag)
	o.logf("latency (%d cases stored): top MongoDB commands: %s", res.Cases, commandsSummary(res.Commands, 6))
	return res, nil
}

// waitCase reads the probe person's cases by key (case_refs by the
// employee's _id, then the case by _id: what detection itself reads) until
// there is one (every pollEvery, polls of all probes taking turns at
// maxPollRate, for at most 60 s). It returns the time from at until the
// case's opened_at (detection's clock when it opened the case, right before
// writing it: exact whatever the poll interval) and until the poll that saw
// it.
//
// The probes read the database, not GET /api/v1/cases?employee_id=: every
// API read is a compliance read with an audit entry, so 40 polls a second
// made the bench's own audit inserts the largest command of the row (10 of
// every 20 s on FerretDB), load no deployment has; a reviewer opens the
// queue a few times a minute. The API's cost is measured by the api-list and
// api-get rows instead.
func waitCase(ctx context.Context, cases *mongostore.CaseStore, employeeID string, at time.Time, turn <-chan time.Time) (opened, seen time.Duration, ok bool) {
	deadline := at.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return 0, 0, false
		case <-turn:
		}
		got, err := cases.CasesOf(ctx, []string{employeeID})
		if err != nil && ctx.Err() != nil {
			return 0, 0, false
		}
		if cs := got[employeeID]; len(cs) > 0 {
			seen := time.Since(at)
			first := cs[0].OpenedAt
			for _, c := range cs[1:] {
				if c.OpenedAt.Before(first) {
					first = c.OpenedAt
				}
			}
			// opened_at is stored to the millisecond.
			return max(first.Sub(at.Truncate(time.Millisecond)), 0), seen, true
		}
		select {
		case <-ctx.Done():
			return 0, 0, false
		case <-time.After(pollEvery):
		}
	}
	return 0, 0, false
}

// pollEvery is how often each outstanding probe asks for its case, and
// maxPollRate how many polls a second all probes make together at most by
// default (--poll-rate). Each poll is two reads by _id.
const (
	pollEvery   = 250 * time.Millisecond
	maxPollRate = 40
)
