package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	// Zones load from the compiled-in database, so a distroless image
	// without /usr/share/zoneinfo still names Asia/Shanghai.
	_ "time/tzdata"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/profile"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Names finds counterparties for explanations (ruleset.Names).
type Names interface {
	// For looks ids up in the rule-set version a finding records.
	For(ctx context.Context, version int64) explain.Names
	// ByName resolves a canonical name (findings stored without an id).
	ByName(name string) (watchlist.Counterparty, bool)
}

// defaultZone is the business zone when none is configured.
func defaultZone() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// withViewer sets the request's language and zone: the signed-in person's
// profile first, then the language switch's cookie and the browser's
// Accept-Language, and the business zone. It reports false after
// answering with an error.
func (u *UI) withViewer(c *gin.Context, s session) bool {
	base := u.i18n.pick(c.Request)
	zone := u.cfg.Zone
	if s.signedIn() && u.d.Preferences != nil {
		p, err := u.d.Preferences.Get(c.Request.Context(), s.Subject)
		if err != nil && !errors.Is(err, profile.ErrNotFound) {
			u.fail(c, wrapf(err, "profile of %s", s.Subject))
			return false
		}
		if l := u.i18n.byCode(p.Lang); l != nil && p.Lang != "" {
			base = l
		}
		if p.TimeZone != "" {
			if loc, err := profile.Zone(p.TimeZone); err == nil {
				zone = loc
			}
		}
	}
	v := *base
	v.Zone = zone
	v.ctx = c.Request.Context()
	v.names = u.d.Names
	c.Set(ctxLang, &v)
	return true
}

// namesFor is the counterparty lookup of a rule-set version, nil without one.
func (l *lang) namesFor(version int64) explain.Names {
	if l.names == nil {
		return nil
	}
	ctx := l.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return l.names.For(ctx, version)
}

// Finding is a finding's explanation in the viewer's language, event text
// and names marked translate="no". A finding stored before explanations
// were data shows the English text it has, marked as English.
func (l *lang) Finding(f detect.Finding) template.HTML {
	if explain.Known(f.Explanation) {
		return explain.Render(l.ex, f.Explanation, l.namesFor(f.RulesVersion)).HTML()
	}
	return template.HTML(`<span lang="en">` + template.HTMLEscapeString(f.Summary) + `</span>`)
}

// FindingText is Finding as plain text (the timeline's titles).
func (l *lang) FindingText(f detect.Finding) string {
	if explain.Known(f.Explanation) {
		return explain.Plain(l.ex, f.Explanation, l.namesFor(f.RulesVersion))
	}
	return f.Summary
}

// FindingCounterparty is the finding's counterparty by its name in the
// viewer's language.
func (l *lang) FindingCounterparty(f detect.Finding) string {
	if f.CounterpartyID != "" {
		if names := l.namesFor(f.RulesVersion); names != nil {
			if c, ok := names(f.CounterpartyID); ok {
				return l.cpName(c)
			}
		}
	}
	return l.CP(f.Counterparty)
}

// CP is a watchlisted firm's canonical name in the viewer's language; other
// names are shown as given.
func (l *lang) CP(name string) string {
	if l.names != nil && name != "" {
		if c, ok := l.names.ByName(name); ok && c.Name == name {
			return l.cpName(c)
		}
	}
	return name
}

func (l *lang) cpName(c watchlist.Counterparty) string {
	if l.ex == explain.ZH && c.NameZH != "" {
		return c.NameZH
	}
	return c.Name
}

// Change is a history line's reason in the viewer's language: the system's
// note, or an older system line read back from its English text; a
// person's words are shown as written.
func (l *lang) Change(ch review.Change) string {
	if ch.Note.Code != "" && explain.Known(explain.Explanation{ch.Note}) {
		return explain.Phrase(l.ex, ch.Note, nil).String()
	}
	if ch.Actor == review.System || ch.Action == review.ActionAssigned {
		if n, ok := explain.Reason(ch.Reason); ok {
			return explain.Phrase(l.ex, n, nil).String()
		}
	}
	return ch.Reason
}

// Actor names who acted: the service itself in words, a person by id.
func (l *lang) Actor(id string) string {
	if id == review.System || id == audit.SystemActor {
		return l.T("actor.system")
	}
	return id
}

// Roles lists role names in the viewer's language.
func (l *lang) Roles(roles []string) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = l.Label("role", r)
	}
	return strings.Join(out, l.T("list.sep"))
}

// AuditReason is an audit entry's reason in the viewer's language when the
// service wrote it; a person's reason is shown as written.
func (l *lang) AuditReason(r string) string {
	if n, ok := explain.Reason(r); ok {
		return explain.Phrase(l.ex, n, nil).String()
	}
	return r
}

// AuditAction names an audit action in words ("case.read": "Read a case").
func (l *lang) AuditAction(a audit.Action) string { return l.Label("audit.action", string(a)) }

// ZoneName is the viewer's zone as the page footer names it.
func (l *lang) ZoneName() string {
	if l.Zone == nil {
		return "UTC"
	}
	return l.Zone.String()
}

// --- the profile page: language and time zone, stored server-side ---

func (u *UI) registerProfile(g *gin.RouterGroup) {
	if u.d.Preferences == nil {
		return
	}
	g.GET("/profile", u.profilePage)
	g.POST("/profile", u.saveProfile)
}

type profileData struct {
	Lang, Zone  string
	Zones       []string
	Business    string
	Now         time.Time
	Error       string
	LangOptions []*lang
}

func (u *UI) profilePage(c *gin.Context) {
	p, err := u.d.Preferences.Get(c.Request.Context(), sessionOf(c).Subject)
	if err != nil && !errors.Is(err, profile.ErrNotFound) {
		u.fail(c, wrapf(err, "read profile"))
		return
	}
	u.renderProfile(c, http.StatusOK, p.Lang, p.TimeZone, "")
}

func (u *UI) renderProfile(c *gin.Context, status int, langCode, zone, errKey string) {
	zones := slices.Clone(profile.Zones)
	if zone != "" && !slices.Contains(zones, zone) {
		zones = append(zones, zone)
	}
	var opts []*lang
	for i := range u.i18n.langs {
		opts = append(opts, &u.i18n.langs[i])
	}
	u.render(c, status, "profile", "profile.title", profileData{Lang: langCode, Zone: zone, Zones: zones,
		Business: u.cfg.Zone.String(), Now: u.now(), Error: errKey, LangOptions: opts})
}

func (u *UI) saveProfile(c *gin.Context) {
	langCode, zone := c.PostForm("lang"), strings.TrimSpace(c.PostForm("time_zone"))
	if langCode != "" && u.i18n.byCode(langCode) == nil {
		u.renderProfile(c, http.StatusUnprocessableEntity, "", zone, "profile.error.lang")
		return
	}
	if zone != "" {
		if _, err := profile.Zone(zone); err != nil {
			u.renderProfile(c, http.StatusUnprocessableEntity, langCode, zone, "profile.error.zone")
			return
		}
	}
	s := sessionOf(c)
	if err := u.d.Preferences.Save(c.Request.Context(), profile.Profile{Subject: s.Subject, Lang: langCode, TimeZone: zone, UpdatedAt: u.now()}); err != nil {
		u.fail(c, err)
		return
	}
	if l := u.i18n.byCode(langCode); l != nil {
		u.setLangCookie(c, l)
		u.rememberLanguage(c, l.Code) // notifications follow the language too
	}
	redirectDone(c, "/profile", "profile.saved")
}

// setLangCookie remembers the language in this browser (also before sign-in).
func (u *UI) setLangCookie(c *gin.Context, l *lang) {
	http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: l.Code, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: u.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// rememberLang stores the language the switch chose in the signed-in
// person's profile, so it follows them to other browsers.
func (u *UI) rememberLang(c *gin.Context, l *lang) error {
	s := sessionOf(c)
	if !s.signedIn() || u.d.Preferences == nil {
		return nil
	}
	p, err := u.d.Preferences.Get(c.Request.Context(), s.Subject)
	if err != nil && !errors.Is(err, profile.ErrNotFound) {
		return err
	}
	p.Subject, p.Lang, p.UpdatedAt = s.Subject, l.Code, u.now()
	return u.d.Preferences.Save(c.Request.Context(), p)
}
