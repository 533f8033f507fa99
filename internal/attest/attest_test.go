package attest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/explain"
)

func TestTaskIDIsDeterministic(t *testing.T) {
	a := TaskID("E1", "YU7", "2025-01-01", 0)
	tests := []struct {
		name string
		give string
		same bool
	}{
		{"same assignment and cycle", TaskID("E1", "YU7", "2025-01-01", 0), true},
		{"next cycle", TaskID("E1", "YU7", "2025-01-01", 1), false},
		{"another assignment", TaskID("E1", "YU7", "2025-02-01", 0), false},
		{"another employee", TaskID("E2", "YU7", "2025-01-01", 0), false},
	}
	for _, tt := range tests {
		if (tt.give == a) != tt.same {
			t.Errorf("%s: %s vs %s", tt.name, tt.give, a)
		}
	}
}

func TestBlackoutAndRender(t *testing.T) {
	from, to, ok := Blackout("2025-06-30", 90)
	if !ok || from != "2025-04-01" || to != "2025-06-29" {
		t.Errorf("Blackout = %s %s %v", from, to, ok)
	}
	if _, _, ok := Blackout("", 90); ok {
		t.Error("a project without a launch date has a blackout")
	}
	task := Task{ProjectCode: "YU7", ProjectName: "SUV", LaunchDate: "2025-06-30"}
	got := Render("{project}: {blackout_from}..{blackout_to}, launch {launch_date}", task, 90)
	if got != "YU7 (SUV): 2025-04-01..2025-06-29, launch 2025-06-30" {
		t.Errorf("Render = %q", got)
	}
	if got := Render("{blackout_from}", Task{ProjectCode: "X"}, 90); got != "—" {
		t.Errorf("Render without launch = %q", got)
	}
}

func TestValidateTemplate(t *testing.T) {
	ok := DefaultTemplate()
	if err := ValidateTemplate(ok); err != nil {
		t.Fatalf("the default template is invalid: %v", err)
	}
	tests := []struct {
		name string
		give func(*Template)
		want string
	}{
		{"missing Chinese", func(t *Template) { t.Questions[QNDA] = Text{EN: "x"} }, "questions.nda_held"},
		{"unknown question", func(t *Template) { t.Questions["other"] = Text{EN: "x", ZH: "y"} }, "questions.other"},
		{"empty intro", func(t *Template) { t.Intro = Text{} }, "intro"},
	}
	for _, tt := range tests {
		tpl := DefaultTemplate()
		tt.give(&tpl)
		err := ValidateTemplate(tpl)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want it to name %s", tt.name, err, tt.want)
		}
	}
}

func TestOverdueFinding(t *testing.T) {
	recv := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	task := Task{ID: "att-1", EmployeeID: "E1", ProjectCode: "YU7", Sensitivity: "secret", AssignedOn: "2024-01-01",
		ReceivedAt: recv, DueAt: recv.AddDate(0, 0, 5)}
	f := OverdueFinding(task, 10, nil)
	if f.Rule != RuleOverdue || f.Severity != "low" || f.Score != 10 || f.OccurredOn != civil.MustParse("2025-03-06") || f.Project != "YU7" {
		t.Errorf("finding = %+v", f)
	}
	if !strings.Contains(f.Summary, "due on 2025-03-06, 5 days after the assignment was received on 2025-03-01") {
		t.Errorf("summary = %q", f.Summary)
	}
	// Structured: the reader's language at display time, the project by
	// code and name, dates as dates; no English in the Chinese rendering.
	if len(f.Explanation) != 1 || f.Explanation[0].Code != explain.CodeAttestationOverdue {
		t.Fatalf("explanation = %+v, want one attestation-overdue clause", f.Explanation)
	}
	task.ProjectName = "小米 YU7"
	zh := explain.Plain(explain.ZH, OverdueFinding(task, 10, nil).Explanation, nil)
	for _, want := range []string{"机密项目 YU7", "小米 YU7", "2025-03-06", "2025-03-01", "2024-01-01", "5 天", "保密确认"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the Chinese explanation %q lacks %q", zh, want)
		}
	}
	if m := regexp.MustCompile(`[A-Za-z][a-z]+[ ,;:]+[A-Za-z][a-z]+`).FindString(zh); m != "" {
		t.Errorf("English %q in the Chinese explanation %q", m, zh)
	}
	en := explain.Plain(explain.EN, OverdueFinding(task, 10, nil).Explanation, nil)
	if !strings.Contains(en, "secret project YU7 (小米 YU7)") {
		t.Errorf("the English explanation = %q", en)
	}
	task.ReceivedAt, task.DueAt = recv, recv.AddDate(0, 0, 1)
	if en := explain.Plain(explain.EN, OverdueFinding(task, 10, nil).Explanation, nil); !strings.Contains(en, ", 1 day after") {
		t.Errorf("one day reads %q", en)
	}
	if OverdueFinding(task, 10, nil).ID != f.ID {
		t.Error("the finding id is not deterministic")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.DueDays, c.ReattestEvery = 0, time.Hour
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "due_days") || !strings.Contains(err.Error(), "reattest_every") {
		t.Errorf("Validate = %v", err)
	}
}

// The task's days are business days (business.time_zone), as detection's:
// an assignment received at 18:00 UTC arrived on the next day in Shanghai.
func TestOverdueDaysAreBusinessDays(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	recv := time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	task := Task{ID: "att-z", EmployeeID: "E1", ProjectCode: "YU7", Sensitivity: "secret", AssignedOn: "2025-03-02",
		ReceivedAt: recv, DueAt: recv.AddDate(0, 0, 5)}
	for _, tc := range []struct {
		zone          *time.Location
		due, received string
	}{{nil, "2025-03-06", "2025-03-01"}, {shanghai, "2025-03-07", "2025-03-02"}} {
		f := OverdueFinding(task, 10, tc.zone)
		if f.OccurredOn != civil.MustParse(tc.due) {
			t.Errorf("zone %v: due day %s, want %s", tc.zone, f.OccurredOn, tc.due)
		}
		if want := "received on " + tc.received; !strings.Contains(f.Summary, want) {
			t.Errorf("zone %v: summary %q lacks %q", tc.zone, f.Summary, want)
		}
	}
	s := &Service{Zone: shanghai}
	if got := s.day(recv); got != "2025-03-02" {
		t.Errorf("the job's today at 18:00 UTC = %s, want the Shanghai day 2025-03-02", got)
	}
}
