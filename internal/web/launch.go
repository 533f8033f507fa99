package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/incident"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	"github.com/moonlight-oss/moonlight/internal/project"
)

// Launch is the launch workflow's services the pages call (the same as
// the API's: access rules and audit included).
type Launch struct {
	Attest    *attest.Service
	Insiders  *project.Service
	Partners  *project.Partners
	Incidents *incident.Service
}

func (u *UI) registerLaunch(g *gin.RouterGroup) {
	if u.d.Launch == nil {
		return
	}
	anyone := g.Group("", u.need(auth.RoleEmployee))
	anyone.GET("/tasks", u.myTasks)
	anyone.POST("/tasks/:id/attest", u.attestTask)
	// Who may read and change is the services' decision (audited there).
	anyone.GET("/projects/:code/insiders", u.insidersPage)
	anyone.GET("/projects/:code/insiders/csv", u.insidersCSV)
	anyone.GET("/partners", u.partnersPage)
	anyone.POST("/partners", u.createPartner)
	anyone.POST("/partners/import", u.importPartners)
	anyone.POST("/partners/:id/delete", u.deletePartner)
	anyone.GET("/incidents", u.incidentsPage)
	anyone.POST("/incidents", u.createIncident)
	anyone.GET("/incidents/:id", u.incidentPage)
	anyone.GET("/admin/attestation", u.templatePage)
	anyone.POST("/admin/attestation", u.saveTemplate)
}

// launchNav lists the launch pages for the navigation.
func (u *UI) launchNav() []struct {
	href, key string
	roles     []string
} {
	if u.d.Launch == nil {
		return nil
	}
	return []struct {
		href, key string
		roles     []string
	}{
		{"/tasks", "nav.tasks", []string{auth.RoleEmployee}},
		{"/incidents", "nav.incidents", []string{auth.RoleCompliance, auth.RoleAuditor}},
		{"/partners", "nav.partners", []string{auth.RoleCompliance, auth.RoleAuditor, auth.RoleAdmin}},
		{"/admin/attestation", "nav.attesttexts", []string{auth.RoleAdmin}},
	}
}

func (u *UI) launchFail(c *gin.Context, err error) {
	var ve *attest.ValidationError
	var pe *project.PartnerError
	var ie *incident.ValidationError
	switch {
	case errors.Is(err, attest.ErrNotFound), errors.Is(err, project.ErrNotFound), errors.Is(err, incident.ErrNotFound):
		u.errorPage(c, http.StatusNotFound, "error.notfound")
	case errors.Is(err, attest.ErrForbidden), errors.Is(err, project.ErrForbidden), errors.Is(err, incident.ErrForbidden):
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
	case errors.Is(err, attest.ErrStale), errors.Is(err, attest.ErrTemplateStale), errors.Is(err, project.ErrStale),
		errors.Is(err, attest.ErrConflict), errors.Is(err, project.ErrConflict):
		u.errorPage(c, http.StatusConflict, "error.stale")
	case errors.Is(err, attest.ErrInvalidState):
		u.errorPage(c, http.StatusUnprocessableEntity, "error.state")
	case errors.As(err, &ve), errors.As(err, &pe), errors.As(err, &ie):
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
	default:
		u.fail(c, err)
		return
	}
	c.Abort()
}

func attestActor(c *gin.Context) attest.Actor {
	s := sessionOf(c)
	return attest.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

func projectActor(c *gin.Context) project.Actor {
	s := sessionOf(c)
	return project.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

func incidentActor(c *gin.Context) incident.Actor {
	s := sessionOf(c)
	return incident.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

func langCode(c *gin.Context) string {
	if l := langOf(c); l != nil {
		return l.Code
	}
	return "en"
}

type tasksData struct {
	Items  []attest.View
	Errors map[string]map[string]string // task id -> field -> message
}

func (u *UI) myTasks(c *gin.Context) {
	u.renderTasks(c, http.StatusOK, nil)
}

func (u *UI) renderTasks(c *gin.Context, status int, errs map[string]map[string]string) {
	vs, err := u.d.Launch.Attest.Mine(c.Request.Context(), attestActor(c), langCode(c))
	if err != nil {
		u.launchFail(c, err)
		return
	}
	u.render(c, status, "tasks", "tasks.title", tasksData{Items: vs, Errors: errs})
}

func (u *UI) attestTask(c *gin.Context) {
	id := c.Param("id")
	v, err := strconv.ParseInt(c.PostForm("version"), 10, 64)
	if err != nil {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	tv, err := strconv.ParseInt(c.PostForm("template_version"), 10, 64)
	if err != nil {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	answers := map[string]bool{}
	for _, k := range attest.QuestionKeys() {
		answers[k] = c.PostForm(k) == "yes"
	}
	_, err = u.d.Launch.Attest.Attest(c.Request.Context(), attestActor(c), id, attest.AttestInput{Answers: answers, Version: &v, TemplateVersion: &tv})
	var ve *attest.ValidationError
	if errors.As(err, &ve) {
		u.renderTasks(c, http.StatusBadRequest, map[string]map[string]string{id: ve.Fields})
		return
	}
	if err != nil {
		u.launchFail(c, err)
		return
	}
	redirectDone(c, "/tasks", "attested")
}

type insidersData struct {
	List project.List
	AsOf string
}

func (u *UI) insiders(c *gin.Context) (project.List, bool) {
	var asOf civil.Date
	if s := c.Query("as_of"); s != "" {
		d, err := civil.Parse(s)
		if err != nil {
			u.errorPage(c, http.StatusBadRequest, "error.badrequest")
			return project.List{}, false
		}
		asOf = d
	}
	l, err := u.d.Launch.Insiders.Insiders(c.Request.Context(), projectActor(c), strings.ToUpper(c.Param("code")), asOf)
	if err != nil {
		u.launchFail(c, err)
		return project.List{}, false
	}
	return l, true
}

func (u *UI) insidersPage(c *gin.Context) {
	if l, ok := u.insiders(c); ok {
		u.render(c, http.StatusOK, "insiders", "insiders.title", insidersData{List: l, AsOf: string(l.AsOf)})
	}
}

func (u *UI) insidersCSV(c *gin.Context) {
	l, ok := u.insiders(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := project.WriteCSV(&buf, l); err != nil {
		u.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="insiders-`+l.Project.Code+`-`+string(l.AsOf)+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

type partnersData struct {
	Items   []project.Partner
	Project string
	Kinds   []string
	Errors  map[string]string
	Import  *project.ImportResult
	CanEdit bool
}

func (u *UI) partnersPage(c *gin.Context) {
	u.renderPartners(c, http.StatusOK, nil, nil)
}

func (u *UI) renderPartners(c *gin.Context, status int, errs map[string]string, imp *project.ImportResult) {
	ps, err := u.d.Launch.Partners.List(c.Request.Context(), projectActor(c), c.Query("project"))
	if err != nil {
		u.launchFail(c, err)
		return
	}
	u.render(c, status, "partners", "partners.title", partnersData{Items: ps, Project: c.Query("project"), Kinds: project.PartnerKinds(),
		Errors: errs, Import: imp, CanEdit: sessionOf(c).has(auth.RoleAdmin)})
}

func (u *UI) createPartner(c *gin.Context) {
	p := project.Partner{ProjectCode: c.PostForm("project_code"), Name: c.PostForm("name"), Kind: c.PostForm("kind"),
		Parent: c.PostForm("parent"), NDASignedOn: civil.Date(c.PostForm("nda_signed_on")),
		NDAExpiresOn: civil.Date(c.PostForm("nda_expires_on")), EmbargoUntil: civil.Date(c.PostForm("embargo_until"))}
	for _, line := range strings.Split(c.PostForm("contacts"), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		parts := strings.Split(line, ",")
		ct := project.Contact{Name: strings.TrimSpace(parts[0])}
		if len(parts) > 1 {
			ct.Email = strings.TrimSpace(parts[1])
		}
		if len(parts) > 2 {
			ct.Role = strings.TrimSpace(strings.Join(parts[2:], ","))
		}
		p.Contacts = append(p.Contacts, ct)
	}
	_, err := u.d.Launch.Partners.Create(c.Request.Context(), projectActor(c), p)
	var pe *project.PartnerError
	if errors.As(err, &pe) {
		u.renderPartners(c, http.StatusBadRequest, pe.Fields, nil)
		return
	}
	if errors.Is(err, project.ErrConflict) {
		u.renderPartners(c, http.StatusConflict, map[string]string{"name": "exists"}, nil)
		return
	}
	if err != nil {
		u.launchFail(c, err)
		return
	}
	redirectDone(c, "/partners", "partner.saved")
}

func (u *UI) importPartners(c *gin.Context) {
	var r io.Reader = strings.NewReader(c.PostForm("csv"))
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			u.fail(c, err)
			return
		}
		defer f.Close()
		r = f
	}
	res, err := u.d.Launch.Partners.Import(c.Request.Context(), projectActor(c), r)
	var pe *project.PartnerError
	if errors.As(err, &pe) {
		u.renderPartners(c, http.StatusBadRequest, map[string]string{"csv": pe.Error()}, nil)
		return
	}
	if err != nil {
		u.launchFail(c, err)
		return
	}
	u.renderPartners(c, http.StatusOK, nil, &res)
}

func (u *UI) deletePartner(c *gin.Context) {
	if err := u.d.Launch.Partners.Delete(c.Request.Context(), projectActor(c), c.Param("id")); err != nil {
		u.launchFail(c, err)
		return
	}
	redirectDone(c, "/partners", "partner.deleted")
}

type incidentsData struct {
	Items  []incident.Incident
	Kinds  []string
	Errors map[string]string
	Form   incident.Input
	Today  string
}

func (u *UI) incidentsPage(c *gin.Context) {
	u.renderIncidents(c, http.StatusOK, nil, incident.Input{})
}

func (u *UI) renderIncidents(c *gin.Context, status int, errs map[string]string, form incident.Input) {
	is, err := u.d.Launch.Incidents.List(c.Request.Context(), incidentActor(c))
	if err != nil {
		u.launchFail(c, err)
		return
	}
	u.render(c, status, "incidents", "incidents.title", incidentsData{Items: is, Kinds: incident.Kinds(), Errors: errs, Form: form,
		Today: string(civil.In(u.now(), u.cfg.Zone))})
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '，' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (u *UI) createIncident(c *gin.Context) {
	in := incident.Input{ProjectCode: c.PostForm("project_code"), FirstSeenOn: c.PostForm("first_seen_on"), Kind: c.PostForm("kind"),
		Where: c.PostForm("where"), Links: splitLines(c.PostForm("links")), Keywords: splitLines(c.PostForm("keywords"))}
	inc, err := u.d.Launch.Incidents.Create(c.Request.Context(), incidentActor(c), in)
	var ie *incident.ValidationError
	if errors.As(err, &ie) {
		u.renderIncidents(c, http.StatusBadRequest, ie.Fields, in)
		return
	}
	if err != nil {
		u.launchFail(c, err)
		return
	}
	redirectDone(c, "/incidents/"+inc.ID, "incident.recorded")
}

type reasonView struct {
	backtrace.Reason
	Text string // in the reader's language
}

type itemView struct {
	backtrace.Item
	Rank    int
	Reasons []reasonView
}

type incidentData struct {
	Trace incident.Trace
	Items []itemView
}

func (u *UI) incidentPage(c *gin.Context) {
	t, err := u.d.Launch.Incidents.Backtrace(c.Request.Context(), incidentActor(c), c.Param("id"))
	if err != nil {
		u.launchFail(c, err)
		return
	}
	data := incidentData{Trace: t}
	l := langOf(c)
	if l == nil {
		l = &u.i18n.langs[0]
	}
	for i, it := range t.Items {
		v := itemView{Item: it, Rank: i + 1}
		for _, r := range it.Reasons {
			v.Reasons = append(v.Reasons, reasonView{Reason: r, Text: l.T("bt.reason."+r.Code, reasonArgs(r)...)})
		}
		data.Items = append(data.Items, v)
	}
	u.render(c, http.StatusOK, "incident", "incident.title", data)
}

// reasonArgs are the values each reason's message names, in its order.
func reasonArgs(r backtrace.Reason) []any {
	p := r.Params
	switch r.Code {
	case backtrace.ReasonFinding:
		return []any{p["severity"], p["rule"], string(r.Date)}
	case backtrace.ReasonResearchExpense, backtrace.ReasonBlackoutEngagement:
		return []any{p["counterparty"], string(r.Date)}
	case backtrace.ReasonSeminar:
		return []any{p["title"], p["organizer"], string(r.Date)}
	case backtrace.ReasonBrokerageSeminar:
		return []any{p["organizer"]}
	case backtrace.ReasonAttestationMissing:
		return []any{p["status"]}
	case backtrace.ReasonNDAInvalid:
		return []any{p["partner"], string(r.Date)}
	}
	return nil
}

type templateData struct {
	T      attest.Template
	Keys   []string
	Errors map[string]string
}

func (u *UI) templatePage(c *gin.Context) {
	t, err := u.d.Launch.Attest.TemplateToEdit(c.Request.Context(), attestActor(c))
	if err != nil {
		u.launchFail(c, err)
		return
	}
	u.render(c, http.StatusOK, "attest_template", "attesttpl.title", templateData{T: t, Keys: attest.QuestionKeys()})
}

func (u *UI) saveTemplate(c *gin.Context) {
	based, err := strconv.ParseInt(c.PostForm("based_on"), 10, 64)
	if err != nil {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	t := attest.Template{Intro: attest.Text{EN: c.PostForm("intro_en"), ZH: c.PostForm("intro_zh")}, Questions: map[string]attest.Text{}}
	for _, k := range attest.QuestionKeys() {
		t.Questions[k] = attest.Text{EN: c.PostForm(k + "_en"), ZH: c.PostForm(k + "_zh")}
	}
	_, err = u.d.Launch.Attest.SaveTemplate(c.Request.Context(), attestActor(c), t, based)
	var ve *attest.ValidationError
	if errors.As(err, &ve) {
		t.Version = based
		u.render(c, http.StatusBadRequest, "attest_template", "attesttpl.title", templateData{T: t, Keys: attest.QuestionKeys(), Errors: ve.Fields})
		return
	}
	if err != nil {
		u.launchFail(c, err)
		return
	}
	redirectDone(c, "/admin/attestation", "attesttpl.saved")
}
