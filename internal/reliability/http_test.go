package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestHTTPLoad sends concurrent valid, malformed and oversized requests to
// POST /api/v1/events and the GET endpoints: every answer must be the right
// one (never a 5xx for bad input), the server must stay up, its memory
// bounded, and every accepted event must end up stored.
func TestHTTPLoad(t *testing.T) {
	ctx := requireSuite(t, 5*time.Minute)
	f := report(t, "http-load")
	brokers := kafkaBrokers(ctx, t)
	db := startDatabase(ctx, t)
	ts := newTopics("http")
	createTopics(ctx, t, brokers, ts)
	opts := serviceOpts{brokers: brokers, mongoURI: db.uri(), database: testenv.UniqueName("http"), group: testenv.UniqueName("http"), topics: ts}
	svc := startService(ctx, t, "serve", opts)
	base := "http://" + svc.addr

	cfg, err := config.Load("", []string{"MOONLIGHT_AUTH_DEV_SIGNING_KEY=" + signingKey})
	if err != nil {
		t.Fatal(err)
	}
	ingestTok, err := auth.IssueDevToken(cfg.Auth, "svc-loader", []string{auth.RoleIngest}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	employeeTok, err := auth.IssueDevToken(cfg.Auth, "E1001", []string{auth.RoleEmployee}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	const requests, workers = 6000, 16
	pool := sampleEvents(3001, time.Now())
	// The last event is the one unauthorised requests carry: never accepted.
	denied := json.RawMessage(pool[len(pool)-1].Value)
	pool = pool[:len(pool)-1]
	var next atomic.Int64 // next unused event of pool
	take := func(n int) []json.RawMessage {
		var out []json.RawMessage
		for range n {
			i := int(next.Add(1)) - 1
			if i >= len(pool) {
				t.Errorf("event pool of %d exhausted", len(pool))
				break
			}
			out = append(out, pool[i].Value)
		}
		return out
	}
	bad, _ := poisonMessage(t, event.NewDecoder(0), ts.HR, nil, 4) // invalid_data
	oversized := bytes.Repeat([]byte(" "), 200<<10)
	oversized[0], oversized[len(oversized)-1] = '[', ']'
	tooMany := "[" + strings.Repeat("{},", 1000) + "{}]"

	type kind struct {
		name   string
		method string
		path   string
		token  string
		body   func() []byte
		want   int
		// accepted is how many events a 202 must accept (-1: not checked).
		accepted int
	}
	marshal := func(v any) []byte { b, _ := json.Marshal(v); return b }
	kinds := []kind{
		{"valid", "POST", "/api/v1/events", ingestTok, func() []byte { return marshal(take(5)) }, http.StatusAccepted, 5},
		{"mixed", "POST", "/api/v1/events", ingestTok, func() []byte { return marshal(append(take(2), bad.Value)) }, http.StatusAccepted, 2},
		{"malformed_json", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte(`[{"specversion":`) }, http.StatusBadRequest, -1},
		{"not_an_array", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte(`{"a":1}`) }, http.StatusBadRequest, -1},
		{"empty_array", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte(`[]`) }, http.StatusBadRequest, -1},
		// Invalid UTF-8 in a string is a JSON array of one bad event: 202 with the
		// event rejected (encoding/json reads it as U+FFFD).
		{"invalid_utf8_event", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte{'[', '"', 0xff, 0xfe, '"', ']'} }, http.StatusAccepted, 0},
		{"binary_body", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte{0xff, 0xfe, 0x00, 0x01} }, http.StatusBadRequest, -1},
		{"oversized_200KiB", "POST", "/api/v1/events", ingestTok, func() []byte { return oversized }, http.StatusRequestEntityTooLarge, -1},
		{"too_many_events", "POST", "/api/v1/events", ingestTok, func() []byte { return []byte(tooMany) }, http.StatusRequestEntityTooLarge, -1},
		{"no_token", "POST", "/api/v1/events", "", func() []byte { return marshal([]json.RawMessage{denied}) }, http.StatusUnauthorized, -1},
		{"wrong_role", "POST", "/api/v1/events", employeeTok, func() []byte { return marshal([]json.RawMessage{denied}) }, http.StatusForbidden, -1},
		{"healthz", "GET", "/healthz", "", nil, http.StatusOK, -1},
		{"readyz", "GET", "/readyz", "", nil, http.StatusOK, -1},
		{"metrics", "GET", "/metrics", "", nil, http.StatusOK, -1},
		{"openapi", "GET", "/openapi.yaml", "", nil, http.StatusOK, -1},
		{"unknown_path", "GET", "/api/v1/no-such-thing", ingestTok, nil, http.StatusNotFound, -1},
	}

	// Memory of the server process, sampled throughout.
	pid := svc.pid()
	before, err := rssKB(pid)
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	peak.Store(before)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if kb, err := rssKB(pid); err == nil && kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var (
		mu        sync.Mutex
		byKind    = map[string]map[int]int{}
		wrong     []string
		accepted  int
		latencies []time.Duration
	)
	lctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var n atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				i := int(n.Add(1)) - 1
				if i >= requests {
					return
				}
				k := kinds[i%len(kinds)]
				var body io.Reader
				if k.body != nil {
					body = bytes.NewReader(k.body())
				}
				req, _ := http.NewRequestWithContext(lctx, k.method, base+k.path, body)
				if k.token != "" {
					req.Header.Set("Authorization", "Bearer "+k.token)
				}
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				status, acc := 0, -1
				if err == nil {
					var res struct {
						Accepted int `json:"accepted"`
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					if status == http.StatusAccepted && json.Unmarshal(b, &res) == nil {
						acc = res.Accepted
					}
				}
				d := time.Since(t0)
				mu.Lock()
				if byKind[k.name] == nil {
					byKind[k.name] = map[int]int{}
				}
				byKind[k.name][status]++
				latencies = append(latencies, d)
				switch {
				case err != nil:
					wrong = append(wrong, fmt.Sprintf("%s: %v", k.name, err))
				case status != k.want:
					wrong = append(wrong, fmt.Sprintf("%s: %d, want %d", k.name, status, k.want))
				case k.accepted >= 0 && acc != k.accepted:
					wrong = append(wrong, fmt.Sprintf("%s: accepted %d, want %d", k.name, acc, k.accepted))
				}
				if status == http.StatusAccepted {
					accepted += acc
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if lctx.Err() != nil {
		t.Errorf("load did not finish in time: %d of %d requests sent", n.Load(), requests)
	}
	time.Sleep(2 * time.Second)
	close(stopSampling)
	<-sampled
	after, err := rssKB(pid)
	if err != nil {
		t.Fatalf("server gone after the load: %v", err)
	}
	if svc.exited() {
		t.Fatalf("the server exited; log %s", svc.logPath)
	}
	if r, err := httpGet(ctx, base+"/healthz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/healthz after the load: %v %v", r.StatusCode, err)
	}

	fivexx := 0
	var names []string
	for name, st := range byKind {
		names = append(names, name)
		for code, c := range st {
			if code >= 500 {
				fivexx += c
			}
		}
	}
	sort.Strings(names)
	var perKind []string
	for _, name := range names {
		perKind = append(perKind, fmt.Sprintf("%s %v", name, byKind[name]))
	}
	for i, w := range wrong {
		if i == 10 {
			t.Errorf("… %d more wrong answers", len(wrong)-10)
			break
		}
		t.Errorf("wrong answer: %s", w)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	p99 := latencies[len(latencies)*99/100]

	// Every accepted event reaches Kafka and the database, once.
	waitDrained(ctx, t, brokers, opts.group, ts, func() bool { return true }, svc)
	svc.stop(30 * time.Second)
	want := map[event.Ref]bool{}
	for _, m := range pool[:min(int(next.Load()), len(pool))] {
		e, err := event.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		want[e.Ref] = true
	}
	c := checkStored(ctx, t, connect(t, db.uri(), opts.database), want)

	const peakLimitMB, growthLimitMB = 256, 100
	f.set("requests", len(latencies))
	f.set("workers", workers)
	f.set("seconds", elapsed.Round(100*time.Millisecond).Seconds())
	f.set("requests_per_second", int(float64(len(latencies))/elapsed.Seconds()))
	f.set("p99_ms", p99.Milliseconds())
	f.set("status_by_kind", strings.Join(perKind, "; "))
	f.set("wrong_answers", len(wrong))
	f.set("5xx", fivexx)
	f.set("events_accepted", accepted)
	c.record(f)
	f.set("rss_before_mb", before/1024)
	f.set("rss_peak_mb", peak.Load()/1024)
	f.set("rss_after_mb", after/1024)
	if peak.Load()/1024 > peakLimitMB || (after-before)/1024 > growthLimitMB {
		t.Errorf("RSS before %d MB, peak %d MB, after %d MB: want peak <= %d MB and growth <= %d MB",
			before/1024, peak.Load()/1024, after/1024, peakLimitMB, growthLimitMB)
	}
	if fivexx > 0 {
		t.Errorf("%d answers were 5xx", fivexx)
	}
	if c.Stored != accepted || c.Duplicated != 0 || c.Unexpected != 0 {
		t.Errorf("accepted %d events, stored %d (duplicated %d, unexpected %d)", accepted, c.Stored, c.Duplicated, c.Unexpected)
	}
	f.Summary = fmt.Sprintf("%d requests (%d kinds, %d workers) in %.1fs: wrong %d, 5xx %d, p99 %d ms; %d events accepted, %d stored; RSS %d -> peak %d -> %d MB",
		len(latencies), len(kinds), workers, elapsed.Seconds(), len(wrong), fivexx, p99.Milliseconds(), accepted, c.Stored, before/1024, peak.Load()/1024, after/1024)
}
