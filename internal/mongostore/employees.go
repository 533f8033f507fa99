package mongostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

const employeesCollection = "employees"

type employeeDoc struct {
	ID          string          `bson:"_id"`
	Name        string          `bson:"name"`
	Email       string          `bson:"email,omitempty"`
	Department  string          `bson:"department"`
	Title       string          `bson:"title,omitempty"`
	ManagerID   string          `bson:"manager_id,omitempty"`
	Location    string          `bson:"location,omitempty"`
	Employments []intervalDoc   `bson:"employments"`
	Projects    []assignmentDoc `bson:"projects"`
	Leaves      []leaveDoc      `bson:"leaves"`
	Facts       []factDoc       `bson:"facts"`
	Version     int64           `bson:"version"`
}

type intervalDoc struct {
	Start  string `bson:"start,omitempty"`
	End    string `bson:"end,omitempty"`
	Reason string `bson:"reason,omitempty"`
}

type assignmentDoc struct {
	Code        string `bson:"code"`
	Name        string `bson:"name,omitempty"`
	Sensitivity string `bson:"sensitivity"`
	LaunchDate  string `bson:"launch_date,omitempty"`
	Start       string `bson:"start"`
	End         string `bson:"end,omitempty"`
}

type leaveDoc struct {
	ID    string `bson:"id"`
	Start string `bson:"start"`
	End   string `bson:"end"`
	Type  string `bson:"type,omitempty"`
}

// factDoc keeps one HR event's data as JSON text, so the projection can be
// rebuilt from it whatever order the events arrived in.
type factDoc struct {
	Source    string `bson:"source"`
	ID        string `bson:"id"`
	Type      string `bson:"type"`
	Effective string `bson:"effective"`
	Data      string `bson:"data"`
}

func employeeIndexes() []index {
	return []index{
		{employeesCollection, mongo.IndexModel{Keys: bson.D{{Key: "manager_id", Value: 1}}, Options: options.Index().SetName("manager")}},
		{employeesCollection, mongo.IndexModel{Keys: bson.D{{Key: "department", Value: 1}}, Options: options.Index().SetName("department")}},
	}
}

// EmployeeStore implements employee.Store.
type EmployeeStore struct {
	db   *DB
	coll *mongo.Collection
}

var _ employee.Store = (*EmployeeStore)(nil)

// NewEmployeeStore returns the store on db.
func NewEmployeeStore(db *DB) *EmployeeStore {
	return &EmployeeStore{db: db, coll: db.DB.Collection(employeesCollection)}
}

// Get implements employee.Store. Within a batch (employee.WithReads) an
// employee already read or written is not read again.
func (s *EmployeeStore) Get(ctx context.Context, id string) (employee.Employee, error) {
	reads := employee.ReadsFrom(ctx)
	if e, found, known := reads.Lookup(id); known {
		if !found {
			return employee.Employee{}, fmt.Errorf("find %s %v: %w", employeesCollection, id, employee.ErrNotFound)
		}
		return e, nil
	}
	d, found, err := findByID[employeeDoc](ctx, s.coll, id)
	if err != nil {
		return employee.Employee{}, err
	}
	if !found {
		reads.RememberMissing(id)
		return employee.Employee{}, fmt.Errorf("find %s %v: %w", employeesCollection, id, employee.ErrNotFound)
	}
	e, err := fromEmployeeDoc(d)
	if err != nil {
		return employee.Employee{}, err
	}
	reads.Remember(e)
	return e, nil
}

// GetMany implements employee.Store; within a batch (employee.WithReads) it
// reads only the ids not read or written before in the batch.
func (s *EmployeeStore) GetMany(ctx context.Context, ids []string) (map[string]employee.Employee, error) {
	out := make(map[string]employee.Employee, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	reads := employee.ReadsFrom(ctx)
	var ask []string
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		e, found, known := reads.Lookup(id)
		switch {
		case known && found:
			out[id] = e
		case !known && !asked[id]:
			asked[id] = true
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	docs, err := byIDs[employeeDoc](ctx, s.db, s.coll, ask)
	if err != nil {
		return nil, fmt.Errorf("get %d employees: %w", len(ask), err)
	}
	for _, d := range docs {
		e, err := fromEmployeeDoc(d)
		if err != nil {
			return nil, err
		}
		out[e.ID] = e
		reads.Remember(e)
	}
	for _, id := range ask {
		if _, ok := out[id]; !ok {
			reads.RememberMissing(id)
		}
	}
	return out, nil
}

// Save implements employee.Store. The batch's reads (employee.WithReads)
// keep what was stored, or forget the employee when the save failed.
func (s *EmployeeStore) Save(ctx context.Context, e employee.Employee) (int64, error) {
	v, err := s.save(ctx, e)
	reads := employee.ReadsFrom(ctx)
	if err != nil {
		reads.Forget(e.ID)
		return 0, err
	}
	e.Version = v
	reads.Remember(e)
	return v, nil
}

func (s *EmployeeStore) save(ctx context.Context, e employee.Employee) (int64, error) {
	d, err := toEmployeeDoc(e)
	if err != nil {
		return 0, err
	}
	d.Version = e.Version + 1
	if e.Version == 0 {
		if _, err := s.coll.InsertOne(ctx, d); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return 0, fmt.Errorf("save employee %s: %w", e.ID, employee.ErrConflict)
			}
			return 0, fmt.Errorf("save employee %s: %w", e.ID, err)
		}
		return d.Version, nil
	}
	res, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: e.ID}, {Key: "version", Value: e.Version}}, d)
	if err != nil {
		return 0, fmt.Errorf("save employee %s: %w", e.ID, err)
	}
	if res.MatchedCount == 0 {
		return 0, fmt.Errorf("save employee %s: %w", e.ID, employee.ErrConflict)
	}
	return d.Version, nil
}

// InsertNew stores employees that were not stored yet (Version 0) in one
// unordered insert, at version 1, and returns the ids that were stored by
// someone else meanwhile (the caller re-reads those and tries again).
func (s *EmployeeStore) InsertNew(ctx context.Context, es []employee.Employee) (map[string]bool, error) {
	if len(es) == 0 {
		return nil, nil
	}
	docs := make([]any, len(es))
	for i, e := range es {
		if e.Version != 0 {
			return nil, fmt.Errorf("insert employee %s: already stored at version %d", e.ID, e.Version)
		}
		d, err := toEmployeeDoc(e)
		if err != nil {
			return nil, err
		}
		d.Version = 1
		docs[i] = d
	}
	reads := employee.ReadsFrom(ctx)
	_, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if err != nil && (!onlyDuplicates(err) || !errors.As(err, &bwe)) {
		for _, e := range es {
			reads.Forget(e.ID)
		}
		return nil, fmt.Errorf("insert %d employees: %w", len(es), err)
	}
	var taken map[string]bool
	if err != nil {
		taken = make(map[string]bool, len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(es) {
				for _, e := range es {
					reads.Forget(e.ID)
				}
				return nil, fmt.Errorf("insert %d employees: write error for index %d: %w", len(es), we.Index, err)
			}
			taken[es[we.Index].ID] = true
		}
	}
	for _, e := range es {
		if taken[e.ID] {
			reads.Forget(e.ID) // someone else's version: read it
			continue
		}
		e.Version = 1
		reads.Remember(e)
	}
	return taken, nil
}

// AddFacts adds facts to a stored employee in one update by _id, and sets
// the projection fields to e's (e is the stored employee with facts added).
// Facts are the projection's source of truth (reads rebuild it from them)
// and $addToSet of the same fact adds nothing, so two writers adding facts
// at once both keep theirs, without the version filter Save needs: FerretDB
// runs an update whose filter is not {_id: string} as a scan of the whole
// collection, which made every HR change cost a read of every employee.
// The version still goes up, so a concurrent Save conflicts as it should.
// It returns employee.ErrNotFound when the employee is not stored.
func (s *EmployeeStore) AddFacts(ctx context.Context, e employee.Employee, facts []employee.Fact) error {
	d, err := toEmployeeDoc(e)
	if err != nil {
		return err
	}
	added, err := toEmployeeDoc(employee.Employee{ID: e.ID, Facts: facts})
	if err != nil {
		return err
	}
	set := bson.D{{Key: "name", Value: d.Name}, {Key: "department", Value: d.Department},
		{Key: "employments", Value: d.Employments}, {Key: "projects", Value: d.Projects}, {Key: "leaves", Value: d.Leaves}}
	var unset bson.D
	for _, f := range []struct{ key, value string }{{"email", d.Email}, {"title", d.Title}, {"manager_id", d.ManagerID}, {"location", d.Location}} {
		if f.value == "" {
			unset = append(unset, bson.E{Key: f.key, Value: ""})
		} else {
			set = append(set, bson.E{Key: f.key, Value: f.value})
		}
	}
	update := bson.D{{Key: "$set", Value: set},
		{Key: "$addToSet", Value: bson.D{{Key: "facts", Value: bson.D{{Key: "$each", Value: added.Facts}}}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	reads := employee.ReadsFrom(ctx)
	res, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}}, update)
	if err != nil {
		reads.Forget(e.ID)
		return fmt.Errorf("add %d facts to employee %s: %w", len(facts), e.ID, err)
	}
	if res.MatchedCount == 0 {
		reads.Forget(e.ID)
		return fmt.Errorf("add facts to employee %s: %w", e.ID, employee.ErrNotFound)
	}
	// What was stored, unless another replica added facts at the same
	// moment (it re-evaluates the employee after its own write); a Save on
	// the remembered version then conflicts and forgets it.
	e.Version++
	reads.Remember(e)
	return nil
}

// ListReports implements employee.Store.
func (s *EmployeeStore) ListReports(ctx context.Context, managerID string) ([]string, error) {
	docs, err := findAll[idDoc](ctx, s.coll, bson.D{{Key: "manager_id", Value: managerID}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list reports of %s: %w", managerID, err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// List implements employee.Store.
func (s *EmployeeStore) List(ctx context.Context, limit int) ([]employee.Employee, error) {
	docs, err := findAll[employeeDoc](ctx, s.coll, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("list employees: %w", err)
	}
	out := make([]employee.Employee, 0, len(docs))
	for _, d := range docs {
		e, err := fromEmployeeDoc(d)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func toEmployeeDoc(e employee.Employee) (employeeDoc, error) {
	d := employeeDoc{
		ID: e.ID, Name: e.Name, Email: e.Email, Department: e.Department, Title: e.Title,
		ManagerID: e.ManagerID, Location: e.Location, Version: e.Version,
		Employments: []intervalDoc{}, Projects: []assignmentDoc{}, Leaves: []leaveDoc{}, Facts: []factDoc{},
	}
	for _, i := range e.Employments {
		d.Employments = append(d.Employments, intervalDoc{Start: string(i.Start), End: string(i.End), Reason: i.Reason})
	}
	for _, p := range e.Projects {
		d.Projects = append(d.Projects, assignmentDoc{Code: p.Code, Name: p.Name, Sensitivity: p.Sensitivity,
			LaunchDate: string(p.LaunchDate), Start: string(p.Start), End: string(p.End)})
	}
	for _, l := range e.Leaves {
		d.Leaves = append(d.Leaves, leaveDoc{ID: l.ID, Start: string(l.Start), End: string(l.End), Type: l.Type})
	}
	for _, f := range e.Facts {
		data, err := json.Marshal(f.Data)
		if err != nil {
			return employeeDoc{}, fmt.Errorf("encode fact %s of employee %s: %w", f.Ref.Key(), e.ID, err)
		}
		d.Facts = append(d.Facts, factDoc{Source: f.Ref.Source, ID: f.Ref.ID, Type: f.Type, Effective: string(f.Effective), Data: string(data)})
	}
	return d, nil
}

// fromEmployeeDoc rebuilds the projection from the stored facts (the single
// source of truth); the stored projection fields are there for queries.
func fromEmployeeDoc(d employeeDoc) (employee.Employee, error) {
	facts := make([]employee.Fact, 0, len(d.Facts))
	for _, fd := range d.Facts {
		data, err := hrData(fd.Type)
		if err != nil {
			return employee.Employee{}, fmt.Errorf("employee %s: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(fd.Data), data); err != nil {
			return employee.Employee{}, fmt.Errorf("employee %s fact %s: %w", d.ID, fd.ID, err)
		}
		facts = append(facts, employee.Fact{Ref: event.Ref{Source: fd.Source, ID: fd.ID}, Type: fd.Type, Effective: civil.Date(fd.Effective), Data: data})
	}
	e := employee.Build(d.ID, facts)
	e.Version = d.Version
	return e, nil
}

func hrData(typ string) (any, error) {
	switch typ {
	case event.TypeEmployeeHired:
		return &event.EmployeeHired{}, nil
	case event.TypeEmployeeUpdated:
		return &event.EmployeeUpdated{}, nil
	case event.TypeEmployeeTerminated:
		return &event.EmployeeTerminated{}, nil
	case event.TypeProjectAssigned:
		return &event.ProjectAssigned{}, nil
	case event.TypeProjectUnassigned:
		return &event.ProjectUnassigned{}, nil
	case event.TypeLeaveRecorded:
		return &event.LeaveRecorded{}, nil
	}
	return nil, fmt.Errorf("unknown HR fact type %q", typ)
}
