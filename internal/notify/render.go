package notify

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

//go:embed templates
var templateFS embed.FS

// Templates renders notices: one file per kind and language under
// templates/<lang>/<kind>.tmpl, each defining "subject" and "body".
type Templates struct {
	byKey   map[string]*template.Template // "<lang>/<kind>"
	baseURL string
}

// words are the few enum values templates name in the reader's language.
var words = map[string]map[string]string{
	"zh": {
		"paid_seminar": "付费研讨会", "expert_call": "专家访谈", "consulting": "咨询", "speaking": "演讲",
		"advisory_board": "顾问委员会", "media_interview": "媒体采访", "other": "其他活动",
		"high": "高", "medium": "中", "low": "低",
	},
	"en": {
		"paid_seminar": "paid seminar", "expert_call": "expert call", "consulting": "consulting engagement",
		"speaking": "speaking engagement", "advisory_board": "advisory board seat", "media_interview": "media interview",
		"other": "outside engagement",
	},
}

// LoadTemplates parses the embedded templates; baseURL starts links.
func LoadTemplates(baseURL string) (*Templates, error) {
	t := &Templates{byKey: map[string]*template.Template{}, baseURL: strings.TrimRight(baseURL, "/")}
	for _, lang := range Languages {
		files, err := fs.Glob(templateFS, "templates/"+lang+"/*.tmpl")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			kind := strings.TrimSuffix(path.Base(f), ".tmpl")
			word := func(v string) string {
				if w, ok := words[lang][v]; ok {
					return w
				}
				return v
			}
			tpl, err := template.New(kind).Option("missingkey=zero").
				Funcs(template.FuncMap{"kind": word, "severity": word}).ParseFS(templateFS, f)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", f, err)
			}
			for _, part := range []string{"subject", "body"} {
				if tpl.Lookup(part) == nil {
					return nil, fmt.Errorf("template %s defines no %q", f, part)
				}
			}
			t.byKey[lang+"/"+kind] = tpl
		}
	}
	return t, nil
}

// Has reports whether kind has a template in lang.
func (t *Templates) Has(lang, kind string) bool { return t.byKey[lang+"/"+kind] != nil }

// Render returns the subject and plain-text body of n in lang, falling back
// to English, then to a generic text naming the kind (a kind added by
// another package before its template).
func (t *Templates) Render(n Notice, lang string) (subject, body string, err error) {
	tpl := t.byKey[lang+"/"+n.Kind]
	if tpl == nil {
		tpl = t.byKey["en/"+n.Kind]
	}
	params := make(map[string]string, len(n.Params)+1)
	for k, v := range n.Params {
		params[k] = v
	}
	params["link"] = t.baseURL + params["path"]
	if tpl == nil {
		return "Moonlight: " + n.Kind, "Moonlight has a notice for you (" + n.Kind + "): " + params["link"] + "\n", nil
	}
	var s, b bytes.Buffer
	if err := tpl.ExecuteTemplate(&s, "subject", params); err != nil {
		return "", "", fmt.Errorf("render %s subject: %w", n.Kind, err)
	}
	if err := tpl.ExecuteTemplate(&b, "body", params); err != nil {
		return "", "", fmt.Errorf("render %s body: %w", n.Kind, err)
	}
	return strings.TrimSpace(s.String()), strings.TrimLeft(b.String(), "\n"), nil
}
