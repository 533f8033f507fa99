package audit

import (
	"context"
	"errors"
	"testing"
	"time"
)

type failingStore struct{ err error }

func (s failingStore) Append(context.Context, Entry) error { return s.err }
func (s failingStore) List(context.Context, Filter, int, string) ([]Entry, string, error) {
	return nil, "", s.err
}

// A refusal is an access.denied entry with its attempt; a refusal whose
// entry cannot be written says so beside the refusal itself.
func TestDeny(t *testing.T) {
	at := time.Date(2026, 3, 2, 17, 0, 0, 0, time.FixedZone("CST", 8*3600))
	e := Refusal{RequestID: "r1", ResourceType: "audit", Attempt: "audit.list", Reason: "needs auditor"}.Entry(at)
	if e.Actor != "anonymous" || e.Action != ActionAccessDenied || e.Details["attempt"] != "audit.list" || !e.At.Equal(at) ||
		e.At.Location() != time.UTC || e.ID == "" || e.RequestID != "r1" {
		t.Errorf("Entry = %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Errorf("refusal entry does not validate: %v", err)
	}
	refused := errors.New("forbidden")
	down := errors.New("store down")
	tests := []struct {
		give    Store
		wantErr []error
	}{
		{give: failingStore{}, wantErr: []error{refused}},
		{give: failingStore{err: down}, wantErr: []error{refused, down}},
	}
	for _, tt := range tests {
		err := Deny(context.Background(), tt.give, at, Refusal{Actor: "E1", Attempt: "x"}, refused)
		for _, want := range tt.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("Deny with store error %v = %v, want it to wrap %v", tt.give, err, want)
			}
		}
	}
}
