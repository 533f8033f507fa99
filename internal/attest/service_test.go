package attest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// The service decides who may read the texts to edit and save them (the
// transports only authenticate): only an admin; anyone else gets
// ErrForbidden and the refusal is audited as access.denied with the attempt.
func TestTemplateEditingNeedsAdmin(t *testing.T) {
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	auditStore := mongostore.NewAuditStore(db)
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	s := &attest.Service{Store: mongostore.NewAttestationStore(db), Employees: mongostore.NewEmployeeStore(db),
		Audit: auditStore, Config: attest.DefaultConfig(), Now: now}
	ctx := t.Context()

	for _, give := range []attest.Actor{
		{ID: "E1", Roles: []string{auth.RoleEmployee}, RequestID: "r-e1"},
		{ID: "C1", Roles: []string{auth.RoleEmployee, auth.RoleCompliance, auth.RoleAuditor}, RequestID: "r-c1"},
	} {
		if _, err := s.TemplateToEdit(ctx, give); !errors.Is(err, attest.ErrForbidden) {
			t.Errorf("TemplateToEdit by %s: %v, want ErrForbidden", give.ID, err)
		}
		if _, err := s.SaveTemplate(ctx, give, attest.DefaultTemplate(), 0); !errors.Is(err, attest.ErrForbidden) {
			t.Errorf("SaveTemplate by %s: %v, want ErrForbidden", give.ID, err)
		}
		es, _, err := auditStore.List(ctx, audit.Filter{Actor: give.ID, Action: audit.ActionAccessDenied}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range es {
			if e.RequestID == give.RequestID && e.ResourceType == attest.ResourceTemplate {
				got[e.Details["attempt"]] = true
			}
		}
		if !got["template_read"] || !got["template_save"] || len(got) != 2 {
			t.Errorf("refusals of %s audited as %v, want template_read and template_save", give.ID, got)
		}
	}

	admin := attest.Actor{ID: "AD1", Roles: []string{auth.RoleEmployee, auth.RoleAdmin}}
	tpl, err := s.TemplateToEdit(ctx, admin)
	if err != nil || tpl.Version != attest.DefaultTemplate().Version {
		t.Fatalf("TemplateToEdit by an admin: %+v, %v; want the built-in texts", tpl, err)
	}
}
