package main

import (
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// openMongo answers a database that does not answer with an error naming
// it (password masked), and on a live one ensures the indexes before the
// command runs.
func TestOpenMongo(t *testing.T) {
	var cfg config.Config
	cfg.Mongo.URI, cfg.Mongo.Database, cfg.Mongo.Timeout = "mongodb://moon:secret@127.0.0.1:1/?serverSelectionTimeoutMS=300", "x", time.Second
	if _, _, err := openMongo(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "mongodb at") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("openMongo on a closed port: %v, want an error naming the masked URI", err)
	}

	db := testenv.Database(t)
	cfg.Mongo.URI, cfg.Mongo.Database = testenv.MongoURI(t), db.Name()
	got, closeDB, err := openMongo(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	specs, err := got.DB.Collection("cases").Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 2 {
		t.Fatalf("cases has %d indexes after openMongo, want _id and the store's", len(specs))
	}
}
