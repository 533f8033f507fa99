package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/session"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// TestPurgeCommand: `moonlight purge --dry-run` reads the config as serve
// does (here from the environment), prints per-kind counts and removes
// nothing; `moonlight purge` removes.
func TestPurgeCommand(t *testing.T) {
	db := testenv.Database(t)
	store := mongostore.NewSessionStore(mongostore.Use(db))
	old := time.Now().AddDate(0, 0, -3)
	if err := store.Create(t.Context(), session.Record{ID: "s-old", Subject: "E1", CSRF: "x", Created: old, LastSeen: old, Expires: old}); err != nil {
		t.Fatal(err)
	}
	env := []string{"MOONLIGHT_MONGO_URI=" + testenv.MongoURI(t), "MOONLIGHT_MONGO_DATABASE=" + db.Name()}
	for _, tc := range []struct {
		args     []string
		wantOut  string
		wantLeft bool
	}{
		{args: []string{"purge", "--dry-run"}, wantOut: "(would remove)", wantLeft: true},
		{args: []string{"purge"}, wantOut: "(removed)", wantLeft: false},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), tc.args, env, &out, &errOut); err != nil {
			t.Fatalf("%v: %v (%s)", tc.args, err, errOut.String())
		}
		s := out.String()
		if !strings.Contains(s, tc.wantOut) || !strings.Contains(s, "sessions         1 (sessions 1)") || !strings.Contains(s, "raw_events       0") {
			t.Errorf("%v printed %q, want per-kind counts", tc.args, s)
		}
		_, err := store.Get(t.Context(), "s-old")
		if left := err == nil; left != tc.wantLeft {
			t.Errorf("after %v the expired session is stored = %v, want %v", tc.args, left, tc.wantLeft)
		}
	}
}
