package review

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
)

var (
	t0 = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func finding(id, sev string, score int) detect.Finding {
	return detect.Finding{
		ID: id, EmployeeID: "E1", Rule: detect.RuleExpense, Severity: sev, Score: score,
		Summary: "expense " + id, OccurredOn: civil.MustParse("2024-01-10"), Counterparty: "CITIC Securities",
		EventRefs: []event.Ref{{Source: "expense/test", ID: id}}, Employment: detect.EmploymentEmployed,
	}
}

func covered(f detect.Finding, by string) detect.Finding {
	f.CoveredBy = by
	f.DisclosureIDs = []string{by}
	return f
}

var who = Subject{EmployeeID: "E1", Name: "张伟", Department: "EV"}

// opened is the case Sync opens for fs at t0.
func opened(t *testing.T, fs ...detect.Finding) *Case {
	t.Helper()
	res := Sync(detect.DefaultConfig(), nil, nil, fs, who, t0)
	if !res.Created {
		t.Fatalf("setup: Sync opened no case for %d findings", len(fs))
	}
	c := res.Case
	c.Version = 1
	return &c
}

func TestSync(t *testing.T) {
	cfg := detect.DefaultConfig()
	a, b := finding("a", detect.SeverityHigh, 50), finding("b", detect.SeverityMedium, 30)

	type want struct {
		created, changed, autoCleared bool
		status, severity              string
		score, findings, history      int
		lastAction                    string
	}
	tests := []struct {
		name     string
		open     func(t *testing.T) *Case
		handled  map[string]bool
		findings []detect.Finding
		want     want
	}{
		{
			name: "no findings, no case", open: func(*testing.T) *Case { return nil },
			want: want{},
		},
		{
			name: "only covered findings open no case", open: func(*testing.T) *Case { return nil },
			findings: []detect.Finding{covered(a, "D1")},
			want:     want{},
		},
		{
			name: "new case from uncovered findings", open: func(*testing.T) *Case { return nil },
			findings: []detect.Finding{a, covered(b, "D1")},
			want: want{created: true, changed: true, status: StatusOpen, severity: detect.SeverityHigh, score: 50,
				findings: 2, history: 1, lastAction: ActionOpened},
		},
		{
			name: "new finding joins the open case", open: func(t *testing.T) *Case { return opened(t, a) },
			findings: []detect.Finding{a, b},
			want: want{changed: true, status: StatusOpen, severity: detect.SeverityHigh, score: 80,
				findings: 2, history: 2, lastAction: ActionFindingsUpdated},
		},
		{
			name: "re-sync with the same findings changes nothing", open: func(t *testing.T) *Case { return opened(t, a, b) },
			findings: []detect.Finding{a, b},
			want:     want{status: StatusOpen, severity: detect.SeverityHigh, score: 80, findings: 2, history: 1, lastAction: ActionOpened},
		},
		{
			name: "all findings covered: auto-cleared with the last severity kept", open: func(t *testing.T) *Case { return opened(t, a, b) },
			findings: []detect.Finding{covered(a, "D1"), covered(b, "D2")},
			want: want{changed: true, autoCleared: true, status: StatusCleared, severity: detect.SeverityHigh, score: 0,
				findings: 2, history: 3, lastAction: ActionAutoCleared},
		},
		{
			name: "findings gone once HR facts arrived: auto-cleared", open: func(t *testing.T) *Case { return opened(t, a) },
			findings: nil,
			want: want{changed: true, autoCleared: true, status: StatusCleared, severity: detect.SeverityHigh,
				findings: 0, history: 3, lastAction: ActionAutoCleared},
		},
		{
			name: "findings a person decided do not reopen a case", open: func(*testing.T) *Case { return nil },
			handled: map[string]bool{"a": true}, findings: []detect.Finding{a},
			want: want{},
		},
		{
			name: "a new finding after a decision opens a case without the handled one", open: func(*testing.T) *Case { return nil },
			handled: map[string]bool{"a": true}, findings: []detect.Finding{a, b},
			want: want{created: true, changed: true, status: StatusOpen, severity: detect.SeverityMedium, score: 30,
				findings: 1, history: 1, lastAction: ActionOpened},
		},
		{
			name: "a case in review keeps its status when findings join", open: func(t *testing.T) *Case {
				c := opened(t, a)
				if err := c.Assign("C1", "", t0); err != nil {
					t.Fatal(err)
				}
				return c
			},
			findings: []detect.Finding{a, b},
			want: want{changed: true, status: StatusInReview, severity: detect.SeverityHigh, score: 80,
				findings: 2, history: 3, lastAction: ActionFindingsUpdated},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := tt.open(t)
			var before *Case
			if open != nil {
				cp := *open
				before = &cp
			}
			res := Sync(cfg, open, tt.handled, tt.findings, who, t1)
			c := res.Case
			got := want{created: res.Created, changed: res.Changed, autoCleared: res.AutoCleared,
				status: c.Status, severity: c.Severity, score: c.Score, findings: len(c.Findings), history: len(c.History)}
			if len(c.History) > 0 {
				got.lastAction = c.History[len(c.History)-1].Action
			}
			if got != tt.want {
				t.Errorf("Sync:\n got  %+v\n want %+v", got, tt.want)
			}
			if before != nil && len(open.History) != len(before.History) {
				t.Errorf("Sync changed its input case's history")
			}
			if res.Changed && !c.UpdatedAt.Equal(t1) {
				t.Errorf("UpdatedAt = %v, want %v after a change", c.UpdatedAt, t1)
			}
			if !res.Changed && open != nil && !c.UpdatedAt.Equal(open.UpdatedAt) {
				t.Errorf("UpdatedAt moved without a change")
			}
			if res.AutoCleared {
				if c.Decision == nil || c.Decision.By != System || c.Decision.Outcome != StatusCleared || c.Decision.Reason == "" {
					t.Errorf("auto-clear decision = %+v, want cleared by system with a reason", c.Decision)
				}
			}
		})
	}
}

func TestSyncIsIdempotent(t *testing.T) {
	cfg := detect.DefaultConfig()
	fs := []detect.Finding{finding("a", detect.SeverityHigh, 50), finding("b", detect.SeverityMedium, 30)}
	first := Sync(cfg, nil, nil, fs, who, t0)
	again := Sync(cfg, nil, nil, fs, who, t1)
	if first.Case.ID != again.Case.ID || !strings.HasPrefix(first.Case.ID, "case-") {
		t.Fatalf("case ids %q and %q: want the same deterministic id", first.Case.ID, again.Case.ID)
	}
	c := first.Case
	for i := 0; i < 3; i++ {
		res := Sync(cfg, &c, nil, fs, who, t1.Add(time.Duration(i)*time.Hour))
		if res.Changed || res.Created || res.AutoCleared {
			t.Fatalf("re-sync %d changed the case: %+v", i, res)
		}
		c = res.Case
	}
	// Order of findings as detection returns them is stable; another
	// employee with the same findings gets another case.
	other := Sync(cfg, nil, nil, fs, Subject{EmployeeID: "E2"}, t0)
	if other.Case.ID == first.Case.ID {
		t.Errorf("two employees share case id %s", other.Case.ID)
	}
}

func TestLifecycle(t *testing.T) {
	c := opened(t, finding("a", detect.SeverityHigh, 50))
	if err := c.AddComment("C1", "  ", t1); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty comment: err = %v, want ErrInvalid", err)
	}
	if err := c.AddComment("C1", "looked at the receipt", t1); err != nil {
		t.Fatal(err)
	}
	if err := c.Assign("C1", "C2", t1); err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusInReview || c.Assignee != "C2" {
		t.Errorf("after assign: status %s assignee %s", c.Status, c.Assignee)
	}
	for _, tt := range []struct {
		give    [2]string // outcome, reason
		wantErr error
	}{
		{[2]string{"dismissed", "x"}, ErrInvalid},
		{[2]string{StatusConfirmed, " "}, ErrInvalid},
		{[2]string{StatusConfirmed, strings.Repeat("x", 4001)}, ErrInvalid},
	} {
		if err := c.Decide("C1", tt.give[0], tt.give[1], t1); !errors.Is(err, tt.wantErr) {
			t.Errorf("Decide(%q, %d chars) = %v, want %v", tt.give[0], len(tt.give[1]), err, tt.wantErr)
		}
	}
	if err := c.Decide("C1", StatusConfirmed, "attended without approval", t1); err != nil {
		t.Fatal(err)
	}
	if err := c.Decide("C1", StatusCleared, "again", t1); !errors.Is(err, ErrInvalidState) {
		t.Errorf("second decision: err = %v, want ErrInvalidState", err)
	}
	if err := c.Assign("C1", "", t1); !errors.Is(err, ErrInvalidState) {
		t.Errorf("assign closed: err = %v, want ErrInvalidState", err)
	}
	var actions []string
	for _, h := range c.History {
		actions = append(actions, h.Action)
	}
	if got := strings.Join(actions, ","); got != "opened,commented,assigned,decided" {
		t.Errorf("history = %s", got)
	}
	handled := HandledBy([]Case{*c})
	if !handled["a"] {
		t.Errorf("HandledBy(confirmed case) = %v, want finding a", handled)
	}
	auto := *opened(t, finding("z", detect.SeverityHigh, 50))
	auto.Status, auto.Decision = StatusCleared, &Decision{Outcome: StatusCleared, By: System, Reason: "covered"}
	if h := HandledBy([]Case{auto}); h["z"] {
		t.Errorf("HandledBy counts an automatic clearing as a person's decision")
	}
}
