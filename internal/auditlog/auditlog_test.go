package auditlog_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auditlog"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// The service decides who reads the audit log (the API and the UI only
// authenticate): auditors and admins; anyone else is refused with
// ErrForbidden, shown nothing, and the refusal is audited as access.denied.
// An export is audited as such.
func TestReadingTheLogNeedsAuditorOrAdmin(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := mongostore.NewAuditStore(db)
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	s := &auditlog.Service{Store: store, Now: now}
	ctx := t.Context()
	seed := audit.Entry{ID: "seed-1", At: now().Add(-time.Hour), Actor: "C9", Action: "case.read", ResourceType: audit.ResourceCase,
		ResourceID: "c1", OwnerID: "E1", Reason: "review"}
	if err := store.Append(ctx, seed); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		give    auditlog.Reader
		wantErr error
	}{
		{give: auditlog.Reader{ID: "E1", Roles: []string{auth.RoleEmployee}, RequestID: "r-e1"}, wantErr: auditlog.ErrForbidden},
		{give: auditlog.Reader{ID: "C1", Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleManager}, RequestID: "r-c1"}, wantErr: auditlog.ErrForbidden},
		{give: auditlog.Reader{ID: "A1", Roles: []string{auth.RoleEmployee, auth.RoleAuditor}, RequestID: "r-a1"}},
		{give: auditlog.Reader{ID: "AD1", Roles: []string{auth.RoleEmployee, auth.RoleAdmin}, RequestID: "r-ad1"}},
	}
	for _, tt := range tests {
		t.Run(tt.give.ID, func(t *testing.T) {
			rows, _, err := s.List(ctx, tt.give, audit.Filter{ResourceID: "c1"}, 10, "")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("List: %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && len(rows) != 0 {
				t.Errorf("a refused List returned %d rows", len(rows))
			}
			if tt.wantErr == nil && (len(rows) != 1 || rows[0].ID != seed.ID) {
				t.Errorf("List = %+v, want the seeded entry", rows)
			}
			exported, _, err := s.Export(ctx, tt.give, audit.Filter{ResourceID: "c1"})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && (err != nil || len(exported) != 1)) {
				t.Fatalf("Export: %d rows, %v; want %v", len(exported), err, tt.wantErr)
			}
			mine, _, err := store.List(ctx, audit.Filter{Actor: tt.give.ID}, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range mine {
				switch e.Action {
				case audit.ActionAccessDenied:
					got["denied "+e.Details["attempt"]] = true
				case audit.ActionAuditExport:
					got["export"] = true
				}
			}
			want := map[string]bool{"export": true}
			if tt.wantErr != nil {
				want = map[string]bool{"denied audit.list": true, "denied audit.export": true}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("audited %v, want %v", got, want)
			}
		})
	}
}
