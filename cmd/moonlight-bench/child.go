package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// The service under test runs in a child process (this binary, `service`
// mode), configured like `moonlight serve` through MOONLIGHT_* variables, so
// its memory and CPU are its own: the embedded broker and database stay in
// the parent, with the load generators.
const (
	envCPUProfile = "BENCH_CPUPROFILE"
	envMemProfile = "BENCH_MEMPROFILE"
)

// serviceMain runs the service until SIGTERM, writing the profiles asked for.
func serviceMain() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if path := os.Getenv(envCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := rpprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			rpprof.StopCPUProfile()
			f.Close()
		}()
	}
	if path := os.Getenv(envMemProfile); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				_ = rpprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Close(cctx)
	}()
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	return svc.Run(ctx, ln)
}

// child is a running service process.
type child struct {
	cmd  *exec.Cmd
	base string // http://host:port
	done chan error
	once sync.Once
	// cpu0 is the CPU time the process had used when the measured part began.
	cpu0 time.Duration
}

// serviceEnv is what a child needs to know.
type serviceEnv struct {
	brokers  []string
	mongoURI string
	database string
	group    string
	topics   topicSet
	key      string // dev signing key
	cpuProf  string
	memProf  string
}

// startChild starts the service and waits until it answers /readyz.
func startChild(ctx context.Context, se serviceEnv, logTo io.Writer) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(exe, "service")
	cmd.Env = append(os.Environ(),
		"MOONLIGHT_HTTP_ADDR="+addr,
		"MOONLIGHT_KAFKA_BROKERS="+strings.Join(se.brokers, ","),
		"MOONLIGHT_KAFKA_GROUP_ID="+se.group,
		"MOONLIGHT_KAFKA_TOPICS_HR="+se.topics.HR,
		"MOONLIGHT_KAFKA_TOPICS_EXPENSE="+se.topics.Expense,
		"MOONLIGHT_KAFKA_TOPICS_INTEL="+se.topics.Intel,
		"MOONLIGHT_MONGO_URI="+se.mongoURI,
		"MOONLIGHT_MONGO_DATABASE="+se.database,
		"MOONLIGHT_AUTH_DEV_SIGNING_KEY="+se.key,
		"MOONLIGHT_LOG_LEVEL=warn",
		envCPUProfile+"="+se.cpuProf,
		envMemProfile+"="+se.memProf,
	)
	cmd.Stdout = logTo
	cmd.Stderr = logTo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start service: %w", err)
	}
	c := &child{cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("service exited at start: %v", err)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, errors.New("service not ready within 60s")
		}
	}
	c.cpu0 = c.cpu()
	return c, nil
}

// peakRSS is the process's peak resident set (VmHWM) so far.
func (c *child) peakRSS() int64 { return peakRSSOf(c.cmd.Process.Pid) }

// cpu is the process's user+system CPU time so far.
func (c *child) cpu() time.Duration { return cpuOf(c.cmd.Process.Pid) }

// stop sends SIGTERM and waits (the child writes its profiles on the way
// out). Calling it again does nothing.
func (c *child) stop() {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
}

// peakRSSOf reads VmHWM of a process (bytes; 0 when unknown).
func peakRSSOf(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuOf reads utime+stime of a process from /proc/<pid>/stat.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after ')' are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
