package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/notify"
)

// Actor is who asks.
type Actor struct {
	ID        string
	Roles     []string
	RequestID string
}

func (a Actor) has(role string) bool { return slices.Contains(a.Roles, role) }

// Service creates, lists and completes attestations. Stage, the periodic
// Job and the HTTP handlers all use it.
type Service struct {
	Store     Store
	Employees employee.Store
	Audit     audit.Store
	// Outbox receives the due and overdue notices; nil sends none.
	Outbox notify.Outbox
	Config Config
	// BlackoutDays is the rule set's blackout_days in force.
	BlackoutDays func() int
	Now          func() time.Time
	// Zone is the business time zone (business.time_zone): a task's "today",
	// its due date and the days in its explanation are calendar days there,
	// the same as detection's. Nil is UTC.
	Zone *time.Location
	Log  *slog.Logger
}

// day is the calendar day of t in the business time zone.
func (s *Service) day(t time.Time) civil.Date { return civil.In(t, s.Zone) }

func (s *Service) blackoutDays() int {
	if s.BlackoutDays == nil {
		return detect.DefaultConfig().BlackoutDays
	}
	return s.BlackoutDays()
}

// Process implements ingest.Stage: an hr.project.assigned to a sensitive
// project asks for an attestation. It runs after the HR projection is
// stored, so the projection says whether the assignment is still current.
func (s *Service) Process(ctx context.Context, batch []event.Received, _ []string) error {
	var tasks []Task
	var ids, leaving []string
	for _, r := range batch {
		switch d := r.Event.Data.(type) {
		case *event.ProjectAssigned:
			if Sensitive(d.Sensitivity) {
				tasks = append(tasks, s.taskFor(r, d))
				ids = append(ids, d.EmployeeID)
			}
		case *event.ProjectUnassigned:
			leaving = append(leaving, d.EmployeeID)
		case *event.EmployeeTerminated:
			leaving = append(leaving, d.EmployeeID)
		}
	}
	if err := s.lapseLeavers(ctx, leaving); err != nil {
		return err
	}
	if len(tasks) == 0 {
		return nil
	}
	emps, err := s.Employees.GetMany(ctx, ids)
	if err != nil {
		return fmt.Errorf("attestations: %w", err)
	}
	today := s.day(s.Now())
	for _, t := range tasks {
		if e, ok := emps[t.EmployeeID]; ok {
			a, found := assignment(e, t.ProjectCode, t.AssignedOn)
			if found && !a.End.IsZero() && a.End.Before(today) {
				continue // the assignment was over when we heard of it (a backfill)
			}
			if found {
				t.AssignedOn = a.Start
				t.ID = TaskID(t.EmployeeID, t.ProjectCode, t.AssignedOn, 0)
			}
			if departed(e, today) {
				continue
			}
		}
		if err := s.create(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// lapseLeavers lapses the open tasks of employees who left a project (or
// the company): an attestation for a project one is no longer on is moot.
func (s *Service) lapseLeavers(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	emps, err := s.Employees.GetMany(ctx, ids)
	if err != nil {
		return fmt.Errorf("attestations: %w", err)
	}
	now := s.Now().UTC()
	today := s.day(now)
	for _, id := range sortedKeys(emps) {
		ts, err := s.Store.ByEmployee(ctx, id)
		if err != nil {
			return fmt.Errorf("attestations of %s: %w", id, err)
		}
		for _, t := range ts {
			if !t.Open() || stillOn(emps[id], t, today) {
				continue
			}
			if err := s.change(ctx, t, StatusLapsed, ActionLapse, "no longer on the project before attesting", now); err != nil &&
				!errors.Is(err, ErrConflict) {
				return err
			}
		}
	}
	return nil
}

// change moves t to status to as the system, with its audit entry.
func (s *Service) change(ctx context.Context, t Task, to string, action audit.Action, reason string, now time.Time) error {
	from := t.Status
	t.transition(audit.SystemActor, to, reason, now)
	_, err := s.Store.Update(ctx, t, systemEntry(t, action, from, now))
	return err
}

func (s *Service) taskFor(r event.Received, d *event.ProjectAssigned) Task {
	received := r.ReceivedAt
	if received.IsZero() {
		received = s.Now()
	}
	received = received.UTC()
	return Task{
		ID: TaskID(d.EmployeeID, d.ProjectCode, d.EffectiveDate, 0), EmployeeID: d.EmployeeID,
		ProjectCode: d.ProjectCode, ProjectName: d.ProjectName, Sensitivity: d.Sensitivity, LaunchDate: d.LaunchDate,
		AssignedOn: d.EffectiveDate, EventRef: r.Event.Ref, Status: StatusPending, Version: 1,
		ReceivedAt: received, DueAt: received.AddDate(0, 0, s.Config.DueDays),
		CreatedAt: received, UpdatedAt: received,
	}
}

// create stores a new task and queues its due notice first (the notice id
// is the task's, so a retry queues it once).
func (s *Service) create(ctx context.Context, t Task) error {
	if err := s.enqueue(ctx, dueNotice(t)); err != nil {
		return err
	}
	created, err := s.Store.Insert(ctx, t)
	if err != nil {
		return fmt.Errorf("create attestation %s: %w", t.ID, err)
	}
	if created && s.Log != nil {
		s.Log.Debug("attestation asked", "attestation", t.ID, "employee", t.EmployeeID, "project", t.ProjectCode, "cycle", t.Cycle)
	}
	return nil
}

func (s *Service) enqueue(ctx context.Context, ns ...notify.Notice) error {
	if s.Outbox == nil || len(ns) == 0 {
		return nil
	}
	if err := s.Outbox.Enqueue(ctx, ns...); err != nil {
		return fmt.Errorf("queue attestation notice: %w", err)
	}
	return nil
}

func params(t Task) map[string]string {
	return map[string]string{"attestation_id": t.ID, "project_code": t.ProjectCode, "due_at": t.DueAt.UTC().Format(time.RFC3339),
		"cycle": strconv.Itoa(t.Cycle)}
}

func dueNotice(t Task) notify.Notice {
	return notify.Notice{ID: notify.KindAttestationDue + ":" + t.ID, Kind: notify.KindAttestationDue, Recipient: t.EmployeeID,
		Params: params(t), CreatedAt: t.CreatedAt}
}

func overdueNotices(t Task, manager string, now time.Time) []notify.Notice {
	out := []notify.Notice{{ID: notify.KindAttestationOverdue + ":" + t.ID + ":" + t.EmployeeID, Kind: notify.KindAttestationOverdue,
		Recipient: t.EmployeeID, Params: params(t), CreatedAt: now}}
	if manager != "" && manager != t.EmployeeID {
		p := params(t)
		p["employee_id"] = t.EmployeeID
		out = append(out, notify.Notice{ID: notify.KindAttestationOverdue + ":" + t.ID + ":" + manager, Kind: notify.KindAttestationOverdue,
			Recipient: manager, Params: p, CreatedAt: now})
	}
	return out
}

func assignment(e employee.Employee, code string, start civil.Date) (employee.Assignment, bool) {
	var best employee.Assignment
	found := false
	for _, a := range e.Projects {
		if a.Code != code {
			continue
		}
		if a.Start == start {
			return a, true
		}
		// A correction restated the assignment with another effective
		// date: the projection kept the first start; take the one open then.
		if !found || a.Active(start) {
			best, found = a, true
		}
	}
	return best, found
}

func departed(e employee.Employee, day civil.Date) bool {
	if len(e.Employments) == 0 {
		return false
	}
	return !e.EmployedOn(day)
}

// View is a task as its employee sees it: the texts rendered.
type View struct {
	Task
	Intro         string
	Questions     []Question
	BlackoutFrom  civil.Date
	BlackoutTo    civil.Date
	TemplateShown int64
}

// Question is one rendered question.
type Question struct {
	Key  string
	Text string
}

// Mine lists the actor's own tasks, newest first, with the current texts in lang.
func (s *Service) Mine(ctx context.Context, a Actor, lang string) ([]View, error) {
	ts, err := s.Store.ByEmployee(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	tpl, err := s.Template(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(x, y Task) int { return y.CreatedAt.Compare(x.CreatedAt) })
	out := make([]View, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.view(t, tpl, lang))
	}
	return out, nil
}

func (s *Service) view(t Task, tpl Template, lang string) View {
	days := s.blackoutDays()
	v := View{Task: t, Intro: Render(tpl.Intro.In(lang), t, days), TemplateShown: tpl.Version}
	v.BlackoutFrom, v.BlackoutTo, _ = Blackout(t.LaunchDate, days)
	for _, k := range QuestionKeys() {
		v.Questions = append(v.Questions, Question{Key: k, Text: Render(tpl.Questions[k].In(lang), t, days)})
	}
	return v
}

// AttestInput is what the employee sends.
type AttestInput struct {
	Answers map[string]bool
	// Version is the task version read (required).
	Version *int64
	// TemplateVersion, when given, must be the texts in force (the ones shown).
	TemplateVersion *int64
}

// Attest completes the actor's own task. Every question must be answered
// true; the task records the template version it showed.
func (s *Service) Attest(ctx context.Context, a Actor, id string, in AttestInput) (Task, error) {
	t, err := s.Store.Get(ctx, id)
	if err != nil {
		return Task{}, err
	}
	if t.EmployeeID != a.ID {
		return Task{}, fmt.Errorf("attestation %s: %w", id, ErrNotFound) // someone else's: as if absent
	}
	if in.Version == nil {
		return Task{}, ErrVersionRequired
	}
	if *in.Version != t.Version {
		return Task{}, fmt.Errorf("attestation %s is at version %d, not %d: %w", id, t.Version, *in.Version, ErrStale)
	}
	if !t.Open() {
		return Task{}, fmt.Errorf("attestation %s is %s: %w", id, t.Status, ErrInvalidState)
	}
	fields := map[string]string{}
	for _, k := range QuestionKeys() {
		v, ok := in.Answers[k]
		switch {
		case !ok:
			fields["answers."+k] = "is required"
		case !v:
			fields["answers."+k] = "must be true to attest; if you cannot confirm it, declare first or contact compliance"
		}
	}
	for k := range in.Answers {
		if !isQuestion(k) {
			fields["answers."+k] = "is not a question of this attestation"
		}
	}
	if len(fields) > 0 {
		return Task{}, &ValidationError{Fields: fields}
	}
	tpl, err := s.Template(ctx)
	if err != nil {
		return Task{}, err
	}
	if in.TemplateVersion != nil && *in.TemplateVersion != tpl.Version {
		return Task{}, fmt.Errorf("texts are at version %d, not %d: %w", tpl.Version, *in.TemplateVersion, ErrTemplateStale)
	}
	now := s.Now().UTC()
	from := t.Status
	t.Answers = map[string]bool{}
	for _, k := range QuestionKeys() {
		t.Answers[k] = true
	}
	t.TemplateVersion, t.AttestedAt = tpl.Version, now
	t.transition(a.ID, StatusDone, "attested", now)
	e := audit.Entry{ID: audit.NewID(), At: now, Actor: a.ID, ActorRoles: a.Roles, Action: ActionAttest,
		ResourceType: ResourceAttestation, ResourceID: t.ID, OwnerID: t.EmployeeID, RequestID: a.RequestID,
		Details: map[string]string{"from": from, "to": StatusDone, "project": t.ProjectCode, "template_version": strconv.FormatInt(tpl.Version, 10)}}
	out, err := s.Store.Update(ctx, t, e)
	if errors.Is(err, ErrConflict) {
		return Task{}, fmt.Errorf("attestation %s: %w", id, ErrStale)
	}
	return out, err
}

// Template returns the texts in force (the built-in ones until an admin saves).
func (s *Service) Template(ctx context.Context) (Template, error) {
	t, err := s.Store.LatestTemplate(ctx)
	if errors.Is(err, ErrNotFound) {
		return DefaultTemplate(), nil
	}
	return t, err
}

// TemplateToEdit returns the texts in force to an admin, who may edit them
// (SaveTemplate); anyone else is refused with ErrForbidden, audited.
// Employees read the texts with their tasks (Mine), not here.
func (s *Service) TemplateToEdit(ctx context.Context, a Actor) (Template, error) {
	if !a.has("admin") {
		return Template{}, s.denied(ctx, a, ResourceTemplate, "", "needs admin", "template_read")
	}
	return s.Template(ctx)
}

// SaveTemplate stores edited texts as the next version after basedOn, the
// version the admin read; a newer save meanwhile is ErrTemplateStale.
func (s *Service) SaveTemplate(ctx context.Context, a Actor, t Template, basedOn int64) (Template, error) {
	if !a.has("admin") {
		return Template{}, s.denied(ctx, a, ResourceTemplate, "", "needs admin", "template_save")
	}
	cur, err := s.Template(ctx)
	if err != nil {
		return Template{}, err
	}
	if cur.Version != basedOn {
		return Template{}, fmt.Errorf("texts are at version %d, not %d: %w", cur.Version, basedOn, ErrTemplateStale)
	}
	if err := ValidateTemplate(t); err != nil {
		return Template{}, err
	}
	now := s.Now().UTC()
	t.Version, t.By, t.At = basedOn+1, a.ID, now
	if err := s.Store.InsertTemplate(ctx, t); err != nil {
		if errors.Is(err, ErrConflict) {
			return Template{}, fmt.Errorf("texts version %d: %w", t.Version, ErrTemplateStale)
		}
		return Template{}, err
	}
	e := audit.Entry{ID: "tpl-" + strconv.FormatInt(t.Version, 10), At: now, Actor: a.ID, ActorRoles: a.Roles, Action: ActionTemplateSave,
		ResourceType: ResourceTemplate, ResourceID: "v" + strconv.FormatInt(t.Version, 10), RequestID: a.RequestID,
		Details: map[string]string{"from_version": strconv.FormatInt(basedOn, 10)}}
	return t, s.Audit.Append(ctx, e)
}

// denied audits a refused attempt and returns ErrForbidden, joined with the
// audit store's error if the entry could not be written (audit.Deny): no
// refusal goes unrecorded unnoticed.
func (s *Service) denied(ctx context.Context, a Actor, typ, id, reason, attempt string) error {
	return audit.Deny(ctx, s.Audit, s.Now(), audit.Refusal{Actor: a.ID, ActorRoles: a.Roles, RequestID: a.RequestID,
		ResourceType: typ, ResourceID: id, Attempt: attempt, Reason: reason}, ErrForbidden)
}

// ByProject lists every task of a project (insider lists).
func (s *Service) ByProject(ctx context.Context, code string) ([]Task, error) {
	return s.Store.ByProject(ctx, code)
}

// FindingsFor implements evaluate.FindingSource: one low finding per overdue
// task, explained with its project, assignment and due date. It is pure
// given the stored tasks: the same tasks give the same findings. Someone
// never assigned to a sensitive project has no task: no read.
func (s *Service) FindingsFor(ctx context.Context, emp employee.Employee, _ time.Time) ([]detect.Finding, error) {
	if !slices.ContainsFunc(emp.Projects, func(a employee.Assignment) bool { return Sensitive(a.Sensitivity) }) {
		return nil, nil
	}
	employeeID := emp.ID
	ts, err := s.Store.ByEmployee(ctx, employeeID)
	if err != nil {
		return nil, fmt.Errorf("attestations of %s: %w", employeeID, err)
	}
	var out []detect.Finding
	for _, t := range ts {
		if t.Status == StatusOverdue {
			out = append(out, OverdueFinding(t, s.Config.OverduePoints, s.Zone))
		}
	}
	slices.SortFunc(out, func(a, b detect.Finding) int {
		if a.OccurredOn != b.OccurredOn {
			if a.OccurredOn < b.OccurredOn {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out, nil
}

// OverdueFinding is the finding of an overdue task. Its explanation is a
// clause (project by code and name, dates as dates) rendered in each
// reader's language; Summary is its English rendering, as every rule's
// (for logs, and the fallback of findings stored before explanations).
// Its dates are calendar days in zone, the business time zone (nil: UTC).
func OverdueFinding(t Task, points int, zone *time.Location) detect.Finding {
	h := sha256.Sum256([]byte(RuleOverdue + "\x00" + t.EmployeeID + "\x00" + t.ID))
	due := civil.In(t.DueAt, zone)
	x := explain.Explanation{explain.C(explain.CodeAttestationOverdue).
		With("project", explain.Project(t.ProjectCode, t.ProjectName, t.Sensitivity)).
		With("assigned", explain.Date(t.AssignedOn)).
		With("due", explain.Date(due)).
		With("days", explain.Int(int(t.DueAt.Sub(t.ReceivedAt).Hours()/24))).
		With("received", explain.Date(civil.In(t.ReceivedAt, zone)))}
	return detect.Finding{
		ID: hex.EncodeToString(h[:16]), EmployeeID: t.EmployeeID, Rule: RuleOverdue, Severity: detect.SeverityLow, Score: points,
		Explanation: x, Summary: explain.Plain(explain.EN, x, nil),
		OccurredOn: due, EventRefs: []event.Ref{t.EventRef}, Employment: detect.EmploymentEmployed, Project: t.ProjectCode,
		Points: []detect.Point{{Part: detect.PartWeight, Points: points}},
	}
}
