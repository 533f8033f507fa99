// Package idempotency is the contract of Idempotency-Key records: a
// caller's key claimed once, with the answer stored for replays. The
// MongoDB store is mongostore.IdempotencyStore.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Record is one caller's key: the request it was first used for, and the
// answer once there is one (Status 0 while the first request runs).
type Record struct {
	ID          string
	RequestHash string
	Status      int
	Body        []byte
	At          time.Time
}

// Store keeps the records.
type Store interface {
	// Claim inserts record id for requestHash; claimed is true for the one
	// caller whose insert made it, everyone else gets the stored record.
	// owner is the person the stored answer is about (the caller): the
	// retention purge and a subject-access export find the record by it.
	Claim(ctx context.Context, id, owner, requestHash string, at time.Time) (rec Record, claimed bool, err error)
	// Complete stores the answer on record id.
	Complete(ctx context.Context, id string, status int, body []byte) error
}

// ID is the record id of a caller's key on one operation: a hash, so the
// key is not stored in the clear (the caller is, as the record's owner:
// the answer is their data, exported and purged with it).
func ID(operation, caller, key string) string {
	h := sha256.Sum256([]byte(operation + "\x00" + caller + "\x00" + key))
	return "idem-" + hex.EncodeToString(h[:16])
}

// Hash is the fingerprint of a request body.
func Hash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}
