// Package ruleset keeps the detection rules (configs/rules.yaml) and the
// counterparty watchlist (configs/watchlist.yaml) as one versioned document
// in MongoDB, so every replica detects with the same rules.
//
// Version N+1 is inserted with N+1 as its _id: of two replicas editing at
// once, exactly one insert succeeds and the other retries on top of it (an
// insert with a unique _id is the arbiter; FerretDB's filtered updates are
// not atomic). Versions are never updated or deleted. Every replica's Holder
// polls for the next number by _id and swaps to it within the poll interval
// (FerretDB has no change streams). The first replica to start seeds
// version 1 from the built-in or configured files.
package ruleset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Sentinel errors; the HTTP layer maps them.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("rule set changed concurrently")
	ErrStale     = errors.New("rule set changed since it was read")
	ErrInvalid   = errors.New("invalid rule set change")
	ErrForbidden = errors.New("only an admin may change the rules")
)

// Changes a version records.
const (
	ChangeSeed          = "seed"
	ChangeAdd           = "counterparty.add"
	ChangeEdit          = "counterparty.edit"
	ChangeRetire        = "counterparty.retire"
	ChangeRules         = "rules.edit"
	ChangeSeedUpgrade   = "seed.upgrade"
	seedUpgradeKeepNote = "built-in files changed; admin edits since the seed are kept, so the new files were not applied"
)

// Retired is a counterparty taken off the watchlist, kept for the record.
type Retired struct {
	Counterparty watchlist.Counterparty
	At           time.Time
	By           string
}

// Version is one stored rule set.
type Version struct {
	Number int64
	// Rules is the rules YAML (detect.ParseConfig).
	Rules []byte
	// Counterparties are the watchlist entries in force.
	Counterparties []watchlist.Counterparty
	Retired        []Retired
	At             time.Time
	Actor          string
	// Change says what made this version (ChangeSeed, ChangeAdd, ...), and
	// Subject which counterparty it concerned.
	Change  string
	Subject string
	// SeedDigest identifies the built-in files this version descends from.
	SeedDigest string
}

// Store keeps versions. Implementations map driver errors to the sentinels.
type Store interface {
	// Latest returns the highest version, or ErrNotFound when none is stored.
	Latest(ctx context.Context) (Version, error)
	// Get returns version n, or ErrNotFound.
	Get(ctx context.Context, n int64) (Version, error)
	// Insert stores v; ErrConflict when v.Number exists already.
	Insert(ctx context.Context, v Version) error
}

// Set is a compiled version: what detection uses.
type Set struct {
	Version   Version
	Config    detect.Config
	Watchlist *watchlist.Watchlist
}

// Compile validates a version's rules and watchlist.
func Compile(v Version) (*Set, error) {
	cfg, err := detect.ParseConfig(v.Rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w: %w", ErrInvalid, err)
	}
	wl, err := watchlist.New(v.Counterparties)
	if err != nil {
		return nil, fmt.Errorf("watchlist: %w: %w", ErrInvalid, err)
	}
	return &Set{Version: v, Config: cfg, Watchlist: wl}, nil
}

// SeedDigest identifies a pair of seed files.
func SeedDigest(rules, watchlistYAML []byte) string {
	h := sha256.New()
	h.Write(rules)
	h.Write([]byte{0})
	h.Write(watchlistYAML)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Seed makes sure a version exists: the first start inserts version 1 from
// the files. When the files changed since the newest version's seed (a
// release with a larger registry) and nobody edited the rules since, a new
// version with the files is inserted; admin edits are never overwritten.
// It returns the newest version and, when it kept the stored version over
// changed files, a note saying so.
func Seed(ctx context.Context, st Store, rules, watchlistYAML []byte, now time.Time) (Version, string, error) {
	wl, err := watchlist.Parse(watchlistYAML)
	if err != nil {
		return Version{}, "", fmt.Errorf("seed watchlist: %w", err)
	}
	if _, err := detect.ParseConfig(rules); err != nil {
		return Version{}, "", fmt.Errorf("seed rules: %w", err)
	}
	digest := SeedDigest(rules, watchlistYAML)
	for attempt := 0; attempt < 5; attempt++ {
		latest, err := st.Latest(ctx)
		change := ChangeSeed
		switch {
		case errors.Is(err, ErrNotFound):
			latest = Version{}
		case err != nil:
			return Version{}, "", err
		case latest.SeedDigest == digest:
			return latest, "", nil
		case latest.Change != ChangeSeed && latest.Change != ChangeSeedUpgrade:
			return latest, seedUpgradeKeepNote, nil
		default:
			change = ChangeSeedUpgrade
		}
		v := Version{Number: latest.Number + 1, Rules: rules, Counterparties: wl.Entries(), At: now,
			Actor: "system", Change: change, SeedDigest: digest}
		err = st.Insert(ctx, v)
		if err == nil {
			return v, "", nil
		}
		if !errors.Is(err, ErrConflict) {
			return Version{}, "", err
		}
		// Another replica seeded at the same time: look again.
	}
	return Version{}, "", fmt.Errorf("seed rules: %w", ErrConflict)
}

// EncodeCounterparties is how versions keep the watchlist: JSON of the
// watchlist package's own entry type, so fields it gains are kept.
func EncodeCounterparties(cs []watchlist.Counterparty) ([]byte, error) {
	if cs == nil {
		cs = []watchlist.Counterparty{}
	}
	return json.Marshal(cs)
}

// DecodeCounterparties reverses EncodeCounterparties, refusing unknown fields.
func DecodeCounterparties(b []byte) ([]watchlist.Counterparty, error) {
	var cs []watchlist.Counterparty
	if err := DecodeStrict(b, &cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// DecodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
