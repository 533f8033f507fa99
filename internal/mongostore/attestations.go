package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

const (
	attestationsCollection = "attestations"
	attestTemplates        = "attestation_templates"
	// attestRefsCollection is {_id: employee id, tasks: [task ids]}: an
	// employee's tasks are read by key (the refs, then the tasks by _id)
	// instead of a query on employee_id, which FerretDB answers by decoding
	// every task (18 ms each on the bench, twice per HR batch). A task's id
	// is added before the task is inserted, so a crash between the two
	// leaves an id that reads as missing (skipped), never a task nobody
	// finds; a purged task's id likewise (the refs go with the employee).
	attestRefsCollection = "attestation_refs"
	// attestRefsMarker is the attestation_refs document saying the refs
	// were filled from the tasks stored before the refs existed.
	attestRefsMarker = "~backfilled-v1"
)

type attestationDoc struct {
	ID              string           `bson:"_id"`
	EmployeeID      string           `bson:"employee_id"`
	ProjectCode     string           `bson:"project_code"`
	ProjectName     string           `bson:"project_name,omitempty"`
	Sensitivity     string           `bson:"sensitivity"`
	LaunchDate      string           `bson:"launch_date,omitempty"`
	AssignedOn      string           `bson:"assigned_on"`
	Cycle           int              `bson:"cycle"`
	EventSource     string           `bson:"event_source"`
	EventID         string           `bson:"event_id"`
	Status          string           `bson:"status"`
	ReceivedAt      time.Time        `bson:"received_at"`
	DueAt           time.Time        `bson:"due_at"`
	TemplateVersion int64            `bson:"template_version"`
	Answers         map[string]bool  `bson:"answers,omitempty"`
	AttestedAt      *time.Time       `bson:"attested_at,omitempty"`
	Synced          bool             `bson:"synced"`
	History         []attestChangeDB `bson:"history"`
	CreatedAt       time.Time        `bson:"created_at"`
	UpdatedAt       time.Time        `bson:"updated_at"`
	Version         int64            `bson:"version"`
}

type attestChangeDB struct {
	At     time.Time `bson:"at"`
	Actor  string    `bson:"actor"`
	From   string    `bson:"from"`
	To     string    `bson:"to"`
	Reason string    `bson:"reason,omitempty"`
}

type attestTextDoc struct {
	EN string `bson:"en"`
	ZH string `bson:"zh"`
}

type attestTemplateDoc struct {
	ID        string                   `bson:"_id"` // "v<version>": the insert is the arbiter of concurrent saves
	Version   int64                    `bson:"version"`
	Intro     attestTextDoc            `bson:"intro"`
	Questions map[string]attestTextDoc `bson:"questions"`
	By        string                   `bson:"by"`
	At        time.Time                `bson:"at"`
}

func attestIndexes() []index {
	return []index{
		{attestationsCollection, mongo.IndexModel{Keys: bson.D{{Key: "employee_id", Value: 1}}, Options: options.Index().SetName("employee")}},
		{attestationsCollection, mongo.IndexModel{Keys: bson.D{{Key: "project_code", Value: 1}}, Options: options.Index().SetName("project")}},
		{attestationsCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "due_at", Value: 1}}, Options: options.Index().SetName("status_due")}},
	}
}

type attestRefsDoc struct {
	ID    string   `bson:"_id"`
	Tasks []string `bson:"tasks"`
}

// AttestationStore implements attest.Store.
type AttestationStore struct {
	db              *DB
	coll, tpl, refs *mongo.Collection
	arbiter         *transitions
	// filled is set once this process saw the refs marker (or wrote it):
	// from then on ByEmployee reads by key only.
	filled atomic.Bool
}

var _ attest.Store = (*AttestationStore)(nil)

// NewAttestationStore returns the store on db.
func NewAttestationStore(db *DB) *AttestationStore {
	return &AttestationStore{db: db, coll: db.DB.Collection(attestationsCollection), tpl: db.DB.Collection(attestTemplates),
		refs: db.DB.Collection(attestRefsCollection), arbiter: newTransitions(db)}
}

// Insert implements attest.Store: a duplicate id is the task asked before.
// The task's id goes into its employee's refs first (idempotently), so a
// task is never stored where ByEmployee cannot find it.
func (s *AttestationStore) Insert(ctx context.Context, t attest.Task) (bool, error) {
	if err := s.addRef(ctx, t.EmployeeID, t.ID); err != nil {
		return false, err
	}
	if _, err := s.coll.InsertOne(ctx, toAttestationDoc(t)); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return false, fmt.Errorf("insert attestation %s: %w", t.ID, err)
	}
	return true, nil
}

// Get implements attest.Store.
func (s *AttestationStore) Get(ctx context.Context, id string) (attest.Task, error) {
	d, err := getByID[attestationDoc](ctx, s.coll, id, attest.ErrNotFound)
	if err != nil {
		return attest.Task{}, err
	}
	return fromAttestationDoc(d), nil
}

// Update implements attest.Store through the transitions arbiter (FerretDB's
// filtered updates are not atomic).
func (s *AttestationStore) Update(ctx context.Context, t attest.Task, entries ...audit.Entry) (attest.Task, error) {
	doc := toAttestationDoc(t)
	doc.Version = t.Version + 1
	err := s.arbiter.apply(ctx, s.coll, "attestation/"+t.ID, t.ID, t.Version, doc, entries)
	if err != nil {
		return attest.Task{}, transitionError(err, fmt.Sprintf("update attestation %s (version %d)", t.ID, t.Version), attest.ErrNotFound, attest.ErrConflict)
	}
	t.Version = doc.Version
	return t, nil
}

func (s *AttestationStore) find(ctx context.Context, filter bson.D, what string) ([]attest.Task, error) {
	docs, err := findAll[attestationDoc](ctx, s.coll, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list attestations %s: %w", what, err)
	}
	out := make([]attest.Task, len(docs))
	for i, d := range docs {
		out[i] = fromAttestationDoc(d)
	}
	return out, nil
}

// ByEmployee implements attest.Store by key: the employee's refs, then
// their tasks by _id, in _id order as the other lists.
func (s *AttestationStore) ByEmployee(ctx context.Context, id string) ([]attest.Task, error) {
	if err := s.backfill(ctx); err != nil {
		return nil, err
	}
	refs, found, err := findByID[attestRefsDoc](ctx, s.refs, id)
	if err != nil {
		return nil, fmt.Errorf("list attestations of %s: %w", id, err)
	}
	if !found || len(refs.Tasks) == 0 {
		return nil, nil
	}
	ids := slices.Clone(refs.Tasks)
	slices.Sort(ids)
	docs, err := byIDs[attestationDoc](ctx, s.db, s.coll, slices.Compact(ids))
	if err != nil {
		return nil, fmt.Errorf("list attestations of %s: %w", id, err)
	}
	slices.SortFunc(docs, func(a, b attestationDoc) int { return strings.Compare(a.ID, b.ID) })
	out := make([]attest.Task, 0, len(docs))
	for _, d := range docs {
		if d.EmployeeID == id { // a ref is only a hint; the task says whose it is
			out = append(out, fromAttestationDoc(d))
		}
	}
	return out, nil
}

// addRef records that employeeID has task taskID (idempotent).
func (s *AttestationStore) addRef(ctx context.Context, employeeID, taskID string) error {
	_, err := s.refs.UpdateOne(ctx, bson.D{{Key: "_id", Value: employeeID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "tasks", Value: taskID}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record attestation %s of %s: %w", taskID, employeeID, err)
	}
	return nil
}

// backfill fills the refs from the tasks stored before the refs existed,
// once per database (a marker says it ran; this process asks until it has
// seen it). Two replicas running it together write the same.
func (s *AttestationStore) backfill(ctx context.Context) error {
	if s.filled.Load() {
		return nil
	}
	_, found, err := findByID[attestRefsDoc](ctx, s.refs, attestRefsMarker)
	if err != nil {
		return fmt.Errorf("attestation refs marker: %w", err)
	}
	if !found {
		docs, err := findAll[struct {
			ID         string `bson:"_id"`
			EmployeeID string `bson:"employee_id"`
		}](ctx, s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "employee_id", Value: 1}}))
		if err != nil {
			return fmt.Errorf("backfill attestation refs: %w", err)
		}
		for _, d := range docs {
			if err := s.addRef(ctx, d.EmployeeID, d.ID); err != nil {
				return err
			}
		}
		_, err = s.refs.InsertOne(ctx, attestRefsDoc{ID: attestRefsMarker, Tasks: []string{}})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("attestation refs marker: %w", err)
		}
	}
	s.filled.Store(true)
	return nil
}

// ByProject implements attest.Store.
func (s *AttestationStore) ByProject(ctx context.Context, code string) ([]attest.Task, error) {
	return s.find(ctx, bson.D{{Key: "project_code", Value: code}}, "of project "+code)
}

// ByStatus implements attest.Store.
func (s *AttestationStore) ByStatus(ctx context.Context, status string) ([]attest.Task, error) {
	return s.find(ctx, bson.D{{Key: "status", Value: status}}, status)
}

// LatestTemplate implements attest.Store.
func (s *AttestationStore) LatestTemplate(ctx context.Context) (attest.Template, error) {
	var d attestTemplateDoc
	err := s.tpl.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "version", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return attest.Template{}, attest.ErrNotFound
	}
	if err != nil {
		return attest.Template{}, fmt.Errorf("read attestation texts: %w", err)
	}
	t := attest.Template{Version: d.Version, Intro: attest.Text{EN: d.Intro.EN, ZH: d.Intro.ZH}, By: d.By, At: d.At,
		Questions: map[string]attest.Text{}}
	for k, q := range d.Questions {
		t.Questions[k] = attest.Text{EN: q.EN, ZH: q.ZH}
	}
	return t, nil
}

// InsertTemplate implements attest.Store.
func (s *AttestationStore) InsertTemplate(ctx context.Context, t attest.Template) error {
	d := attestTemplateDoc{ID: fmt.Sprintf("v%d", t.Version), Version: t.Version, Intro: attestTextDoc{EN: t.Intro.EN, ZH: t.Intro.ZH},
		Questions: map[string]attestTextDoc{}, By: t.By, At: storedTime(t.At)}
	for k, q := range t.Questions {
		d.Questions[k] = attestTextDoc{EN: q.EN, ZH: q.ZH}
	}
	return insertUnique(ctx, s.tpl, d, fmt.Sprintf("save attestation texts v%d", t.Version), attest.ErrConflict)
}

func toAttestationDoc(t attest.Task) attestationDoc {
	d := attestationDoc{
		ID: t.ID, EmployeeID: t.EmployeeID, ProjectCode: t.ProjectCode, ProjectName: t.ProjectName, Sensitivity: t.Sensitivity,
		LaunchDate: string(t.LaunchDate), AssignedOn: string(t.AssignedOn), Cycle: t.Cycle, EventSource: t.EventRef.Source,
		EventID: t.EventRef.ID, Status: t.Status, ReceivedAt: storedTime(t.ReceivedAt), DueAt: storedTime(t.DueAt),
		TemplateVersion: t.TemplateVersion, Answers: t.Answers, Synced: t.Synced, History: make([]attestChangeDB, len(t.History)),
		CreatedAt: storedTime(t.CreatedAt), UpdatedAt: storedTime(t.UpdatedAt), Version: t.Version,
	}
	if !t.AttestedAt.IsZero() {
		at := storedTime(t.AttestedAt)
		d.AttestedAt = &at
	}
	for i, h := range t.History {
		d.History[i] = attestChangeDB{At: storedTime(h.At), Actor: h.Actor, From: h.From, To: h.To, Reason: h.Reason}
	}
	return d
}

func fromAttestationDoc(d attestationDoc) attest.Task {
	t := attest.Task{
		ID: d.ID, EmployeeID: d.EmployeeID, ProjectCode: d.ProjectCode, ProjectName: d.ProjectName, Sensitivity: d.Sensitivity,
		LaunchDate: civil.Date(d.LaunchDate), AssignedOn: civil.Date(d.AssignedOn), Cycle: d.Cycle,
		EventRef: event.Ref{Source: d.EventSource, ID: d.EventID}, Status: d.Status, ReceivedAt: d.ReceivedAt.UTC(),
		DueAt: d.DueAt.UTC(), TemplateVersion: d.TemplateVersion, Answers: d.Answers, Synced: d.Synced,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version,
	}
	if d.AttestedAt != nil {
		t.AttestedAt = d.AttestedAt.UTC()
	}
	for _, h := range d.History {
		t.History = append(t.History, attest.Change{At: h.At.UTC(), Actor: h.Actor, From: h.From, To: h.To, Reason: h.Reason})
	}
	return t
}
