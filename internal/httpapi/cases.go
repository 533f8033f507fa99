package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// CaseRoutes serves the review queue: compliance and auditors read cases,
// compliance assigns, comments and decides. Every read by someone other than
// the case's subject is audited by review.Service.
type CaseRoutes struct {
	Service *review.Service
	// Names names counterparties in the caller's language as the rule-set
	// version of each finding listed them (ruleset.Names); nil uses the
	// names detection recorded.
	Names CaseNames
}

// CaseNames looks counterparties up by rule-set version.
type CaseNames interface {
	For(ctx context.Context, version int64) explain.Names
}

// Register implements Routes. It reads no dependency, so a zero value can be
// registered (the OpenAPI test does).
func (h CaseRoutes) Register(api *gin.RouterGroup) {
	// Who may read and act is review.Service's decision (audited when
	// refused, recusal included), not a guard here.
	api.GET("/cases", h.list)
	api.GET("/cases/:id", h.get)
	api.POST("/cases/:id/decision", h.decide)
	api.POST("/cases/:id/assign", h.assign)
	api.POST("/cases/:id/comments", h.comment)
	h.registerPrivacy(api)
	h.registerQueue(api)
}

// MapCaseErrors maps the review package's errors; register it in Config.Mappers.
func MapCaseErrors(err error) (*Error, bool) {
	switch {
	case errors.Is(err, review.ErrNotFound):
		return NotFound("case"), true
	case errors.Is(err, review.ErrUnmaskNotFound):
		return NotFound("unmask request"), true
	case errors.Is(err, review.ErrVersionRequired):
		return &Error{Status: http.StatusPreconditionRequired, Code: "precondition_required",
			Message: "a decision must name the version it decides: the version field of the case you read, or If-Match: \"<version>\"",
			Details: []Detail{{Field: "version", Message: "is required"}}}, true
	case errors.Is(err, review.ErrStale):
		return &Error{Status: http.StatusConflict, Code: "stale_version",
			Message: "the case changed since the version you read; read it again and decide on what it says now",
			Details: []Detail{{Field: "version", Message: "is not the current version"}}}, true
	case errors.Is(err, review.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "the case changed meanwhile; read it again and retry"}, true
	case errors.Is(err, review.ErrInvalidState):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_state", Message: "the case's status does not allow this (it is already closed)"}, true
	case errors.Is(err, review.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you may not read or act on this case (nobody reviews a case about themselves)"}, true
	case errors.Is(err, review.ErrInvalid):
		// The review package's messages name the field and the rule only.
		msg := strings.TrimSuffix(err.Error(), ": "+review.ErrInvalid.Error())
		if strings.Contains(msg, "cursor") {
			return BadRequest("bad_cursor", "the cursor is not one this API issued", Detail{Field: "cursor", Message: "is invalid"}), true
		}
		return BadRequest("invalid_request", msg), true
	}
	return nil, false
}

// --- response bodies: the contract's case shape plus reviewer fields ---

type eventRefJSON struct {
	Source string `json:"source"`
	ID     string `json:"id"`
}

type findingJSON struct {
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Score    int    `json:"score"`
	// Summary is Explanation rendered in the caller's language
	// (Accept-Language: zh or en), or for findings stored before
	// explanations were data, the English text they have.
	Summary string `json:"summary"`
	// Explanation is why, as data: message codes with typed parameters;
	// null for findings stored before it was recorded.
	Explanation      *explanationJSON `json:"explanation"`
	OccurredOn       string           `json:"occurred_on"`
	Counterparty     string           `json:"counterparty"`
	CounterpartyID   string           `json:"counterparty_id,omitempty"`
	CounterpartyType string           `json:"counterparty_type,omitempty"`
	EventRefs        []eventRefJSON   `json:"event_refs"`
	DisclosureIDs    []string         `json:"disclosure_ids"`
	CoveredBy        *string          `json:"covered_by"`
	Employment       string           `json:"employment,omitempty"`
	Project          string           `json:"project,omitempty"`
	// RulesVersion is the rule-set version that produced the finding.
	RulesVersion int64 `json:"rules_version,omitempty"`
	// Points: how Score was made, part by part (see detect.Point).
	Points []pointJSON `json:"points"`
}

type explanationJSON struct {
	// Lang is the language Summary was rendered in.
	Lang    string       `json:"lang"`
	Clauses []clauseJSON `json:"clauses"`
}

type clauseJSON struct {
	Code   string               `json:"code"`
	Params map[string]paramJSON `json:"params,omitempty"`
}

type paramJSON struct {
	Type     string   `json:"type"`
	Value    string   `json:"value,omitempty"`
	ID       string   `json:"id,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Domain   string   `json:"domain,omitempty"`
	Currency string   `json:"currency,omitempty"`
	Alias    string   `json:"alias,omitempty"`
	To       string   `json:"to,omitempty"`
	Status   string   `json:"status,omitempty"`
	Values   []string `json:"values,omitempty"`
}

type pointJSON struct {
	Part   string `json:"part"`
	Points int    `json:"points"`
}

// scoreBreakdownJSON is detect.Scoring: fields, not a sentence, so the UI can
// render it in any language.
type scoreBreakdownJSON struct {
	Sum              int    `json:"sum"`
	MaxScore         int    `json:"max_score"`
	Score            int    `json:"score"`
	MediumThreshold  int    `json:"medium_threshold"`
	HighThreshold    int    `json:"high_threshold"`
	FindingsSeverity string `json:"findings_severity"`
	Severity         string `json:"severity"`
}

type caseDecisionJSON struct {
	Outcome string    `json:"outcome"`
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	// SecondBy agreed to a confirmed outcome (four eyes).
	SecondBy     string `json:"second_by,omitempty"`
	SecondReason string `json:"second_reason,omitempty"`
}

type caseCommentJSON struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

type caseChangeJSON struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

type caseJSON struct {
	ID string `json:"id"`
	// EmployeeID and EmployeeName are absent under pseudonymisation unless
	// the caller unmasked the case or looked the person up (issue 15).
	EmployeeID   string `json:"employee_id,omitempty"`
	EmployeeName string `json:"employee_name,omitempty"`
	// Subject is the stable pseudonym of the person the case is about.
	Subject      string            `json:"subject,omitempty"`
	JobFamily    string            `json:"job_family,omitempty"`
	ProjectCodes []string          `json:"project_codes"`
	Masked       bool              `json:"masked"`
	Unmask       *unmaskStateJSON  `json:"unmask,omitempty"`
	Confirmation *confirmationJSON `json:"confirmation,omitempty"`
	Department   string            `json:"department,omitempty"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity"`
	Score        int               `json:"score"`
	// ScoreBreakdown is null for cases scored before it was recorded.
	ScoreBreakdown *scoreBreakdownJSON `json:"score_breakdown"`
	Findings       []findingJSON       `json:"findings"`
	Assignee       string              `json:"assignee,omitempty"`
	Decision       *caseDecisionJSON   `json:"decision"`
	Comments       []caseCommentJSON   `json:"comments"`
	History        []caseChangeJSON    `json:"history"`
	OpenedAt       time.Time           `json:"opened_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
	Version        int64               `json:"version"`
}

type casePage struct {
	Items      []caseJSON `json:"items"`
	NextCursor string     `json:"next_cursor"`
	// Total is the number of matches (at most review.MaxCount), with
	// with_total=true only.
	Total *int `json:"total,omitempty"`
}

// reader renders explanations for one request: its language (from
// Accept-Language) and counterparty names.
type reader struct {
	lang  explain.Lang
	names func(version int64) explain.Names
}

var apiLangs = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// readerOf reads the caller's language from Accept-Language (English when
// absent or unmatched) and says so in Content-Language.
func (h CaseRoutes) readerOf(c *gin.Context) reader {
	tags, _, _ := language.ParseAcceptLanguage(c.GetHeader("Accept-Language"))
	_, i, _ := apiLangs.Match(tags...)
	r := reader{lang: explain.EN}
	if i == 1 {
		r.lang = explain.ZH
	}
	c.Header("Content-Language", langCode(r.lang))
	c.Header("Vary", "Accept-Language")
	ctx := c.Request.Context()
	r.names = func(v int64) explain.Names {
		if h.Names == nil {
			return nil
		}
		return h.Names.For(ctx, v)
	}
	return r
}

func langCode(l explain.Lang) string {
	if l == explain.ZH {
		return "zh-Hans"
	}
	return "en"
}

func (r reader) finding(f detect.Finding) (string, *explanationJSON) {
	if !explain.Known(f.Explanation) {
		return f.Summary, nil
	}
	x := &explanationJSON{Lang: langCode(r.lang), Clauses: []clauseJSON{}}
	for _, cl := range f.Explanation {
		cj := clauseJSON{Code: cl.Code}
		if len(cl.Params) > 0 {
			cj.Params = make(map[string]paramJSON, len(cl.Params))
			for k, p := range cl.Params {
				cj.Params[k] = paramJSON(p)
			}
		}
		x.Clauses = append(x.Clauses, cj)
	}
	var names explain.Names
	if r.names != nil {
		names = r.names(f.RulesVersion)
	}
	return explain.Plain(r.lang, f.Explanation, names), x
}

// reason is a system history line's or decision's reason in the caller's
// language; a person's words are returned as written.
func (r reader) reason(actor string, note explain.Clause, text string) string {
	if note.Code != "" && explain.Known(explain.Explanation{note}) {
		return explain.Phrase(r.lang, note, nil).String()
	}
	if actor == review.System {
		if n, ok := explain.Reason(text); ok {
			return explain.Phrase(r.lang, n, nil).String()
		}
	}
	return text
}

func toCaseJSON(c review.Case, r reader) caseJSON {
	out := caseJSON{
		ID: c.ID, EmployeeID: c.EmployeeID, EmployeeName: c.EmployeeName, Department: c.Department,
		Status: c.Status, Severity: c.Severity, Score: c.Score, Assignee: c.Assignee,
		Findings: []findingJSON{}, Comments: []caseCommentJSON{}, History: []caseChangeJSON{},
		OpenedAt: c.OpenedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Version: c.Version,
	}
	addPrivacyJSON(&out, c)
	for _, f := range c.Findings {
		fj := findingJSON{
			ID: f.ID, Rule: f.Rule, Severity: f.Severity, Score: f.Score,
			OccurredOn: string(f.OccurredOn), Counterparty: f.Counterparty, CounterpartyID: f.CounterpartyID, CounterpartyType: f.CounterpartyType,
			EventRefs: []eventRefJSON{}, DisclosureIDs: []string{}, Employment: f.Employment, Project: f.Project,
			RulesVersion: f.RulesVersion,
			Points:       []pointJSON{},
		}
		fj.Summary, fj.Explanation = r.finding(f)
		for _, p := range f.Points {
			fj.Points = append(fj.Points, pointJSON{Part: p.Part, Points: p.Points})
		}
		for _, r := range f.EventRefs {
			fj.EventRefs = append(fj.EventRefs, eventRefJSON{Source: r.Source, ID: r.ID})
		}
		fj.DisclosureIDs = append(fj.DisclosureIDs, f.DisclosureIDs...)
		if f.CoveredBy != "" {
			by := f.CoveredBy
			fj.CoveredBy = &by
		}
		out.Findings = append(out.Findings, fj)
	}
	if sc := c.Scoring; sc.MaxScore != 0 {
		out.ScoreBreakdown = &scoreBreakdownJSON{Sum: sc.Sum, MaxScore: sc.MaxScore, Score: sc.Score,
			MediumThreshold: sc.Medium, HighThreshold: sc.High, FindingsSeverity: sc.FindingsSeverity, Severity: sc.Severity}
	}
	if c.Decision != nil {
		out.Decision = &caseDecisionJSON{Outcome: c.Decision.Outcome, By: c.Decision.By,
			Reason: r.reason(c.Decision.By, explain.Clause{}, c.Decision.Reason), At: c.Decision.At.UTC(),
			SecondBy: c.Decision.SecondBy, SecondReason: c.Decision.SecondReason}
	}
	for _, cm := range c.Comments {
		out.Comments = append(out.Comments, caseCommentJSON{At: cm.At.UTC(), By: cm.By, Text: cm.Text})
	}
	for _, h := range c.History {
		out.History = append(out.History, caseChangeJSON{At: h.At.UTC(), Actor: h.Actor, Action: h.Action, From: h.From, To: h.To,
			Reason: r.reason(h.Actor, h.Note, h.Reason)})
	}
	return out
}

// --- request bodies ---

type caseDecisionRequest struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Version *int64 `json:"version"`
}

type caseAssignRequest struct {
	Assignee string `json:"assignee"`
}

type caseCommentRequest struct {
	Text string `json:"text"`
}

func (r *caseDecisionRequest) check() error {
	var errs []error
	if r.Outcome != review.StatusCleared && r.Outcome != review.StatusConfirmed {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "outcome", Message: "must be cleared or confirmed"}))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Reason)); n == 0 || n > 4000 {
		errs = append(errs, BadRequest("invalid_body", "the request is invalid", Detail{Field: "reason", Message: "must have 1 to 4000 characters"}))
	}
	return mergeBadRequests(errs...)
}

func (r *caseDecisionRequest) bodyVersion() *int64 { return r.Version }

func (r *caseAssignRequest) check() error {
	if err := checkRef("assignee", r.Assignee); err != nil {
		return BadRequest("invalid_body", "the request is invalid", Detail{Field: "assignee", Message: "must be an employee id"})
	}
	return nil
}

func (r *caseCommentRequest) check() error {
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Text)); n == 0 || n > 4000 {
		return BadRequest("invalid_body", "the request is invalid", Detail{Field: "text", Message: "must have 1 to 4000 characters"})
	}
	return nil
}

// --- handlers ---

func caseActor(c *gin.Context, purpose string) review.Actor {
	p, _ := auth.FromContext(c) // the guards ran, so there is a principal
	return review.Actor{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c), Purpose: purpose}
}

func caseID(c *gin.Context) (string, error) {
	id := c.Param("id")
	if !refPattern.MatchString(id) {
		return "", NotFound("case")
	}
	return id, nil
}

func caseStatuses() []string {
	return []string{review.StatusOpen, review.StatusInReview, review.StatusCleared, review.StatusConfirmed}
}

func caseSeverities() []string {
	return []string{detect.SeverityLow, detect.SeverityMedium, detect.SeverityHigh}
}

func oneOf(all []string) func(string) bool {
	return func(v string) bool {
		for _, a := range all {
			if a == v {
				return true
			}
		}
		return false
	}
}

// checkQueryText validates a free-text query parameter: at most 128 characters,
// no control characters.
func checkQueryText(name, v string) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 128 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return BadRequest("invalid_query", "a query parameter is not valid text",
			Detail{Field: name, Message: "must be at most 128 characters without control characters"})
	}
	return nil
}

func (h CaseRoutes) list(c *gin.Context) {
	q, err := query(c, append([]string{"limit", "cursor", "with_total"}, caseFilterParams...)...)
	if err != nil {
		_ = c.Error(err)
		return
	}
	limit, limitErr := parseLimit(q["limit"], review.MaxLimit)
	if limit == 0 {
		limit = review.DefaultLimit
	}
	f, filterErr := caseFilter(q)
	var totalErr error
	if v := q["with_total"]; v != "" && v != "true" && v != "false" {
		totalErr = BadRequest("invalid_query", "with_total must be true or false", Detail{Field: "with_total", Message: "must be true or false"})
	}
	if err := mergeBadRequests(filterErr, checkQueryText("cursor", q["cursor"]), limitErr, totalErr); err != nil {
		_ = c.Error(err)
		return
	}
	cs, next, err := h.Service.List(c.Request.Context(), caseActor(c, "case queue"), f, limit, q["cursor"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	page := casePage{Items: make([]caseJSON, 0, len(cs)), NextCursor: next}
	r := h.readerOf(c)
	for _, x := range cs {
		page.Items = append(page.Items, toCaseJSON(x, r))
	}
	if q["with_total"] == "true" {
		if page.Total, err = h.caseTotal(c, f); err != nil {
			_ = c.Error(err)
			return
		}
	}
	c.JSON(http.StatusOK, page)
}

func (h CaseRoutes) get(c *gin.Context) {
	id, err := caseID(c)
	if err == nil {
		_, err = query(c)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	x, err := h.Service.Get(c.Request.Context(), caseActor(c, "case review"), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}

func (h CaseRoutes) decide(c *gin.Context) {
	id, req, version, ok := bindVersioned[caseDecisionRequest](c, caseID)
	if !ok {
		return
	}
	x, err := h.Service.Decide(c.Request.Context(), caseActor(c, "case decision"), id, version, req.Outcome, req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if x.Confirmation != nil {
		// Four eyes: accepted, not in effect until a second reviewer agrees.
		c.JSON(http.StatusAccepted, toCaseJSON(x, h.readerOf(c)))
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}

func (h CaseRoutes) assign(c *gin.Context) {
	id, req, ok := bindWithID[caseAssignRequest](c, caseID, true)
	if !ok {
		return
	}
	x, err := h.Service.Assign(c.Request.Context(), caseActor(c, "case assignment"), id, req.Assignee)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(x, h.readerOf(c)))
}

func (h CaseRoutes) comment(c *gin.Context) {
	id, req, ok := bindWithID[caseCommentRequest](c, caseID, false)
	if !ok {
		return
	}
	x, err := h.Service.Comment(c.Request.Context(), caseActor(c, "case comment"), id, req.Text)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusCreated, toCaseJSON(x, h.readerOf(c)))
}
