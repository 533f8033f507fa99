package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/produce"
	"github.com/moonlight-oss/moonlight/internal/sample"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// sampleSeed fixes the sample data set; its event ids are stable, so loading
// it again changes nothing.
const sampleSeed = 11

// loadSample publishes the sample events the first time the demo starts on a
// data directory (an empty events collection), waits until they are stored,
// then declares and decides the sample disclosures through the same workflow
// the API uses. Both steps are idempotent.
func loadSample(ctx context.Context, svc *service.Service, out io.Writer) error {
	now := time.Now()
	n, err := svc.Events.Count(ctx)
	if err != nil {
		return err
	}
	if err := sampleLanguages(ctx, svc); err != nil {
		return err
	}
	if n == 0 {
		msgs := sample.Generate(sampleSeed, now)
		w := produce.NewWriter(svc.Brokers())
		err := produce.Publish(ctx, w, svc.Topics(), msgs)
		w.Close()
		if err != nil {
			return fmt.Errorf("load sample data: %w", err)
		}
		fmt.Fprintf(out, "Published the sample data set: %d events.\n", len(msgs))
		start := time.Now()
		if err := waitStored(ctx, svc, int64(len(msgs)), 3*time.Minute); err != nil {
			return err
		}
		el := time.Since(start)
		fmt.Fprintf(out, "Consumed, stored and evaluated %d events in %s (%.0f events/s).\n", len(msgs), el.Round(time.Millisecond), float64(len(msgs))/el.Seconds())
	} else {
		fmt.Fprintf(out, "Sample data already loaded (%d events stored).\n", n)
	}
	made, err := declareSample(ctx, svc.DisclosureService, svc.Employees, now)
	if made > 0 {
		fmt.Fprintf(out, "Declared %d sample disclosures and decided them as the sample approvers.\n", made)
	}
	if err != nil {
		return err
	}
	return loadLaunchSample(ctx, svc, now, out)
}

func waitStored(ctx context.Context, svc *service.Service, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := svc.Events.Count(ctx)
		if err == nil && n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sample data: %d of %d events stored after %s", n, want, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// declareSample submits each sample disclosure its employee has not declared
// yet (same counterparty and start date) and applies the sample decision.
func declareSample(ctx context.Context, svc *disclosure.Service, employees employee.Store, now time.Time) (int, error) {
	made := 0
	for _, sd := range sample.Disclosures(now) {
		owner := disclosure.Actor{ID: sd.EmployeeID, Roles: []string{"employee"}, RequestID: "demo-sample"}
		mine, _, err := svc.ListMine(ctx, owner, disclosure.Page{Limit: disclosure.MaxLimit})
		if err != nil {
			return made, err
		}
		if declared(mine, sd) {
			continue
		}
		in := disclosure.Input{
			Kind: disclosure.Kind(sd.Body.Kind), Counterparty: sd.Body.Counterparty,
			CounterpartyType: disclosure.CounterpartyType(sd.Body.CounterpartyType), Topic: sd.Body.Topic,
			StartDate: sd.Body.StartDate, EndDate: sd.Body.EndDate, Paid: sd.Body.Paid,
		}
		if c := sd.Body.Compensation; c != nil {
			in.Compensation = &disclosure.Compensation{Amount: c.Amount, Currency: c.Currency}
		}
		d, err := svc.Create(ctx, owner, in)
		if err != nil {
			return made, fmt.Errorf("sample disclosure of %s: %w", sd.EmployeeID, err)
		}
		made++
		if sd.Decision == "" || string(d.Status) == sd.WantStatus {
			continue
		}
		if sd.DeciderRole == "manager" {
			if err := waitManager(ctx, employees, sd.EmployeeID, sd.DecidedBy); err != nil {
				return made, err
			}
		}
		decider := disclosure.Actor{ID: sd.DecidedBy, Roles: []string{"employee", sd.DeciderRole}, RequestID: "demo-sample"}
		if _, err := svc.Decide(ctx, decider, d.ID, disclosure.DecisionInput{Outcome: disclosure.Outcome(sd.Decision), Comment: sd.Comment, Version: d.Version}); err != nil {
			return made, fmt.Errorf("decide sample disclosure of %s: %w", sd.EmployeeID, err)
		}
	}
	return made, nil
}

func declared(mine []disclosure.Disclosure, sd sample.SampleDisclosure) bool {
	for _, d := range mine {
		if d.Counterparty == sd.Body.Counterparty && d.StartDate == sd.Body.StartDate {
			return true
		}
	}
	return false
}

// waitManager waits until the HR projection says managerID manages employeeID
// (the manager's right to decide comes from it).
func waitManager(ctx context.Context, employees employee.Store, employeeID, managerID string) error {
	for i := 0; i < 150; i++ {
		e, err := employees.Get(ctx, employeeID)
		if err == nil && e.ManagerID == managerID {
			return nil
		}
		if err != nil && !errors.Is(err, employee.ErrNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("sample: %s is not recorded as %s's manager", managerID, employeeID)
}
