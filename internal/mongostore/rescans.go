package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/review"
)

const (
	rescanJobsCollection  = "rescan_jobs"
	rescanStepsCollection = "rescan_steps"
)

type rescanJobDoc struct {
	ID           string    `bson:"_id"`
	Number       int64     `bson:"number"`
	RequestedBy  string    `bson:"requested_by"`
	RequestedAt  time.Time `bson:"requested_at"`
	RulesVersion int64     `bson:"rules_version"`
	TotalEvents  int64     `bson:"total_events"`
	Done         bool      `bson:"done"`
}

// rescanStepDoc is insert-only: _id `<job>:<seq>` makes the step the
// arbiter between two replicas that did the same page.
type rescanStepDoc struct {
	ID        string    `bson:"_id"`
	Job       string    `bson:"job"`
	Seq       int64     `bson:"seq"`
	Stage     string    `bson:"stage"`
	Cursor    string    `bson:"cursor"`
	Events    int64     `bson:"events"`
	Signals   int64     `bson:"signals"`
	Seminars  int64     `bson:"seminars"`
	Employees int64     `bson:"employees"`
	Page      int       `bson:"page"`
	At        time.Time `bson:"at"`
	By        string    `bson:"by"`
	Epoch     int64     `bson:"epoch"`
}

func rescanIndexes() []index {
	return []index{
		{rescanJobsCollection, mongo.IndexModel{Keys: bson.D{{Key: "number", Value: -1}}, Options: options.Index().SetUnique(true).SetName("number_unique")}},
		{rescanStepsCollection, mongo.IndexModel{Keys: bson.D{{Key: "job", Value: 1}, {Key: "seq", Value: -1}}, Options: options.Index().SetName("job_seq")}},
	}
}

// RescanStore implements rescan.Store.
type RescanStore struct{ jobs, steps *mongo.Collection }

var _ rescan.Store = (*RescanStore)(nil)

// NewRescanStore returns the store on db.
func NewRescanStore(db *DB) *RescanStore {
	return &RescanStore{jobs: db.DB.Collection(rescanJobsCollection), steps: db.DB.Collection(rescanStepsCollection)}
}

// CreateJob implements rescan.Store; the job id is derived from its number.
func (s *RescanStore) CreateJob(ctx context.Context, j rescan.Job) error {
	return insertUnique(ctx, s.jobs, rescanJobDoc{ID: j.ID, Number: j.Number, RequestedBy: j.RequestedBy,
		RequestedAt: storedTime(j.RequestedAt), RulesVersion: j.RulesVersion, TotalEvents: j.TotalEvents},
		"create rescan job "+j.ID, rescan.ErrConflict)
}

// LatestJob implements rescan.Store.
func (s *RescanStore) LatestJob(ctx context.Context) (rescan.Job, error) {
	return s.findJob(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "number", Value: -1}}))
}

// GetJob implements rescan.Store.
func (s *RescanStore) GetJob(ctx context.Context, id string) (rescan.Job, error) {
	return s.findJob(ctx, bson.D{{Key: "_id", Value: id}})
}

func (s *RescanStore) findJob(ctx context.Context, filter bson.D, opts ...options.Lister[options.FindOneOptions]) (rescan.Job, error) {
	var d rescanJobDoc
	err := s.jobs.FindOne(ctx, filter, opts...).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return rescan.Job{}, fmt.Errorf("rescan job: %w", rescan.ErrNotFound)
	}
	if err != nil {
		return rescan.Job{}, fmt.Errorf("rescan job: %w", err)
	}
	return rescan.Job{ID: d.ID, Number: d.Number, RequestedBy: d.RequestedBy, RequestedAt: d.RequestedAt.UTC(),
		RulesVersion: d.RulesVersion, TotalEvents: d.TotalEvents, Done: d.Done}, nil
}

// MarkDone implements rescan.Store. Setting a flag that only ever goes
// from false to true is safe without atomicity.
func (s *RescanStore) MarkDone(ctx context.Context, id string) error {
	if _, err := s.jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}}}}); err != nil {
		return fmt.Errorf("finish rescan job %s: %w", id, err)
	}
	return nil
}

// LastStep implements rescan.Store.
func (s *RescanStore) LastStep(ctx context.Context, job string) (rescan.Step, bool, error) {
	var d rescanStepDoc
	err := s.steps.FindOne(ctx, bson.D{{Key: "job", Value: job}}, options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return rescan.Step{}, false, nil
	}
	if err != nil {
		return rescan.Step{}, false, fmt.Errorf("last step of %s: %w", job, err)
	}
	return rescan.Step{Job: d.Job, Seq: d.Seq, Stage: d.Stage, Cursor: d.Cursor, Events: d.Events, Signals: d.Signals,
		Seminars: d.Seminars, Employees: d.Employees, Page: d.Page, At: d.At.UTC(), By: d.By, Epoch: d.Epoch}, true, nil
}

// AddStep implements rescan.Store.
func (s *RescanStore) AddStep(ctx context.Context, st rescan.Step) error {
	return insertUnique(ctx, s.steps, rescanStepDoc{ID: fmt.Sprintf("%s:%09d", st.Job, st.Seq), Job: st.Job, Seq: st.Seq,
		Stage: st.Stage, Cursor: st.Cursor, Events: st.Events, Signals: st.Signals, Seminars: st.Seminars,
		Employees: st.Employees, Page: st.Page, At: storedTime(st.At), By: st.By, Epoch: st.Epoch},
		fmt.Sprintf("rescan %s step %d", st.Job, st.Seq), rescan.ErrConflict)
}

// Steps returns every step of a job in order (tests and the CLI summary).
func (s *RescanStore) Steps(ctx context.Context, job string) ([]rescan.Step, error) {
	docs, err := findAll[rescanStepDoc](ctx, s.steps, bson.D{{Key: "job", Value: job}}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("steps of %s: %w", job, err)
	}
	out := make([]rescan.Step, len(docs))
	for i, d := range docs {
		out[i] = rescan.Step{Job: d.Job, Seq: d.Seq, Stage: d.Stage, Cursor: d.Cursor, Events: d.Events, Signals: d.Signals,
			Seminars: d.Seminars, Employees: d.Employees, Page: d.Page, At: d.At.UTC(), By: d.By, Epoch: d.Epoch}
	}
	return out, nil
}

// EventsAfter implements rescan.EventPager: one page by _id (the _id index
// on MongoDB).
func (s *EventStore) EventsAfter(ctx context.Context, after string, limit int) ([]event.Received, string, error) {
	docs, err := findAll[eventDoc](ctx, s.coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, "", fmt.Errorf("events after %q: %w", after, err)
	}
	page := make([]event.Received, 0, len(docs))
	for _, d := range docs {
		se, err := toStored(d)
		if err != nil {
			return nil, "", err
		}
		page = append(page, se)
	}
	if len(docs) == 0 {
		return page, after, nil
	}
	return page, docs[len(docs)-1].ID, nil
}

// RescanEmployees implements rescan.EmployeePager over the employees with
// signals, disclosures or open cases.
type RescanEmployees struct{ activity, disclosures, cases *mongo.Collection }

var _ rescan.EmployeePager = (*RescanEmployees)(nil)

// NewRescanEmployees returns the pager on db.
func NewRescanEmployees(db *DB) *RescanEmployees {
	return &RescanEmployees{activity: db.DB.Collection(activityCollection), disclosures: db.DB.Collection(disclosuresCollection),
		cases: db.DB.Collection(casesCollection)}
}

// EmployeesAfter implements rescan.EmployeePager. Each source gives its next
// ids after the cursor in order; a source that returned a full page is
// complete only up to its last id, so the page ends at the smallest such id
// and every employee comes exactly once.
func (p *RescanEmployees) EmployeesAfter(ctx context.Context, after string, limit int) ([]string, error) {
	type source struct {
		coll   *mongo.Collection
		field  string
		filter bson.D
	}
	sources := []source{
		{p.activity, "_id", nil},
		{p.disclosures, "employee_id", nil},
		{p.cases, "employee_id", bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{review.StatusOpen, review.StatusInReview}}}}}},
	}
	all := map[string]bool{}
	bound := ""
	for _, src := range sources {
		filter := append(bson.D{{Key: src.field, Value: bson.D{{Key: "$gt", Value: after}}}}, src.filter...)
		cur, err := src.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: src.field, Value: 1}}).
			SetLimit(int64(limit)).SetProjection(bson.D{{Key: src.field, Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("employees after %q: %w", after, err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("employees after %q: %w", after, err)
		}
		last := ""
		for _, d := range docs {
			if id, ok := d[src.field].(string); ok && id != "" {
				all[id] = true
				last = max(last, id)
			}
		}
		if len(docs) == limit && (bound == "" || last < bound) {
			bound = last
		}
	}
	out := make([]string, 0, len(all))
	for id := range all {
		if bound == "" || id <= bound {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}
