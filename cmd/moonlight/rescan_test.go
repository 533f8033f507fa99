package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestRescanCommandRunsAJobToTheEnd: `moonlight rescan` seeds the rule set
// if needed, starts a job, works on it and reports it done; run again, it
// starts the next job.
func TestRescanCommandRunsAJobToTheEnd(t *testing.T) {
	db := testenv.Database(t)
	cfg := config.Default()
	cfg.Mongo.URI, cfg.Mongo.Database = testenv.MongoURI(t), db.Name()
	for _, want := range []string{"rescan-000001", "rescan-000002"} {
		var out, progress bytes.Buffer
		if err := runRescan(t.Context(), cfg, &out, &progress); err != nil {
			t.Fatal(err)
		}
		if s := out.String(); !strings.Contains(s, "started "+want) || !strings.Contains(s, want+": rescanned 0 events") {
			t.Errorf("output = %q, want %s started and done", s, want)
		}
	}
}
