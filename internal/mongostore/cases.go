package mongostore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	"github.com/moonlight-oss/moonlight/internal/explain"
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
	Scoring        *scoringDoc  `bson:"scoring,omitempty"`
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
	// Subject is the pseudonym (issue 15): a search by it is a key match.
	Subject      string           `bson:"subject,omitempty"`
	JobFamily    string           `bson:"job_family,omitempty"`
	Confirmation *confirmationDoc `bson:"confirmation,omitempty"`
}

// confirmationDoc is a confirmed outcome awaiting a second reviewer.
type confirmationDoc struct {
	By     string    `bson:"by"`
	Reason string    `bson:"reason"`
	At     time.Time `bson:"at"`
}

type findingDoc struct {
	ID       string `bson:"id"`
	Rule     string `bson:"rule"`
	Severity string `bson:"severity"`
	Score    int    `bson:"score"`
	// Summary is the English text of findings stored before explanations
	// were data; a finding with Explanation stores no sentence.
	Summary          string      `bson:"summary,omitempty"`
	Explanation      []clauseDoc `bson:"explanation,omitempty"`
	OccurredOn       string      `bson:"occurred_on"`
	Counterparty     string      `bson:"counterparty,omitempty"`
	CounterpartyID   string      `bson:"counterparty_id,omitempty"`
	CounterpartyType string      `bson:"counterparty_type,omitempty"`
	EventRefs        []refDoc    `bson:"event_refs"`
	DisclosureIDs    []string    `bson:"disclosure_ids"`
	CoveredBy        string      `bson:"covered_by,omitempty"`
	Employment       string      `bson:"employment,omitempty"`
	Project          string      `bson:"project,omitempty"`
	Points           []pointDoc  `bson:"points,omitempty"`
	RulesVersion     int64       `bson:"rules_version,omitempty"`
}

// clauseDoc is one explain.Clause: a message code and typed parameters.
type clauseDoc struct {
	Code   string              `bson:"code"`
	Params map[string]paramDoc `bson:"params,omitempty"`
}

type paramDoc struct {
	Type     string   `bson:"type"`
	Value    string   `bson:"value,omitempty"`
	ID       string   `bson:"id,omitempty"`
	Kind     string   `bson:"kind,omitempty"`
	Domain   string   `bson:"domain,omitempty"`
	Currency string   `bson:"currency,omitempty"`
	Alias    string   `bson:"alias,omitempty"`
	To       string   `bson:"to,omitempty"`
	Status   string   `bson:"status,omitempty"`
	Values   []string `bson:"values,omitempty"`
}

func toClauseDocs(x explain.Explanation) []clauseDoc {
	var out []clauseDoc
	for _, c := range x {
		d := clauseDoc{Code: c.Code}
		if len(c.Params) > 0 {
			d.Params = make(map[string]paramDoc, len(c.Params))
			for k, p := range c.Params {
				d.Params[k] = paramDoc(p)
			}
		}
		out = append(out, d)
	}
	return out
}

func fromClauseDocs(ds []clauseDoc) explain.Explanation {
	var out explain.Explanation
	for _, d := range ds {
		c := explain.Clause{Code: d.Code}
		if len(d.Params) > 0 {
			c.Params = make(map[string]explain.Param, len(d.Params))
			for k, p := range d.Params {
				c.Params[k] = explain.Param(p)
			}
		}
		out = append(out, c)
	}
	return out
}

type pointDoc struct {
	Part   string `bson:"part"`
	Points int    `bson:"points"`
}

type scoringDoc struct {
	Sum              int    `bson:"sum"`
	MaxScore         int    `bson:"max_score"`
	Score            int    `bson:"score"`
	Medium           int    `bson:"medium"`
	High             int    `bson:"high"`
	FindingsSeverity string `bson:"findings_severity,omitempty"`
	Severity         string `bson:"severity,omitempty"`
}

type refDoc struct {
	Source string `bson:"source"`
	ID     string `bson:"id"`
}

type caseDecDoc struct {
	Outcome      string    `bson:"outcome"`
	By           string    `bson:"by"`
	Reason       string    `bson:"reason"`
	At           time.Time `bson:"at"`
	SecondBy     string    `bson:"second_by,omitempty"`
	SecondReason string    `bson:"second_reason,omitempty"`
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
	// Note is the system's reason as data (review.Change.Note).
	Note *clauseDoc `bson:"note,omitempty"`
}

func caseIndexes() []index {
	all := []index{
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "open_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("one_open_case_per_employee")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "employee_id", Value: 1}}, Options: options.Index().SetName("employee")}},
		{casesCollection, mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}}, Options: options.Index().SetName("subject")}},
		{caseQueueCollection, mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}}, Options: options.Index().SetName("subject")}},
	}
	all = append(all, caseQueueIndexes()...)
	return all
}

// CaseStore implements review.Store. Beside cases it keeps case_refs and
// case_queue (casequeue.go); versioned updates go through the transition
// arbiter (transitions.go).
type CaseStore struct {
	db      *DB
	coll    *mongo.Collection
	refs    *mongo.Collection
	queue   *mongo.Collection
	arbiter *transitions
	facets  *facets
}

var _ review.Store = (*CaseStore)(nil)

// NewCaseStore returns the store on db.
func NewCaseStore(db *DB) *CaseStore {
	return &CaseStore{db: db, coll: db.DB.Collection(casesCollection),
		refs: db.DB.Collection(caseRefsCollection), queue: db.DB.Collection(caseQueueCollection),
		arbiter: newTransitions(db), facets: newFacets(db)}
}

// OpenFor implements review.Store (by key: case_refs, then the cases).
func (s *CaseStore) OpenFor(ctx context.Context, employeeID string) (review.Case, error) {
	cs, err := s.casesOfOne(ctx, employeeID)
	if err != nil {
		return review.Case{}, err
	}
	for _, c := range cs {
		if c.IsOpen() {
			return c, nil
		}
	}
	return review.Case{}, review.ErrNotFound
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

// ClosedFor implements review.Store (by key, as OpenFor).
func (s *CaseStore) ClosedFor(ctx context.Context, employeeID string) ([]review.Case, error) {
	cs, err := s.casesOfOne(ctx, employeeID)
	if err != nil {
		return nil, fmt.Errorf("closed cases of %s: %w", employeeID, err)
	}
	var out []review.Case
	for _, c := range cs {
		if c.Status == review.StatusCleared || c.Status == review.StatusConfirmed {
			out = append(out, c)
		}
	}
	return out, nil
}

// Create implements review.Store.
func (s *CaseStore) Create(ctx context.Context, c review.Case) error {
	c.Version = 1
	if err := s.addRef(ctx, c.EmployeeID, c.ID); err != nil {
		return err
	}
	d := toCaseDoc(c)
	if _, err := s.coll.InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("create case %s: %w", c.ID, review.ErrConflict)
		}
		return fmt.Errorf("create case %s: %w", c.ID, err)
	}
	return s.syncQueue(ctx, d)
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
		return s.syncQueue(ctx, d)
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
	if f.EmployeeID != "" {
		return s.listOfEmployee(ctx, f, limit, cursor)
	}
	if s.db.queueByFacets(ctx) {
		// Every filter, the search's included, streams through the facets.
		return s.listByFacets(ctx, f, limit, cursor)
	}
	if f.Extended() {
		return s.search(ctx, f, limit, cursor) // casesearch.go
	}
	filter := bson.D{}
	for _, c := range []struct{ key, value string }{
		{"status", f.Status}, {"severity", f.Severity}, {"employee_id", f.EmployeeID},
		{"department", f.Department}, {"rules", f.Rule}, {"counterparties", f.Counterparty}, {"subject", f.Subject},
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
	// Open and in-review cases are listed from the queue rows: the queue
	// never reads closed cases (nor, on FerretDB, decodes them).
	find := findAll[caseDoc]
	coll := s.coll
	if queued(f.Status) {
		find, coll = findQueue, s.queue
	}
	docs, err := find(ctx, coll, filter, options.Find().
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

// listOfEmployee is List for one employee: their few cases read by key
// (case_refs), then filtered, ordered and paged as the query would.
func (s *CaseStore) listOfEmployee(ctx context.Context, f review.Filter, limit int, cursor string) ([]review.Case, string, error) {
	var afterScore int
	var afterID string
	if cursor != "" {
		var err error
		if afterScore, afterID, err = decodeCaseCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	all, err := s.casesOfOne(ctx, f.EmployeeID)
	if err != nil {
		return nil, "", fmt.Errorf("list cases: %w", err)
	}
	var out []review.Case
	for _, c := range all {
		switch {
		case f.Status != "" && c.Status != f.Status,
			f.Severity != "" && c.Severity != f.Severity,
			f.Department != "" && c.Department != f.Department,
			f.Rule != "" && !slices.Contains(c.Rules(), f.Rule),
			f.Counterparty != "" && !slices.Contains(c.Counterparties(), f.Counterparty),
			f.Subject != "" && c.Subject != f.Subject,
			!f.Match(c),
			cursor != "" && (c.Score > afterScore || c.Score == afterScore && c.ID >= afterID):
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID > out[j].ID
	})
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCaseCursor(last.Score, last.ID)
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
		Subject: c.Subject, JobFamily: c.JobFamily,
	}
	if k := c.Confirmation; k != nil {
		d.Confirmation = &confirmationDoc{By: k.By, Reason: k.Reason, At: storedTime(k.At)}
	}
	if c.IsOpen() {
		d.OpenKey = c.EmployeeID
	}
	for _, f := range c.Findings {
		fd := findingDoc{ID: f.ID, Rule: f.Rule, Severity: f.Severity, Score: f.Score, Explanation: toClauseDocs(f.Explanation),
			OccurredOn: string(f.OccurredOn), Counterparty: f.Counterparty, CounterpartyID: f.CounterpartyID, CounterpartyType: f.CounterpartyType,
			EventRefs: []refDoc{}, DisclosureIDs: nonNil(f.DisclosureIDs), CoveredBy: f.CoveredBy,
			Employment: f.Employment, Project: f.Project, RulesVersion: f.RulesVersion}
		if len(f.Explanation) == 0 {
			fd.Summary = f.Summary // an old finding: its text is all there is
		}
		for _, r := range f.EventRefs {
			fd.EventRefs = append(fd.EventRefs, refDoc{Source: r.Source, ID: r.ID})
		}
		for _, p := range f.Points {
			fd.Points = append(fd.Points, pointDoc{Part: p.Part, Points: p.Points})
		}
		d.Findings = append(d.Findings, fd)
	}
	if sc := c.Scoring; sc.MaxScore != 0 {
		d.Scoring = &scoringDoc{Sum: sc.Sum, MaxScore: sc.MaxScore, Score: sc.Score, Medium: sc.Medium, High: sc.High,
			FindingsSeverity: sc.FindingsSeverity, Severity: sc.Severity}
	}
	if c.Decision != nil {
		d.Decision = &caseDecDoc{Outcome: c.Decision.Outcome, By: c.Decision.By, Reason: c.Decision.Reason, At: storedTime(c.Decision.At),
			SecondBy: c.Decision.SecondBy, SecondReason: c.Decision.SecondReason}
	}
	for _, cm := range c.Comments {
		d.Comments = append(d.Comments, commentDoc{At: storedTime(cm.At), By: cm.By, Text: cm.Text})
	}
	for _, h := range c.History {
		cd := changeDoc{At: storedTime(h.At), Actor: h.Actor, Action: h.Action, From: h.From, To: h.To, Reason: h.Reason}
		if h.Note.Code != "" {
			cd.Note = &toClauseDocs(explain.Explanation{h.Note})[0]
		}
		d.History = append(d.History, cd)
	}
	return d
}

func fromCaseDoc(d caseDoc) review.Case {
	c := review.Case{
		ID: d.ID, EmployeeID: d.EmployeeID, EmployeeName: d.EmployeeName, Department: d.Department,
		Status: d.Status, Severity: d.Severity, Score: d.Score, Assignee: d.Assignee,
		OpenedAt: d.OpenedAt, UpdatedAt: d.UpdatedAt, Version: d.Version,
		Subject: d.Subject, JobFamily: d.JobFamily,
	}
	if k := d.Confirmation; k != nil {
		c.Confirmation = &review.Confirmation{By: k.By, Reason: k.Reason, At: k.At}
	}
	for _, fd := range d.Findings {
		f := detect.Finding{ID: fd.ID, EmployeeID: d.EmployeeID, Rule: fd.Rule, Severity: fd.Severity, Score: fd.Score,
			Summary: fd.Summary, Explanation: fromClauseDocs(fd.Explanation), OccurredOn: civil.Date(fd.OccurredOn),
			Counterparty: fd.Counterparty, CounterpartyID: fd.CounterpartyID,
			CounterpartyType: fd.CounterpartyType, DisclosureIDs: slices.Clone(fd.DisclosureIDs), CoveredBy: fd.CoveredBy,
			Employment: fd.Employment, Project: fd.Project, RulesVersion: fd.RulesVersion}
		if len(f.DisclosureIDs) == 0 {
			f.DisclosureIDs = nil
		}
		if f.Summary == "" && len(f.Explanation) > 0 {
			// English, with the names detection recorded (no rule-set
			// lookup here): readers get it rendered in their language.
			f.Summary = explain.Plain(explain.EN, f.Explanation, nil)
		}
		for _, r := range fd.EventRefs {
			f.EventRefs = append(f.EventRefs, event.Ref{Source: r.Source, ID: r.ID})
		}
		for _, p := range fd.Points {
			f.Points = append(f.Points, detect.Point{Part: p.Part, Points: p.Points})
		}
		c.Findings = append(c.Findings, f)
	}
	if sc := d.Scoring; sc != nil {
		c.Scoring = detect.Scoring{Sum: sc.Sum, MaxScore: sc.MaxScore, Score: sc.Score, Medium: sc.Medium, High: sc.High,
			FindingsSeverity: sc.FindingsSeverity, Severity: sc.Severity}
	}
	if d.Decision != nil {
		c.Decision = &review.Decision{Outcome: d.Decision.Outcome, By: d.Decision.By, Reason: d.Decision.Reason, At: d.Decision.At,
			SecondBy: d.Decision.SecondBy, SecondReason: d.Decision.SecondReason}
	}
	for _, cm := range d.Comments {
		c.Comments = append(c.Comments, review.Comment{At: cm.At, By: cm.By, Text: cm.Text})
	}
	for _, h := range d.History {
		ch := review.Change{At: h.At, Actor: h.Actor, Action: h.Action, From: h.From, To: h.To, Reason: h.Reason}
		if h.Note != nil {
			ch.Note = fromClauseDocs([]clauseDoc{*h.Note})[0]
		}
		c.History = append(c.History, ch)
	}
	return c
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// CreateMany stores many new cases at once (bulk loads: the bench's case
// sets, imports): their refs, the cases in unordered inserts, then their
// queue rows, on facets in one change per facet touched. A case already
// stored (a re-run) is left as it is and placed again, which changes
// nothing. It does not check one open case per employee beyond the
// unique index, which fails the whole call.
func (s *CaseStore) CreateMany(ctx context.Context, cs []review.Case) error {
	docs := make([]caseDoc, len(cs))
	ins := make([]any, len(cs))
	for i, c := range cs {
		c.Version = 1
		docs[i] = toCaseDoc(c)
		ins[i] = docs[i]
	}
	if err := s.addRefs(ctx, docs); err != nil {
		return err
	}
	for start := 0; start < len(ins); start += 500 {
		_, err := s.coll.InsertMany(ctx, ins[start:min(start+500, len(ins))], options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) {
			return fmt.Errorf("create %d cases: %w", len(cs), err)
		}
	}
	if s.db.queueByFacets(ctx) {
		// In queue order by facet, so each batch fills a few neighbouring
		// chunks instead of rewriting all of them.
		sorted := slices.Clone(docs)
		sort.Slice(sorted, func(i, j int) bool {
			a, b := sorted[i], sorted[j]
			if fa, fb := facetID(a.Status, a.Severity), facetID(b.Status, b.Severity); fa != fb {
				return fa < fb
			}
			return key{a.Score, a.ID}.before(key{b.Score, b.ID})
		})
		docs = sorted
		for start := 0; start < len(docs); start += backfillBatch {
			if err := s.facets.placeMany(ctx, docs[start:min(start+backfillBatch, len(docs))]); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range docs {
		if err := s.syncQueue(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// addRefs records the cases of docs in case_refs: new employees' refs in
// unordered inserts, the others (a duplicate _id) one by one.
func (s *CaseStore) addRefs(ctx context.Context, docs []caseDoc) error {
	byEmp := map[string][]string{}
	var emps []string
	for _, d := range docs {
		if _, ok := byEmp[d.EmployeeID]; !ok {
			emps = append(emps, d.EmployeeID)
		}
		byEmp[d.EmployeeID] = append(byEmp[d.EmployeeID], d.ID)
	}
	for start := 0; start < len(emps); start += 500 {
		part := emps[start:min(start+500, len(emps))]
		ins := make([]any, len(part))
		for i, e := range part {
			ins[i] = caseRefsDoc{ID: e, Cases: byEmp[e]}
		}
		_, err := s.refs.InsertMany(ctx, ins, options.InsertMany().SetOrdered(false))
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if !onlyDuplicates(err) || !errors.As(err, &bwe) {
			return fmt.Errorf("record cases of %d employees: %w", len(part), err)
		}
		for _, we := range bwe.WriteErrors {
			for _, id := range byEmp[part[we.Index]] {
				if err := s.addRef(ctx, part[we.Index], id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
