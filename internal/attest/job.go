package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/lease"
)

// JobLease names the periodic job's lease.
const JobLease = "attestation-check"

// Job turns tasks past due into overdue ones (notices, finding), lapses
// tasks whose assignment ended, and asks for the yearly re-attestation.
// One replica runs it at a time; every step is idempotent, so a crash
// midway is finished by the next round.
type Job struct {
	Service *Service
	// Reevaluate re-runs detection for an employee (evaluate.Engine.Reevaluate),
	// so the overdue finding joins their case.
	Reevaluate func(ctx context.Context, employeeID string) error
	Leases     lease.Lessor
	Holder     string

	last int64 // lease epoch of the last round (Run's goroutine only)
}

// RoundResult counts what a round did.
type RoundResult struct {
	Overdue, Lapsed, Synced, Reasked, Failed int
}

// Round runs once, without the lease (Run takes it).
func (j *Job) Round(ctx context.Context) (RoundResult, error) {
	s := j.Service
	var res RoundResult
	now := s.Now().UTC()
	today := s.day(now)
	pending, err := s.Store.ByStatus(ctx, StatusPending)
	if err != nil {
		return res, fmt.Errorf("attestation check: %w", err)
	}
	for _, t := range pending {
		if !now.After(t.DueAt) {
			continue
		}
		e, err := s.Employees.Get(ctx, t.EmployeeID)
		if err != nil && !errors.Is(err, employee.ErrNotFound) {
			return res, fmt.Errorf("attestation check: %w", err)
		}
		to, action, reason := StatusOverdue, ActionOverdue, "not attested by the due date"
		if err == nil && !stillOn(e, t, today) {
			to, action, reason = StatusLapsed, ActionLapse, "no longer on the project before attesting"
		}
		if err := s.change(ctx, t, to, action, reason, now); err != nil {
			if errors.Is(err, ErrConflict) {
				continue // the employee attested meanwhile (or another round)
			}
			res.Failed++
			s.Log.Warn("attestation check: change failed; retried next round", "attestation", t.ID, "err", err)
			continue
		}
		if to == StatusOverdue {
			res.Overdue++
		} else {
			res.Lapsed++
		}
	}
	overdue, err := s.Store.ByStatus(ctx, StatusOverdue)
	if err != nil {
		return res, fmt.Errorf("attestation check: %w", err)
	}
	for _, t := range overdue {
		if t.Synced {
			continue
		}
		if err := j.sync(ctx, t, now); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Failed++
			s.Log.Warn("attestation check: notices or re-evaluation failed; retried next round", "attestation", t.ID, "err", err)
			continue
		}
		res.Synced++
	}
	n, err := j.reask(ctx, now, today)
	res.Reasked += n
	if err != nil {
		return res, err
	}
	return res, nil
}

// sync queues the overdue notices (idempotent by id), re-evaluates the
// employee (the finding joins their case) and marks the task synced.
func (j *Job) sync(ctx context.Context, t Task, now time.Time) error {
	s := j.Service
	manager := ""
	if e, err := s.Employees.Get(ctx, t.EmployeeID); err == nil {
		manager = e.ManagerOn(s.day(now))
	} else if !errors.Is(err, employee.ErrNotFound) {
		return err
	}
	if err := s.enqueue(ctx, overdueNotices(t, manager, now)...); err != nil {
		return err
	}
	if j.Reevaluate != nil {
		if err := j.Reevaluate(ctx, t.EmployeeID); err != nil {
			return err
		}
	}
	t.Synced, t.UpdatedAt = true, now
	_, err := s.Store.Update(ctx, t)
	if errors.Is(err, ErrConflict) {
		return nil // attested meanwhile: the next re-evaluation drops the finding
	}
	return err
}

// reask creates the next cycle for everyone who attested ReattestEvery
// ago and is still on the project.
func (j *Job) reask(ctx context.Context, now time.Time, today civil.Date) (int, error) {
	s := j.Service
	if s.Config.ReattestEvery <= 0 {
		return 0, nil
	}
	done, err := s.Store.ByStatus(ctx, StatusDone)
	if err != nil {
		return 0, fmt.Errorf("re-attestation: %w", err)
	}
	n := 0
	for _, t := range done {
		if t.AttestedAt.IsZero() || now.Before(t.AttestedAt.Add(s.Config.ReattestEvery)) {
			continue
		}
		next := t
		next.Cycle++
		next.ID = TaskID(t.EmployeeID, t.ProjectCode, t.AssignedOn, next.Cycle)
		if _, err := s.Store.Get(ctx, next.ID); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return n, err
		}
		e, err := s.Employees.Get(ctx, t.EmployeeID)
		if err != nil {
			if errors.Is(err, employee.ErrNotFound) {
				continue
			}
			return n, err
		}
		if !stillOn(e, t, today) {
			continue
		}
		if a, ok := assignment(e, t.ProjectCode, t.AssignedOn); ok {
			next.ProjectName, next.Sensitivity, next.LaunchDate = orKeep(a.Name, t.ProjectName), a.Sensitivity, a.LaunchDate
			if !Sensitive(a.Sensitivity) {
				continue
			}
		}
		next.Status, next.Answers, next.AttestedAt, next.TemplateVersion, next.Synced = StatusPending, nil, time.Time{}, 0, false
		next.History, next.Version = nil, 1
		next.ReceivedAt, next.DueAt, next.CreatedAt, next.UpdatedAt = now, now.AddDate(0, 0, s.Config.DueDays), now, now
		if err := s.create(ctx, next); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func orKeep(v, old string) string {
	if v == "" {
		return old
	}
	return v
}

// stillOn reports whether the employee is employed and on the task's project today.
func stillOn(e employee.Employee, t Task, today civil.Date) bool {
	if departed(e, today) {
		return false
	}
	a, ok := assignment(e, t.ProjectCode, t.AssignedOn)
	return ok && a.Active(today)
}

func systemEntry(t Task, action audit.Action, from string, now time.Time) audit.Entry {
	h := sha256.Sum256([]byte(t.ID + "\x00" + string(action) + "\x00" + fmt.Sprint(t.Version)))
	return audit.Entry{ID: "sys-" + hex.EncodeToString(h[:12]), At: now, Actor: audit.SystemActor, Action: action,
		ResourceType: ResourceAttestation, ResourceID: t.ID, OwnerID: t.EmployeeID,
		Details: map[string]string{"from": from, "to": t.Status, "project": t.ProjectCode}}
}

// Run checks at start and then every interval on whichever replica holds the lease.
func (j *Job) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(min(interval, time.Minute))
	defer t.Stop()
	for {
		j.tryRound(ctx, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *Job) tryRound(ctx context.Context, interval time.Duration) {
	log := j.Service.Log
	l, ok, err := j.Leases.Acquire(ctx, JobLease, j.Holder, interval)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		log.Warn("attestation check: lease not read; next try soon", "err", err)
		return
	case !ok || l.Epoch() == j.last:
		return
	}
	j.last = l.Epoch()
	res, err := j.Round(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		log.Warn("attestation check failed; next at the interval", "err", err)
	case res != RoundResult{}:
		log.Info("attestation check", "overdue", res.Overdue, "lapsed", res.Lapsed, "synced", res.Synced,
			"reasked", res.Reasked, "failed", res.Failed)
	}
}
