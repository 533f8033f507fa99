package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// apiResult is scenario 3: one set per entry of --api-open.
type apiResult struct {
	EventsWanted, EventsStored int
	SeedRate                   float64
	SeedCut                    bool // the seeding budget ran out before EventsWanted
	Concurrency                int
	Refs                       []loadResult // bare Gin handlers, bodies of the first set's sizes
	Sets                       []apiSet
}

// apiSet is one database of cases under load.
type apiSet struct {
	Cases, Open  int
	CaseSeedRate float64
	Rows         []loadResult
	AuditEntries int64
	RSS          int64
}

// loadResult is one endpoint under load.
type loadResult struct {
	Name      string
	Bytes     int
	Requests  int
	Errors    int
	RPS       float64
	P50, P99  time.Duration
	FirstErr  string
	Reference bool // the bare Gin handler
	// Commands are the service's MongoDB commands during the row.
	Commands    []cmdStat
	CommandsErr error
}

// runAPI loads the case endpoints of one service and database per case set
// (o.apiCases cases, o.apiOpen[i] of them open), next to a bare Gin handler
// answering the same bytes. Events are stored only under the first set:
// the case API does not read them.
func runAPI(ctx context.Context, srv *servers, o options_, run string) (apiResult, error) {
	res := apiResult{EventsWanted: o.apiEvents, Concurrency: o.concurrency}
	for i, open := range o.apiOpen {
		set, refs, err := runAPISet(ctx, srv, o, fmt.Sprintf("%s-%d", run, i), open, i == 0, &res)
		if err != nil {
			return res, err
		}
		if i == 0 {
			res.Refs = refs
		}
		res.Sets = append(res.Sets, set)
	}
	return res, nil
}

func runAPISet(ctx context.Context, srv *servers, o options_, run string, open int, first bool, res *apiResult) (apiSet, []loadResult, error) {
	set := apiSet{Cases: o.apiCases, Open: min(open, o.apiCases)}
	topics := topicsFor(run + "-api")
	if err := createTopics(ctx, srv.brokers, topics); err != nil {
		return set, nil, err
	}
	se := o.serviceEnv(srv, strings.ReplaceAll(run, "-", "_")+"_api", run+"-api", topics)
	if o.profileDir != "" {
		// The service's whole life; the bench process's only during the rows.
		se.cpuProf = filepath.Join(o.profileDir, fmt.Sprintf("api-%d-service-cpu.pprof", set.Open))
	}
	c, err := startChild(ctx, se, o.serviceLog) // creates the indexes before the data arrives
	if err != nil {
		return set, nil, err
	}
	defer c.stop()
	db, err := connect(srv.mongoURI, se.database)
	if err != nil {
		return set, nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))

	t0 := time.Now()
	ids, err := seedCases(ctx, db, o.apiCases, set.Open)
	if err != nil {
		return set, nil, err
	}
	set.CaseSeedRate = float64(len(ids)) / time.Since(t0).Seconds()
	if first {
		n, rate, cut, err := seedEvents(ctx, db, o)
		if err != nil {
			return set, nil, err
		}
		res.EventsStored, res.SeedRate, res.SeedCut = n, rate, cut
		o.logf("api: %d events stored (%.0f events/s%s)", n, rate, map[bool]string{true: ", cut by the seeding budget"}[cut])
	}
	o.logf("api: %d cases, %d open", len(ids), set.Open)

	token, err := o.token("C9001", "compliance")
	if err != nil {
		return set, nil, err
	}
	listPath := "/api/v1/cases?status=open&severity=high"
	getPath := func(r *rand.Rand) string { return "/api/v1/cases/" + ids[r.IntN(len(ids))] }
	listBody, err := fetch(ctx, c.base+listPath, token)
	if err != nil {
		return set, nil, err
	}
	getBody, err := fetch(ctx, c.base+getPath(rand.New(rand.NewPCG(1, 1))), token)
	if err != nil {
		return set, nil, err
	}
	type row struct {
		name string
		ref  bool
		base string
		path func(*rand.Rand) string
		size int
	}
	rows := []row{
		{fmt.Sprintf("GET %s (%d open of %d)", listPath, set.Open, set.Cases), false, c.base, func(*rand.Rand) string { return listPath }, len(listBody)},
		{fmt.Sprintf("GET /api/v1/cases/{id} (%d cases)", set.Cases), false, c.base, getPath, len(getBody)},
	}
	var refs []loadResult
	if first {
		bare, err := startBareGin(listBody, getBody)
		if err != nil {
			return set, nil, err
		}
		defer bare.Close()
		rows = []row{
			{"bare Gin, fixed body (list size)", true, bare.URL, func(*rand.Rand) string { return "/list" }, len(listBody)},
			rows[0],
			{"bare Gin, fixed body (case size)", true, bare.URL, func(*rand.Rand) string { return "/case" }, len(getBody)},
			rows[1],
		}
	}
	stopParentProfile := func() {}
	if o.profileDir != "" && srv.inProcess {
		stopParentProfile = startCPUProfile(filepath.Join(o.profileDir, fmt.Sprintf("api-%d-servers-cpu.pprof", set.Open)))
	}
	defer stopParentProfile()
	for _, l := range rows {
		var cmds *commandWatch
		if !l.ref {
			cmds = watchCommands(c.base)
		}
		r := load(ctx, l.base, l.path, token, o.concurrency, o.apiDuration, o.apiMaxRequests)
		r.Name, r.Reference, r.Bytes = l.name, l.ref, l.size
		if cmds != nil {
			r.Commands, r.CommandsErr = cmds.stop()
			writeCommands(o.profileDir, fmt.Sprintf("api-%s-%d-commands.tsv", map[bool]string{true: "list", false: "get"}[strings.Contains(l.name, "?")], set.Open), r.Commands)
		}
		if l.ref {
			refs = append(refs, r)
		} else {
			set.Rows = append(set.Rows, r)
		}
		o.logf("api: %-60s %6.0f req/s  p50 %-10s p99 %-10s (%d requests, %d errors)", l.name, r.RPS, r.P50, r.P99, r.Requests, r.Errors)
		if !l.ref {
			o.logf("api: top MongoDB commands: %s", commandsSummary(r.Commands, 6))
		}
	}
	set.RSS = c.peakRSS()
	set.AuditEntries, _ = db.DB.Collection("audit").CountDocuments(ctx, bson.D{})
	return set, refs, nil
}

// seedCases creates n cases through the case store in bulk (the same
// documents detection writes), one to three findings each: `open` of them open (one
// in ten of those in review), the others cleared or confirmed.
func seedCases(ctx context.Context, db *mongostore.DB, n, open int) ([]string, error) {
	store := mongostore.NewCaseStore(db)
	r := rand.New(rand.NewPCG(3, 3))
	now := time.Now().UTC()
	cfg := detect.DefaultConfig()
	cases := make([]review.Case, n)
	for i := range cases {
		emp := fmt.Sprintf("A%05d", i)
		var fs []detect.Finding
		for j := range 1 + r.IntN(3) {
			day := civil.Of(now.AddDate(0, 0, -r.IntN(300)))
			rule := []string{detect.RuleExpense, detect.RuleExpense, detect.RuleBlackout, detect.RuleUnapproved}[r.IntN(4)]
			sev := []string{detect.SeverityMedium, detect.SeverityHigh}[r.IntN(2)]
			fs = append(fs, detect.Finding{
				ID: fmt.Sprintf("f-%s-%d", emp, j), EmployeeID: emp, Rule: rule, Severity: sev, Score: 30 + r.IntN(40),
				Summary:    "Card payment of CNY 3000.00 at GLG expert call (GLG, expert network) on " + string(day) + " without an approved disclosure",
				OccurredOn: day, Counterparty: "GLG", CounterpartyType: "expert_network",
				EventRefs: []event.Ref{{Source: srcCard, ID: fmt.Sprintf("t-%s-%d", emp, j)}},
			})
		}
		c := review.Case{ID: fmt.Sprintf("case-%06d", i), EmployeeID: emp, EmployeeName: fmt.Sprintf("员工%05d", i), Department: pick(r, depts),
			Status: review.StatusOpen, Findings: fs, OpenedAt: now, UpdatedAt: now,
			History: []review.Change{{At: now, Actor: review.System, Action: review.ActionOpened, To: review.StatusOpen, Reason: "finding(s) without an approved disclosure"}}}
		c.Score, c.Severity = detect.Score(cfg, fs)
		switch k := r.IntN(10); {
		case i >= open && k < 7:
			_ = c.Decide("C9002", review.StatusCleared, "declared late; approved", now)
		case i >= open:
			_ = c.Decide("C9002", review.StatusConfirmed, "undeclared paid engagement", now)
		case k == 0:
			_ = c.Assign("C9002", "", now)
		}
		cases[i] = c
	}
	// In bulk (CaseStore.CreateMany): on the facet queue one change per
	// facet per 500 cases instead of one per case.
	if err := store.CreateMany(ctx, cases); err != nil {
		return nil, fmt.Errorf("seed cases: %w", err)
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.ID
	}
	return ids, nil
}

// seedEvents inserts o.apiEvents stored events (copies of a generated set
// under other ids) with two concurrent InsertMany streams, stopping early
// when o.seedBudget runs out.
func seedEvents(ctx context.Context, db *mongostore.DB, o options_) (int, float64, bool, error) {
	base, _, err := generate(min(o.apiEvents, 50_000), "A", 4, time.Now(), topicsFor("seed"))
	if err != nil {
		return 0, 0, false, err
	}
	coll := db.DB.Collection("events")
	start := time.Now()
	var stored atomic.Int64
	cut := false
	for copyN := 0; int(stored.Load()) < o.apiEvents; copyN++ {
		if time.Since(start) > o.seedBudget {
			cut = true
			break
		}
		docs := rawDocs(base, fmt.Sprintf("/%d", copyN))
		docs = docs[:min(len(docs), o.apiEvents-int(stored.Load()))]
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w * 1000; i < len(docs); i += 2000 {
					if _, err := coll.InsertMany(ctx, docs[i:min(i+1000, len(docs))], options.InsertMany().SetOrdered(false)); err != nil {
						errs <- err
						return
					}
					stored.Add(int64(min(i+1000, len(docs)) - i))
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return int(stored.Load()), 0, false, fmt.Errorf("seed events: %w", err)
		}
	}
	n := int(stored.Load())
	return n, float64(n) / time.Since(start).Seconds(), cut, nil
}

func fetch(ctx context.Context, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, nil
}

type bareServer struct {
	URL string
	srv *http.Server
}

func (b *bareServer) Close() { _ = b.srv.Close() }

// startBareGin serves the two bodies from a Gin engine with nothing else:
// what the HTTP stack costs on its own.
func startBareGin(list, one []byte) (*bareServer, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/list", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", list) })
	e.GET("/case", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", one) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &bareServer{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// load sends GETs from `workers` goroutines for d (and at most maxReq
// requests in all), over keep-alive connections.
// minSamples is the fewest requests a latency row is made of, and
// maxLoadTime how long a row may run to reach it.
const (
	minSamples  = 200
	maxLoadTime = 60 * time.Second
)

func load(ctx context.Context, base string, path func(*rand.Rand) string, token string, workers int, d time.Duration, maxReq int) loadResult {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr string
		issued   atomic.Int64
		wg       sync.WaitGroup
	)
	// Requests start until d is over and at least minSamples were issued
	// (a p99 of fewer is its maximum), but never after maxLoadTime; one in
	// flight then is let finish (up to the client timeout), so slow
	// endpoints still report latencies.
	start := time.Now()
	deadline := start.Add(d)
	hardStop := start.Add(max(d, maxLoadTime))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil && (time.Now().Before(deadline) || issued.Load() < minSamples && time.Now().Before(hardStop)) && issued.Add(1) <= int64(maxReq) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path(r), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if ctx.Err() != nil {
					break // interrupted, not an answer
				}
				if err != nil {
					bad++
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	p50, p99, _ := percentiles(lat)
	return loadResult{Requests: len(lat), Errors: errs, RPS: float64(len(lat)) / el.Seconds(), P50: p50, P99: p99, FirstErr: firstErr}
}

// percentiles returns p50, p99 and max (nearest rank).
func percentiles(xs []time.Duration) (p50, p99, mx time.Duration) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return at(0.50).Round(100 * time.Microsecond), at(0.99).Round(100 * time.Microsecond), s[len(s)-1]
}
