package web

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Languages the UI speaks, in matcher order: English is the fallback.
var (
	langEN = language.English
	langZH = language.SimplifiedChinese
)

// lang is one supported language: its tag, the code the switch link and the
// cookie use, and its catalogue.
type lang struct {
	Tag  language.Tag
	Code string // "en" or "zh-Hans", also the <html lang> value
	msgs map[string]string
}

// i18n picks a language per request and looks messages up.
type i18n struct {
	matcher language.Matcher
	langs   []lang
}

// catalogueParts are the message catalogues, one pair (English, Chinese) per
// area of the UI, so each area keeps its messages in its own file. A key
// defined in two parts is a mistake TestCataloguesMatch reports.
var catalogueParts = []struct{ en, zh map[string]string }{
	{messagesEN, messagesZH},
	{messagesRulesEN, messagesRulesZH},
	{messagesDLQEN, messagesDLQZH},
	{messagesPrivacyEN, messagesPrivacyZH},
	{messagesNotifyEN, messagesNotifyZH},
	{messagesReviewerEN, messagesReviewerZH},
}

// catalogues merges the parts into one catalogue per language.
func catalogues() (en, zh map[string]string) {
	en, zh = map[string]string{}, map[string]string{}
	for _, p := range catalogueParts {
		for k, v := range p.en {
			en[k] = v
		}
		for k, v := range p.zh {
			zh[k] = v
		}
	}
	return en, zh
}

func newI18n() *i18n {
	en, zh := catalogues()
	return &i18n{
		matcher: language.NewMatcher([]language.Tag{langEN, langZH}),
		langs: []lang{
			{Tag: langEN, Code: "en", msgs: en},
			{Tag: langZH, Code: "zh-Hans", msgs: zh},
		},
	}
}

// pick chooses the language: the switch's cookie first, then the browser's
// Accept-Language, matched (zh, zh-CN, zh-SG all match Simplified Chinese).
func (n *i18n) pick(r *http.Request) *lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if l := n.byCode(c.Value); l != nil {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := n.matcher.Match(tags...)
	return &n.langs[i]
}

func (n *i18n) byCode(code string) *lang {
	for i := range n.langs {
		if strings.EqualFold(n.langs[i].Code, code) {
			return &n.langs[i]
		}
	}
	return nil
}

// other is the language the switch offers.
func (n *i18n) other(l *lang) *lang {
	if l.Code == "en" {
		return &n.langs[1]
	}
	return &n.langs[0]
}

// T returns the message for key, formatted with args. A missing key shows
// as ⟦key⟧ so a test (and a reader) notices it.
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether the catalogue has key (templates fall back to raw
// values, e.g. a rule name the catalogue does not know yet).
func (l *lang) Has(key string) bool {
	_, ok := l.msgs[key]
	return ok
}

// Label translates an enum value ("status.pending") and falls back to the
// value itself, so new enum values still show.
func (l *lang) Label(prefix, value string) string {
	if m, ok := l.msgs[prefix+"."+value]; ok {
		return m
	}
	return value
}
