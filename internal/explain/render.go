package explain

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Lang is a language explanations are rendered in.
type Lang int

// Languages.
const (
	EN Lang = iota
	ZH
)

// Tag is the language's BCP 47 tag.
func (l Lang) Tag() language.Tag {
	if l == ZH {
		return language.SimplifiedChinese
	}
	return language.English
}

// LangOf maps a tag to the nearest language rendered (Chinese for any zh).
func LangOf(t language.Tag) Lang {
	if b, _ := t.Base(); b.String() == "zh" {
		return ZH
	}
	return EN
}

// Names finds a watchlisted counterparty by id, as the rule-set version
// that produced the finding listed it; nil or not found falls back to the
// name recorded at detection.
type Names func(id string) (watchlist.Counterparty, bool)

// Segment is a run of rendered text. Raw marks data shown as given (event
// text, names): it is not the UI's language, and pages mark it so
// (translate="no"). Href links it (a declaration).
type Segment struct {
	Text string
	Raw  bool
	Href string
}

// Rendered is a rendered explanation.
type Rendered []Segment

// String is the plain text.
func (t Rendered) String() string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.Text)
	}
	return b.String()
}

// HTML is the text for a page: escaped, data marked translate="no",
// declarations linked.
func (t Rendered) HTML() template.HTML {
	var b strings.Builder
	for _, s := range t {
		esc := template.HTMLEscapeString(s.Text)
		switch {
		case s.Href != "":
			fmt.Fprintf(&b, `<a href="%s">%s</a>`, template.HTMLEscapeString(s.Href), esc)
		case s.Raw:
			fmt.Fprintf(&b, `<span translate="no">%s</span>`, esc)
		default:
			b.WriteString(esc)
		}
	}
	return template.HTML(b.String())
}

// Known reports whether every clause of e has a message, so it can be
// rendered; an explanation written by a newer release may not.
func Known(e Explanation) bool {
	if len(e) == 0 {
		return false
	}
	for _, c := range e {
		if _, ok := Messages[c.Code]; !ok {
			return false
		}
	}
	return true
}

// Render writes e in l. A clause whose code has no message shows its code
// (callers check Known first and fall back to the stored text).
func Render(l Lang, e Explanation, names Names) Rendered {
	var out Rendered
	for i, c := range e {
		if i > 0 {
			prev := out.String()
			switch {
			case strings.HasSuffix(prev, "："):
			case strings.HasSuffix(prev, ":"):
				out = append(out, Segment{Text: " "})
			case l == ZH:
				out = append(out, Segment{Text: "；"})
			default:
				out = append(out, Segment{Text: "; "})
			}
		}
		out = append(out, clause(l, c, names)...)
	}
	if l == ZH && len(out) > 0 && !strings.HasSuffix(out.String(), "：") {
		out = append(out, Segment{Text: "。"})
	}
	return merge(out)
}

// Phrase renders one clause without closing punctuation (a history line,
// an audit reason).
func Phrase(l Lang, c Clause, names Names) Rendered { return merge(clause(l, c, names)) }

// Plain is Render as a string.
func Plain(l Lang, e Explanation, names Names) string { return Render(l, e, names).String() }

func clause(l Lang, c Clause, names Names) Rendered {
	m, ok := Messages[c.Code]
	if !ok {
		return Rendered{{Text: "⟦" + c.Code + "⟧", Raw: true}}
	}
	tmpl := m.EN
	if l == ZH {
		tmpl = m.ZH
	} else if m.PluralOn != "" && m.ENOne != "" {
		if n, err := strconv.Atoi(c.Params[m.PluralOn].Value); err == nil &&
			plural.Cardinal.MatchPlural(language.English, n, 0, 0, 0, 0) == plural.One {
			tmpl = m.ENOne
		}
	}
	var out Rendered
	for tmpl != "" {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl[i+1:], '}')
		if i < 0 || j < 0 {
			out = append(out, Segment{Text: tmpl})
			break
		}
		if i > 0 {
			out = append(out, Segment{Text: tmpl[:i]})
		}
		name := tmpl[i+1 : i+1+j]
		out = append(out, param(l, c.Params[name], names)...)
		tmpl = tmpl[i+2+j:]
	}
	return out
}

func pick(l Lang, en, zh string) string {
	if l == ZH {
		return zh
	}
	return en
}

// EnumLabel translates a value of an enum domain; an unknown value shows
// as given, with underscores as spaces.
func EnumLabel(l Lang, domain, value string) string {
	if v, ok := enumLabels[domain][value]; ok {
		return v[l]
	}
	return strings.ReplaceAll(value, "_", " ")
}

func param(l Lang, p Param, names Names) Rendered {
	switch p.Type {
	case TypeText:
		if l == ZH {
			return Rendered{{Text: "“"}, {Text: p.Value, Raw: true}, {Text: "”"}}
		}
		return Rendered{{Text: `"`}, {Text: p.Value, Raw: true}, {Text: `"`}}
	case TypeName:
		return Rendered{{Text: p.Value, Raw: true}}
	case TypeCity:
		if p.Value == "" {
			return nil
		}
		return Rendered{{Text: pick(l, " in ", "在")}, {Text: p.Value, Raw: true}}
	case TypeDate, TypeInt:
		return Rendered{{Text: p.Value}}
	case TypeMoney:
		return Rendered{{Text: money(l, p.Value, p.Currency)}}
	case TypeList:
		var out Rendered
		for i, v := range p.Values {
			if i > 0 {
				out = append(out, Segment{Text: pick(l, ", ", "、")})
			}
			out = append(out, Segment{Text: v, Raw: true})
		}
		return out
	case TypeEnum:
		return Rendered{{Text: EnumLabel(l, p.Domain, p.Value)}}
	case TypeRoles:
		var out Rendered
		for i, v := range p.Values {
			switch {
			case i == 0:
			case i == len(p.Values)-1:
				out = append(out, Segment{Text: pick(l, " or ", "或")})
			default:
				out = append(out, Segment{Text: pick(l, ", ", "、")})
			}
			out = append(out, Segment{Text: EnumLabel(l, "role", v)})
		}
		return out
	case TypeCounterparty:
		return counterparty(l, p, names)
	case TypeDisclosure:
		what := EnumLabel(l, "kind", p.Kind)
		when := p.Value
		if p.To != "" {
			when += pick(l, " to ", " 至 ") + p.To
		}
		s := Segment{Text: pick(l, "declaration (", "申报（") + what + pick(l, ", ", "，") + when + pick(l, ")", "）")}
		if p.ID != "" {
			s.Href = "/declarations/" + url.PathEscape(p.ID)
		}
		return Rendered{s}
	case TypeQuarter:
		if l == ZH && len(p.Value) == 6 && p.Value[4] == 'Q' {
			return Rendered{{Text: p.Value[:4] + " 年第 " + p.Value[5:] + " 季度"}}
		}
		return Rendered{{Text: p.Value}}
	case TypeProject:
		out := Rendered{}
		if p.Kind != "" {
			out = append(out, Segment{Text: EnumLabel(l, "sensitivity", p.Kind) + pick(l, " project ", "项目 ")})
		} else {
			out = append(out, Segment{Text: pick(l, "project ", "项目 ")})
		}
		out = append(out, Segment{Text: p.ID, Raw: true})
		if p.Value != "" {
			out = append(out, Segment{Text: pick(l, " (", "（")}, Segment{Text: p.Value, Raw: true}, Segment{Text: pick(l, ")", "）")})
		}
		return out
	case TypePeriod:
		if p.To == "" {
			return Rendered{{Text: pick(l, "on ", "") + p.Value}}
		}
		return Rendered{{Text: pick(l, "from "+p.Value+" to "+p.To, p.Value+" 至 "+p.To)}}
	case TypePay:
		if p.Kind != "paid" {
			return Rendered{{Text: pick(l, "unpaid", "无偿")}}
		}
		if p.Value == "" {
			return Rendered{{Text: pick(l, "paid", "有偿")}}
		}
		return Rendered{{Text: pick(l, "paid ", "有偿 ") + money(l, p.Value, p.Currency)}}
	}
	return Rendered{{Text: p.Value, Raw: true}}
}

// counterparty names a firm: a watchlisted one by its name in l (from the
// rule-set version's entry), with its type, and the name the text used
// when that was another; an unlisted one by the name as found.
func counterparty(l Lang, p Param, names Names) Rendered {
	typ := EnumLabel(l, "cptype", p.Kind)
	open, sep, close := pick(l, " (", "（"), pick(l, ", ", "，"), pick(l, ")", "）")
	if p.ID == "" {
		if p.Kind == "" {
			return Rendered{{Text: p.Value, Raw: true}}
		}
		return Rendered{{Text: p.Value, Raw: true}, {Text: open + typ + sep + pick(l, "not on the watchlist", "不在监控名单上") + close}}
	}
	name, other := p.Value, ""
	if names != nil {
		if c, ok := names(p.ID); ok {
			name, other = c.Name, c.NameZH
			if l == ZH && c.NameZH != "" {
				name, other = c.NameZH, c.Name
			}
			if c.Type != "" {
				typ = EnumLabel(l, "cptype", c.Type)
			}
		}
	}
	alias := p.Alias
	// The name the text used is shown beside ours when it differs, except
	// to a Chinese reader when it is just the English name.
	if alias != "" && (watchlist.Key(alias) == watchlist.Key(name) || (l == ZH && other != "" && watchlist.Key(alias) == watchlist.Key(other))) {
		alias = ""
	}
	if alias == "" {
		return Rendered{{Text: name, Raw: true}, {Text: open + typ + close}}
	}
	return Rendered{{Text: alias, Raw: true}, {Text: open}, {Text: name, Raw: true}, {Text: sep + typ + close}}
}

// money writes "CNY 3,000.00" (English) or "3,000.00 元" (Chinese, for
// yuan); an amount it cannot read is shown as given.
func money(l Lang, amount, currency string) string {
	a := strings.TrimSpace(amount)
	sign := ""
	if strings.HasPrefix(a, "-") {
		sign, a = "-", a[1:]
	}
	whole, frac, _ := strings.Cut(a, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return strings.TrimSpace(currency + " " + amount)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	n := sign + b.String() + "." + frac
	if l == ZH && strings.EqualFold(currency, "CNY") {
		return n + " 元"
	}
	return strings.TrimSpace(currency + " " + n)
}

// merge joins neighbouring segments of the same kind.
func merge(t Rendered) Rendered {
	var out Rendered
	for _, s := range t {
		if s.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Raw == s.Raw && out[n-1].Href == "" && s.Href == "" {
			out[n-1].Text += s.Text
			continue
		}
		out = append(out, s)
	}
	return out
}
