// Package web is the browser UI: server-rendered pages (html/template, assets
// embedded) for employees, approvers, reviewers and auditors, served by the
// same Gin engine as the API.
//
// Decisions:
//   - State lives in the browser, sealed: the session (who, roles, CSRF token,
//     expiry) is an AES-GCM cookie under a key derived from configuration, so
//     any replica serves any request and nothing is kept in process memory.
//   - Every POST carries the session's synchronizer CSRF token; a request
//     whose Origin names another host is refused as well.
//   - The server's CSP forbids inline script and style, so pages use only the
//     embedded CSS and JS files, and charts are SVG drawn on the server with
//     presentation attributes and classes.
//   - Pages call the same application services as the API (validation,
//     access rules and audit included): the UI adds no rules of its own.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/profile"
	"github.com/moonlight-oss/moonlight/internal/review"
	sessions "github.com/moonlight-oss/moonlight/internal/session"
)

// DefaultSessionTTL is how long a sign-in lasts when Config.SessionTTL is zero.
const DefaultSessionTTL = 8 * time.Hour

// DefaultSessionIdle ends a session nobody used for this long.
const DefaultSessionIdle = 30 * time.Minute

// touchEvery bounds the writes of session activity: last_seen is moved at
// most once a minute, so the idle limit is exact to a minute.
const touchEvery = time.Minute

// Config configures the UI.
type Config struct {
	// SessionSecret seals the session cookie (at least 32 bytes); the key is
	// derived from it with HKDF. Every replica must have the same secret.
	SessionSecret []byte
	// SecureCookies marks cookies Secure: set it whenever the UI is served
	// over https (it must be off for plain-http localhost, or browsers drop them).
	SecureCookies bool
	SessionTTL    time.Duration
	// SessionIdle ends a session unused for this long (0: DefaultSessionIdle).
	SessionIdle time.Duration
	// Auth is the service's authentication config: Mode picks the dev
	// sign-in page or the OIDC authorization-code flow.
	Auth auth.Config
	// Limits are the declaration date limits the API applies.
	Limits disclosure.Limits
	// TwoPersonUnmask says unmask requests wait for a privacy officer
	// (privacy.unmask: two_person); only the wording of the form depends on it.
	TwoPersonUnmask bool
	// Zone is the business time zone (business.time_zone): times are shown
	// in it unless the viewer's profile names another; nil is Asia/Shanghai.
	Zone *time.Location
}

// Disclosures is the declaration workflow (disclosure.Service).
type Disclosures interface {
	Create(ctx context.Context, a disclosure.Actor, in disclosure.Input) (disclosure.Disclosure, error)
	ListMine(ctx context.Context, a disclosure.Actor, page disclosure.Page) ([]disclosure.Disclosure, string, error)
	Get(ctx context.Context, a disclosure.Actor, id string) (disclosure.Disclosure, error)
	Edit(ctx context.Context, a disclosure.Actor, id string, in disclosure.Input) (disclosure.Disclosure, error)
	Withdraw(ctx context.Context, a disclosure.Actor, id, comment string) (disclosure.Disclosure, error)
	Decide(ctx context.Context, a disclosure.Actor, id string, in disclosure.DecisionInput) (disclosure.Disclosure, error)
	Inbox(ctx context.Context, a disclosure.Actor, page disclosure.Page) ([]disclosure.Disclosure, string, error)
	List(ctx context.Context, a disclosure.Actor, f disclosure.ListFilter, page disclosure.Page) ([]disclosure.Disclosure, string, error)
	// Similar finds the actor's declarations of the same engagement (the
	// form's duplicate warning).
	Similar(ctx context.Context, a disclosure.Actor, in disclosure.Input) ([]disclosure.Disclosure, error)
}

// Cases is the reviewers' use of cases (review.Service): every read and
// change is audited there.
type Cases interface {
	List(ctx context.Context, a review.Actor, f review.Filter, limit int, cursor string) ([]review.Case, string, error)
	Get(ctx context.Context, a review.Actor, id string) (review.Case, error)
	Decide(ctx context.Context, a review.Actor, id string, version int64, outcome, reason string) (review.Case, error)
	Assign(ctx context.Context, a review.Actor, id, assignee string) (review.Case, error)
	Comment(ctx context.Context, a review.Actor, id, text string) (review.Case, error)
	// Issue 15: unmasking with a purpose, four eyes on confirmations.
	RequestUnmask(ctx context.Context, a review.Actor, id, reason string) (review.Case, review.UnmaskRequest, error)
	UnmaskRequests(ctx context.Context, a review.Actor, status string) ([]review.UnmaskRequest, error)
	DecideUnmask(ctx context.Context, a review.Actor, id, decision, comment string, version int64) (review.UnmaskRequest, error)
	Confirm(ctx context.Context, a review.Actor, id string, version int64, agree bool, reason string) (review.Case, error)
	// The queue's work (queue.go).
	Count(ctx context.Context, a review.Actor, f review.Filter) (int, error)
	Export(ctx context.Context, a review.Actor, f review.Filter) ([]review.Case, bool, error)
	// Stats: the dashboard's counts, to compliance, auditors and admins.
	Stats(ctx context.Context, a review.Actor) (review.QueueStats, error)
	Reassign(ctx context.Context, a review.Actor, id string, version int64, assignee, reason string) (review.Case, error)
	Reopen(ctx context.Context, a review.Actor, id string, version int64, reason string) (review.Case, error)
	Bulk(ctx context.Context, a review.Actor, action string, items []review.BulkItem, assignee, reason string) ([]review.BulkResult, error)
}

// Events reads stored raw events, the evidence behind findings.
type Events interface {
	Get(ctx context.Context, ref event.Ref) (event.Received, error)
}

// Signals reads an employee's research-related expenses.
type Signals interface {
	Signals(ctx context.Context, employeeID string) ([]detect.Signal, error)
}

// Deps are what the UI is built from. Now, Log and Gatherer may be nil.
type Deps struct {
	Config    Config
	Log       *slog.Logger
	Now       func() time.Time
	Employees employee.Store
	// Sessions keeps signed-in sessions (required).
	Sessions    sessions.Store
	Disclosures Disclosures
	Cases       Cases
	// CaseStore gives the dashboard its aggregates (counts only, no
	// personal data shown, so these reads are not audited one by one).
	CaseStore review.Store
	Audit     audit.Store
	Events    Events
	Signals   Signals
	// Gatherer gives the ingestion metrics the dashboard shows.
	Gatherer prometheus.Gatherer
	// Activity counts stored events per hour; nil hides that chart.
	Activity Activity
	// HTTPClient talks to the OIDC provider; nil means a client with a timeout.
	HTTPClient *http.Client
	// Rules and Rescans serve the admin page; nil hides it.
	Rules   RuleAdmin
	Rescans RescanAdmin
	// DeadLetters counts the dead letters by reason for admins; nil hides the page.
	DeadLetters DeadLetters
	// Privacy shows the audit log's owners as pseudonyms (nil: as ids);
	// cases are masked by review.Service itself.
	Privacy *privacy.Policy
	// Mail is what the demo's SMTP sink received; nil hides /admin/mail.
	Mail MailBox
	// Profiles keeps the language a signed-in person chose, which their
	// notifications use; nil: not kept.
	Profiles Profiles
	// Zone is the business time zone (business.time_zone), the calendar
	// detection counts days in; nil is UTC.
	Zone *time.Location
	// Names finds counterparties by id in the rule-set version a finding
	// records, to name them in the viewer's language; nil uses the names
	// detection recorded.
	Names Names
	// Preferences keeps each person's language and time zone for the UI;
	// nil hides the profile page (browser language, business zone).
	Preferences profile.Store
	// Launch serves My tasks, insider lists, partners and incidents; nil hides them.
	Launch *Launch
	// SavedFilters keeps the queue's saved filters; nil hides them.
	SavedFilters SavedFilters
	// Reviewers lists whom a case can be given to; nil offers the visitor only.
	Reviewers ReviewerList
	// Rights serves "My data" and the privacy officer's export; nil hides them.
	Rights Rights
}

// UI is the web interface.
type UI struct {
	d     Deps
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	jar   cookieJar
	i18n  *i18n
	pages map[string]*template.Template

	oidcMu   sync.Mutex
	oidcConf *oidcClient // discovered on first use, then kept

	zoneMu   sync.Mutex
	zoneSets map[string]map[string]*template.Template // by zone name, see pagesIn
}

// New builds the UI; it fails on a short secret or a broken template.
func New(d Deps) (*UI, error) {
	cfg := d.Config
	cfg.Auth = cfg.Auth.WithDefaults()
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if d.Sessions == nil {
		return nil, errors.New("web: a session store is required")
	}
	if cfg.Auth.Mode == auth.ModeOIDC && cfg.Auth.OIDC.RedirectURL == "" {
		return nil, errors.New("web: auth.oidc.redirect_url must be set in oidc mode (the callback is never built from the request)")
	}
	if cfg.Limits == (disclosure.Limits{}) {
		cfg.Limits = disclosure.DefaultLimits()
	}
	s, err := newSealer(cfg.SessionSecret)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	if cfg.Zone == nil {
		cfg.Zone = d.Zone
	}
	if cfg.Zone == nil {
		cfg.Zone = defaultZone()
	}
	u := &UI{d: d, cfg: cfg, log: d.Log, now: d.Now, i18n: newI18n(cfg.Zone), pages: pages,
		jar: cookieJar{sealer: s, secure: cfg.SecureCookies, ttl: cfg.SessionTTL}}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.now == nil {
		u.now = time.Now
	}
	if u.d.HTTPClient == nil {
		u.d.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return u, nil
}

// Register adds the UI's routes to r (httpapi.Config.Extra).
func (u *UI) Register(r *gin.Engine) {
	r.GET("/static/*file", u.static)
	r.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })

	g := r.Group("", u.withSession, u.checkCSRF)
	g.GET("/", u.home)
	g.GET("/lang", u.switchLang)
	g.GET("/signin", u.signinPage)
	g.POST("/signin", u.signinDev)
	g.GET("/signin/oidc", u.signinOIDC)
	g.GET("/signin/callback", u.oidcCallback)
	g.POST("/signout", u.signout)

	anyone := g.Group("", u.need(auth.RoleEmployee))
	anyone.GET("/declarations", u.myDeclarations)
	anyone.GET("/declarations/new", u.newDeclaration)
	anyone.POST("/declarations", u.createDeclaration)
	anyone.POST("/declarations/validate", u.validateDeclaration)
	anyone.GET("/declarations/:id", u.declaration)
	anyone.GET("/declarations/:id/edit", u.editDeclaration)
	anyone.POST("/declarations/:id/edit", u.updateDeclaration)
	anyone.POST("/declarations/:id/withdraw", u.withdrawDeclaration)

	// Who may approve and review is decided by the services (and audited
	// there when refused), once for the API and the UI: these pages only
	// need someone signed in.
	anyone.GET("/inbox", u.inbox)
	anyone.POST("/inbox/:id/decide", u.decideDeclaration)
	anyone.GET("/cases", u.caseQueue)
	anyone.GET("/cases/export", u.exportCases)
	anyone.POST("/cases/bulk", u.bulkCases)
	anyone.POST("/cases/filters", u.saveFilter)
	anyone.POST("/cases/filters/:id/delete", u.deleteFilter)
	anyone.POST("/cases/:id/reassign", u.reassignCase)
	anyone.POST("/cases/:id/reopen", u.reopenCase)
	anyone.GET("/cases/:id", u.casePage)
	anyone.POST("/cases/:id/decide", u.decideCase)
	anyone.POST("/cases/:id/assign", u.assignCase)
	anyone.POST("/cases/:id/comment", u.commentCase)
	u.registerPrivacy(anyone)
	u.registerRights(anyone)

	anyone.GET("/dashboard", u.dashboard) // the case service decides who sees the counts
	// The audit log's service decides who reads it (auditors, admins).
	anyone.GET("/audit", u.auditLog)
	anyone.GET("/audit/export", u.exportAudit)
	u.registerAdmin(g)
	u.registerProfile(anyone)
	u.registerLaunch(g)
	if u.d.DeadLetters != nil {
		anyone.GET("/admin/dead-letters", u.deadLetters) // ingest.DeadLetterBoard decides
	}
	if u.d.Mail != nil {
		g.GET("/admin/mail", u.need(auth.RoleAdmin), u.mailPage)
	}
}

// Gin context keys.
const (
	ctxSession = "web.session"
	ctxLang    = "web.lang"
	ctxExpired = "web.expired"
)

// withSession loads the sealed session (a fresh anonymous one if needed)
// and the language, and keeps pages out of caches.
func (u *UI) withSession(c *gin.Context) {
	now := u.now()
	s, fresh, expired := u.jar.load(c.Request, now)
	if s.SID == "" {
		// Identity comes only from a session record (an older cookie that
		// carried it itself is not trusted).
		s.Subject, s.Name, s.Roles = "", "", nil
	} else {
		rec, live, err := u.resolve(c.Request.Context(), s.SID, now)
		if err != nil {
			u.fail(c, err)
			return
		}
		if live {
			s.Subject, s.Name, s.Roles, s.CSRF = rec.Subject, rec.Name, rec.Roles, rec.CSRF
		} else {
			s, fresh, expired = u.jar.anonymous(now), true, true
		}
	}
	if fresh {
		if err := u.jar.save(c.Writer, s, now); err != nil {
			u.fail(c, err)
			return
		}
	}
	c.Set(ctxSession, s)
	c.Set(ctxExpired, expired)
	if !u.withViewer(c, s) {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Vary", "Cookie, Accept-Language")
	c.Next()
}

// resolve looks up the session record of a cookie token: gone (signed out,
// revoked), past its end, idle too long, or of a person whose employment
// has ended, it is not live, and the record (all of that person's, in the
// last case) is deleted.
func (u *UI) resolve(ctx context.Context, token string, now time.Time) (sessions.Record, bool, error) {
	id := sessions.IDOf(token)
	rec, err := u.d.Sessions.Get(ctx, id)
	if errors.Is(err, sessions.ErrNotFound) {
		return sessions.Record{}, false, nil
	}
	if err != nil {
		return sessions.Record{}, false, wrapf(err, "load session")
	}
	if !rec.Live(now, u.cfg.SessionIdle) {
		return sessions.Record{}, false, u.d.Sessions.Delete(ctx, id)
	}
	if u.d.Employees != nil {
		e, err := u.d.Employees.Get(ctx, rec.Subject)
		if err != nil && !errors.Is(err, employee.ErrNotFound) {
			return sessions.Record{}, false, wrapf(err, "employment of %s", rec.Subject)
		}
		if err == nil && departed(e, civil.Of(now)) {
			if _, err := u.d.Sessions.DeleteSubject(ctx, rec.Subject); err != nil {
				return sessions.Record{}, false, err
			}
			u.log.Info("web: sessions of a person whose employment ended were deleted", "subject", rec.Subject)
			return sessions.Record{}, false, nil
		}
	}
	if now.Sub(rec.LastSeen) >= touchEvery {
		if err := u.d.Sessions.Touch(ctx, id, now); err != nil {
			return sessions.Record{}, false, err
		}
	}
	return rec, true, nil
}

// departed reports whether e's employment has ended by day: employed once,
// employed no more.
func departed(e employee.Employee, day civil.Date) bool {
	if _, ok := e.EmploymentOn(day); ok {
		return false
	}
	_, ended := e.LastEndedBefore(day)
	return ended
}

func sessionOf(c *gin.Context) session {
	s, _ := c.Get(ctxSession)
	v, _ := s.(session)
	return v
}

func langOf(c *gin.Context) *lang {
	l, _ := c.Get(ctxLang)
	v, _ := l.(*lang)
	return v
}

// checkCSRF refuses a state-changing request whose token is not the
// session's, or whose Origin is another site.
func (u *UI) checkCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	if o := c.GetHeader("Origin"); o != "" && o != "null" {
		ou, err := url.Parse(o)
		if err != nil || !strings.EqualFold(ou.Host, c.Request.Host) {
			u.csrfFail(c)
			return
		}
	}
	tok := c.GetHeader("X-CSRF-Token")
	if tok == "" {
		tok = c.PostForm("csrf")
	}
	if !sameToken(tok, sessionOf(c).CSRF) {
		u.csrfFail(c)
		return
	}
	if bodyTruncated(c) && !keepsTruncatedForm(c) {
		// Only the declaration form answers a too-large body with what fit
		// of it; no other change acts on a cut-off form.
		u.errorPage(c, http.StatusRequestEntityTooLarge, "error.toolarge")
		c.Abort()
		return
	}
	c.Next()
}

func (u *UI) csrfFail(c *gin.Context) {
	u.log.Info("web: csrf check failed", "path", c.Request.URL.Path, "request_id", c.GetString("request_id"))
	u.errorPage(c, http.StatusForbidden, "error.csrf")
	c.Abort()
}

// need lets signed-in visitors holding one of roles through; others are sent
// to sign in (GET) or refused (403).
func (u *UI) need(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		s := sessionOf(c)
		if !s.signedIn() {
			if c.Request.Method == http.MethodGet {
				q := url.Values{"next": {c.Request.URL.RequestURI()}}
				if exp, _ := c.Get(ctxExpired); exp == true {
					q.Set("expired", "1")
				}
				c.Redirect(http.StatusSeeOther, "/signin?"+q.Encode())
			} else {
				u.errorPage(c, http.StatusUnauthorized, "error.signin")
			}
			c.Abort()
			return
		}
		if !s.has(roles...) {
			// Pages that read stores directly (dashboard, audit log) are
			// guarded here; the refusal is audited like the services'.
			if u.d.Audit != nil {
				e := audit.Entry{
					ID: audit.NewID(), At: u.now().UTC(), Actor: s.Subject, ActorRoles: s.Roles, Action: audit.ActionAccessDenied,
					ResourceType: "page", ResourceID: c.Request.Method + " " + c.FullPath(),
					Reason: "needs " + strings.Join(roles, " or "), Details: map[string]string{"attempt": "web"},
					RequestID: c.GetString("request_id"),
				}
				if err := u.d.Audit.Append(c.Request.Context(), e); err != nil {
					u.fail(c, wrapf(err, "audit refused page"))
					return
				}
			}
			u.errorPage(c, http.StatusForbidden, "error.forbidden")
			c.Abort()
			return
		}
		c.Next()
	}
}

// actor is the signed-in visitor as the application services know them.
func actor(c *gin.Context) disclosure.Actor {
	s := sessionOf(c)
	return disclosure.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

// home sends each visitor to the page of their main job.
func (u *UI) home(c *gin.Context) {
	s := sessionOf(c)
	switch {
	case !s.signedIn():
		c.Redirect(http.StatusSeeOther, "/signin")
	case s.has(auth.RoleCompliance):
		c.Redirect(http.StatusSeeOther, "/cases")
	case s.has(auth.RoleManager):
		c.Redirect(http.StatusSeeOther, "/inbox")
	case s.has(auth.RoleAuditor):
		c.Redirect(http.StatusSeeOther, "/audit")
	case s.has(auth.RolePrivacyOfficer):
		c.Redirect(http.StatusSeeOther, "/privacy/unmask-requests")
	default:
		c.Redirect(http.StatusSeeOther, "/declarations")
	}
}

// switchLang remembers the chosen language and goes back.
func (u *UI) switchLang(c *gin.Context) {
	l := u.i18n.byCode(c.Query("to"))
	if l == nil {
		l = &u.i18n.langs[0]
	}
	u.setLangCookie(c, l)
	u.rememberLanguage(c, l.Code)
	if err := u.rememberLang(c, l); err != nil {
		u.fail(c, wrapf(err, "save language"))
		return
	}
	c.Redirect(http.StatusSeeOther, localPath(c.Query("next"), "/"))
}

// localPath keeps redirects on this site: only an absolute path, never
// "//host" or a scheme, else def.
func localPath(p, def string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return def
	}
	if u, err := url.Parse(p); err != nil || u.IsAbs() || u.Host != "" {
		return def
	}
	return p
}

// fail logs an unexpected error and shows a 500 page without its details.
func (u *UI) fail(c *gin.Context, err error) {
	u.log.Error("web: request failed", "path", c.Request.URL.Path, "request_id", c.GetString("request_id"), "err", err)
	u.errorPage(c, http.StatusInternalServerError, "error.internal")
	c.Abort()
}

// failErr maps the services' sentinels to pages, and anything else to 500.
func (u *UI) failErr(c *gin.Context, err error) {
	switch {
	case errors.Is(err, disclosure.ErrNotFound), errors.Is(err, review.ErrNotFound), errors.Is(err, review.ErrUnmaskNotFound):
		u.errorPage(c, http.StatusNotFound, "error.notfound")
	case errors.Is(err, disclosure.ErrForbidden), errors.Is(err, review.ErrForbidden), errors.Is(err, auth.ErrForbidden):
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
	case errors.Is(err, disclosure.ErrStale), errors.Is(err, review.ErrStale):
		u.errorPage(c, http.StatusConflict, "error.stale")
	case errors.Is(err, disclosure.ErrVersionRequired), errors.Is(err, review.ErrVersionRequired):
		u.errorPage(c, http.StatusPreconditionRequired, "error.stale")
	case errors.Is(err, disclosure.ErrConflict), errors.Is(err, review.ErrConflict):
		u.errorPage(c, http.StatusConflict, "error.conflict")
	case errors.Is(err, disclosure.ErrBadCursor), errors.Is(err, review.ErrInvalid), errors.Is(err, audit.ErrBadCursor):
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
	case errors.Is(err, disclosure.ErrInvalidState), errors.Is(err, review.ErrInvalidState):
		u.errorPage(c, http.StatusUnprocessableEntity, "error.state")
	default:
		u.fail(c, err)
		return
	}
	c.Abort()
}

func (u *UI) errorPage(c *gin.Context, status int, msgKey string) {
	u.render(c, status, "error", "error.title", map[string]any{"Message": msgKey, "Status": status})
}

// redirectDone goes to path with a flash message key the page shows once.
func redirectDone(c *gin.Context, path, flash string) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, path+sep+"done="+url.QueryEscape(flash))
}

func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}
