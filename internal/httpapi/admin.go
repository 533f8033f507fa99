package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Rescans starts rescan jobs and reports their progress (rescan.Runner).
type Rescans interface {
	Start(ctx context.Context, c rescan.Caller) (rescan.Job, error)
	Progress(ctx context.Context, c rescan.Caller, id string) (rescan.Progress, error)
}

// AdminRoutes serves the admin operations: the versioned rule set and its
// counterparties, and rescan jobs. The rule-set service and the rescan
// runner check the admin role themselves (and audit refusals), once for the
// API, the UI and the command line; the routes only need someone signed in
// (the /api/v1 group's authentication).
type AdminRoutes struct {
	Rules   *ruleset.Service
	Rescans Rescans
}

// Register implements Routes.
func (h *AdminRoutes) Register(api *gin.RouterGroup) {
	api.GET("/admin/watchlist", h.watchlist)
	api.GET("/admin/rules", h.rules)
	api.PUT("/admin/rules", h.putRules)
	api.POST("/admin/counterparties", h.addCounterparty)
	api.PUT("/admin/counterparties/:id", h.putCounterparty)
	api.DELETE("/admin/counterparties/:id", h.retireCounterparty)
	api.POST("/admin/rescans", h.startRescan)
	api.GET("/admin/rescans/:id", h.rescanProgress)
}

// MapRulesErrors maps the rule-set and rescan sentinels.
func MapRulesErrors(err error) (*Error, bool) {
	switch {
	case errors.Is(err, ruleset.ErrForbidden), errors.Is(err, rescan.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this needs the admin role"}, true
	case errors.Is(err, ruleset.ErrNotFound):
		return NotFound("counterparty"), true
	case errors.Is(err, ruleset.ErrStale):
		return &Error{Status: http.StatusConflict, Code: "stale_version", Message: "the rule set changed since you read it; read it again and retry"}, true
	case errors.Is(err, ruleset.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "the rule set is being changed concurrently; retry"}, true
	case errors.Is(err, ruleset.ErrInvalid):
		msg := strings.TrimSpace(strings.ReplaceAll(err.Error(), ruleset.ErrInvalid.Error()+":", ""))
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_rules",
			Message: "the change would make the rules or watchlist invalid; nothing changed", Details: []Detail{{Message: msg}}, Err: err}, true
	case errors.Is(err, rescan.ErrNotFound):
		return NotFound("rescan job"), true
	}
	return nil, false
}

func rescanCaller(c *gin.Context) rescan.Caller {
	p, _ := auth.FromContext(c)
	return rescan.Caller{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c)}
}

func caller(c *gin.Context) ruleset.Caller {
	p, _ := auth.FromContext(c)
	return ruleset.Caller{Principal: p, RequestID: RequestID(c)}
}

// baseVersion reads an optional `If-Match: "N"`: the rule-set version the
// change is based on (0: the newest, whatever it is).
func baseVersion(c *gin.Context) (int64, error) {
	v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(c.GetHeader("If-Match")), "W/"), `"`)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, BadRequest("invalid_version", "If-Match must be a rule-set version number", Detail{Field: "If-Match", Message: "is not a version number"})
	}
	return n, nil
}

type counterpartyList struct {
	Version int64                    `json:"version"`
	Count   int                      `json:"count"`
	Items   []watchlist.Counterparty `json:"items"`
}

func (h *AdminRoutes) watchlist(c *gin.Context) {
	if _, err := query(c); err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.Current(c.Request.Context(), caller(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := set.Watchlist.Entries()
	if items == nil {
		items = []watchlist.Counterparty{}
	}
	c.JSON(http.StatusOK, counterpartyList{Version: set.Version.Number, Count: len(items), Items: items})
}

type retiredJSON struct {
	Counterparty watchlist.Counterparty `json:"counterparty"`
	At           time.Time              `json:"at"`
	By           string                 `json:"by"`
}

type rulesJSON struct {
	Version        int64                    `json:"version"`
	At             time.Time                `json:"at"`
	Actor          string                   `json:"actor"`
	Change         string                   `json:"change"`
	Subject        string                   `json:"subject,omitempty"`
	Rules          string                   `json:"rules"`
	Counterparties []watchlist.Counterparty `json:"counterparties"`
	Retired        []retiredJSON            `json:"retired"`
}

func rulesBody(set *ruleset.Set) rulesJSON {
	v := set.Version
	out := rulesJSON{Version: v.Number, At: v.At.UTC(), Actor: v.Actor, Change: v.Change, Subject: v.Subject,
		Rules: string(v.Rules), Counterparties: set.Watchlist.Entries(), Retired: []retiredJSON{}}
	if out.Counterparties == nil {
		out.Counterparties = []watchlist.Counterparty{}
	}
	for _, r := range v.Retired {
		out.Retired = append(out.Retired, retiredJSON{Counterparty: r.Counterparty, At: r.At.UTC(), By: r.By})
	}
	return out
}

func (h *AdminRoutes) rules(c *gin.Context) {
	if _, err := query(c); err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.Current(c.Request.Context(), caller(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("ETag", strconv.Quote(strconv.FormatInt(set.Version.Number, 10)))
	c.JSON(http.StatusOK, rulesBody(set))
}

func (h *AdminRoutes) putRules(c *gin.Context) {
	var body struct {
		Rules *string `json:"rules"`
	}
	base, err := baseVersion(c)
	if err == nil {
		err = bindJSON(c, &body, false)
	}
	if err == nil && (body.Rules == nil || strings.TrimSpace(*body.Rules) == "") {
		err = BadRequest("invalid_body", "rules (the rules YAML) is required", Detail{Field: "rules", Message: "is required"})
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.UpdateRules(c.Request.Context(), caller(c), []byte(*body.Rules), base)
	h.answer(c, http.StatusOK, set, err)
}

func (h *AdminRoutes) addCounterparty(c *gin.Context) {
	var cp watchlist.Counterparty
	base, err := baseVersion(c)
	if err == nil {
		err = bindJSON(c, &cp, false)
	}
	if err == nil && strings.TrimSpace(cp.ID) == "" {
		err = BadRequest("invalid_body", "id is required", Detail{Field: "id", Message: "is required"})
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.AddCounterparty(c.Request.Context(), caller(c), cp, base)
	h.answer(c, http.StatusCreated, set, err)
}

func (h *AdminRoutes) putCounterparty(c *gin.Context) {
	var cp watchlist.Counterparty
	base, err := baseVersion(c)
	if err == nil {
		err = bindJSON(c, &cp, false)
	}
	if err == nil && cp.ID == "" {
		cp.ID = c.Param("id")
	}
	if err == nil && cp.ID != c.Param("id") {
		err = BadRequest("invalid_body", "id in the body differs from the path", Detail{Field: "id", Message: "must match the path"})
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.UpdateCounterparty(c.Request.Context(), caller(c), cp, base)
	h.answer(c, http.StatusOK, set, err)
}

func (h *AdminRoutes) retireCounterparty(c *gin.Context) {
	base, err := baseVersion(c)
	if err == nil {
		err = bindJSON(c, &struct{}{}, true)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	set, err := h.Rules.RetireCounterparty(c.Request.Context(), caller(c), c.Param("id"), base)
	h.answer(c, http.StatusOK, set, err)
}

func (h *AdminRoutes) answer(c *gin.Context, status int, set *ruleset.Set, err error) {
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("ETag", strconv.Quote(strconv.FormatInt(set.Version.Number, 10)))
	c.JSON(status, rulesBody(set))
}

type rescanJSON struct {
	ID           string    `json:"id"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	RulesVersion int64     `json:"rules_version"`
	TotalEvents  int64     `json:"total_events"`
	Stage        string    `json:"stage"`
	Done         bool      `json:"done"`
	Events       int64     `json:"events"`
	Signals      int64     `json:"signals"`
	Seminars     int64     `json:"seminars"`
	Employees    int64     `json:"employees"`
	Steps        int64     `json:"steps"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	By           string    `json:"by,omitempty"`
}

func rescanBody(p rescan.Progress) rescanJSON {
	j, s := p.Job, p.Last
	return rescanJSON{ID: j.ID, RequestedBy: j.RequestedBy, RequestedAt: j.RequestedAt.UTC(), RulesVersion: j.RulesVersion,
		TotalEvents: j.TotalEvents, Stage: s.Stage, Done: j.Done, Events: s.Events, Signals: s.Signals, Seminars: s.Seminars,
		Employees: s.Employees, Steps: s.Seq, UpdatedAt: s.At.UTC(), By: s.By}
}

func (h *AdminRoutes) startRescan(c *gin.Context) {
	if err := bindJSON(c, &struct{}{}, true); err != nil {
		_ = c.Error(err)
		return
	}
	j, err := h.Rescans.Start(c.Request.Context(), rescanCaller(c))
	if errors.Is(err, rescan.ErrRunning) {
		_ = c.Error(&Error{Status: http.StatusConflict, Code: "rescan_running",
			Message: "a rescan is already running: " + j.ID, Details: []Detail{{Field: "id", Message: j.ID}}})
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/admin/rescans/"+j.ID)
	c.JSON(http.StatusAccepted, rescanBody(rescan.Progress{Job: j, Last: rescan.Step{Job: j.ID, Stage: rescan.StageEvents}}))
}

func (h *AdminRoutes) rescanProgress(c *gin.Context) {
	if _, err := query(c); err != nil {
		_ = c.Error(err)
		return
	}
	p, err := h.Rescans.Progress(c.Request.Context(), rescanCaller(c), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, rescanBody(p))
}
