// Package embedded starts the in-process Kafka-protocol broker (kfake) and
// MongoDB-wire database (FerretDB on SQLite) used by `moonlight demo` and the tests.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is an embedded Kafka-protocol broker.
type Broker struct {
	cluster *kfake.Cluster
}

// BrokerConfig configures StartBroker.
type BrokerConfig struct {
	Addr       string   // host:port; port 0 picks a free one
	DataDir    string   // empty keeps everything in memory
	Topics     []string // created at start
	Partitions int32
}

// StartBroker starts kfake listening on cfg.Addr.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	_, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("broker port %q: %w", portStr, err)
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	parts := cfg.Partitions
	if parts <= 0 {
		parts = 3
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(parts)),
		// Room for oversized messages, so the consumer, not the broker, rejects them
		// (to the dead-letter topic with a reason).
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(16 << 20)}),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(parts, cfg.Topics...))
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("broker data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	return &Broker{cluster: c}, nil
}

// Addrs returns the broker's listen addresses.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Close stops the broker.
func (b *Broker) Close() { b.cluster.Close() }

// Database is an embedded FerretDB with the SQLite handler.
type Database struct {
	db     *ferretdb.FerretDB
	cancel context.CancelFunc
	done   chan error
	uri    string
	dir    string
	loop   chan struct{}
}

// StartDatabase starts FerretDB on addr, storing SQLite files in dir.
func StartDatabase(addr, dir string, logger *slog.Logger) (*Database, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("database dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("database dir: %w", err)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("database address %q: %w", addr, err)
	}
	if portStr == "0" {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort(host, strconv.Itoa(p))
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Database{db: f, cancel: cancel, done: make(chan error, 1), dir: abs, loop: make(chan struct{})}
	go func() { d.done <- f.Run(ctx) }()
	d.uri = f.MongoDBURI()
	if err := waitTCP(addr, 10*time.Second); err != nil {
		cancel()
		return nil, err
	}
	// Databases kept from an earlier run get their _id index before the
	// first client; new collections within idIndexInterval.
	if _, err := d.IndexIDs(ctx); err != nil {
		logger.Warn("embedded database: _id index not created", "err", err)
	}
	go func() { defer close(d.loop); d.indexLoop(ctx, logger) }()
	return d, nil
}

// URI is the mongodb:// URI clients use.
func (d *Database) URI() string { return d.uri }

// Close stops the database and waits for it.
func (d *Database) Close() error {
	d.cancel()
	<-d.loop
	select {
	case err := <-d.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	case <-time.After(10 * time.Second):
		return errors.New("embedded database did not stop within 10s")
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not reachable after %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
