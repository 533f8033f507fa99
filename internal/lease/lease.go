// Package lease names the contract of a lease: work that must run on one
// replica at a time (the disclosure sweep, a rescan job, later the privacy
// purge and the notification dispatcher) takes a named lease for a while and
// renews it while it works. internal/mongostore implements it.
package lease

import (
	"context"
	"errors"
	"time"
)

// ErrLost means another holder took the lease over (this one expired):
// stop the work it guarded.
var ErrLost = errors.New("lease lost")

// Lease is a held lease.
type Lease interface {
	// Epoch numbers the holders of a name: each takeover gets the next one.
	Epoch() int64
	// Renew extends the lease by its time to live; ErrLost when it was
	// taken over or had expired already.
	Renew(ctx context.Context) error
	// Release gives it up, so another replica may take it at once.
	Release(ctx context.Context) error
}

// Lessor hands out leases.
type Lessor interface {
	// Acquire takes the named lease for holder for ttl. ok is false when
	// another holder has it and it has not expired. When holder has it
	// already, its current term comes back as it is (same epoch).
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (l Lease, ok bool, err error)
}
