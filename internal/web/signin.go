package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/employee"
	sessions "github.com/moonlight-oss/moonlight/internal/session"
)

// signinRoles are the roles a person can sign in with (ingest is for
// service accounts, which do not use the UI).
var signinRoles = []string{auth.RoleEmployee, auth.RoleManager, auth.RoleCompliance, auth.RoleAuditor, auth.RoleAdmin, auth.RolePrivacyOfficer}

// persona is a one-click dev sign-in for a sample person in a typical role.
type persona struct {
	ID, Name, Title string
	Roles           []string
	Job             string // message key of what they do here
}

// signinData is the sign-in page.
type signinData struct {
	Dev       bool
	Next      string
	Expired   bool
	Error     string
	Personas  []persona
	Employees []signinEmployee
	Roles     []string
}

type signinEmployee struct {
	ID, Name, Title, Department string
	Manager                     bool // someone reports to them
}

func (u *UI) signinPage(c *gin.Context) {
	d := signinData{Dev: u.cfg.Auth.Mode == auth.ModeDev, Next: localPath(c.Query("next"), ""), Expired: c.Query("expired") == "1",
		Roles: signinRoles}
	if e := c.Query("error"); e != "" {
		d.Error = "signin.error." + e
	}
	if d.Dev {
		emps, err := u.d.Employees.List(c.Request.Context(), 1000)
		if err != nil {
			u.fail(c, wrapf(err, "list employees for sign-in"))
			return
		}
		d.Employees, d.Personas = signinChoices(emps)
	}
	u.render(c, http.StatusOK, "signin", "signin.title", d)
}

// signinChoices lists employees with their manager status, and picks the
// personas of the demo's story that exist in the data.
func signinChoices(emps []employee.Employee) ([]signinEmployee, []persona) {
	managers := map[string]bool{}
	byID := map[string]employee.Employee{}
	for _, e := range emps {
		if e.ManagerID != "" {
			managers[e.ManagerID] = true
		}
		byID[e.ID] = e
	}
	out := make([]signinEmployee, 0, len(emps))
	for _, e := range emps {
		if !e.Known() {
			continue
		}
		out = append(out, signinEmployee{ID: e.ID, Name: e.Name, Title: e.Title, Department: e.Department, Manager: managers[e.ID]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	// The sample story's people; absent ones (another data set) are skipped.
	want := []persona{
		{ID: "E1018", Roles: []string{auth.RoleEmployee}, Job: "persona.employee"},
		{ID: "E1011", Roles: []string{auth.RoleEmployee, auth.RoleManager}, Job: "persona.manager"},
		{ID: "E1045", Roles: []string{auth.RoleEmployee, auth.RoleCompliance}, Job: "persona.compliance"},
		{ID: "E1005", Roles: []string{auth.RoleEmployee, auth.RoleAuditor}, Job: "persona.auditor"},
		{ID: "E1090", Roles: []string{auth.RoleEmployee, auth.RoleAdmin}, Job: "persona.admin"},
		// A second reviewer (four eyes on confirmations) and the privacy
		// officer who approves unmasking (issue 15).
		{ID: "E1046", Roles: []string{auth.RoleEmployee, auth.RoleCompliance}, Job: "persona.compliance2"},
		{ID: "E1006", Roles: []string{auth.RoleEmployee, auth.RolePrivacyOfficer}, Job: "persona.privacy"},
	}
	var ps []persona
	for _, p := range want {
		if e, ok := byID[p.ID]; ok {
			p.Name, p.Title = e.Name, e.Title
			ps = append(ps, p)
		}
	}
	return out, ps
}

// signinDev signs in as a chosen employee with chosen roles (dev mode only).
func (u *UI) signinDev(c *gin.Context) {
	if u.cfg.Auth.Mode != auth.ModeDev {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	sub := strings.TrimSpace(c.PostForm("subject"))
	next := localPath(c.PostForm("next"), "")
	if sub == "" {
		c.Redirect(http.StatusSeeOther, "/signin?error=nosubject")
		return
	}
	e, err := u.d.Employees.Get(c.Request.Context(), sub)
	if errors.Is(err, employee.ErrNotFound) {
		c.Redirect(http.StatusSeeOther, "/signin?error=unknown")
		return
	}
	if err != nil {
		u.fail(c, wrapf(err, "sign in %s", sub))
		return
	}
	roles := []string{auth.RoleEmployee}
	for _, r := range c.PostFormArray("role") {
		if slices.Contains(signinRoles, r) {
			roles = append(roles, r)
		}
	}
	u.startSession(c, sub, e.Name, roles, next)
}

// startSession replaces whatever session there was (a new CSRF token too,
// so a token seen before sign-in is useless after it) and goes on.
func (u *UI) startSession(c *gin.Context, sub, name string, roles []string, next string) {
	slices.Sort(roles)
	roles = slices.Compact(roles)
	now := u.now()
	token, id := sessions.NewToken()
	rec := sessions.Record{ID: id, Subject: sub, Name: name, Roles: roles, CSRF: randomToken(),
		Created: now, LastSeen: now, Expires: now.Add(u.cfg.SessionTTL)}
	if err := u.d.Sessions.Create(c.Request.Context(), rec); err != nil {
		u.fail(c, wrapf(err, "start session"))
		return
	}
	// The cookie names the record; identity and roles stay on the server.
	if err := u.jar.save(c.Writer, session{SID: token, CSRF: rec.CSRF, Expires: rec.Expires.Unix()}, now); err != nil {
		u.fail(c, err)
		return
	}
	s := session{SID: token, Subject: sub, Name: name, Roles: roles, CSRF: rec.CSRF, Expires: rec.Expires.Unix()}
	c.Set(ctxSession, s)
	if next != "" {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	u.home(c)
}

// signout deletes the session record, so the cookie (or a saved copy of
// it) signs nobody in any more, on any replica.
func (u *UI) signout(c *gin.Context) {
	now := u.now()
	if s := sessionOf(c); s.SID != "" {
		if err := u.d.Sessions.Delete(c.Request.Context(), sessions.IDOf(s.SID)); err != nil {
			u.fail(c, wrapf(err, "sign out"))
			return
		}
	}
	if err := u.jar.save(c.Writer, u.jar.anonymous(now), now); err != nil {
		u.fail(c, err)
		return
	}
	redirectDone(c, "/signin", "signedout")
}

// oidcClient is the discovered provider and the OAuth2 client for it.
type oidcClient struct {
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// oidcStateTTL bounds how long a sign-in at the provider may take.
const oidcStateTTL = 10 * time.Minute

// provider discovers the OIDC provider once; a failure is retried on the
// next sign-in rather than kept.
func (u *UI) provider(ctx context.Context) (*oidcClient, error) {
	u.oidcMu.Lock()
	defer u.oidcMu.Unlock()
	if u.oidcConf != nil {
		return u.oidcConf, nil
	}
	o := u.cfg.Auth.OIDC
	ctx = oidc.ClientContext(ctx, u.d.HTTPClient)
	p, err := oidc.NewProvider(ctx, o.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery at %s: %w", o.IssuerURL, err)
	}
	keyCtx := oidc.ClientContext(context.Background(), u.d.HTTPClient)
	scopes := o.Scopes
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	u.oidcConf = &oidcClient{
		verifier: p.VerifierContext(keyCtx, &oidc.Config{ClientID: o.ClientID, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}, Now: u.now}),
		oauth: oauth2.Config{ClientID: o.ClientID, ClientSecret: string(o.ClientSecret), Endpoint: p.Endpoint(),
			RedirectURL: o.RedirectURL, Scopes: scopes},
	}
	return u.oidcConf, nil
}

// signinOIDC starts the authorization-code flow with PKCE: state against
// CSRF on the callback, nonce against ID token replay, both kept with the
// code verifier in a short-lived sealed cookie.
func (u *UI) signinOIDC(c *gin.Context) {
	if u.cfg.Auth.Mode != auth.ModeOIDC {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	pc, err := u.provider(c.Request.Context())
	if err != nil {
		u.log.Error("web: oidc provider unavailable", "err", err)
		u.errorPage(c, http.StatusServiceUnavailable, "error.idp")
		return
	}
	now := u.now()
	st := oidcState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(c.Query("next"), ""), Expires: now.Add(oidcStateTTL).Unix()}
	v, err := u.jar.sealer.seal(oidcCookie, st)
	if err != nil {
		u.fail(c, err)
		return
	}
	http.SetCookie(c.Writer, u.jar.cookie(oidcCookie, v, int(oidcStateTTL.Seconds())))
	conf := u.redirectFor(c, pc.oauth)
	c.Redirect(http.StatusFound, conf.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)))
}

// redirectFor is the OAuth2 config with the callback URL of the
// configuration (web.New refuses OIDC mode without one): never built from
// the request's Host header, which the client chooses.
func (u *UI) redirectFor(_ *gin.Context, conf oauth2.Config) oauth2.Config {
	conf.RedirectURL = u.cfg.Auth.OIDC.RedirectURL
	return conf
}

func (u *UI) oidcCallback(c *gin.Context) {
	if u.cfg.Auth.Mode != auth.ModeOIDC {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	var st oidcState
	ck, err := c.Request.Cookie(oidcCookie)
	if err != nil || u.jar.sealer.open(oidcCookie, ck.Value, &st) != nil || u.now().Unix() >= st.Expires {
		c.Redirect(http.StatusSeeOther, "/signin?error=flow")
		return
	}
	u.jar.clear(c.Writer, oidcCookie) // one use only
	if c.Query("error") != "" || !sameToken(c.Query("state"), st.State) || c.Query("code") == "" {
		u.log.Info("web: oidc callback refused", "idp_error", c.Query("error"), "request_id", c.GetString("request_id"))
		c.Redirect(http.StatusSeeOther, "/signin?error=flow")
		return
	}
	pc, err := u.provider(c.Request.Context())
	if err != nil {
		u.log.Error("web: oidc provider unavailable", "err", err)
		u.errorPage(c, http.StatusServiceUnavailable, "error.idp")
		return
	}
	ctx := oidc.ClientContext(c.Request.Context(), u.d.HTTPClient)
	conf := u.redirectFor(c, pc.oauth)
	tok, err := conf.Exchange(ctx, c.Query("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		u.log.Warn("web: oidc code exchange failed", "err", err)
		c.Redirect(http.StatusSeeOther, "/signin?error=token")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := pc.verifier.Verify(ctx, raw)
	if err != nil || !sameToken(idt.Nonce, st.Nonce) {
		u.log.Warn("web: oidc id token refused", "err", err)
		c.Redirect(http.StatusSeeOther, "/signin?error=token")
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil || idt.Subject == "" {
		c.Redirect(http.StatusSeeOther, "/signin?error=token")
		return
	}
	u.startSession(c, idt.Subject, auth.NameFromClaims(claims), rolesFrom(claims, u.cfg.Auth.RolesClaim), st.Next)
}

// rolesFrom reads roles as the API's verifier does, keeping those a person
// signs in with (not ingest, a service account's).
func rolesFrom(claims map[string]any, name string) []string {
	var out []string
	for _, r := range auth.RolesFromClaims(claims, name) {
		if slices.Contains(signinRoles, r) {
			out = append(out, r)
		}
	}
	return out
}
