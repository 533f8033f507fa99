// Command moonlight-bench measures Moonlight against its own dependencies on
// the same machine in the same run: ingest throughput next to a bare Kafka
// consumer and bare InsertMany, detection latency at a steady produced rate,
// the case API next to a bare Gin handler, and the service's peak memory.
// The service runs as a child process (this binary in `service` mode,
// configured like `moonlight serve`); the embedded broker and database, when
// used, run in this process.
//
//	moonlight-bench [--brokers host:port,...] [--mongo-uri mongodb://...] [--out docs/benchmarks.md]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
)

// options_ are the run's settings (the trailing underscore keeps the name
// clear of the mongo driver's options package).
type options_ struct {
	brokers         []string
	mongoURI        string
	label           string
	events          int
	rate            int
	latencyDuration time.Duration
	apiEvents       int
	apiCases        int
	apiOpen         []int // one API case set per entry: this many open among apiCases
	latencyCases    []int // one latency row per entry: this many cases stored first
	probeEvery      time.Duration
	pollRate        int
	apiDuration     time.Duration
	apiMaxRequests  int
	concurrency     int
	seedBudget      time.Duration
	ingestTimeout   time.Duration
	scenarios       map[string]bool
	profileDir      string
	out             string
	appendOut       bool
	key             string
	serviceLog      io.Writer
	log             io.Writer
}

func (o options_) logf(format string, args ...any) {
	fmt.Fprintf(o.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (o options_) serviceEnv(srv *servers, database, group string, topics topicSet) serviceEnv {
	return serviceEnv{brokers: srv.brokers, mongoURI: srv.mongoURI, database: database, group: group, topics: topics, key: o.key}
}

func (o options_) authConfig() auth.Config {
	cfg := config.Default().Auth
	cfg.Dev.SigningKey = auth.Secret(o.key)
	return cfg
}

func (o options_) token(subject string, roles ...string) (string, error) {
	return auth.IssueDevToken(o.authConfig(), subject, roles, time.Now())
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "service" {
		if err := serviceMain(); err != nil {
			fmt.Fprintln(os.Stderr, "service:", err)
			os.Exit(1)
		}
		return
	}
	if err := benchMain(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "moonlight-bench:", err)
		os.Exit(1)
	}
}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("moonlight-bench", flag.ContinueOnError)
	var (
		o                   options_
		brokers, scenarios  string
		serviceLog, workDir string
		apiOpen, latCases   string
	)
	fs.StringVar(&brokers, "brokers", os.Getenv("BENCH_KAFKA_BROKERS"), "Kafka brokers (comma-separated); empty starts the embedded broker (env BENCH_KAFKA_BROKERS)")
	fs.StringVar(&o.mongoURI, "mongo-uri", os.Getenv("BENCH_MONGO_URI"), "MongoDB URI; empty starts the embedded FerretDB (env BENCH_MONGO_URI)")
	fs.StringVar(&o.label, "label", "", "name of this setup in the report (default: from the servers)")
	fs.IntVar(&o.events, "events", 100_000, "events pre-loaded for the ingest run")
	fs.IntVar(&o.rate, "rate", 1000, "produced events/s during the detection-latency run")
	fs.DurationVar(&o.latencyDuration, "latency-duration", 60*time.Second, "length of the detection-latency run")
	fs.IntVar(&o.apiEvents, "api-events", 1_000_000, "stored events under the API run")
	fs.IntVar(&o.apiCases, "api-cases", 10_000, "stored cases under the API run")
	fs.StringVar(&apiOpen, "api-open", "1000,10000", "open cases among --api-cases, one API case set (database and service) per comma-separated value")
	fs.StringVar(&latCases, "latency-cases", "0,10000", "cases stored before each detection-latency row, comma-separated")
	fs.DurationVar(&o.probeEvery, "probe-every", 300*time.Millisecond, "interval between detection-latency probes (200 per row at the defaults; each opens a case)")
	fs.IntVar(&o.pollRate, "poll-rate", maxPollRate, "polls per second of all detection-latency probes together (each reads the probe's case by key)")
	fs.DurationVar(&o.apiDuration, "api-duration", 8*time.Second, "load time per endpoint")
	fs.IntVar(&o.apiMaxRequests, "api-max-requests", 200_000, "requests per endpoint at most")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent API clients")
	fs.DurationVar(&o.seedBudget, "seed-budget", 120*time.Second, "time allowed for storing the API run's events; fewer are stored when it runs out (the report says so)")
	fs.DurationVar(&o.ingestTimeout, "ingest-timeout", 4*time.Minute, "give up on the ingest run after this")
	fs.StringVar(&scenarios, "scenarios", "ingest,latency,api", "scenarios to run")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write CPU and allocation profiles of the ingest run here (empty: none)")
	fs.StringVar(&o.out, "out", "", "write the Markdown report here (empty: stdout only)")
	fs.BoolVar(&o.appendOut, "append", false, "append the report to --out instead of replacing it")
	fs.StringVar(&serviceLog, "service-log", "", "file for the service processes' logs (default: discarded)")
	fs.StringVar(&workDir, "work-dir", "", "directory for the embedded database (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if brokers != "" {
		o.brokers = strings.Split(brokers, ",")
	}
	var err error
	if o.apiOpen, err = intList(apiOpen); err != nil {
		return fmt.Errorf("--api-open: %w", err)
	}
	if o.latencyCases, err = intList(latCases); err != nil {
		return fmt.Errorf("--latency-cases: %w", err)
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		o.scenarios[strings.TrimSpace(s)] = true
	}
	o.log = os.Stderr
	o.serviceLog = io.Discard
	if serviceLog != "" {
		f, err := os.Create(serviceLog)
		if err != nil {
			return err
		}
		defer f.Close()
		o.serviceLog = f
	}
	k := make([]byte, 24)
	_, _ = rand.Read(k)
	o.key = hex.EncodeToString(k)
	if workDir == "" {
		d, err := os.MkdirTemp("", "moonlight-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv, err := startServers(o.brokers, o.mongoURI, workDir)
	if err != nil {
		return err
	}
	defer srv.close()
	if o.label == "" {
		o.label = srv.kafkaName + " + " + srv.mongoName
	}
	o.logf("servers: %s", o.label)
	run := fmt.Sprintf("bench%d", time.Now().Unix()%1_000_000)
	rep := report{label: o.label, servers: srv, opts: o, started: time.Now()}
	if o.scenarios["ingest"] {
		r, err := runIngest(ctx, srv, o, run)
		rep.ingest, rep.ingestErr = &r, err
		if err != nil {
			o.logf("ingest: %v", err)
		}
	}
	if o.scenarios["latency"] {
		for i, n := range o.latencyCases {
			r, err := runLatency(ctx, srv, o, fmt.Sprintf("%s-%d", run, i), n)
			rep.latency = append(rep.latency, r)
			if err != nil {
				rep.latencyErr = err
				o.logf("latency: %v", err)
				break
			}
		}
	}
	if o.scenarios["api"] {
		r, err := runAPI(ctx, srv, o, run)
		rep.api, rep.apiErr = &r, err
		if err != nil {
			o.logf("api: %v", err)
		}
	}
	rep.finished = time.Now()
	md := rep.markdown()
	fmt.Print(rep.summary())
	if o.out != "" {
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if o.appendOut {
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(o.out, flags, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.WriteString(md); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		o.logf("report written to %s", o.out)
	}
	for _, err := range []error{rep.ingestErr, rep.latencyErr, rep.apiErr} {
		if err != nil {
			return fmt.Errorf("a scenario failed: %w", err)
		}
	}
	return nil
}

// intList parses "1000,10000".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}
