package review_test

import (
	"errors"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// The dashboard's counts are the case service's decision (the web page
// only authenticates): compliance, auditors and admins; anyone else gets
// ErrForbidden, audited as access.denied (attempt case.stats).
func TestStatsNeedReviewerAuditorOrAdmin(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditStore := mongostore.NewAuditStore(db)
	s := &review.Service{Cases: mongostore.NewCaseStore(db), Audit: auditStore, Now: time.Now}
	tests := []struct {
		give    review.Actor
		wantErr error
	}{
		{give: review.Actor{ID: "E1", Roles: []string{auth.RoleEmployee}, RequestID: "r1"}, wantErr: review.ErrForbidden},
		{give: review.Actor{ID: "M1", Roles: []string{auth.RoleEmployee, auth.RoleManager, auth.RoleIngest}, RequestID: "r2"}, wantErr: review.ErrForbidden},
		{give: review.Actor{ID: "C1", Roles: []string{auth.RoleEmployee, auth.RoleCompliance}, RequestID: "r3"}},
		{give: review.Actor{ID: "A1", Roles: []string{auth.RoleEmployee, auth.RoleAuditor}, RequestID: "r4"}},
		{give: review.Actor{ID: "AD1", Roles: []string{auth.RoleEmployee, auth.RoleAdmin}, RequestID: "r5"}},
	}
	for _, tt := range tests {
		t.Run(tt.give.ID, func(t *testing.T) {
			_, err := s.Stats(t.Context(), tt.give)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Stats: %v, want %v", err, tt.wantErr)
			}
			es, _, err := auditStore.List(t.Context(), audit.Filter{Actor: tt.give.ID, Action: audit.ActionAccessDenied}, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			audited := len(es) == 1 && es[0].Details["attempt"] == "case.stats" && es[0].RequestID == tt.give.RequestID
			if audited != (tt.wantErr != nil) || (tt.wantErr == nil && len(es) != 0) {
				t.Errorf("refusal entries %+v, want one case.stats entry only when refused", es)
			}
		})
	}
}
