package disclosure_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// directory is a fixed reporting line: employee -> manager.
type directory map[string]string

func (d directory) ManagerOf(_ context.Context, id string, _ civil.Date) (string, error) {
	return d[id], nil
}

func (d directory) Reports(_ context.Context, manager string, _ civil.Date) ([]string, error) {
	var out []string
	for e, m := range d {
		if m == manager {
			out = append(out, e)
		}
	}
	return out, nil
}

// failingAudit refuses appends while fail is set, passing the rest to the real store.
type failingAudit struct {
	audit.Store
	fail bool
}

func (f *failingAudit) Append(ctx context.Context, e audit.Entry) error {
	if f.fail {
		return errors.New("audit log unavailable")
	}
	return f.Store.Append(ctx, e)
}

var svcNow = time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*disclosure.Service, *failingAudit, *bytes.Buffer) {
	t.Helper()
	db := mongostore.Use(testenv.Database(t))
	if err := db.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	au := &failingAudit{Store: mongostore.NewAuditStore(db)}
	var logs bytes.Buffer
	return &disclosure.Service{
		Store: mongostore.NewDisclosureStore(db), Audit: au,
		Directory: directory{"E1": "M1", "E2": "M1", "E3": "M2"},
		Policy:    disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(),
		Now: func() time.Time { return svcNow }, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	}, au, &logs
}

func input(kind disclosure.Kind, ct disclosure.CounterpartyType) disclosure.Input {
	return disclosure.Input{Kind: kind, Counterparty: "Capvision", CounterpartyType: ct, Topic: "EV batteries",
		StartDate: civil.Date("2024-03-01"), EndDate: civil.Date("2024-03-01")}
}

// TestServiceDecideAccess: who may decide what, as sentinels the API maps.
func TestServiceDecideAccess(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	tests := []struct {
		name       string
		give       disclosure.Actor
		owner      string
		compliance bool
		want       error
	}{
		{"compliance decides anyone's", disclosure.Actor{ID: "C1", Roles: []string{"compliance"}}, "E3", true, nil},
		{"manager decides a report's manager-level one", disclosure.Actor{ID: "M1", Roles: []string{"manager"}}, "E1", false, nil},
		{"manager may not decide a report's compliance-level one", disclosure.Actor{ID: "M1", Roles: []string{"manager"}}, "E1", true, disclosure.ErrForbidden},
		{"manager cannot see a non-report's", disclosure.Actor{ID: "M1", Roles: []string{"manager"}}, "E3", false, disclosure.ErrNotFound},
		{"manager role without the reporting line", disclosure.Actor{ID: "M2", Roles: []string{"manager"}}, "E1", false, disclosure.ErrNotFound},
		{"reporting line without the manager role", disclosure.Actor{ID: "M1", Roles: []string{"employee"}}, "E1", false, disclosure.ErrNotFound},
		{"nobody decides their own", disclosure.Actor{ID: "C1", Roles: []string{"compliance"}}, "C1", true, disclosure.ErrForbidden},
		{"auditors read but do not decide", disclosure.Actor{ID: "A1", Roles: []string{"auditor"}}, "E1", false, disclosure.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(disclosure.KindMediaInterview, disclosure.CounterpartyMedia)
			if tt.compliance {
				in = input(disclosure.KindExpertCall, disclosure.CounterpartyExpertNetwork)
			}
			d, err := s.Create(ctx, disclosure.Actor{ID: tt.owner}, in)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Decide(ctx, tt.give, d.ID, disclosure.DecisionInput{Outcome: disclosure.OutcomeApprove, Version: d.Version})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Decide = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestServiceOnChangeFailureKeepsChange: a failed re-evaluation is logged,
// and the stored change is still reported as done.
func TestServiceOnChangeFailureKeepsChange(t *testing.T) {
	s, _, logs := newService(t)
	var calls []string
	s.OnChange = func(_ context.Context, id string) error {
		calls = append(calls, id)
		return errors.New("detection down")
	}
	d, err := s.Create(t.Context(), disclosure.Actor{ID: "E1", RequestID: "r1"}, input(disclosure.KindMediaInterview, disclosure.CounterpartyMedia))
	if err != nil {
		t.Fatalf("Create = %v, want the change kept", err)
	}
	if _, err := s.Store.Get(t.Context(), d.ID); err != nil {
		t.Errorf("disclosure not stored: %v", err)
	}
	if len(calls) != 1 || calls[0] != "E1" {
		t.Errorf("OnChange calls = %v", calls)
	}
	if !strings.Contains(logs.String(), "detection down") || !strings.Contains(logs.String(), "request_id=r1") {
		t.Errorf("failure not logged: %s", logs.String())
	}
}

// TestServiceReadFailsClosed: when the audit log cannot record a read, the
// reader gets no data; the owner's own reads need no entry and still work.
func TestServiceReadFailsClosed(t *testing.T) {
	s, au, _ := newService(t)
	ctx := t.Context()
	d, err := s.Create(ctx, disclosure.Actor{ID: "E1"}, input(disclosure.KindMediaInterview, disclosure.CounterpartyMedia))
	if err != nil {
		t.Fatal(err)
	}
	au.fail = true
	if got, err := s.Get(ctx, disclosure.Actor{ID: "C1", Roles: []string{"compliance"}}, d.ID); err == nil || got.ID != "" {
		t.Errorf("Get by compliance = %+v, %v; want an error and nothing", got, err)
	}
	if ds, _, err := s.List(ctx, disclosure.Actor{ID: "M1", Roles: []string{"manager"}}, disclosure.ListFilter{}, disclosure.Page{}); err == nil || ds != nil {
		t.Errorf("List by manager = %v, %v; want an error and nothing", ds, err)
	}
	if _, err := s.Get(ctx, disclosure.Actor{ID: "E1"}, d.ID); err != nil {
		t.Errorf("Get by owner = %v", err)
	}
}

// TestServiceInboxScopes: a manager's inbox holds only their reports'
// pending manager-level disclosures; a manager without reports gets nothing.
func TestServiceInboxScopes(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	mk := func(owner string, compliance bool) string {
		in := input(disclosure.KindMediaInterview, disclosure.CounterpartyMedia)
		if compliance {
			in = input(disclosure.KindExpertCall, disclosure.CounterpartyExpertNetwork)
		}
		d, err := s.Create(ctx, disclosure.Actor{ID: owner}, in)
		if err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	e1 := mk("E1", false)
	mk("E1", true)
	mk("E3", false)
	tests := []struct {
		name string
		give disclosure.Actor
		want int
		err  error
	}{
		{"manager", disclosure.Actor{ID: "M1", Roles: []string{"manager"}}, 1, nil},
		{"manager without reports", disclosure.Actor{ID: "M9", Roles: []string{"manager"}}, 0, nil},
		{"compliance", disclosure.Actor{ID: "C1", Roles: []string{"compliance"}}, 3, nil},
		{"auditor", disclosure.Actor{ID: "A1", Roles: []string{"auditor"}}, 0, disclosure.ErrForbidden},
		{"employee", disclosure.Actor{ID: "E2"}, 0, disclosure.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, _, err := s.Inbox(ctx, tt.give, disclosure.Page{})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Inbox = %v, want %v", err, tt.err)
			}
			if len(ds) != tt.want {
				t.Errorf("Inbox has %d, want %d", len(ds), tt.want)
			}
			if tt.name == "manager" && ds[0].ID != e1 {
				t.Errorf("manager inbox = %s, want %s", ds[0].ID, e1)
			}
		})
	}
}
