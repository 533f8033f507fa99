package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is what every template receives.
type page struct {
	L       *lang
	Other   *lang // the language the switch offers
	User    session
	CSRF    string
	Title   string
	Path    string
	Nav     []navItem
	Flash   string
	Data    any
	Request string // URI, for the language switch's way back
}

type navItem struct {
	Href, Label string
	Current     bool
}

// templateFuncs are pure helpers; messages come from page.L. "dt" is
// bound per viewer's zone (see pagesIn); this one is UTC.
var templateFuncs = template.FuncMap{
	"dt":   zonedTime(time.UTC),
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	"sel": func(a, b string) template.HTMLAttr {
		if a == b {
			return "selected"
		}
		return ""
	},
	"checked": func(b bool) template.HTMLAttr {
		if b {
			return "checked"
		}
		return ""
	},
	"has":  func(s session, roles ...string) bool { return s.has(roles...) },
	"list": func(xs ...string) []string { return xs },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// zonedTime formats instants on the clock of loc, naming the zone, so a
// time never reads as another zone's: "2024-05-02 14:03 CST (Asia/Shanghai)".
// Dates are YYYY-MM-DD everywhere.
func zonedTime(loc *time.Location) func(time.Time) string {
	return func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		t = t.In(loc)
		abbr := t.Format("MST")
		if abbr == loc.String() {
			return t.Format("2006-01-02 15:04 ") + abbr
		}
		return t.Format("2006-01-02 15:04 ") + abbr + " (" + loc.String() + ")"
	}
}

// maxZoneSets bounds the per-zone template sets kept.
const maxZoneSets = 64

// pagesIn returns the page templates whose "dt" shows times in loc. Each
// zone gets clones of the parsed pages (html/template escapes each set on
// its first use), kept for the next viewer in that zone. The parsed
// originals are never executed, as a template cannot be cloned after that.
func (u *UI) pagesIn(loc *time.Location) map[string]*template.Template {
	key := loc.String()
	u.zoneMu.Lock()
	defer u.zoneMu.Unlock()
	if set, ok := u.zoneSets[key]; ok {
		return set
	}
	set := make(map[string]*template.Template, len(u.pages))
	for name, t := range u.pages {
		c, err := t.Clone()
		if err != nil {
			u.log.Error("web: clone template", "name", name, "err", err)
			continue
		}
		set[name] = c.Funcs(template.FuncMap{"dt": zonedTime(loc)})
	}
	if u.zoneSets == nil || len(u.zoneSets) >= maxZoneSets {
		u.zoneSets = map[string]map[string]*template.Template{}
	}
	u.zoneSets[key] = set
	return set
}

// parsePages builds one template set per page: the layout, shared partials
// and the page's own file.
func parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", f, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a full page. It renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (u *UI) render(c *gin.Context, status int, name, titleKey string, data any) {
	l := langOf(c)
	if l == nil {
		l = &u.i18n.langs[0]
	}
	s := sessionOf(c)
	p := page{L: l, Other: u.i18n.other(l), User: s, CSRF: s.CSRF, Title: l.T(titleKey),
		Path: c.Request.URL.Path, Data: data, Request: c.Request.URL.RequestURI(), Nav: u.nav(c, l, s)}
	if f := c.Query("done"); f != "" && l.Has("flash."+f) {
		p.Flash = l.T("flash." + f)
	}
	t, ok := u.pagesIn(l.Zone)[name]
	var buf bytes.Buffer
	if !ok {
		u.log.Error("web: no such template", "name", name)
		status = http.StatusInternalServerError
		buf.WriteString("internal error")
	} else if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		u.log.Error("web: render failed", "template", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error")
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// nav lists the pages the visitor's roles open, in the order of their work.
func (u *UI) nav(c *gin.Context, l *lang, s session) []navItem {
	if !s.signedIn() {
		return nil
	}
	items := []struct {
		href, key string
		roles     []string
	}{
		{"/declarations", "nav.declarations", []string{auth.RoleEmployee}},
		{"/inbox", "nav.inbox", []string{auth.RoleManager, auth.RoleCompliance}},
		{"/cases", "nav.cases", []string{auth.RoleCompliance, auth.RoleAuditor}},
		{"/dashboard", "nav.dashboard", []string{auth.RoleCompliance, auth.RoleAuditor, auth.RoleAdmin}},
		{"/audit", "nav.audit", []string{auth.RoleAuditor, auth.RoleAdmin}},
		{"/admin/rules", "nav.rules", []string{auth.RoleAdmin}},
		{"/privacy/unmask-requests", "nav.unmask", []string{auth.RolePrivacyOfficer}},
	}
	if u.d.DeadLetters != nil {
		items = append(items, struct {
			href, key string
			roles     []string
		}{"/admin/dead-letters", "nav.deadletters", []string{auth.RoleAdmin}})
	}
	if u.d.Mail != nil {
		items = append(items, struct {
			href, key string
			roles     []string
		}{"/admin/mail", "nav.mail", []string{auth.RoleAdmin}})
	}
	if u.d.Preferences != nil {
		items = append(items, struct {
			href, key string
			roles     []string
		}{"/profile", "nav.profile", []string{auth.RoleEmployee}})
	}
	items = append(items, u.launchNav()...)
	if u.d.Rights != nil {
		items = append(items, []struct {
			href, key string
			roles     []string
		}{{"/my-data", "nav.mydata", []string{auth.RoleEmployee}}, {"/privacy/export", "nav.privexport", []string{auth.RolePrivacyOfficer}}}...)
	}
	var out []navItem
	for _, it := range items {
		if s.has(it.roles...) {
			out = append(out, navItem{Href: it.href, Label: l.T(it.key),
				Current: c.Request.URL.Path == it.href || strings.HasPrefix(c.Request.URL.Path, it.href+"/")})
		}
	}
	return out
}

// static serves the embedded assets. They change only with the binary, so
// they may be cached for a day.
func (u *UI) static(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean("/"+c.Param("file")), "/")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found"))
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, ct, b)
}
