package detect

import (
	"strings"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/explain"
)

// counterparty is the explanation's parameter for a firm: by watchlist id
// when listed (readers see its name in their language), else the name as
// found, cut to an excerpt, with the declared or guessed type.
func (ev *evaluation) counterparty(id, name, typ, asMatched string) explain.Param {
	if c, ok := ev.wl.Get(id); ok && id != "" {
		return explain.Counterparty(c.ID, c.Name, c.Type, excerpt(asMatched, maxQuotedName))
	}
	return explain.Counterparty("", excerpt(name, maxQuotedName), typ, "")
}

// A finding quotes event text only as a short excerpt: the summary explains
// why a case exists, the stored event keeps the whole text, and a finding is
// copied into every case view (a 900 KB description once made a case page
// 3.7 MB). Counted in characters.
const (
	maxQuotedText = 160 // a description
	maxQuotedName = 80  // a merchant, title, organizer or project name
)

// excerpt is s with runs of white space (line breaks included) made one
// space, cut to at most n characters with "…" marking the cut.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// engagementClause is a clause about a declared engagement: its kind,
// counterparty, dates and pay.
func engagementClause(code string, e Engagement, cp explain.Param) explain.Clause {
	return explain.C(code).With("kind", explain.Enum("kind", e.Kind)).With("counterparty", cp).
		With("period", explain.Period(e.Start, e.end())).With("pay", explain.Pay(e.Paid, e.Compensation))
}

// disclosureParam names a declaration by kind and dates (never by id alone).
func disclosureParam(e Engagement) explain.Param {
	return explain.Disclosure(e.ID, e.Kind, e.Start, e.end(), e.Status)
}

func projectParam(p employee.Assignment) explain.Param {
	return explain.Project(p.Code, excerpt(p.Name, maxQuotedName), p.Sensitivity)
}

func blackoutNote(p employee.Assignment, d civil.Date) explain.Clause {
	return explain.C(explain.CodeBlackout).With("project", projectParam(p)).
		With("days", explain.Int(d.DaysUntil(p.LaunchDate))).With("launch", explain.Date(p.LaunchDate))
}

func seminarNote(s Seminar) explain.Clause {
	code := explain.CodeSeminar
	if s.Paid {
		code = explain.CodeSeminarPaid
	}
	return explain.C(code).With("title", explain.Text(excerpt(s.Title, maxQuotedName))).
		With("organizer", explain.Name(excerpt(s.Organizer, maxQuotedName))).
		With("date", explain.Date(s.Date)).With("city", explain.City(s.City))
}

// Chinese and English names of cities, so "Shanghai" and "上海市" compare equal.
var cityNames = map[string]string{
	"上海": "shanghai", "北京": "beijing", "深圳": "shenzhen", "广州": "guangzhou", "杭州": "hangzhou",
	"南京": "nanjing", "苏州": "suzhou", "成都": "chengdu", "武汉": "wuhan", "合肥": "hefei",
	"西安": "xian", "重庆": "chongqing", "天津": "tianjin", "香港": "hongkong", "厦门": "xiamen",
	"长沙": "changsha", "宁波": "ningbo", "青岛": "qingdao", "新加坡": "singapore", "东莞": "dongguan",
}

func cityKey(c string) string {
	k := strings.ReplaceAll(foldText(c), " ", "")
	k = strings.TrimSuffix(strings.TrimSuffix(k, "市"), "city")
	if en, ok := cityNames[k]; ok {
		return en
	}
	return k
}

// sameCity: equal once normalised; an unknown city on either side does not
// rule a match out.
func sameCity(a, b string) bool {
	ka, kb := cityKey(a), cityKey(b)
	return ka == "" || kb == "" || ka == kb
}
