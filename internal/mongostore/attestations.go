package mongostore

import (
	"context"
	"errors"
	"fmt"
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

// AttestationStore implements attest.Store.
type AttestationStore struct {
	coll, tpl *mongo.Collection
	arbiter   *transitions
}

var _ attest.Store = (*AttestationStore)(nil)

// NewAttestationStore returns the store on db.
func NewAttestationStore(db *DB) *AttestationStore {
	return &AttestationStore{coll: db.DB.Collection(attestationsCollection), tpl: db.DB.Collection(attestTemplates), arbiter: newTransitions(db)}
}

// Insert implements attest.Store: a duplicate id is the task asked before.
func (s *AttestationStore) Insert(ctx context.Context, t attest.Task) (bool, error) {
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

// ByEmployee implements attest.Store.
func (s *AttestationStore) ByEmployee(ctx context.Context, id string) ([]attest.Task, error) {
	return s.find(ctx, bson.D{{Key: "employee_id", Value: id}}, "of "+id)
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
