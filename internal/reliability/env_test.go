package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// enabledVar gates the suite: it starts processes and takes minutes.
const enabledVar = "MOONLIGHT_RELIABILITY"

// signingKey is the dev signing key the served processes use (serve refuses
// the demo key).
const signingKey = "reliability-suite-signing-key-0123456789abcdef"

func TestMain(m *testing.M) {
	start := time.Now()
	code := m.Run()
	if os.Getenv(enabledVar) == "1" {
		printSummary(os.Stdout, start)
	}
	os.Exit(code)
}

// requireSuite skips the test unless the suite is enabled, and bounds it.
func requireSuite(t *testing.T, budget time.Duration) context.Context {
	t.Helper()
	if os.Getenv(enabledVar) != "1" {
		t.Skipf("reliability suite: set %s=1 (deployments/reliability.sh does)", enabledVar)
	}
	if dl, ok := t.Deadline(); ok && time.Until(dl) < budget {
		budget = time.Until(dl) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	t.Cleanup(cancel)
	return ctx
}

// repoRoot is the directory holding go.mod.
var repoRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
})

// binary is the moonlight executable under test: MOONLIGHT_BIN, or built once
// into a temporary directory.
var binary = sync.OnceValues(func() (string, error) {
	if b := os.Getenv("MOONLIGHT_BIN"); b != "" {
		return filepath.Abs(b)
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "moonlight-reliability-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "moonlight")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/moonlight")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, b)
	}
	return out, nil
})

func outputDir(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test-output", "reliability")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// proc is a child process whose output goes to a log file.
type proc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

// startProc runs the moonlight binary with args. The environment carries no
// MOONLIGHT_* variable of the test's own, only env (config rejects unknown ones).
func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("moonlight binary: %v", err)
	}
	logPath := filepath.Join(outputDir(t), "logs", strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "=== %s start %s %s\n", time.Now().Format(time.RFC3339Nano), name, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MOONLIGHT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group: a Ctrl-C of the test run is not delivered twice.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath}
	go func() {
		_ = cmd.Wait()
		fmt.Fprintf(f, "=== %s exit %s: %v\n", time.Now().Format(time.RFC3339Nano), name, cmd.ProcessState)
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to grace, then kills.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.t.Logf("%s did not stop within %s; killing it", p.name, grace)
		p.kill()
	}
}

// rssKB is the process's resident set size (VmRSS) in KiB.
func rssKB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitTCP(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not reachable: %w", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// database is a standalone FerretDB process (`moonlight embedded-mongo`) that
// can be stopped and started again on the same port and files.
type database struct {
	t    *testing.T
	addr string
	dir  string
	p    *proc
}

func startDatabase(ctx context.Context, t *testing.T) *database {
	t.Helper()
	d := &database{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir()}
	d.start(ctx)
	return d
}

func (d *database) uri() string { return "mongodb://" + d.addr + "/" }

func (d *database) start(ctx context.Context) {
	d.t.Helper()
	d.p = startProc(d.t, "ferretdb", nil, "embedded-mongo", "--addr", d.addr, "--data", d.dir)
	if err := waitTCP(ctx, d.addr); err != nil {
		d.t.Fatalf("embedded-mongo: %v (log %s)", err, d.p.logPath)
	}
}

// kafkaBrokers is real Kafka (MOONLIGHT_TEST_KAFKA_BROKERS, set by
// deployments/reliability.sh) or, without it, a standalone kfake process.
func kafkaBrokers(ctx context.Context, t *testing.T) []string {
	t.Helper()
	if b := os.Getenv("MOONLIGHT_TEST_KAFKA_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startProc(t, "kfake", nil, "embedded-kafka", "--addr", addr)
	if err := waitTCP(ctx, addr); err != nil {
		t.Fatalf("embedded-kafka: %v (log %s)", err, p.logPath)
	}
	t.Logf("MOONLIGHT_TEST_KAFKA_BROKERS unset: using the embedded broker at %s", addr)
	return []string{addr}
}

// realKafka says whether the tests run against Apache Kafka.
func realKafka() bool { return os.Getenv("MOONLIGHT_TEST_KAFKA_BROKERS") != "" }

// topicSet names one test's input topics.
type topicSet struct{ HR, Expense, Intel string }

func newTopics(prefix string) topicSet {
	base := testenv.UniqueName("rel_" + prefix)
	return topicSet{HR: base + ".hr", Expense: base + ".expense", Intel: base + ".intel"}
}

func (ts topicSet) all() []string { return []string{ts.HR, ts.Expense, ts.Intel} }

func (ts topicSet) dlq() []string {
	return []string{ts.HR + ".dlq", ts.Expense + ".dlq", ts.Intel + ".dlq"}
}

// serviceOpts configures one `moonlight serve` process.
type serviceOpts struct {
	brokers  []string
	mongoURI string
	database string
	group    string
	topics   topicSet
	env      []string // extra MOONLIGHT_* settings
}

// service is a running `moonlight serve`.
type service struct {
	*proc
	addr string
}

func (o serviceOpts) environ(addr string) []string {
	return append([]string{
		"MOONLIGHT_HTTP_ADDR=" + addr,
		"MOONLIGHT_KAFKA_BROKERS=" + strings.Join(o.brokers, ","),
		"MOONLIGHT_KAFKA_GROUP_ID=" + o.group,
		"MOONLIGHT_KAFKA_TOPICS_HR=" + o.topics.HR,
		"MOONLIGHT_KAFKA_TOPICS_EXPENSE=" + o.topics.Expense,
		"MOONLIGHT_KAFKA_TOPICS_INTEL=" + o.topics.Intel,
		// 6 s is Kafka's minimum: a killed member's partitions move on soon.
		"MOONLIGHT_KAFKA_SESSION_TIMEOUT=6s",
		"MOONLIGHT_MONGO_URI=" + o.mongoURI,
		"MOONLIGHT_MONGO_DATABASE=" + o.database,
		"MOONLIGHT_AUTH_DEV_SIGNING_KEY=" + signingKey,
		"MOONLIGHT_LOG_LEVEL=info",
	}, o.env...)
}

// startService starts `moonlight serve` and waits until it answers HTTP
// (it listens only once MongoDB and Kafka were reached and topics exist).
func startService(ctx context.Context, t *testing.T, name string, o serviceOpts) *service {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// Dev tokens are these tests' identity provider, so serve runs with
	// --insecure-dev-auth (loopback only, which is where it listens anyway);
	// the loader account is granted every event type and source.
	cfgPath := filepath.Join(t.TempDir(), "moonlight.yaml")
	if err := os.WriteFile(cfgPath, []byte("events:\n  grants:\n    svc-loader: {types: [\"*\"], sources: [\"*\"]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &service{proc: startProc(t, name, o.environ(addr), "serve", "--insecure-dev-auth", "--config", cfgPath), addr: addr}
	for {
		if s.exited() {
			t.Fatalf("%s exited during start-up; log %s", name, s.logPath)
		}
		resp, err := httpGet(ctx, "http://"+addr+"/healthz")
		if err == nil && resp.StatusCode == http.StatusOK {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not answer /healthz: %v; log %s", name, ctx.Err(), s.logPath)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type response struct {
	StatusCode int
	Body       []byte
}

func httpGet(ctx context.Context, url string) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return response{StatusCode: resp.StatusCode, Body: b}, err
}

// metrics is one scrape of /metrics: series ("name{labels}") to value.
type metrics map[string]float64

func (s *service) metrics(ctx context.Context) (metrics, error) {
	resp, err := httpGet(ctx, "http://"+s.addr+"/metrics")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %d", resp.StatusCode)
	}
	m := metrics{}
	for _, line := range strings.Split(string(resp.Body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, nil
}

// sum adds every series of name whose labels contain all of the given
// `key="value"` pairs.
func (m metrics) sum(name string, labels ...string) float64 {
	var total float64
	for series, v := range m {
		n, lbl, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(lbl, l) {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// figures are a scenario's results: logged and written to
// test-output/reliability/<scenario>.json when the test ends, failed or not.
type figures struct {
	Scenario string         `json:"scenario"`
	Passed   bool           `json:"passed"`
	Seconds  float64        `json:"seconds"`
	Summary  string         `json:"summary"`
	Kafka    string         `json:"kafka"`
	Values   map[string]any `json:"figures"`
	keys     []string
}

// report returns the scenario's figures; they are written at cleanup.
func report(t *testing.T, scenario string) *figures {
	t.Helper()
	f := &figures{Scenario: scenario, Values: map[string]any{}, Kafka: "embedded kfake"}
	if realKafka() {
		f.Kafka = "Apache Kafka " + os.Getenv("MOONLIGHT_TEST_KAFKA_BROKERS")
	}
	start := time.Now()
	dir := outputDir(t)
	t.Cleanup(func() {
		f.Passed = !t.Failed()
		f.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
		for _, k := range f.keys {
			t.Logf("figure %-28s %v", k, f.Values[k])
		}
		t.Logf("summary: %s", f.Summary)
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Errorf("figures: %v", err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, scenario+".json"), append(b, '\n'), 0o644); err != nil {
			t.Errorf("write figures: %v", err)
		}
	})
	return f
}

func (f *figures) set(key string, v any) {
	if _, ok := f.Values[key]; !ok {
		f.keys = append(f.keys, key)
	}
	f.Values[key] = v
}

// printSummary prints the figures files written by this run as a table.
func printSummary(w io.Writer, since time.Time) {
	root, err := repoRoot()
	if err != nil {
		return
	}
	paths, _ := filepath.Glob(filepath.Join(root, "test-output", "reliability", "*.json"))
	var rows []figures
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.ModTime().Before(since) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var f figures
		if json.Unmarshal(b, &f) == nil {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Scenario < rows[j].Scenario })
	fmt.Fprintf(w, "\nreliability suite (%s; figures in test-output/reliability/):\n", rows[0].Kafka)
	fmt.Fprintf(w, "%-16s %-6s %8s  %s\n", "scenario", "result", "seconds", "figures")
	for _, r := range rows {
		res := "FAIL"
		if r.Passed {
			res = "ok"
		}
		fmt.Fprintf(w, "%-16s %-6s %8.1f  %s\n", r.Scenario, res, r.Seconds, r.Summary)
	}
}
