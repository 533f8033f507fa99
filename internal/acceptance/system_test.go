package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/service"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// system is the whole service running in-process: its own topics, consumer
// group and database on the shared test broker and database server.
type system struct {
	t    *testing.T
	cfg  config.Config
	svc  *service.Service
	base string
	http *http.Client
}

// logWriter sends the service's warnings to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tweaks change the service after it is built and before it runs (an
// injected clock, an outbox).
func startSystem(t *testing.T, tweaks ...func(*service.Service)) *system {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.Brokers = testenv.KafkaBrokers(t)
	cfg.Kafka.GroupID = testenv.UniqueName("accept")
	cfg.Kafka.Topics = config.Topics{HR: testenv.UniqueName("hr"), Expense: testenv.UniqueName("expense"), Intel: testenv.UniqueName("intel")}
	cfg.Kafka.BatchWait = 50 * time.Millisecond
	cfg.Mongo.URI = testenv.MongoURI(t)
	cfg.Mongo.Database = testenv.UniqueName("accept")
	cfg.HTTP.ShutdownTimeout = 5 * time.Second
	// These stories read cases by employee id and decide with one reviewer;
	// pseudonyms and four eyes (issue 15) have their own tests
	// (internal/httpapi, internal/web, internal/review privacy tests).
	cfg.Privacy.Pseudonymise = false
	cfg.Review.ConfirmRequiresSecondReviewer = false
	cfg.Auth.Dev.SigningKey = auth.Secret(config.DemoSigningKey)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, cancel := context.WithCancel(context.Background())
	nctx, ncancel := context.WithTimeout(ctx, 30*time.Second)
	defer ncancel()
	svc, err := service.New(nctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start service: %v", err)
	}
	for _, tw := range tweaks {
		tw(svc)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("service stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("service did not stop within 30s of cancellation")
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		if err := svc.Close(cctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, 0); err == nil {
			_ = db.DB.Drop(cctx)
			_ = db.Close(cctx)
		}
	})
	return &system{t: t, cfg: cfg, svc: svc, base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 20 * time.Second}}
}

// token is a real signed token of the development identity provider.
func (s *system) token(subject string, roles ...string) string {
	s.t.Helper()
	tok, err := auth.IssueDevToken(s.cfg.Auth, subject, roles, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// call sends a request and decodes a JSON answer into out (when not nil),
// failing the test unless the status is want.
func (s *system) call(want int, method, path, token string, body any, out any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// produce publishes events to Kafka, as the corporate systems would.
func (s *system) produce(evs ...event.Event) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.svc.Publisher().Publish(ctx, evs); err != nil {
		s.t.Fatalf("produce %d events: %v", len(evs), err)
	}
}

// waitConsumed waits until the service's consumer group has committed every
// message of its topics: offsets are committed only once MongoDB has the
// result, so everything produced before the call has been processed.
func (s *system) waitConsumed(timeout time.Duration) {
	s.t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(s.cfg.Kafka.Brokers...), Timeout: 5 * time.Second}
	topics := s.cfg.Kafka.Topics.All()
	deadline := time.Now().Add(timeout)
	lag := ""
	for time.Now().Before(deadline) {
		var err error
		if lag, err = s.lag(client, topics); err == nil && lag == "" {
			return
		}
		if err != nil {
			lag = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("consumer did not catch up within %s: %s", timeout, lag)
}

// lag describes the partitions not fully committed ("" when none).
func (s *system) lag(client *kafka.Client, topics []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	parts := make([]int, s.cfg.Kafka.Partitions)
	offReq := map[string][]kafka.OffsetRequest{}
	fetchReq := map[string][]int{}
	for _, t := range topics {
		for p := range parts {
			offReq[t] = append(offReq[t], kafka.LastOffsetOf(p))
			fetchReq[t] = append(fetchReq[t], p)
		}
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offReq})
	if err != nil {
		return "", err
	}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: s.cfg.Kafka.GroupID, Topics: fetchReq})
	if err != nil {
		return "", err
	}
	var behind []string
	for _, t := range topics {
		done := map[int]int64{}
		for _, p := range committed.Topics[t] {
			done[p.Partition] = p.CommittedOffset
		}
		for _, p := range ends.Topics[t] {
			if p.LastOffset > 0 && done[p.Partition] < p.LastOffset {
				behind = append(behind, fmt.Sprintf("%s/%d at %d of %d", t, p.Partition, done[p.Partition], p.LastOffset))
			}
		}
	}
	return strings.Join(behind, ", "), nil
}

// eventually polls cond until it holds, failing with its last explanation.
func (s *system) eventually(what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	s.t.Helper()
	start := time.Now()
	why := ""
	for time.Since(start) < timeout {
		var ok bool
		if ok, why = cond(); ok {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s: not within %s: %s", what, timeout, why)
	return 0
}
