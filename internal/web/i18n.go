package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/moonlight-oss/moonlight/internal/explain"
)

// Languages the UI speaks, in matcher order: English is the fallback.
var (
	langEN = language.English
	langZH = language.SimplifiedChinese
)

// lang is one supported language: its tag, the code the switch link and the
// cookie use, and its catalogue. Messages are formatted by
// golang.org/x/text/message from a catalogue built at start from the map
// catalogues (catalogueParts) and the plural messages (pluralMessages).
//
// Per request, a copy carries the viewer's time zone (Zone) and the
// lookup of counterparty names (names), see withViewer.
type lang struct {
	Tag     language.Tag
	Code    string // "en" or "zh-Hans", also the <html lang> value
	msgs    map[string]string
	printer *message.Printer
	// Zone is the viewer's time zone: their profile's, else the business zone.
	Zone *time.Location
	// ex is the explanation language.
	ex explain.Lang
	// ctx and names look counterparty names up for this request (withViewer).
	ctx   context.Context
	names Names
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
	{messagesI18nEN, messagesI18nZH},
	{messagesLaunchEN, messagesLaunchZH},
	{messagesReviewerEN, messagesReviewerZH},
	{messagesRightsEN, messagesRightsZH},
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

func newI18n(zone *time.Location) *i18n {
	en, zh := catalogues()
	b := catalog.NewBuilder(catalog.Fallback(langEN))
	for _, c := range []struct {
		tag  language.Tag
		msgs map[string]string
	}{{langEN, en}, {langZH, zh}} {
		for k, v := range c.msgs {
			// The maps are trusted constants; SetString fails only on a bad tag.
			_ = b.SetString(c.tag, k, v)
		}
	}
	addPlurals(b, en, zh)
	if zone == nil {
		zone = time.UTC
	}
	return &i18n{
		matcher: language.NewMatcher([]language.Tag{langEN, langZH}),
		langs: []lang{
			{Tag: langEN, Code: "en", msgs: en, printer: message.NewPrinter(langEN, message.Catalog(b)), Zone: zone, ex: explain.EN},
			{Tag: langZH, Code: "zh-Hans", msgs: zh, printer: message.NewPrinter(langZH, message.Catalog(b)), Zone: zone, ex: explain.ZH},
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

// T returns the message for key, formatted with args by the catalogue's
// printer (plural messages choose their form by the CLDR rules of the
// language). A missing key shows as ⟦key⟧ so a test (and a reader) notices it.
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	if len(args) > 0 && l.printer != nil {
		return l.printer.Sprintf(key, args...)
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
