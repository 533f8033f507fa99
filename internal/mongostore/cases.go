package mongostore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

const casesCollection = "cases"

// caseDoc carries everything the queue and the case page show, so neither
// reads the large collections.
type caseDoc struct {
	ID           string `bson:"_id"`
	EmployeeID   string `bson:"employee_id"`
	EmployeeName string `bson:"employee_name,omitempty"`
	Department   string `bson:"department,omitempty"`
	// OpenKey is the employee id while the case is open and the case id once
	// closed; its unique index keeps one open case per employee.
	OpenKey        string       `bson:"open_key"`
	Status         string       `bson:"status"`
	Severity       string       `bson:"severity"`
	Score          int          `bson:"score"`
	Rules          []string     `bson:"rules"`
	Counterparties []string     `bson:"counterparties"`
	Findings       []findingDoc `bson:"findings"`
	Assignee       string       `bson:"assignee,omitempty"`
	Decision       *caseDecDoc  `bson:"decision,omitempty"`
	Comments       []commentDoc `bson:"comments"`
	History        []changeDoc  `bson:"history"`
	OpenedAt       time.Time    `bson:"opened_at"`
	UpdatedAt      time.Time    `bson:"updated_at"`
	Version        int64        `bson:"version"`
}

type findingDoc struct {
	ID               string   `bson:"id"`
	Rule             string   `bson:"rule"`
	Severity         string   `bson:"severity"`
	Score            int      `bson:"score"`
	Summary          string   `bson:"summary"`
	OccurredOn       string   `bson:"occurred_on"`
	Counterparty     string   `bson:"counterparty,omitempty"`
	CounterpartyType string   `bson:"counterparty_type,omitempty"`
	EventRefs        []refDoc `bson:"event_refs"`
	DisclosureIDs    []string `bson:"disclosure_ids"`
	CoveredBy        string   `bson:"covered_by,omitempty"`
	Employment       string   `bson:"employment,omitempty"`
	Project          string   `bson:"project,omitempty"`
	RulesVersion     int64    `bson:"rules_version,omitempty"`
}

type refDoc struct {
	Source string `bson:"source"`
	ID     string `bson:"id"`
}

type caseDecDoc struct {
	Outcome string    `bson:"outcome"`
	By      string    `bson:"by"`
	Reason  string    `bson:"reason"`
	At      time.Time `bson:"at"`
}

type commentDoc struct {
	At   time.Time `bson:"at"`
	By   string    `bson:"by"`
	Text string    `bson:"text"`
}

type changeDoc struct {
	At     time.Time `bson:"at"`
	Actor  string    `bson:"actor"`
	Action string    `bson:"action"`
	From   string    `bson:"from,omitempty"`
	To     string    `bson:"to,omitempty"`
	Reason string    `bson:"reason,omitempty"`
}

func caseIndexes() []index {
	return []index{
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "open_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("one_open_case_per_employee")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "employee_id", Value: 1}}, Options: options.Index().SetName("employee")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "score", Value: -1}}, Options: options.Index().SetName("status_score")}},
	}
}

// CaseStore implements review.Store.
type CaseStore struct {
	coll    *mongo.Collection
	arbiter *transitions
}

var (
	_ review.Store       = (*CaseStore)(nil)
	_ review.CasesOfMany = (*CaseStore)(nil)
)

// NewCaseStore returns the store on db.
func NewCaseStore(db *DB) *CaseStore {
	return &CaseStore{coll: db.DB.Collection(casesCollection), arbiter: newTransitions(db)}
}

// OpenFor implements review.Store.
func (s *CaseStore) OpenFor(ctx context.Context, employeeID string) (review.Case, error) {
	return s.findOne(ctx, bson.D{{Key: "open_key", Value: employeeID}})
}

// Get implements review.Store.
func (s *CaseStore) Get(ctx context.Context, id string) (review.Case, error) {
	return s.findOne(ctx, bson.D{{Key: "_id", Value: id}})
}

func (s *CaseStore) findOne(ctx context.Context, filter bson.D) (review.Case, error) {
	var d caseDoc
	err := s.coll.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return review.Case{}, review.ErrNotFound
	}
	if err != nil {
		return review.Case{}, fmt.Errorf("find case: %w", err)
	}
	return fromCaseDoc(d), nil
}

// ClosedFor implements review.Store.
func (s *CaseStore) ClosedFor(ctx context.Context, employeeID string) ([]review.Case, error) {
	docs, err := findAll[caseDoc](ctx, s.coll, bson.D{{Key: "employee_id", Value: employeeID},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{review.StatusCleared, review.StatusConfirmed}}}}})
	if err != nil {
		return nil, fmt.Errorf("closed cases of %s: %w", employeeID, err)
	}
	out := make([]review.Case, len(docs))
	for i, d := range docs {
		out[i] = fromCaseDoc(d)
	}
	return out, nil
}

// CasesOf implements review.CasesOfMany: every case of many employees in
// one query.
func (s *CaseStore) CasesOf(ctx context.Context, ids []string) (map[string][]review.Case, error) {
	out := make(map[string][]review.Case, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	docs, err := findAll[caseDoc](ctx, s.coll, bson.D{{Key: "employee_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("cases of %d employees: %w", len(ids), err)
	}
	for _, d := range docs {
		out[d.EmployeeID] = append(out[d.EmployeeID], fromCaseDoc(d))
	}
	return out, nil
}

// Create implements review.Store.
func (s *CaseStore) Create(ctx context.Context, c review.Case) error {
	c.Version = 1
	if _, err := s.coll.InsertOne(ctx, toCaseDoc(c)); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("create case %s: %w", c.ID, review.ErrConflict)
		}
		return fmt.Errorf("create case %s: %w", c.ID, err)
	}
	return nil
}

// Update implements review.Store through the transition arbiter (see
// transitions.go): of concurrent updates of one version exactly one wins,
// and entries are appended only by the winner.
func (s *CaseStore) Update(ctx context.Context, c review.Case, entries ...audit.Entry) error {
	d := toCaseDoc(c)
	d.Version = c.Version + 1
	err := s.arbiter.apply(ctx, s.coll, "case/"+c.ID, c.ID, c.Version, d, entries)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTransitionLost), errors.Is(err, errResourceGone):
		return fmt.Errorf("update case %s (version %d): %w", c.ID, c.Version, review.ErrConflict)
	case mongo.IsDuplicateKeyError(err):
		// A second open case of the employee (open_key).
		return fmt.Errorf("update case %s: %w", c.ID, review.ErrConflict)
	}
	return fmt.Errorf("update case %s: %w", c.ID, err)
}

// ErrBadCaseCursor is returned for a cursor this store did not make.
var ErrBadCaseCursor = fmt.Errorf("bad case cursor: %w", review.ErrInvalid)

// List implements review.Store: highest score first, then newest id.
func (s *CaseStore) List(ctx context.Context, f review.Filter, limit int, cursor string) ([]review.Case, string, error) {
	filter := bson.D{}
	for _, c := range []struct{ key, value string }{
		{"status", f.Status}, {"severity", f.Severity}, {"employee_id", f.EmployeeID},
		{"department", f.Department}, {"rules", f.Rule}, {"counterparties", f.Counterparty},
	} {
		if c.value != "" {
			filter = append(filter, bson.E{Key: c.key, Value: c.value})
		}
	}
	if cursor != "" {
		score, id, err := decodeCaseCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "score", Value: bson.D{{Key: "$lt", Value: score}}}},
			bson.D{{Key: "score", Value: score}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}}},
		}})
	}
	docs, err := findAll[caseDoc](ctx, s.coll, filter, options.Find().
		SetSort(bson.D{{Key: "score", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, "", fmt.Errorf("list cases: %w", err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[len(docs)-1]
		next = encodeCaseCursor(last.Score, last.ID)
	}
	out := make([]review.Case, len(docs))
	for i, d := range docs {
		out[i] = fromCaseDoc(d)
	}
	return out, next, nil
}

func encodeCaseCursor(score int, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + strconv.Itoa(score) + ":" + id))
}

func decodeCaseCursor(s string) (int, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 256 {
		return 0, "", ErrBadCaseCursor
	}
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 || parts[0] != "c1" || parts[2] == "" {
		return 0, "", ErrBadCaseCursor
	}
	score, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, "", ErrBadCaseCursor
	}
	return score, parts[2], nil
}

func toCaseDoc(c review.Case) caseDoc {
	d := caseDoc{
		ID: c.ID, EmployeeID: c.EmployeeID, EmployeeName: c.EmployeeName, Department: c.Department,
		OpenKey: c.ID, Status: c.Status, Severity: c.Severity, Score: c.Score,
		Rules: nonNil(c.Rules()), Counterparties: nonNil(c.Counterparties()), Assignee: c.Assignee,
		Findings: []findingDoc{}, Comments: []commentDoc{}, History: []changeDoc{},
		OpenedAt: storedTime(c.OpenedAt), UpdatedAt: storedTime(c.UpdatedAt), Version: c.Version,
	}
	if c.IsOpen() {
		d.OpenKey = c.EmployeeID
	}
	for _, f := range c.Findings {
		fd := findingDoc{ID: f.ID, Rule: f.Rule, Severity: f.Severity, Score: f.Score, Summary: f.Summary,
			OccurredOn: string(f.OccurredOn), Counterparty: f.Counterparty, CounterpartyType: f.CounterpartyType,
			EventRefs: []refDoc{}, DisclosureIDs: nonNil(f.DisclosureIDs), CoveredBy: f.CoveredBy,
			Employment: f.Employment, Project: f.Project, RulesVersion: f.RulesVersion}
		for _, r := range f.EventRefs {
			fd.EventRefs = append(fd.EventRefs, refDoc{Source: r.Source, ID: r.ID})
		}
		d.Findings = append(d.Findings, fd)
	}
	if c.Decision != nil {
		d.Decision = &caseDecDoc{Outcome: c.Decision.Outcome, By: c.Decision.By, Reason: c.Decision.Reason, At: storedTime(c.Decision.At)}
	}
	for _, cm := range c.Comments {
		d.Comments = append(d.Comments, commentDoc{At: storedTime(cm.At), By: cm.By, Text: cm.Text})
	}
	for _, h := range c.History {
		d.History = append(d.History, changeDoc{At: storedTime(h.At), Actor: h.Actor, Action: h.Action, From: h.From, To: h.To, Reason: h.Reason})
	}
	return d
}

func fromCaseDoc(d caseDoc) review.Case {
	c := review.Case{
		ID: d.ID, EmployeeID: d.EmployeeID, EmployeeName: d.EmployeeName, Department: d.Department,
		Status: d.Status, Severity: d.Severity, Score: d.Score, Assignee: d.Assignee,
		OpenedAt: d.OpenedAt, UpdatedAt: d.UpdatedAt, Version: d.Version,
	}
	for _, fd := range d.Findings {
		f := detect.Finding{ID: fd.ID, EmployeeID: d.EmployeeID, Rule: fd.Rule, Severity: fd.Severity, Score: fd.Score,
			Summary: fd.Summary, OccurredOn: civil.Date(fd.OccurredOn), Counterparty: fd.Counterparty,
			CounterpartyType: fd.CounterpartyType, DisclosureIDs: fd.DisclosureIDs, CoveredBy: fd.CoveredBy,
			Employment: fd.Employment, Project: fd.Project, RulesVersion: fd.RulesVersion}
		if len(f.DisclosureIDs) == 0 {
			f.DisclosureIDs = nil
		}
		for _, r := range fd.EventRefs {
			f.EventRefs = append(f.EventRefs, event.Ref{Source: r.Source, ID: r.ID})
		}
		c.Findings = append(c.Findings, f)
	}
	if d.Decision != nil {
		c.Decision = &review.Decision{Outcome: d.Decision.Outcome, By: d.Decision.By, Reason: d.Decision.Reason, At: d.Decision.At}
	}
	for _, cm := range d.Comments {
		c.Comments = append(c.Comments, review.Comment{At: cm.At, By: cm.By, Text: cm.Text})
	}
	for _, h := range d.History {
		c.History = append(c.History, review.Change{At: h.At, Actor: h.Actor, Action: h.Action, From: h.From, To: h.To, Reason: h.Reason})
	}
	return c
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
