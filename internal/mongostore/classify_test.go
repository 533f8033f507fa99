package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/review"
)

func TestTransient(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store batch: %w", err) }
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"nil", nil, false},
		{"cancelled", context.Canceled, false},
		{"deadline", wrap(context.DeadlineExceeded), true},
		{"unavailable sentinel", fmt.Errorf("%w: dial", ErrUnavailable), true},
		{"employee conflict", wrap(fmt.Errorf("employee E1: still conflicting after 5 attempts: %w", employee.ErrConflict)), true},
		{"case conflict", wrap(review.ErrConflict), true},
		{"disclosure conflict", wrap(disclosure.ErrConflict), true},
		{"client disconnected", wrap(mongo.ErrClientDisconnected), true},
		{"network label", mongo.CommandError{Code: 0, Labels: []string{"NetworkError"}, Wrapped: errors.New("connection reset")}, true},
		{"transient transaction label", wrap(mongo.CommandError{Code: 251, Labels: []string{"TransientTransactionError"}}), true},
		{"retryable write label", wrap(mongo.WriteException{Labels: []string{"RetryableWriteError"}}), true},
		{"not writable primary", mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, true},
		{"stepped down", wrap(mongo.CommandError{Code: 189}), true},
		{"write conflict", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 112}}}, true},
		{"write concern shutdown", mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 91}}, true},
		{"bulk interrupted", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: mongo.WriteError{Code: 11602}}}}, true},
		{"timeout label", mongo.CommandError{Code: 50, Labels: []string{"ExceededTimeLimitError"}}, true},
		{"net timeout", wrap(&net.OpError{Op: "read", Err: timeoutErr{}}), true},
		{"server selection", wrap(topology.ServerSelectionError{Wrapped: errors.New("no primary")}), true},
		{"duplicate key", wrap(mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}), false},
		{"duplicate key with retry label", mongo.CommandError{Code: 11000, Labels: []string{"RetryableWriteError"}}, false},
		{"bad value", mongo.CommandError{Code: 2, Name: "BadValue"}, false},
		{"document too large", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 10334}}}, false},
		{"a message that merely says so", errors.New("server selection timeout: WriteConflict NetworkError"), false},
		{"domain not found", wrap(employee.ErrNotFound), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Transient(tt.give); got != tt.want {
				t.Errorf("Transient(%v) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
