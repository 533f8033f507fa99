package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	rpprof "runtime/pprof"
	"time"

	"github.com/segmentio/kafka-go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// ingestResult is scenario 1.
type ingestResult struct {
	Events               int
	Mix                  mix
	ProduceRate          float64
	ConsumeRate          float64 // baseline (a)
	StoreRate            float64 // baseline (b)
	MoonlightRate        float64
	MoonlightSeconds     float64
	ServiceCPU, OtherCPU time.Duration // during Moonlight's run: the service process, and this process (broker, database, lag polling)
	RSS                  int64
	Stored, Cases        int64
	ServiceCPUProfile    string
	ServiceAllocProfile  string
	ServersCPUProfile    string
	// Commands are the service's MongoDB commands during the run.
	Commands    []cmdStat
	CommandsErr error
}

func (r ingestResult) vsConsume() float64 { return r.MoonlightRate / r.ConsumeRate }
func (r ingestResult) vsStore() float64   { return r.MoonlightRate / r.StoreRate }

// vsSlower is the ratio that counts: to the slower of the two baselines.
func (r ingestResult) vsSlower() float64 { return r.MoonlightRate / min(r.ConsumeRate, r.StoreRate) }

// runIngest pre-loads the events, runs both baselines, then Moonlight, all
// on the same broker and database.
func runIngest(ctx context.Context, srv *servers, o options_, run string) (ingestResult, error) {
	res := ingestResult{Events: o.events}
	topics := topicsFor(run + "-ingest")
	o.logf("ingest: generating %d events", o.events)
	gen, m, err := generate(o.events, "B", 1, time.Now(), topics)
	if err != nil {
		return res, err
	}
	res.Mix = m
	msgs := make([]kafka.Message, len(gen))
	for i, g := range gen {
		msgs[i] = g.msg
	}
	if err := createTopics(ctx, srv.brokers, topics); err != nil {
		return res, err
	}
	start := time.Now()
	if err := produceAll(ctx, srv.brokers, msgs); err != nil {
		return res, err
	}
	res.ProduceRate = float64(len(msgs)) / time.Since(start).Seconds()
	o.logf("ingest: produced %d events at %.0f/s", len(msgs), res.ProduceRate)

	d, err := bareConsume(ctx, srv.brokers, run+"-bare", allTopics(topics), len(msgs))
	if err != nil {
		return res, fmt.Errorf("baseline consume: %w", err)
	}
	res.ConsumeRate = float64(len(msgs)) / d.Seconds()
	o.logf("ingest: bare consume+commit %.0f events/s (%s)", res.ConsumeRate, d.Round(time.Millisecond))

	d, err = bareStore(ctx, srv.mongoURI, run+"_raw", gen)
	if err != nil {
		return res, fmt.Errorf("baseline store: %w", err)
	}
	res.StoreRate = float64(len(gen)) / d.Seconds()
	o.logf("ingest: bare InsertMany %.0f events/s (%s)", res.StoreRate, d.Round(time.Millisecond))

	se := o.serviceEnv(srv, run+"_ingest", run+"-moonlight", topics)
	if o.profileDir != "" {
		se.cpuProf = filepath.Join(o.profileDir, "ingest-service-cpu.pprof")
		se.memProf = filepath.Join(o.profileDir, "ingest-service-allocs.pprof")
		res.ServiceCPUProfile, res.ServiceAllocProfile = se.cpuProf, se.memProf
	}
	c, err := startChild(ctx, se, o.serviceLog)
	if err != nil {
		return res, err
	}
	defer c.stop()
	var stopParentProfile func()
	if o.profileDir != "" && srv.inProcess {
		res.ServersCPUProfile = filepath.Join(o.profileDir, "ingest-servers-cpu.pprof")
		stopParentProfile = startCPUProfile(res.ServersCPUProfile)
	}
	cmds := watchCommands(c.base)
	self0 := cpuOf(os.Getpid())
	start = time.Now()
	lw := newLagWatcher(srv.brokers, se.group, allTopics(topics))
	last := time.Now()
	end, err := lw.waitCaughtUp(ctx, o.ingestTimeout, func(n int64) {
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			o.logf("ingest: moonlight %d behind (%.0f events/s so far)", n, float64(int64(len(msgs))-n)/time.Since(start).Seconds())
		}
	})
	if stopParentProfile != nil {
		stopParentProfile()
	}
	if err != nil {
		return res, err
	}
	res.MoonlightSeconds = end.Sub(start).Seconds()
	res.MoonlightRate = float64(len(msgs)) / res.MoonlightSeconds
	res.ServiceCPU = c.cpu() - c.cpu0
	res.OtherCPU = cpuOf(os.Getpid()) - self0
	res.RSS = c.peakRSS()
	res.Commands, res.CommandsErr = cmds.stop()
	writeCommands(o.profileDir, "ingest-commands.tsv", res.Commands)
	c.stop()
	other := "bench process CPU"
	if srv.inProcess {
		other = "bench process (embedded broker+database) CPU"
	}
	o.logf("ingest: moonlight %.0f events/s (%.1fs); service CPU %s, %s %s, peak RSS %s",
		res.MoonlightRate, res.MoonlightSeconds, res.ServiceCPU.Round(time.Millisecond), other, res.OtherCPU.Round(time.Millisecond), mib(res.RSS))
	o.logf("ingest: top MongoDB commands: %s", commandsSummary(res.Commands, 6))

	db, err := connect(srv.mongoURI, se.database)
	if err != nil {
		return res, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if res.Stored, err = db.DB.Collection("events").CountDocuments(ctx, bson.D{}); err != nil {
		return res, err
	}
	if res.Cases, err = db.DB.Collection("cases").CountDocuments(ctx, bson.D{}); err != nil {
		return res, err
	}
	if res.Stored != int64(len(msgs)) {
		return res, fmt.Errorf("moonlight stored %d events of %d", res.Stored, len(msgs))
	}
	return res, nil
}

// bareConsume is baseline (a): a kafka-go group reader configured as
// Moonlight's, fetching batches of up to 500 messages and committing them,
// doing nothing else.
func bareConsume(ctx context.Context, brokers []string, group string, topics []string, want int) (time.Duration, error) {
	start := time.Now()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, GroupID: group, GroupTopics: topics,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond, QueueCapacity: 500,
		CommitInterval: 0, StartOffset: kafka.FirstOffset,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 2500 * time.Millisecond, RebalanceTimeout: 30 * time.Second,
		JoinGroupBackoff: 500 * time.Millisecond,
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	got := 0
	for got < want {
		first, err := r.FetchMessage(ctx)
		if err != nil {
			return 0, err
		}
		batch := []kafka.Message{first}
		wait, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		for len(batch) < 500 && got+len(batch) < want {
			m, err := r.FetchMessage(wait)
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		wcancel()
		if err := r.CommitMessages(ctx, batch...); err != nil {
			return 0, err
		}
		got += len(batch)
	}
	return time.Since(start), nil
}

// rawDocs are the documents Moonlight stores for gen, with suffix added to
// every event id (so copies can be stored beside the originals).
func rawDocs(gen []generated, suffix string) []any {
	now := time.Now()
	docs := make([]any, len(gen))
	for i, g := range gen {
		e := g.ev
		e.ID += suffix
		docs[i] = mongostore.EventDocument(event.Received{Event: e, Topic: g.msg.Topic, Offset: int64(i), ReceivedAt: now})
	}
	return docs
}

// bareStore is baseline (b): the same documents Moonlight stores, inserted
// with unordered InsertMany in batches of Moonlight's batch size into a
// collection with the same indexes.
func bareStore(ctx context.Context, uri, database string, gen []generated) (time.Duration, error) {
	db, err := connect(uri, database)
	if err != nil {
		return 0, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.EnsureIndexes(ctx); err != nil {
		return 0, err
	}
	coll := db.DB.Collection("events")
	docs := rawDocs(gen, "")
	start := time.Now()
	for i := 0; i < len(docs); i += 500 {
		if _, err := coll.InsertMany(ctx, docs[i:min(i+500, len(docs))], options.InsertMany().SetOrdered(false)); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// startCPUProfile profiles this process until the returned func is called.
func startCPUProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := rpprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		rpprof.StopCPUProfile()
		f.Close()
	}
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
