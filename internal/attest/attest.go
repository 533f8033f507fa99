// Package attest asks employees put on a confidential or secret project to
// attest, within a few days of Moonlight receiving the assignment, that they
// have declared all outside engagements, know the project's pre-launch
// blackout and hold its NDA. A task not done in time becomes overdue: the
// employee (and their manager) are told, and an `attestation-overdue`
// finding joins the employee's case through the evaluation engine. Everyone
// still on a sensitive project attests again every year.
//
// Decisions:
//   - A task's id is a hash of employee, project, assignment start and
//     cycle, so a redelivered or corrected assignment event never makes a
//     second task; the first receipt fixes the due time.
//   - Due counts from receipt, not from the assignment's effective date: a
//     backfill of last year's assignments is not overdue on arrival.
//   - The blackout is the rule set's blackout_days before the launch date
//     (the window detection raises findings in), so the dates an employee
//     attests to are the dates they are judged by.
//   - To attest is to confirm: every answer must be true. Someone who cannot
//     confirm declares first (or talks to compliance); the task waits.
//   - A task whose assignment ended (or whose employee left) before it was
//     done lapses instead of becoming overdue.
package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// RuleOverdue is the finding rule of an attestation not given in time.
const RuleOverdue = "attestation-overdue"

// Statuses of a task.
const (
	StatusPending = "pending"
	StatusOverdue = "overdue"
	StatusDone    = "done"
	StatusLapsed  = "lapsed"
)

// Question keys; the texts are in the versioned template.
const (
	QEngagements = "engagements_declared"
	QBlackout    = "blackout_known"
	QNDA         = "nda_held"
)

// QuestionKeys lists the questions in the order they are asked.
func QuestionKeys() []string { return []string{QEngagements, QBlackout, QNDA} }

// Audit actions and resource type.
const (
	ResourceAttestation              = "attestation"
	ResourceTemplate                 = "attestation_template"
	ActionAttest        audit.Action = "attestation.attest"
	ActionOverdue       audit.Action = "attestation.overdue"
	ActionLapse         audit.Action = "attestation.lapse"
	ActionTemplateSave  audit.Action = "attestation.template_save"
)

// Sentinels; the HTTP layer maps them.
var (
	ErrNotFound        = errors.New("attestation not found")
	ErrConflict        = errors.New("attestation changed concurrently")
	ErrStale           = errors.New("attestation changed since the version read")
	ErrVersionRequired = errors.New("attesting must name the task version read")
	ErrInvalidState    = errors.New("attestation is not pending")
	ErrForbidden       = errors.New("not allowed")
	ErrTemplateStale   = errors.New("the attestation texts changed since they were read")
)

// ValidationError names each invalid field.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, k := range sortedKeys(e.Fields) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid attestation: " + strings.Join(parts, "; ")
}

// Config is the `attestation` section of the configuration.
type Config struct {
	// DueDays: an attestation is due this many days after Moonlight
	// received the assignment.
	DueDays int `koanf:"due_days"`
	// ReattestEvery: everyone still on a sensitive project attests again
	// this long after their last attestation; 0 turns it off.
	ReattestEvery time.Duration `koanf:"reattest_every"`
	// CheckInterval: how often one replica looks for overdue tasks and
	// re-attestations due.
	CheckInterval time.Duration `koanf:"check_interval"`
	// OverduePoints is the score an attestation-overdue finding adds.
	OverduePoints int `koanf:"overdue_points"`
}

// DefaultConfig: 5 days, yearly, checked every 10 minutes, 10 points.
func DefaultConfig() Config {
	return Config{DueDays: 5, ReattestEvery: 365 * 24 * time.Hour, CheckInterval: 10 * time.Minute, OverduePoints: 10}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.DueDays < 1 || c.DueDays > 90 {
		errs = append(errs, fmt.Errorf("attestation.due_days must be 1..90, got %d", c.DueDays))
	}
	if c.ReattestEvery != 0 && c.ReattestEvery < 24*time.Hour {
		errs = append(errs, errors.New("attestation.reattest_every must be 0 (off) or at least 24h"))
	}
	if c.CheckInterval < time.Second {
		errs = append(errs, errors.New("attestation.check_interval must be at least 1s"))
	}
	if c.OverduePoints < 0 {
		errs = append(errs, errors.New("attestation.overdue_points must not be negative"))
	}
	return errors.Join(errs...)
}

// Sensitive reports whether a project sensitivity asks for attestation.
func Sensitive(s string) bool { return s == "confidential" || s == "secret" }

// Task is one attestation asked of one employee for one assignment.
type Task struct {
	ID          string
	EmployeeID  string
	ProjectCode string
	ProjectName string
	Sensitivity string
	LaunchDate  civil.Date
	// AssignedOn is the assignment's start (its effective date).
	AssignedOn civil.Date
	// Cycle is 0 for the first attestation, n for the n-th yearly one.
	Cycle int
	// EventRef is the assignment event that asked for it.
	EventRef   event.Ref
	Status     string
	ReceivedAt time.Time
	DueAt      time.Time
	// TemplateVersion is the version of the texts the employee attested to.
	TemplateVersion int64
	Answers         map[string]bool
	AttestedAt      time.Time
	// Synced: the overdue notices were queued and the employee's case
	// re-evaluated (the periodic job retries until it is).
	Synced    bool
	History   []Change
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Change is one line of a task's history.
type Change struct {
	At     time.Time
	Actor  string
	From   string
	To     string
	Reason string
}

// Open reports whether the task still waits for the employee.
func (t Task) Open() bool { return t.Status == StatusPending || t.Status == StatusOverdue }

// TaskID is deterministic: the same assignment and cycle give the same id.
func TaskID(employeeID, project string, assignedOn civil.Date, cycle int) string {
	h := sha256.Sum256([]byte(employeeID + "\x00" + project + "\x00" + string(assignedOn) + "\x00" + strconv.Itoa(cycle)))
	return "att-" + hex.EncodeToString(h[:10])
}

// Blackout is the pre-launch window [From, To]: BlackoutDays before the
// launch up to the day before it (the launch day itself is public). ok is
// false without a launch date.
func Blackout(launch civil.Date, days int) (from, to civil.Date, ok bool) {
	if launch.IsZero() {
		return "", "", false
	}
	return launch.AddDays(-days), launch.AddDays(-1), true
}

// transition changes t's status with a history line.
func (t *Task) transition(actor, to, reason string, now time.Time) {
	t.History = append(t.History, Change{At: now, Actor: actor, From: t.Status, To: to, Reason: reason})
	t.Status, t.UpdatedAt = to, now
}

// Template is one version of the attestation texts (zh and en).
type Template struct {
	Version   int64
	Intro     Text
	Questions map[string]Text // by question key
	By        string
	At        time.Time
}

// Text is one text in both languages. Placeholders: {project},
// {blackout_from}, {blackout_to}, {launch_date}.
type Text struct {
	EN string
	ZH string
}

// In returns the text in lang ("zh…" or else English).
func (t Text) In(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// DefaultTemplate is version 0, in force until an admin saves one.
func DefaultTemplate() Template {
	return Template{
		Version: 0,
		Intro: Text{
			EN: "You have been put on {project}. Before you work on it, please confirm the following.",
			ZH: "您已加入项目 {project}。开始工作前，请确认以下事项。",
		},
		Questions: map[string]Text{
			QEngagements: {
				EN: "I have declared all my outside engagements (paid seminars, expert calls, advisory work) in Moonlight.",
				ZH: "我已在 Moonlight 中申报了全部外部活动（付费研讨会、专家访谈、顾问工作等）。",
			},
			QBlackout: {
				EN: "I know the pre-launch blackout of {project}: from {blackout_from} to {blackout_to} (launch {launch_date}) I take part in no outside research contact about it.",
				ZH: "我知晓 {project} 的发布前静默期：{blackout_from} 至 {blackout_to}（发布日 {launch_date}）期间不参与任何与之相关的外部调研交流。",
			},
			QNDA: {
				EN: "I hold and respect the non-disclosure agreement of {project}.",
				ZH: "我已签署并遵守 {project} 的保密协议。",
			},
		},
	}
}

// Render fills the placeholders.
func Render(s string, t Task, blackoutDays int) string {
	from, to, ok := Blackout(t.LaunchDate, blackoutDays)
	fromS, toS, launch := string(from), string(to), string(t.LaunchDate)
	if !ok {
		fromS, toS, launch = "—", "—", "—"
	}
	project := t.ProjectCode
	if t.ProjectName != "" {
		project += " (" + t.ProjectName + ")"
	}
	return strings.NewReplacer("{project}", project, "{blackout_from}", fromS, "{blackout_to}", toS, "{launch_date}", launch).Replace(s)
}

// ValidateTemplate checks an edited template: every question, both languages.
func ValidateTemplate(t Template) error {
	f := map[string]string{}
	check := func(name string, x Text) {
		if strings.TrimSpace(x.EN) == "" || strings.TrimSpace(x.ZH) == "" {
			f[name] = "needs both an English and a Chinese text"
		} else if len([]rune(x.EN)) > 2000 || len([]rune(x.ZH)) > 2000 {
			f[name] = "at most 2000 characters per language"
		}
	}
	check("intro", t.Intro)
	for _, k := range QuestionKeys() {
		check("questions."+k, t.Questions[k])
	}
	for k := range t.Questions {
		if !isQuestion(k) {
			f["questions."+k] = "is not a known question (" + strings.Join(QuestionKeys(), ", ") + ")"
		}
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

func isQuestion(k string) bool {
	for _, q := range QuestionKeys() {
		if q == k {
			return true
		}
	}
	return false
}

// Store persists tasks and templates. Changes of a task go through Update,
// which of concurrent updates of one version lets exactly one win.
type Store interface {
	// Insert stores a new task; created is false when the id existed.
	Insert(ctx context.Context, t Task) (created bool, err error)
	Get(ctx context.Context, id string) (Task, error)
	// Update writes t if its stored version is still t.Version (then
	// bumps it) and appends entries; ErrConflict otherwise.
	Update(ctx context.Context, t Task, entries ...audit.Entry) (Task, error)
	ByEmployee(ctx context.Context, employeeID string) ([]Task, error)
	ByProject(ctx context.Context, code string) ([]Task, error)
	ByStatus(ctx context.Context, status string) ([]Task, error)

	// LatestTemplate returns the newest saved template, or ErrNotFound.
	LatestTemplate(ctx context.Context) (Template, error)
	// InsertTemplate stores t as its version; ErrConflict when that
	// version exists (someone saved first).
	InsertTemplate(ctx context.Context, t Template) error
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
