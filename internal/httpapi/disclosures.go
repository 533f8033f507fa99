package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/idempotency"
)

// DisclosureRoutes serves the declaration workflow. Access beyond the role
// guards below is decided by disclosure.Service: someone else's disclosure
// that the caller may not read answers 404, not 403, so ids reveal nothing.
type DisclosureRoutes struct {
	Service *disclosure.Service
	// Idempotency keeps Idempotency-Key records of creates; nil refuses
	// the header (a client relying on it must not be told it worked).
	Idempotency idempotency.Store
}

// Register implements Routes. It only reads h's handlers, never its
// dependencies, so the OpenAPI test can register a zero value.
func (h DisclosureRoutes) Register(api *gin.RouterGroup) {
	anyone := auth.Require(auth.RoleEmployee)
	api.POST("/me/disclosures", anyone, h.create)
	api.GET("/me/disclosures", anyone, h.listMine)
	api.PUT("/me/disclosures/:id", anyone, h.edit)
	api.POST("/me/disclosures/:id/withdraw", anyone, h.withdraw)
	// Who may list and decide is the service's decision (audited when
	// refused), not a guard here: one place decides authorisation.
	api.GET("/disclosures", anyone, h.list)
	api.GET("/disclosures/:id", anyone, h.get)
	api.POST("/disclosures/:id/decision", anyone, h.decide)
}

// MapDisclosureErrors maps the disclosure package's errors; register it in
// Config.Mappers.
func MapDisclosureErrors(err error) (*Error, bool) {
	var ve *disclosure.ValidationError
	switch {
	case errors.As(err, &ve):
		details := make([]Detail, len(ve.Details))
		for i, d := range ve.Details {
			details[i] = Detail{Field: d.Field, Message: d.Message}
		}
		// The message says it in words ("end date must be …"); details keep
		// the field paths for programs.
		return BadRequest("invalid_body", inWords(details), details...), true
	case errors.Is(err, disclosure.ErrNotFound):
		return NotFound("disclosure"), true
	case errors.Is(err, disclosure.ErrVersionRequired):
		return &Error{Status: http.StatusPreconditionRequired, Code: "precondition_required",
			Message: "a decision must name the version it decides: the version field of the disclosure you read, or If-Match: \"<version>\"",
			Details: []Detail{{Field: "version", Message: "is required"}}}, true
	case errors.Is(err, disclosure.ErrStale):
		return &Error{Status: http.StatusConflict, Code: "stale_version",
			Message: "the disclosure changed since the version you read; read it again and decide on what it says now",
			Details: []Detail{{Field: "version", Message: "is not the current version"}}}, true
	case errors.Is(err, disclosure.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "the disclosure changed meanwhile; read it again and retry"}, true
	case errors.Is(err, disclosure.ErrInvalidState):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_state", Message: "the disclosure's status does not allow this"}, true
	case errors.Is(err, disclosure.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you may not do this to this disclosure"}, true
	case errors.Is(err, disclosure.ErrBadCursor):
		return BadRequest("bad_cursor", "the cursor is not one this API issued", Detail{Field: "cursor", Message: "is invalid"}), true
	}
	return nil, false
}

// --- request and response bodies (the API's shape, not the domain's) ---

type compensationJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// disclosureRequest is the body of create and edit.
type disclosureRequest struct {
	Kind             string            `json:"kind"`
	Counterparty     string            `json:"counterparty"`
	CounterpartyType string            `json:"counterparty_type"`
	Topic            string            `json:"topic"`
	StartDate        string            `json:"start_date"`
	EndDate          string            `json:"end_date"`
	Paid             bool              `json:"paid"`
	Compensation     *compensationJSON `json:"compensation"`
	Notes            string            `json:"notes"`
	// Renews names the caller's approved declaration this one renews.
	Renews string `json:"renews,omitempty"`
}

func (r disclosureRequest) input() disclosure.Input {
	in := disclosure.Input{
		Kind: disclosure.Kind(r.Kind), Counterparty: r.Counterparty,
		CounterpartyType: disclosure.CounterpartyType(r.CounterpartyType), Topic: r.Topic,
		StartDate: civil.Date(r.StartDate), EndDate: civil.Date(r.EndDate), Paid: r.Paid, Notes: r.Notes,
		Renews: r.Renews,
	}
	if in.EndDate == "" {
		in.EndDate = in.StartDate // no end date: a one-day engagement (issue 14)
	}
	if r.Compensation != nil {
		in.Compensation = &disclosure.Compensation{Amount: r.Compensation.Amount, Currency: r.Compensation.Currency}
	}
	return in
}

type withdrawRequest struct {
	Comment string `json:"comment"`
}

type decisionRequest struct {
	Decision   string   `json:"decision"`
	Comment    string   `json:"comment"`
	Conditions []string `json:"conditions"`
	Version    *int64   `json:"version"`
}

// The disclosure bodies are checked by the service (its ValidationError
// names the fields), so they have no checks of their own here.
func (*disclosureRequest) check() error        { return nil }
func (*withdrawRequest) check() error          { return nil }
func (*decisionRequest) check() error          { return nil }
func (r *decisionRequest) bodyVersion() *int64 { return r.Version }

type decisionJSON struct {
	Decision   string    `json:"decision"`
	By         string    `json:"by"`
	Role       string    `json:"role"`
	Comment    string    `json:"comment"`
	Conditions []string  `json:"conditions"`
	At         time.Time `json:"at"`
}

type historyJSON struct {
	At               time.Time     `json:"at"`
	Actor            string        `json:"actor"`
	Action           string        `json:"action"`
	From             string        `json:"from,omitempty"`
	To               string        `json:"to"`
	Comment          string        `json:"comment,omitempty"`
	PreviousDecision *decisionJSON `json:"previous_decision,omitempty"`
	// Changes: the fields an edit changed, before and after.
	Changes []fieldChangeJSON `json:"changes,omitempty"`
}

type fieldChangeJSON struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

type disclosureJSON struct {
	ID               string            `json:"id"`
	EmployeeID       string            `json:"employee_id"`
	Kind             string            `json:"kind"`
	Counterparty     string            `json:"counterparty"`
	CounterpartyType string            `json:"counterparty_type"`
	Topic            string            `json:"topic"`
	StartDate        string            `json:"start_date"`
	EndDate          string            `json:"end_date"`
	Paid             bool              `json:"paid"`
	Compensation     *compensationJSON `json:"compensation"`
	Notes            string            `json:"notes"`
	Status           string            `json:"status"`
	Approver         string            `json:"approver"`
	Decision         *decisionJSON     `json:"decision"`
	History          []historyJSON     `json:"history"`
	Version          int64             `json:"version"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
	// ValidUntil is the day the approval lapses; Renews what this renews.
	ValidUntil string `json:"valid_until,omitempty"`
	Renews     string `json:"renews,omitempty"`
}

type disclosurePage struct {
	Items      []disclosureJSON `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

func toDecisionJSON(d *disclosure.Decision) *decisionJSON {
	if d == nil {
		return nil
	}
	conds := d.Conditions
	if conds == nil {
		conds = []string{}
	}
	return &decisionJSON{Decision: string(d.Outcome), By: d.By, Role: string(d.Role), Comment: d.Comment,
		Conditions: conds, At: d.At}
}

func toDisclosureJSON(d disclosure.Disclosure) disclosureJSON {
	out := disclosureJSON{
		ID: d.ID, EmployeeID: d.EmployeeID, Kind: string(d.Kind), Counterparty: d.Counterparty,
		CounterpartyType: string(d.CounterpartyType), Topic: d.Topic, StartDate: string(d.StartDate),
		EndDate: string(d.EndDate), Paid: d.Paid, Notes: d.Notes, Status: string(d.Status),
		Approver: string(d.Approver), Decision: toDecisionJSON(d.Decision), History: make([]historyJSON, len(d.History)),
		Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, ValidUntil: string(d.ValidUntil), Renews: d.Renews,
	}
	if c := d.Compensation; c != nil {
		out.Compensation = &compensationJSON{Amount: c.Amount, Currency: c.Currency}
	}
	for i, h := range d.History {
		out.History[i] = historyJSON{At: h.At, Actor: h.Actor, Action: string(h.Action), From: string(h.From),
			To: string(h.To), Comment: h.Comment, PreviousDecision: toDecisionJSON(h.PreviousDecision)}
		for _, fc := range h.Changes {
			out.History[i].Changes = append(out.History[i].Changes, fieldChangeJSON{Field: fc.Field, From: fc.From, To: fc.To})
		}
	}
	return out
}

func toDisclosurePage(ds []disclosure.Disclosure, next string) disclosurePage {
	p := disclosurePage{Items: make([]disclosureJSON, len(ds)), NextCursor: next}
	for i, d := range ds {
		p.Items[i] = toDisclosureJSON(d)
	}
	return p
}

// --- handlers ---

// actor is the caller as the domain sees it. The auth middleware guarantees
// a principal on every /api/v1 route.
func actor(c *gin.Context) disclosure.Actor {
	p, _ := auth.FromContext(c)
	return disclosure.Actor{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c)}
}

// disclosureID validates the path id before anything reaches the store, so
// `{"$ne":null}` and friends are a 400, never a query.
func disclosureID(c *gin.Context) (string, error) {
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		return "", BadRequest("invalid_id", "the disclosure id is malformed",
			Detail{Field: "id", Message: "must be an id of letters, digits and _ . : - (at most 128)"})
	}
	return id, nil
}

// pageParams reads limit and cursor from q.
func pageParams(q map[string]string) (disclosure.Page, error) {
	n, err := parseLimit(q["limit"], disclosure.MaxLimit)
	if err != nil {
		return disclosure.Page{}, err
	}
	if cur := q["cursor"]; cur != "" {
		if _, _, err := disclosure.DecodeCursor(cur); err != nil {
			return disclosure.Page{}, err
		}
	}
	return disclosure.Page{Limit: n, Cursor: q["cursor"]}, nil
}

func (h DisclosureRoutes) create(c *gin.Context) {
	if key := c.GetHeader("Idempotency-Key"); key != "" {
		if h.Idempotency == nil {
			_ = c.Error(BadRequest("invalid_header", "this server does not keep Idempotency-Key records",
				Detail{Field: "Idempotency-Key", Message: "is not supported here"}))
			return
		}
		h.createIdempotent(c, key)
		return
	}
	var req disclosureRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	d, err := h.Service.Create(c.Request.Context(), actor(c), req.input())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/disclosures/"+d.ID)
	c.JSON(http.StatusCreated, toDisclosureJSON(d))
}

func (h DisclosureRoutes) listMine(c *gin.Context) {
	q, err := query(c, "limit", "cursor")
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := pageParams(q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ds, next, err := h.Service.ListMine(c.Request.Context(), actor(c), page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosurePage(ds, next))
}

func (h DisclosureRoutes) get(c *gin.Context) {
	id, err := disclosureID(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	d, err := h.Service.Get(c.Request.Context(), actor(c), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosureJSON(d))
}

func (h DisclosureRoutes) edit(c *gin.Context) {
	id, req, ok := bindWithID[disclosureRequest](c, disclosureID, false)
	if !ok {
		return
	}
	d, err := h.Service.Edit(c.Request.Context(), actor(c), id, req.input())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosureJSON(d))
}

func (h DisclosureRoutes) withdraw(c *gin.Context) {
	id, req, ok := bindWithID[withdrawRequest](c, disclosureID, true)
	if !ok {
		return
	}
	d, err := h.Service.Withdraw(c.Request.Context(), actor(c), id, req.Comment)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosureJSON(d))
}

func (h DisclosureRoutes) decide(c *gin.Context) {
	id, req, version, ok := bindVersioned[decisionRequest](c, disclosureID)
	if !ok {
		return
	}
	d, err := h.Service.Decide(c.Request.Context(), actor(c), id, disclosure.DecisionInput{
		Outcome: disclosure.Outcome(req.Decision), Comment: req.Comment, Conditions: req.Conditions, Version: version,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosureJSON(d))
}

// list is the reviewers' view. With inbox=true it is what the caller may
// decide now (status and approver are implied); otherwise every disclosure
// the caller may review, filtered.
func (h DisclosureRoutes) list(c *gin.Context) {
	q, err := query(c, "status", "employee_id", "approver", "inbox", "limit", "cursor")
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := disclosure.ListFilter{
		Status: disclosure.Status(q["status"]), EmployeeID: q["employee_id"], Approver: disclosure.Approver(q["approver"]),
	}
	err = mergeBadRequests(
		checkEnum("status", q["status"], disclosure.Status.Valid, disclosure.Statuses()),
		checkEnum("approver", q["approver"], disclosure.Approver.Valid,
			[]disclosure.Approver{disclosure.ApproverManager, disclosure.ApproverCompliance, disclosure.ApproverPolicy}),
		checkRef("employee_id", q["employee_id"]),
	)
	if err != nil {
		_ = c.Error(err)
		return
	}
	inbox := false
	switch q["inbox"] {
	case "", "false":
	case "true":
		inbox = true
		if f.Status != "" || f.EmployeeID != "" || f.Approver != "" {
			_ = c.Error(BadRequest("invalid_query", "inbox=true cannot be combined with filters",
				Detail{Field: "inbox", Message: "use either inbox=true or status/approver/employee_id"}))
			return
		}
	default:
		_ = c.Error(BadRequest("invalid_query", "inbox must be true or false", Detail{Field: "inbox", Message: "must be true or false"}))
		return
	}
	page, err := pageParams(q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var ds []disclosure.Disclosure
	var next string
	if inbox {
		ds, next, err = h.Service.Inbox(c.Request.Context(), actor(c), page)
	} else {
		ds, next, err = h.Service.List(c.Request.Context(), actor(c), f, page)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toDisclosurePage(ds, next))
}
