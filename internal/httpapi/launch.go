package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/incident"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	"github.com/moonlight-oss/moonlight/internal/project"
)

// LaunchRoutes serves the launch workflow: attestations, insider lists,
// the NDA partner registry and leak incidents with their back-traces.
// Authorisation is decided by the services (and audited there when
// refused); the guard here only needs someone signed in.
type LaunchRoutes struct {
	Attest    *attest.Service
	Insiders  *project.Service
	Partners  *project.Partners
	Incidents *incident.Service
}

// Register implements Routes.
func (h LaunchRoutes) Register(api *gin.RouterGroup) {
	anyone := auth.Require(auth.RoleEmployee)
	api.GET("/me/attestations", anyone, h.myAttestations)
	api.POST("/me/attestations/:id", anyone, h.attest)
	api.GET("/admin/attestation-template", anyone, h.template)
	api.PUT("/admin/attestation-template", anyone, h.saveTemplate)
	api.GET("/projects/:code/insiders", anyone, h.insiders)
	api.GET("/partners", anyone, h.listPartners)
	api.POST("/partners", anyone, h.createPartner)
	api.POST("/partners/import", anyone, h.importPartners)
	api.GET("/partners/:id", anyone, h.getPartner)
	api.PUT("/partners/:id", anyone, h.updatePartner)
	api.DELETE("/partners/:id", anyone, h.deletePartner)
	api.POST("/incidents", anyone, h.createIncident)
	api.GET("/incidents", anyone, h.listIncidents)
	api.GET("/incidents/:id", anyone, h.getIncident)
	api.GET("/incidents/:id/backtrace", anyone, h.backtrace)
}

// MapLaunchErrors maps the launch packages' errors.
func MapLaunchErrors(err error) (*Error, bool) {
	var ve *attest.ValidationError
	var pe *project.PartnerError
	var ie *incident.ValidationError
	switch {
	case errors.As(err, &ve):
		return BadRequest("invalid_body", "the request is invalid", fieldDetails(ve.Fields)...), true
	case errors.As(err, &pe):
		return BadRequest("invalid_body", "the request is invalid", fieldDetails(pe.Fields)...), true
	case errors.As(err, &ie):
		return BadRequest("invalid_body", "the request is invalid", fieldDetails(ie.Fields)...), true
	case errors.Is(err, attest.ErrNotFound):
		return NotFound("attestation"), true
	case errors.Is(err, project.ErrNotFound):
		return NotFound("project or partner"), true
	case errors.Is(err, incident.ErrNotFound):
		return NotFound("incident"), true
	case errors.Is(err, attest.ErrVersionRequired):
		return &Error{Status: http.StatusPreconditionRequired, Code: "precondition_required",
			Message: "attesting must name the version of the task you read", Details: []Detail{{Field: "version", Message: "is required"}}}, true
	case errors.Is(err, attest.ErrStale), errors.Is(err, project.ErrStale):
		return &Error{Status: http.StatusConflict, Code: "stale_version", Message: "it changed since the version you read; read it again",
			Details: []Detail{{Field: "version", Message: "is not the current version"}}}, true
	case errors.Is(err, attest.ErrTemplateStale):
		return &Error{Status: http.StatusConflict, Code: "stale_version", Message: "the attestation texts changed since you read them; read them again",
			Details: []Detail{{Field: "template_version", Message: "is not the current version"}}}, true
	case errors.Is(err, project.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "a partner with this project and name exists already"}, true
	case errors.Is(err, attest.ErrInvalidState):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_state", Message: "this attestation is not waiting for you"}, true
	case errors.Is(err, attest.ErrForbidden), errors.Is(err, project.ErrForbidden), errors.Is(err, incident.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you may not do this"}, true
	}
	return nil, false
}

func fieldDetails(m map[string]string) []Detail {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Detail, len(keys))
	for i, k := range keys {
		out[i] = Detail{Field: k, Message: m[k]}
	}
	return out
}

var (
	launchIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	projectCode     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
)

func pathID(c *gin.Context, name string) (string, error) {
	v := c.Param(name)
	if !launchIDPattern.MatchString(v) {
		return "", BadRequest("invalid_id", "the id is malformed", Detail{Field: name, Message: "must be an id of letters, digits and _ . : -"})
	}
	return v, nil
}

// idParam is the launch resources' path id, :id.
func idParam(c *gin.Context) (string, error) { return pathID(c, "id") }

func principal(c *gin.Context) (id string, roles []string, rid string) {
	p, _ := auth.FromContext(c)
	return p.Subject, p.Roles, RequestID(c)
}

// attestActor is the caller as the attestation service sees them.
func attestActor(c *gin.Context) attest.Actor {
	id, roles, rid := principal(c)
	return attest.Actor{ID: id, Roles: roles, RequestID: rid}
}

// lang is the caller's language for rendered texts: ?lang=, then Accept-Language.
func lang(c *gin.Context, q map[string]string) string {
	if l := q["lang"]; l != "" {
		return l
	}
	return c.GetHeader("Accept-Language")
}

// --- attestations ---

type questionJSON struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

type attestationJSON struct {
	ID              string          `json:"id"`
	ProjectCode     string          `json:"project_code"`
	ProjectName     string          `json:"project_name"`
	Sensitivity     string          `json:"sensitivity"`
	LaunchDate      string          `json:"launch_date"`
	BlackoutFrom    string          `json:"blackout_from"`
	BlackoutTo      string          `json:"blackout_to"`
	AssignedOn      string          `json:"assigned_on"`
	Cycle           int             `json:"cycle"`
	Status          string          `json:"status"`
	ReceivedAt      time.Time       `json:"received_at"`
	DueAt           time.Time       `json:"due_at"`
	AttestedAt      *time.Time      `json:"attested_at"`
	TemplateVersion int64           `json:"template_version"`
	Answers         map[string]bool `json:"answers"`
	Intro           string          `json:"intro"`
	Questions       []questionJSON  `json:"questions"`
	Version         int64           `json:"version"`
}

func toAttestationJSON(v attest.View) attestationJSON {
	out := attestationJSON{ID: v.ID, ProjectCode: v.ProjectCode, ProjectName: v.ProjectName, Sensitivity: v.Sensitivity,
		LaunchDate: string(v.LaunchDate), BlackoutFrom: string(v.BlackoutFrom), BlackoutTo: string(v.BlackoutTo),
		AssignedOn: string(v.AssignedOn), Cycle: v.Cycle, Status: v.Status, ReceivedAt: v.ReceivedAt, DueAt: v.DueAt,
		TemplateVersion: v.TemplateShown, Answers: v.Answers, Intro: v.Intro, Version: v.Version, Questions: []questionJSON{}}
	if v.Status == attest.StatusDone {
		out.TemplateVersion = v.Task.TemplateVersion
	}
	if !v.AttestedAt.IsZero() {
		at := v.AttestedAt
		out.AttestedAt = &at
	}
	if out.Answers == nil {
		out.Answers = map[string]bool{}
	}
	for _, q := range v.Questions {
		out.Questions = append(out.Questions, questionJSON{Key: q.Key, Text: q.Text})
	}
	return out
}

func (h LaunchRoutes) myAttestations(c *gin.Context) {
	q, err := query(c, "lang")
	if err != nil {
		_ = c.Error(err)
		return
	}
	vs, err := h.Attest.Mine(c.Request.Context(), attestActor(c), lang(c, q))
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := make([]attestationJSON, len(vs))
	for i, v := range vs {
		items[i] = toAttestationJSON(v)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

type attestRequest struct {
	Answers         map[string]bool `json:"answers"`
	Version         *int64          `json:"version"`
	TemplateVersion *int64          `json:"template_version"`
}

// The attestation and partner bodies are checked by their services.
func (*attestRequest) check() error          { return nil }
func (r *attestRequest) bodyVersion() *int64 { return r.Version }

func (h LaunchRoutes) attest(c *gin.Context) {
	tid, req, v, ok := bindVersioned[attestRequest](c, idParam)
	if !ok {
		return
	}
	var vp *int64
	if v != 0 {
		vp = &v
	}
	a := attestActor(c)
	if _, err := h.Attest.Attest(c.Request.Context(), a, tid, attest.AttestInput{Answers: req.Answers, Version: vp, TemplateVersion: req.TemplateVersion}); err != nil {
		_ = c.Error(err)
		return
	}
	vs, err := h.Attest.Mine(c.Request.Context(), a, c.GetHeader("Accept-Language"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	for _, x := range vs {
		if x.ID == tid {
			c.JSON(http.StatusOK, toAttestationJSON(x))
			return
		}
	}
	_ = c.Error(attest.ErrNotFound)
}

type textJSON struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

type templateJSON struct {
	Version   int64               `json:"version"`
	Intro     textJSON            `json:"intro"`
	Questions map[string]textJSON `json:"questions"`
	By        string              `json:"by,omitempty"`
	At        *time.Time          `json:"at,omitempty"`
}

func toTemplateJSON(t attest.Template) templateJSON {
	out := templateJSON{Version: t.Version, Intro: textJSON{EN: t.Intro.EN, ZH: t.Intro.ZH}, Questions: map[string]textJSON{}, By: t.By}
	for k, q := range t.Questions {
		out.Questions[k] = textJSON{EN: q.EN, ZH: q.ZH}
	}
	if !t.At.IsZero() {
		at := t.At
		out.At = &at
	}
	return out
}

func (h LaunchRoutes) template(c *gin.Context) {
	t, err := h.Attest.TemplateToEdit(c.Request.Context(), attestActor(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toTemplateJSON(t))
}

type templateRequest struct {
	BasedOn   *int64              `json:"based_on"`
	Intro     textJSON            `json:"intro"`
	Questions map[string]textJSON `json:"questions"`
}

func (h LaunchRoutes) saveTemplate(c *gin.Context) {
	var req templateRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	if req.BasedOn == nil {
		_ = c.Error(BadRequest("invalid_body", "the request is invalid", Detail{Field: "based_on", Message: "is required: the version of the texts you edited"}))
		return
	}
	t := attest.Template{Intro: attest.Text{EN: req.Intro.EN, ZH: req.Intro.ZH}, Questions: map[string]attest.Text{}}
	for k, q := range req.Questions {
		t.Questions[k] = attest.Text{EN: q.EN, ZH: q.ZH}
	}
	saved, err := h.Attest.SaveTemplate(c.Request.Context(), attestActor(c), t, *req.BasedOn)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toTemplateJSON(saved))
}

// --- insider lists ---

type periodJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type engagementJSON struct {
	DisclosureID     string `json:"disclosure_id"`
	Counterparty     string `json:"counterparty"`
	CounterpartyType string `json:"counterparty_type"`
	Kind             string `json:"kind"`
	Start            string `json:"start_date"`
	End              string `json:"end_date"`
}

type insiderJSON struct {
	Subject             string           `json:"subject"`
	EmployeeID          string           `json:"employee_id,omitempty"`
	Name                string           `json:"name,omitempty"`
	Department          string           `json:"department"`
	Periods             []periodJSON     `json:"periods"`
	Active              bool             `json:"active"`
	Attestation         string           `json:"attestation"`
	AttestedAt          *time.Time       `json:"attested_at"`
	BlackoutEngagements []engagementJSON `json:"blackout_engagements"`
}

type projectJSON struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Sensitivity  string `json:"sensitivity"`
	LaunchDate   string `json:"launch_date"`
	BlackoutFrom string `json:"blackout_from"`
	BlackoutTo   string `json:"blackout_to"`
}

func toProjectJSON(p project.Project) projectJSON {
	return projectJSON{Code: p.Code, Name: p.Name, Sensitivity: p.Sensitivity, LaunchDate: string(p.LaunchDate),
		BlackoutFrom: string(p.BlackoutFrom), BlackoutTo: string(p.BlackoutTo)}
}

func (h LaunchRoutes) insiders(c *gin.Context) {
	code := c.Param("code")
	if !projectCode.MatchString(code) {
		_ = c.Error(BadRequest("invalid_id", "the project code is malformed", Detail{Field: "code", Message: "must be letters, digits, _ or - (at most 32)"}))
		return
	}
	q, err := query(c, "as_of", "format")
	if err != nil {
		_ = c.Error(err)
		return
	}
	var asOf civil.Date
	if s := q["as_of"]; s != "" {
		if asOf, err = civil.Parse(s); err != nil {
			_ = c.Error(BadRequest("invalid_query", "as_of is not a date", Detail{Field: "as_of", Message: "must be a date YYYY-MM-DD"}))
			return
		}
	}
	if f := q["format"]; f != "" && f != "json" && f != "csv" {
		_ = c.Error(BadRequest("invalid_query", "format is unknown", Detail{Field: "format", Message: "must be json or csv"}))
		return
	}
	l, err := h.Insiders.Insiders(c.Request.Context(), projectActor(c), strings.ToUpper(code), asOf)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if q["format"] == "csv" {
		var buf bytes.Buffer
		if err := project.WriteCSV(&buf, l); err != nil {
			_ = c.Error(err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="insiders-`+l.Project.Code+`-`+string(l.AsOf)+`.csv"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
		return
	}
	items := make([]insiderJSON, len(l.Insiders))
	for i, in := range l.Insiders {
		j := insiderJSON{Subject: in.Subject, EmployeeID: in.EmployeeID, Name: in.Name, Department: in.Department, Active: in.Active,
			Attestation: in.Attestation, Periods: []periodJSON{}, BlackoutEngagements: []engagementJSON{}}
		if !in.AttestedAt.IsZero() {
			at := in.AttestedAt
			j.AttestedAt = &at
		}
		for _, p := range in.Periods {
			j.Periods = append(j.Periods, periodJSON{From: string(p.From), To: string(p.To)})
		}
		for _, e := range in.BlackoutEngagements {
			j.BlackoutEngagements = append(j.BlackoutEngagements, engagementJSON{DisclosureID: e.DisclosureID, Counterparty: e.Counterparty,
				CounterpartyType: e.CounterpartyType, Kind: e.Kind, Start: string(e.Start), End: string(e.End)})
		}
		items[i] = j
	}
	c.JSON(http.StatusOK, gin.H{"project": toProjectJSON(l.Project), "as_of": string(l.AsOf), "items": items})
}

// --- partners ---

type contactJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

type partnerRequest struct {
	ProjectCode  string        `json:"project_code"`
	Name         string        `json:"name"`
	Kind         string        `json:"kind"`
	Parent       string        `json:"parent"`
	NDASignedOn  string        `json:"nda_signed_on"`
	NDAExpiresOn string        `json:"nda_expires_on"`
	EmbargoUntil string        `json:"embargo_until"`
	Contacts     []contactJSON `json:"contacts"`
	Version      *int64        `json:"version"`
}

func (*partnerRequest) check() error          { return nil }
func (r *partnerRequest) bodyVersion() *int64 { return r.Version }

func (r partnerRequest) partner() project.Partner {
	p := project.Partner{ProjectCode: r.ProjectCode, Name: r.Name, Kind: r.Kind, Parent: r.Parent,
		NDASignedOn: civil.Date(r.NDASignedOn), NDAExpiresOn: civil.Date(r.NDAExpiresOn), EmbargoUntil: civil.Date(r.EmbargoUntil)}
	for _, c := range r.Contacts {
		p.Contacts = append(p.Contacts, project.Contact{Name: c.Name, Email: c.Email, Role: c.Role})
	}
	return p
}

type partnerJSON struct {
	ID           string        `json:"id"`
	ProjectCode  string        `json:"project_code"`
	Name         string        `json:"name"`
	Kind         string        `json:"kind"`
	Parent       string        `json:"parent"`
	NDASignedOn  string        `json:"nda_signed_on"`
	NDAExpiresOn string        `json:"nda_expires_on"`
	EmbargoUntil string        `json:"embargo_until"`
	Contacts     []contactJSON `json:"contacts"`
	Version      int64         `json:"version"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

func toPartnerJSON(p project.Partner) partnerJSON {
	out := partnerJSON{ID: p.ID, ProjectCode: p.ProjectCode, Name: p.Name, Kind: p.Kind, Parent: p.Parent,
		NDASignedOn: string(p.NDASignedOn), NDAExpiresOn: string(p.NDAExpiresOn), EmbargoUntil: string(p.EmbargoUntil),
		Contacts: []contactJSON{}, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, c := range p.Contacts {
		out.Contacts = append(out.Contacts, contactJSON{Name: c.Name, Email: c.Email, Role: c.Role})
	}
	return out
}

// projectActor is the caller as the project services (insider lists, NDA
// partners) see them.
func projectActor(c *gin.Context) project.Actor {
	id, roles, rid := principal(c)
	return project.Actor{ID: id, Roles: roles, RequestID: rid}
}

func (h LaunchRoutes) listPartners(c *gin.Context) {
	q, err := query(c, "project")
	if err != nil {
		_ = c.Error(err)
		return
	}
	if p := q["project"]; p != "" && !projectCode.MatchString(p) {
		_ = c.Error(BadRequest("invalid_query", "project is malformed", Detail{Field: "project", Message: "must be a project code"}))
		return
	}
	ps, err := h.Partners.List(c.Request.Context(), projectActor(c), q["project"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := make([]partnerJSON, len(ps))
	for i, p := range ps {
		items[i] = toPartnerJSON(p)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h LaunchRoutes) createPartner(c *gin.Context) {
	var req partnerRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	p, err := h.Partners.Create(c.Request.Context(), projectActor(c), req.partner())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/partners/"+p.ID)
	c.JSON(http.StatusCreated, toPartnerJSON(p))
}

func (h LaunchRoutes) getPartner(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		_ = c.Error(err)
		return
	}
	p, err := h.Partners.Get(c.Request.Context(), projectActor(c), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toPartnerJSON(p))
}

func (h LaunchRoutes) updatePartner(c *gin.Context) {
	id, req, v, ok := bindVersioned[partnerRequest](c, idParam)
	if !ok {
		return
	}
	if v == 0 {
		_ = c.Error(&Error{Status: http.StatusPreconditionRequired, Code: "precondition_required", Message: "an update must name the version it changes",
			Details: []Detail{{Field: "version", Message: "is required"}}})
		return
	}
	p, err := h.Partners.Update(c.Request.Context(), projectActor(c), id, v, req.partner())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toPartnerJSON(p))
}

func (h LaunchRoutes) deletePartner(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.Partners.Delete(c.Request.Context(), projectActor(c), id); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

type importErrorJSON struct {
	Line    int      `json:"line"`
	Details []Detail `json:"details"`
}

func (h LaunchRoutes) importPartners(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	res, err := h.Partners.Import(c.Request.Context(), projectActor(c), bytes.NewReader(body))
	if err != nil {
		var pe *project.PartnerError
		if errors.As(err, &pe) {
			_ = c.Error(BadRequest("invalid_csv", pe.Error(), fieldDetails(pe.Fields)...))
			return
		}
		_ = c.Error(err)
		return
	}
	errs := make([]importErrorJSON, len(res.Errors))
	for i, e := range res.Errors {
		errs[i] = importErrorJSON{Line: e.Line, Details: fieldDetails(e.Fields)}
	}
	c.JSON(http.StatusOK, gin.H{"created": res.Created, "updated": res.Updated, "errors": errs})
}

// --- incidents ---

type incidentRequest struct {
	ProjectCode string   `json:"project_code"`
	FirstSeenOn string   `json:"first_seen_on"`
	Kind        string   `json:"kind"`
	Where       string   `json:"where"`
	Links       []string `json:"links"`
	Keywords    []string `json:"keywords"`
}

type incidentJSON struct {
	ID          string    `json:"id"`
	ProjectCode string    `json:"project_code"`
	FirstSeenOn string    `json:"first_seen_on"`
	Kind        string    `json:"kind"`
	Where       string    `json:"where"`
	Links       []string  `json:"links"`
	Keywords    []string  `json:"keywords"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func toIncidentJSON(i incident.Incident) incidentJSON {
	out := incidentJSON{ID: i.ID, ProjectCode: i.ProjectCode, FirstSeenOn: string(i.FirstSeenOn), Kind: i.Kind, Where: i.Where,
		Links: i.Links, Keywords: i.Keywords, CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt}
	if out.Links == nil {
		out.Links = []string{}
	}
	if out.Keywords == nil {
		out.Keywords = []string{}
	}
	return out
}

func incidentActor(c *gin.Context) incident.Actor {
	id, roles, rid := principal(c)
	return incident.Actor{ID: id, Roles: roles, RequestID: rid}
}

func (h LaunchRoutes) createIncident(c *gin.Context) {
	var req incidentRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	inc, err := h.Incidents.Create(c.Request.Context(), incidentActor(c), incident.Input{ProjectCode: req.ProjectCode,
		FirstSeenOn: req.FirstSeenOn, Kind: req.Kind, Where: req.Where, Links: req.Links, Keywords: req.Keywords})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/incidents/"+inc.ID)
	c.JSON(http.StatusCreated, toIncidentJSON(inc))
}

func (h LaunchRoutes) listIncidents(c *gin.Context) {
	is, err := h.Incidents.List(c.Request.Context(), incidentActor(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := make([]incidentJSON, len(is))
	for i, x := range is {
		items[i] = toIncidentJSON(x)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h LaunchRoutes) getIncident(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		_ = c.Error(err)
		return
	}
	inc, err := h.Incidents.Get(c.Request.Context(), incidentActor(c), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, toIncidentJSON(inc))
}

type reasonJSON struct {
	Code   string            `json:"code"`
	Points int               `json:"points"`
	Date   string            `json:"date,omitempty"`
	Params map[string]string `json:"params"`
}

type backtraceExplanationJSON struct {
	Text    string       `json:"text"`
	Reasons []reasonJSON `json:"reasons"`
}

type backtraceItemJSON struct {
	Subject     string                   `json:"subject"`
	Kind        string                   `json:"kind"`
	Partner     string                   `json:"partner,omitempty"`
	Score       int                      `json:"score"`
	Explanation backtraceExplanationJSON `json:"explanation"`
}

// ToBacktraceItems is the API's shape of ranked items (the web page uses the domain's).
func toBacktraceItems(items []backtrace.Item) []backtraceItemJSON {
	out := make([]backtraceItemJSON, len(items))
	for i, it := range items {
		ex := backtraceExplanationJSON{Text: it.Explanation, Reasons: []reasonJSON{}}
		for _, r := range it.Reasons {
			ex.Reasons = append(ex.Reasons, reasonJSON{Code: r.Code, Points: r.Points, Date: string(r.Date), Params: r.Params})
		}
		out[i] = backtraceItemJSON{Subject: it.Subject, Kind: it.Kind, Partner: it.Partner, Score: it.Score, Explanation: ex}
	}
	return out
}

func (h LaunchRoutes) backtrace(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		_ = c.Error(err)
		return
	}
	t, err := h.Incidents.Backtrace(c.Request.Context(), incidentActor(c), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"incident": toIncidentJSON(t.Incident), "project": toProjectJSON(t.Project),
		"window_from": string(t.From), "items": toBacktraceItems(t.Items)})
}
