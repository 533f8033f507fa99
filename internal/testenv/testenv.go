// Package testenv gives integration tests real servers: the embedded FerretDB
// and kfake by default, or external ones named by environment variables
// (MOONLIGHT_TEST_MONGO_URI, MOONLIGHT_TEST_KAFKA_BROKERS). Never mocks.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/embedded"
)

var (
	mongoOnce sync.Once
	mongoURI  string
	mongoErr  error

	kafkaOnce  sync.Once
	kafkaAddrs []string
	kafkaErr   error
)

// MongoURI returns the URI of the database under test, starting the embedded
// FerretDB (one per test binary, files in a temp dir) unless
// MOONLIGHT_TEST_MONGO_URI is set.
func MongoURI(t testing.TB) string {
	t.Helper()
	mongoOnce.Do(func() {
		if u := os.Getenv("MOONLIGHT_TEST_MONGO_URI"); u != "" {
			mongoURI = u
			return
		}
		removeStaleDirs()
		dir, err := os.MkdirTemp("", fmt.Sprintf("moonlight-ferretdb-%d-", os.Getpid()))
		if err != nil {
			mongoErr = err
			return
		}
		db, err := embedded.StartDatabase("127.0.0.1:0", dir, nil)
		if err != nil {
			mongoErr = err
			return
		}
		mongoURI = db.URI()
	})
	if mongoErr != nil {
		t.Fatalf("start test database: %v", mongoErr)
	}
	return mongoURI
}

// removeStaleDirs deletes the database directories of earlier test binaries
// that have exited (the server lives as long as its binary, which has no
// hook to remove it at exit).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "moonlight-ferretdb-*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "moonlight-ferretdb-%d-", &pid); err != nil || pid <= 0 {
			_ = os.RemoveAll(d) // from before directories carried their pid
			continue
		}
		if pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

// Database returns a fresh, uniquely named database for this test, dropped at cleanup.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	uri := MongoURI(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(60 * time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	db := client.Database(UniqueName("t"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return db
}

// KafkaBrokers returns broker addresses: MOONLIGHT_TEST_KAFKA_BROKERS
// (comma-separated) or an embedded kfake broker started once per test binary.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	kafkaOnce.Do(func() {
		if b := os.Getenv("MOONLIGHT_TEST_KAFKA_BROKERS"); b != "" {
			kafkaAddrs = strings.Split(b, ",")
			return
		}
		br, err := embedded.StartBroker(embedded.BrokerConfig{Addr: "127.0.0.1:0", Partitions: 3})
		if err != nil {
			kafkaErr = err
			return
		}
		kafkaAddrs = br.Addrs()
	})
	if kafkaErr != nil {
		t.Fatalf("start test broker: %v", kafkaErr)
	}
	return kafkaAddrs
}

// UniqueName returns prefix plus random hex, for databases, topics and groups.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%s", prefix, hex.EncodeToString(b))
}
