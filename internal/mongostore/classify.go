package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// transientLabels are the error labels with which the server or the driver
// says "this may succeed if you try again". RetryableWriteError and
// TransientTransactionError are the server's own verdicts; NetworkError,
// SystemOverloadedError and RetryableError are the driver's.
var transientLabels = []string{
	"TransientTransactionError", "RetryableWriteError", "NetworkError",
	"SystemOverloadedError", "RetryableError",
}

// transientCodes are server error codes of elections, shutdowns, step-downs,
// lost connections, lock and write conflicts, and time limits: the retryable
// write codes of the drivers' specification plus the conflicts a storage
// engine reports. A node answering one of these will answer differently soon.
var transientCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	24,    // LockTimeout
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	112,   // WriteConflict
	117,   // ConflictingOperationInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13388, // StaleConfig
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
	50915, // BackupCursorOpenConflictWithCheckpoint
}

// Transient reports whether err is worth retrying: the database was
// unreachable, slow, electing or overloaded, or a compare-and-set lost to a
// concurrent writer (the domain's ErrConflict sentinels: re-reading and trying
// again resolves it). It judges by the driver's types, codes and labels and by
// the domain sentinels, never by an error's text. A duplicate key is not
// transient: the stores map the duplicates they expect, so one reaching here
// is a fault that a retry would only repeat.
func Transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, employee.ErrConflict), errors.Is(err, review.ErrConflict), errors.Is(err, disclosure.ErrConflict),
		errors.Is(err, attest.ErrConflict):
		return true
	case errors.Is(err, mongo.ErrClientDisconnected), mongo.IsNetworkError(err), mongo.IsTimeout(err):
		return true
	case mongo.IsDuplicateKeyError(err):
		return false
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		return true
	}
	var le mongo.LabeledError
	if errors.As(err, &le) {
		for _, l := range transientLabels {
			if le.HasErrorLabel(l) {
				return true
			}
		}
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range transientCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}
