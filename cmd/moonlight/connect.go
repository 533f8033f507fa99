package main

import (
	"context"
	"fmt"
	"time"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
)

// openMongo is the preamble of the commands that need only MongoDB (purge,
// rescan): connect to cfg's database, check it answers within 30 s and
// ensure the indexes, as `serve` does at start. closeDB disconnects, with
// 10 s of its own so it also runs after ctx is cancelled (Ctrl-C).
func openMongo(ctx context.Context, cfg config.Config) (db *mongostore.DB, closeDB func(), err error) {
	db, err = mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, cfg.Mongo.Timeout)
	if err != nil {
		return nil, nil, err
	}
	closeDB = func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = db.Close(cctx)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Ping(pctx); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("mongodb at %s: %w", config.MaskURI(cfg.Mongo.URI), err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		closeDB()
		return nil, nil, err
	}
	return db, closeDB, nil
}
