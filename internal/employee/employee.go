// Package employee builds the employee projection from HR events. The projection
// is a pure function of the set of HR facts received, applied in effective-date
// order, so the result does not depend on the order in which events arrived.
package employee

import (
	"context"
	"errors"
	"sort"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// ErrNotFound is returned by stores when no employee has the id.
var ErrNotFound = errors.New("employee not found")

// ErrConflict is returned by stores when the document changed since it was read.
var ErrConflict = errors.New("employee changed concurrently")

// Employee is the projection of one employee's HR history.
type Employee struct {
	ID         string
	Name       string
	Email      string
	Department string
	Title      string
	ManagerID  string
	Location   string

	Employments []Interval
	Projects    []Assignment
	Leaves      []Leave

	// Facts are the HR events the projection was built from.
	Facts []Fact
	// Version increases with each stored change (optimistic concurrency).
	Version int64
}

// Interval is one period of employment. A zero Start means the hire event has
// not arrived (yet); a zero End means still employed.
type Interval struct {
	Start  civil.Date
	End    civil.Date
	Reason string
}

// Contains reports whether d falls within the interval (both ends inclusive).
func (i Interval) Contains(d civil.Date) bool {
	return (i.Start.IsZero() || !d.Before(i.Start)) && (i.End.IsZero() || !d.After(i.End))
}

// Assignment is a period on a project. A zero End means still assigned.
type Assignment struct {
	Code        string
	Name        string
	Sensitivity string
	LaunchDate  civil.Date
	Start       civil.Date
	End         civil.Date
}

// Active reports whether the assignment covers d.
func (a Assignment) Active(d civil.Date) bool {
	return !d.Before(a.Start) && (a.End.IsZero() || !d.After(a.End))
}

// Leave is one recorded leave.
type Leave struct {
	ID    string
	Start civil.Date
	End   civil.Date
	Type  string
}

// Fact is one HR event in the projection's history.
type Fact struct {
	Ref       event.Ref
	Type      string
	Effective civil.Date
	// Data is the event's typed data (*event.EmployeeHired, ...).
	Data any
}

// FactOf turns a decoded HR event into a Fact; ok is false for non-HR events.
func FactOf(e event.Event) (Fact, bool) {
	f := Fact{Ref: e.Ref, Type: e.Type, Data: e.Data}
	switch d := e.Data.(type) {
	case *event.EmployeeHired:
		f.Effective = d.HireDate
	case *event.EmployeeUpdated:
		f.Effective = d.EffectiveDate
	case *event.EmployeeTerminated:
		f.Effective = d.TerminationDate
	case *event.ProjectAssigned:
		f.Effective = d.EffectiveDate
	case *event.ProjectUnassigned:
		f.Effective = d.EffectiveDate
	case *event.LeaveRecorded:
		f.Effective = d.StartDate
	default:
		return Fact{}, false
	}
	return f, true
}

// HasFact reports whether the projection already holds the event.
func (e *Employee) HasFact(ref event.Ref) bool {
	for _, f := range e.Facts {
		if f.Ref == ref {
			return true
		}
	}
	return false
}

// Add records the fact and rebuilds the projection. It reports false, changing
// nothing, when the fact was already there (a redelivered event).
func (e *Employee) Add(f Fact) bool {
	if e.HasFact(f.Ref) {
		return false
	}
	facts := append(append([]Fact(nil), e.Facts...), f)
	rebuilt := Build(e.ID, facts)
	rebuilt.Version = e.Version
	*e = rebuilt
	return true
}

var typeRank = map[string]int{
	event.TypeEmployeeHired:      0,
	event.TypeEmployeeUpdated:    1,
	event.TypeProjectAssigned:    2,
	event.TypeProjectUnassigned:  3,
	event.TypeLeaveRecorded:      4,
	event.TypeEmployeeTerminated: 5,
}

// Build applies facts in effective-date order (ties: hire first, termination
// last, then by event key) and returns the projection.
func Build(id string, facts []Fact) Employee {
	sorted := append([]Fact(nil), facts...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Effective != b.Effective {
			return a.Effective < b.Effective
		}
		if typeRank[a.Type] != typeRank[b.Type] {
			return typeRank[a.Type] < typeRank[b.Type]
		}
		return a.Ref.Key() < b.Ref.Key()
	})
	e := Employee{ID: id, Facts: sorted}
	for _, f := range sorted {
		e.apply(f)
	}
	return e
}

func (e *Employee) apply(f Fact) {
	switch d := f.Data.(type) {
	case *event.EmployeeHired:
		e.Name, e.Department = d.Name, d.Department
		setIf(&e.Email, d.Email)
		setIf(&e.Title, d.Title)
		setIf(&e.ManagerID, d.ManagerID)
		setIf(&e.Location, d.Location)
		if n := len(e.Employments); n > 0 && e.Employments[n-1].End.IsZero() {
			return // already employed: a second hire event changes no interval
		}
		e.Employments = append(e.Employments, Interval{Start: d.HireDate})
	case *event.EmployeeUpdated:
		setPtr(&e.Name, d.Name)
		setPtr(&e.Email, d.Email)
		setPtr(&e.Department, d.Department)
		setPtr(&e.Title, d.Title)
		setPtr(&e.ManagerID, d.ManagerID)
		setPtr(&e.Location, d.Location)
	case *event.EmployeeTerminated:
		if n := len(e.Employments); n > 0 && e.Employments[n-1].End.IsZero() {
			e.Employments[n-1].End = d.TerminationDate
			e.Employments[n-1].Reason = d.Reason
			return
		}
		// Termination without a known hire: employed until that date, start unknown.
		e.Employments = append(e.Employments, Interval{End: d.TerminationDate, Reason: d.Reason})
	case *event.ProjectAssigned:
		for i := range e.Projects {
			p := &e.Projects[i]
			if p.Code == d.ProjectCode && p.End.IsZero() {
				p.Name, p.Sensitivity = orOld(d.ProjectName, p.Name), d.Sensitivity
				p.LaunchDate = civil.Date(orOld(string(d.LaunchDate), string(p.LaunchDate)))
				return
			}
		}
		e.Projects = append(e.Projects, Assignment{
			Code: d.ProjectCode, Name: d.ProjectName, Sensitivity: d.Sensitivity,
			LaunchDate: d.LaunchDate, Start: d.EffectiveDate,
		})
	case *event.ProjectUnassigned:
		for i := range e.Projects {
			if e.Projects[i].Code == d.ProjectCode && e.Projects[i].End.IsZero() {
				e.Projects[i].End = d.EffectiveDate
			}
		}
	case *event.LeaveRecorded:
		for i := range e.Leaves {
			if e.Leaves[i].ID == d.LeaveID {
				e.Leaves[i] = Leave{ID: d.LeaveID, Start: d.StartDate, End: d.EndDate, Type: d.LeaveType}
				return
			}
		}
		e.Leaves = append(e.Leaves, Leave{ID: d.LeaveID, Start: d.StartDate, End: d.EndDate, Type: d.LeaveType})
	}
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func setPtr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func orOld(v, old string) string {
	if v == "" {
		return old
	}
	return v
}

// Known reports whether a hire event has been received (the profile is known).
func (e *Employee) Known() bool {
	for _, f := range e.Facts {
		if f.Type == event.TypeEmployeeHired {
			return true
		}
	}
	return false
}

// EmploymentOn returns the employment interval containing d.
func (e *Employee) EmploymentOn(d civil.Date) (Interval, bool) {
	for _, i := range e.Employments {
		if i.Contains(d) {
			return i, true
		}
	}
	return Interval{}, false
}

// LastEndedBefore returns the most recent employment interval that ended before d.
func (e *Employee) LastEndedBefore(d civil.Date) (Interval, bool) {
	var best Interval
	found := false
	for _, i := range e.Employments {
		if !i.End.IsZero() && i.End.Before(d) && (!found || i.End.After(best.End)) {
			best, found = i, true
		}
	}
	return best, found
}

// ProjectsOn returns the assignments active on d.
func (e *Employee) ProjectsOn(d civil.Date) []Assignment {
	var out []Assignment
	for _, p := range e.Projects {
		if p.Active(d) {
			out = append(out, p)
		}
	}
	return out
}

// Store persists employee projections.
type Store interface {
	// Get returns the employee or ErrNotFound.
	Get(ctx context.Context, id string) (Employee, error)
	// GetMany returns the employees that exist among ids, keyed by id.
	GetMany(ctx context.Context, ids []string) (map[string]Employee, error)
	// Save writes e if its stored version is still e.Version (0: not stored yet),
	// and returns the new version, or ErrConflict.
	Save(ctx context.Context, e Employee) (int64, error)
	// ListReports returns the ids of the employees whose manager is managerID.
	ListReports(ctx context.Context, managerID string) ([]string, error)
	// List returns employees for the UI and sample checks, ordered by id.
	List(ctx context.Context, limit int) ([]Employee, error)
}

// ManagerOn returns the employee's manager as the HR facts effective on or
// before d say (a move dated later does not count yet).
func (e *Employee) ManagerOn(d civil.Date) string {
	m := ""
	for _, f := range e.Facts {
		if f.Effective.After(d) {
			continue
		}
		switch x := f.Data.(type) {
		case *event.EmployeeHired:
			setIf(&m, x.ManagerID)
		case *event.EmployeeUpdated:
			setPtr(&m, x.ManagerID)
		}
	}
	return m
}

// EmployedOn reports whether an employment interval contains d.
func (e *Employee) EmployedOn(d civil.Date) bool {
	_, ok := e.EmploymentOn(d)
	return ok
}
