package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/grant"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// recordingPublisher keeps what the gateway hands on (the Kafka side has
// its own tests against a real broker; this one is about who may send).
type recordingPublisher struct{ got []event.Event }

func (p *recordingPublisher) Publish(_ context.Context, evs []event.Event) error {
	p.got = append(p.got, evs...)
	return nil
}

// The gateway decides who may publish (the API route only authenticates):
// without the ingest or admin role the sender is refused with ErrForbidden,
// nothing is published, and the refusal is audited as access.denied; with
// it, the account's grants decide per event.
func TestGatewayNeedsIngestOrAdmin(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := mongostore.NewAuditStore(db)
	pub := &recordingPublisher{}
	g := &ingest.Gateway{Publisher: pub, Decoder: event.NewDecoder(1 << 20), Audit: store, Now: time.Now,
		Grants: grant.Set{"svc-hris": {Types: []string{"hr.*"}, Sources: []string{"hris/workday-cn"}}}}
	raw := json.RawMessage(`{"specversion":"1.0","id":"h-1","source":"hris/workday-cn","type":"hr.employee.updated","subject":"E1",
		"data":{"employee_id":"E1","effective_date":"2024-01-01","manager_id":"E9"}}`)
	tests := []struct {
		give         ingest.Sender
		wantErr      error
		wantAccepted int
	}{
		{give: ingest.Sender{ID: "svc-hris", Roles: []string{auth.RoleEmployee}, RequestID: "r1"}, wantErr: ingest.ErrForbidden},
		{give: ingest.Sender{ID: "svc-hris", Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleAuditor}, RequestID: "r2"}, wantErr: ingest.ErrForbidden},
		{give: ingest.Sender{ID: "svc-hris", Roles: []string{auth.RoleEmployee, auth.RoleIngest}, RequestID: "r3"}, wantAccepted: 1},
		// An admin passes the role check; the grants still decide (none for it).
		{give: ingest.Sender{ID: "AD1", Roles: []string{auth.RoleEmployee, auth.RoleAdmin}, RequestID: "r4"}, wantAccepted: 0},
	}
	for _, tt := range tests {
		t.Run(tt.give.RequestID, func(t *testing.T) {
			before := len(pub.got)
			n, rejected, err := g.Send(t.Context(), tt.give, []json.RawMessage{raw})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Send: %v, want %v", err, tt.wantErr)
			}
			if n != tt.wantAccepted || len(pub.got)-before != tt.wantAccepted {
				t.Errorf("accepted %d, published %d; want %d", n, len(pub.got)-before, tt.wantAccepted)
			}
			if tt.wantErr == nil && tt.wantAccepted == 0 && (len(rejected) != 1 || !errors.Is(rejected[0].Err, grant.ErrNotGranted)) {
				t.Errorf("rejected = %+v, want the event refused as not granted", rejected)
			}
			es, _, err := store.List(t.Context(), audit.Filter{Actor: tt.give.ID, Action: audit.ActionAccessDenied}, 50, "")
			if err != nil {
				t.Fatal(err)
			}
			audited := false
			for _, e := range es {
				audited = audited || (e.RequestID == tt.give.RequestID && e.Details["attempt"] == "event.publish")
			}
			if audited != (tt.wantErr != nil) {
				t.Errorf("refusal audited = %v, want %v", audited, tt.wantErr != nil)
			}
		})
	}
}

// The dead letters' page is the board's decision: a non-admin is refused
// before any topic is read (the board has no DLQ here), audited.
func TestDeadLetterBoardNeedsAdmin(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := mongostore.NewAuditStore(db)
	b := &ingest.DeadLetterBoard{Audit: store, Now: time.Now}
	for _, give := range []ingest.Viewer{
		{ID: "E1", Roles: []string{auth.RoleEmployee}, RequestID: "d1"},
		{ID: "C1", Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleAuditor, auth.RoleIngest}, RequestID: "d2"},
	} {
		if _, _, err := b.Counts(t.Context(), give, 10); !errors.Is(err, ingest.ErrDeadLettersForbidden) {
			t.Errorf("Counts by %s: %v, want ErrDeadLettersForbidden", give.ID, err)
		}
		es, _, err := store.List(t.Context(), audit.Filter{Actor: give.ID, Action: audit.ActionAccessDenied}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Details["attempt"] != "dead_letters.count" || es[0].RequestID != give.RequestID {
			t.Errorf("refusals of %s: %+v, want one dead_letters.count entry", give.ID, es)
		}
	}
}
