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
	"strings"
	"sync"
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
		dir, err := os.MkdirTemp("", "moonlight-ferretdb-")
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
